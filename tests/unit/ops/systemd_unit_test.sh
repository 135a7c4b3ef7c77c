#!/bin/sh
# A systemd unit file passes `systemd-analyze verify` without a single warning and
# `systemd-analyze security` rates it at or below MAX_EXPOSURE (tenths: 25 = 2.5).
# Usage: systemd_unit_test.sh UNIT EXECUTABLE [MAX_EXPOSURE [SAME_AS]]
# verify checks that ExecStart= binaries exist, so the installed path is replaced with EXECUTABLE
# (the one just built; /bin/true when it is not built). A template (NAME@.service) is checked as
# its instance NAME@check.service. With SAME_AS (another unit file), every directive of UNIT must
# equal SAME_AS's, except those a template sets per instance (Description, EnvironmentFile,
# ExecStart, StateDirectory): the template unit cannot drift from the single unit's sandbox.
# Exit 77 (ctest: skipped) without systemd-analyze, which the `systemd` package of
# scripts/packages.txt provides.
set -eu
unit=$1
exe=$2
max=${3:-25}
same_as=${4:-}
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "SKIP: systemd-analyze not found (apt-get install systemd)"
  exit 77
fi
[ -x "$exe" ] || exe=/bin/true
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
name=$(basename "$unit")
sed "s#/usr/bin/sf-kafka-bridge#$exe#g" "$unit" >"$dir/$name"
case "$name" in
  *@.service) checked="$dir/${name%@.service}@check.service" ;;
  *) checked="$dir/$name" ;;
esac

if [ -n "$same_as" ]; then
  directives() { grep -v -e '^#' -e '^$' "$1" | grep -v -E '^(Description|EnvironmentFile|ExecStart|StateDirectory)='; }
  directives "$unit" >"$dir/unit.directives"
  directives "$same_as" >"$dir/same_as.directives"
  if ! out=$(diff "$dir/same_as.directives" "$dir/unit.directives"); then
    echo "FAIL: $name and $(basename "$same_as") differ beyond the per-instance settings:"
    echo "$out"
    exit 1
  fi
  echo "ok: the same directives as $(basename "$same_as")"
fi

# verify reports most problems (unknown keys, bad values) as warnings with exit 0: any output fails.
if ! out=$(systemd-analyze verify "$checked" 2>&1) || [ -n "$out" ]; then
  echo "FAIL: systemd-analyze verify:"
  echo "$out"
  exit 1
fi
echo "ok: systemd-analyze verify $(basename "$checked")"

if ! out=$(systemd-analyze security --offline=true --threshold="$max" "$checked" 2>&1); then
  echo "$out" | grep -v '^✓' || true
  echo "FAIL: systemd-analyze security exposure above $max/10"
  exit 1
fi
echo "$out" | grep 'Overall exposure level'
