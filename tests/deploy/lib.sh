# Shared helpers of the deployment tests (tests/deploy/container, tests/deploy/systemd); sourced.
#
# What they provide:
#   deploy_setup             installs the Debian packages of tests/deploy/packages.txt that are
#                            missing (apt-get update only when one is)
#   deploy_rootfs OUT ARGS   a root file system tarball made by `mmdebstrap ARGS`, cached under
#                            $SFKB_DEPLOY_CACHE (default ~/.cache/sf-kafka-bridge/rootfs) by a
#                            hash of ARGS, so a second run does not download anything
#   deploy_pm ARGS           podman with this directory's containers.conf (CONTAINERS_CONF, no
#                            system file is touched) and storage of its own under the cache
#   wait_until SECS WHAT CMD polls CMD every 0.2 s until it succeeds; fails naming WHAT after SECS
#   start_emulator DIR       sf-emulator on 127.0.0.1, port chosen by the OS: sets EMULATOR_URL,
#                            EMULATOR_PID, EMULATOR_TOKEN
#   create_topics TOPIC...   makes the test broker create the topics (the bridge does not)
#   topic_replay_ids TOPIC   the sf.replay_id header of every record of TOPIC, one per line
#   on_exit CMD              runs CMD (a string) at exit, the last registered first
# Only what a test started is stopped: containers and volumes by the names it created, processes
# by PID.

deploy_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$deploy_dir/../.." && pwd)"
SFKB_DEPLOY_CACHE="${SFKB_DEPLOY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sf-kafka-bridge}"

say() { printf '\033[1;36m%s:\033[0m %s\n' "${deploy_name:-deploy}" "$*"; }
fail() { printf '\033[1;31m%s: FAIL:\033[0m %s\n' "${deploy_name:-deploy}" "$*" >&2; exit 1; }
pass() { printf '\033[1;32m%s: ok:\033[0m %s\n' "${deploy_name:-deploy}" "$*"; }

