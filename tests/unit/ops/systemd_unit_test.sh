#!/bin/sh
# systemd/sf-kafka-bridge.service passes `systemd-analyze verify` without a single warning and
# `systemd-analyze security` rates it at or below MAX_EXPOSURE (tenths: 25 = 2.5).
# Usage: systemd_unit_test.sh UNIT EXECUTABLE [MAX_EXPOSURE]
# verify checks that ExecStart= binaries exist, so the installed path is replaced with EXECUTABLE
# (the one just built; /bin/true when it is not built). Exit 77 (ctest: skipped) without
# systemd-analyze, which the `systemd` package of scripts/packages.txt provides.
set -eu
unit=$1
exe=$2
max=${3:-25}
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "SKIP: systemd-analyze not found (apt-get install systemd)"
  exit 77
fi
[ -x "$exe" ] || exe=/bin/true
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s#/usr/bin/sf-kafka-bridge#$exe#g" "$unit" >"$dir/sf-kafka-bridge.service"

# verify reports most problems (unknown keys, bad values) as warnings with exit 0: any output fails.
if ! out=$(systemd-analyze verify "$dir/sf-kafka-bridge.service" 2>&1) || [ -n "$out" ]; then
  echo "FAIL: systemd-analyze verify:"
  echo "$out"
  exit 1
fi
echo "ok: systemd-analyze verify"

if ! out=$(systemd-analyze security --offline=true --threshold="$max" \
  "$dir/sf-kafka-bridge.service" 2>&1); then
  echo "$out" | grep -v '^✓' || true
  echo "FAIL: systemd-analyze security exposure above $max/10"
  exit 1
fi
echo "$out" | grep 'Overall exposure level'