exit_actions=()
on_exit() { exit_actions+=("$1"); }
run_exit_actions() {
  local rc=$? i
  trap - EXIT INT TERM
  for ((i = ${#exit_actions[@]} - 1; i >= 0; i--)); do
    eval "${exit_actions[i]}" || true
  done
  exit "$rc"
}
trap run_exit_actions EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_until() {  # seconds, description, command...
  local limit="$1" deadline=$((SECONDS + $1)) what="$2"
  shift 2
  until "$@"; do
    ((SECONDS < deadline)) || fail "$what (waited ${limit}s)"
    sleep 0.2
  done
}

deploy_setup() {
  local wanted missing=() package status
  mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$deploy_dir/packages.txt" | grep -v '^$')
  for package in "${wanted[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)"
    [[ "$status" == "install ok installed" ]] || missing+=("$package")
  done
  ((${#missing[@]})) || return 0
  say "installing ${missing[*]}"
  local sudo=()
  [[ "$(id -u)" -eq 0 ]] || sudo=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends \
    "${missing[@]}"
}

# deploy_rootfs VAR mmdebstrap-args... : sets VAR to the cached tarball's path.
deploy_rootfs() {
  local -n out_path="$1"
  shift
  local key dir
  key="$(printf '%s\n' "$@" | sha256sum | cut -c1-16)"
  dir="$SFKB_DEPLOY_CACHE/rootfs"
  out_path="$dir/$key.tar"
  if [[ -s "$out_path" ]]; then
    say "rootfs cached: $out_path"
    return 0
  fi
  mkdir -p "$dir"
  local started=$SECONDS tmp="$dir/.$key.$$.tar"
  printf '%s\n' "$@" >"$dir/$key.args"
  say "mmdebstrap ... ${*: -1} (once; cached as $out_path, arguments in $dir/$key.args)"
  if ! mmdebstrap --quiet --format=tar "$@" "$tmp" >"$tmp.log" 2>&1; then
    cat "$tmp.log" >&2
    rm -f "$tmp" "$tmp.log"
    fail "mmdebstrap failed"
  fi
  mv "$tmp" "$out_path"
  rm -f "$tmp.log"
  say "rootfs made in $((SECONDS - started))s: $(du -h "$out_path" | cut -f1)"
}

# The slimming of Debian's -slim images: no documentation, manuals or translations.
slim_dpkg_opts=(
  --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-exclude=/usr/share/groff/*'
  --dpkgopt='path-exclude=/usr/share/lintian/*'
)
# The apt settings Debian's container images have (/etc/apt/apt.conf.d/docker-*): downloaded
# packages and apt's binary caches are deleted after every install, no translations are fetched.
# Without them every `apt-get install` of the Dockerfile would leave ~80 MB in its layer. (With
# them mmdebstrap's own clean-up leaves its downloaded packages behind, hence the rm.)
docker_clean='DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
'
docker_apt=(--customize-hook="printf '%s' '$docker_clean' >\"\$1/etc/apt/apt.conf.d/docker-clean\"; echo 'Acquire::Languages \"none\";' >\"\$1/etc/apt/apt.conf.d/docker-no-languages\"; rm -f \"\$1\"/var/cache/apt/archives/*.deb \"\$1\"/var/cache/apt/*.bin")
# Merged /usr the way Debian's images have it (no usrmerge package, which would pull in perl).
merged_usr=(--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr)

# The three root file systems (mmdebstrap arguments; each is cached by them):
# debian:bookworm and debian:bookworm-slim as the Dockerfile's FROM lines name them, and the
# systemd test's machine: systemd, dbus and the Dockerfile's runtime packages (its second stage's
# apt-get list, read as tests/unit/ops/dockerfile_packages_test.py reads it), without curl.
rootfs_args_bookworm=(--variant=minbase "${merged_usr[@]}" "${docker_apt[@]}" bookworm)
rootfs_args_slim=(--variant=minbase "${merged_usr[@]}" "${slim_dpkg_opts[@]}" "${docker_apt[@]}"
  bookworm)
runtime_packages="$(cd "$repo" && python3 -c '
import sys
sys.path.insert(0, "tests/unit/ops")
from dockerfile_packages_test import stages
print(",".join(p for p in stages(open("Dockerfile").read())[1][1] if p != "curl"))')"
rootfs_args_systemd=(--variant=minbase "${merged_usr[@]}" "${slim_dpkg_opts[@]}"
  --include="systemd,systemd-sysv,dbus,$runtime_packages" bookworm)

export CONTAINERS_CONF="$deploy_dir/containers.conf"
# Storage of its own (not /var/lib/containers): the images and the build cache stay with the other
# cached files, and a run with another SFKB_DEPLOY_CACHE is fully cold. The run root (locks,
# mounts) belongs to one storage, so it is named after it.
podman_run_root="/run/sfkb-deploy-containers-$(printf '%s' "$SFKB_DEPLOY_CACHE" | sha256sum | cut -c1-8)"
podman_cmd=(podman --root "$SFKB_DEPLOY_CACHE/containers/storage" --runroot "$podman_run_root"
  --tmpdir "$podman_run_root/libpod")
deploy_pm() { "${podman_cmd[@]}" "$@"; }

start_emulator() {  # work dir
  local work="$1" line
  EMULATOR_TOKEN="deploy-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
  setsid "$emulator_bin" --listen 127.0.0.1:0 --events "$repo/config/demo-events.yaml" \
    --static-token "$EMULATOR_TOKEN" --connect-timeout-ms 5000 \
    >"$work/emulator.out" 2>"$work/emulator.log" &
  EMULATOR_PID=$!
  on_exit "kill -TERM $EMULATOR_PID 2>/dev/null; wait $EMULATOR_PID 2>/dev/null"
  wait_until 20 "the emulator did not print its address" grep -q '^listening on http://' \
    "$work/emulator.out"
  line="$(grep -m1 '^listening on http://' "$work/emulator.out")"
  EMULATOR_URL="${line#listening on }"
}

emulator_admin() { curl -fsS "$EMULATOR_URL/_emulator/$1" "${@:2}"; }
inject_orders() {  # count
  emulator_admin inject -H 'Content-Type: application/json' -d "{\"channel\":
    \"/event/Demo_Order__e\",\"count\":$1,\"payload\":{\"Order_Number__c\":\"ORD-{n}\",
    \"Amount__c\":1.5,\"Status__c\":\"New\"}}"
}
copies_published() {
  emulator_admin "published?event=Demo_Order_Copy__e&since=1000000000" |
    sed -E 's/^\{"count":([0-9]+).*/\1/'
}

topic_replay_ids() {  # topic
  # read_committed, as a consumer of the bridge's transactional writes must read.
  kcat -C -b "$SFKB_KAFKA_BOOTSTRAP" -t "$1" -o beginning -e -q -X isolation.level=read_committed \
    -f '%h\n' 2>/dev/null |
    tr ',' '\n' | sed -n 's/^sf\.replay_id=//p'
}
# The bridge never creates topics; the test broker auto-creates one on a metadata request that
# names it (kcat -L -t allows auto-creation). Waits until each has a leader.
create_topics() {  # topic...
  local topic
  for topic in "$@"; do
    wait_until 60 "topic $topic was not created" topic_ready "$topic"
  done
}
topic_ready() {
  kcat -L -J -b "$SFKB_KAFKA_BOOTSTRAP" -t "$1" 2>/dev/null | python3 -c 'import json, sys
topic = sys.argv[1]
meta = json.load(sys.stdin)
sys.exit(0 if any(t.get("topic") == topic and not t.get("error") and t.get("partitions")
                  and all(p.get("leader", -1) >= 0 for p in t["partitions"])
                  for t in meta.get("topics", [])) else 1)' "$1"
}
topic_count() { topic_replay_ids "$1" | wc -l; }

# Prints a free TCP port on 127.0.0.1 chosen by the OS (bound to port 0, then released), for a
# process whose port is only settable by number.
os_chosen_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The build tree's binaries (scripts/test's build/ unless --build-dir).
find_binaries() {  # build dir
  bridge_bin="$1/sf-kafka-bridge"
  emulator_bin="$1/tests/emulator/sf-emulator"
  [[ -x "$bridge_bin" && -x "$emulator_bin" ]] ||
    fail "$bridge_bin or $emulator_bin is not built (ninja -C $1 sf-kafka-bridge sf-emulator)"
}

require_broker() {
  [[ -n "${SFKB_KAFKA_BOOTSTRAP:-}" ]] ||
    fail "SFKB_KAFKA_BOOTSTRAP is not set: start a broker (tests/kafka/start DIR) or use scripts/test"
}
