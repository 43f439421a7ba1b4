# shellcheck shell=bash
# Shared by the end-to-end scripts: paths, the podman/ctr wrappers, containerd start/stop by
# PID, and the check harness (one "ok - NAME" / "not ok - NAME" line per scenario, then
# "N passed, N failed").
#
# Everything lives under $E2E (default /tmp/tsrun-e2e): the busybox rootfs, podman's storage
# (--root/--runroot/--tmpdir), the containers.conf, containerd's config/root/state/socket, the
# runtime wrappers bin/<runtime> that log every call to trace/<runtime>.log, and logs/.

E2E_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
E2E=${TSRUN_E2E_DIR:-/tmp/tsrun-e2e}
TSRUN_JS=$E2E_TOP/build/Release/tsrun
RUNTIME=${RUNTIME:-tsrun}
IMG=localhost/busybox:tsrun
NET=tsrune2e                 # podman's default network in the tests (own bridge, own subnet)
NET_IF=tsrune2e0
NET_SUBNET=10.231.231.0/24
CTR_NS=tsrun-e2e
CTRD_DIR=$E2E/containerd
CTRD_SOCK=$CTRD_DIR/containerd.sock
export CONTAINERS_CONF=$E2E/containers.conf
export CONTAINERS_STORAGE_CONF=$E2E/storage.conf
export CONTAINERS_REGISTRIES_CONF=$E2E/registries.conf
unset NODE_EXTRA_CA_CERTS

# The runtime binary the clients get: a wrapper that logs the call, then execs the real one.
runtime_bin() { echo "$E2E/bin/$1"; }

# podman with the test storage and the selected runtime. T= sets the timeout (seconds).
pm() { timeout -k 5 "${T:-90}" podman --root "$E2E/storage" --runroot "$E2E/run" --tmpdir "$E2E/libpod" \
  --runtime "$RUNTIME" "$@"; }
# ctr against the test containerd, in the test namespace.
ctrc() { timeout -k 5 "${T:-90}" ctr --address "$CTRD_SOCK" -n "$CTR_NS" "$@"; }

containerd_running() { [ -f "$CTRD_DIR/containerd.pid" ] && kill -0 "$(cat "$CTRD_DIR/containerd.pid")" 2>/dev/null; }
containerd_start() {
  containerd_running && return 0
  mkdir -p "$CTRD_DIR"
  setsid containerd --config "$CTRD_DIR/config.toml" >>"$CTRD_DIR/containerd.log" 2>&1 </dev/null &
  echo $! >"$CTRD_DIR/containerd.pid"
  local i
  for i in $(seq 100); do
    [ -S "$CTRD_SOCK" ] && ctr --address "$CTRD_SOCK" version >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "containerd did not come up: see $CTRD_DIR/containerd.log" >&2
  return 1
}
# stop_by_pidfile FILE TENTHS: TERM the daemon FILE names, KILL it after TENTHS/10 s, drop FILE.
stop_by_pidfile() {
  [ -f "$1" ] || return 0
  local pid i; pid=$(cat "$1")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for i in $(seq "$2"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$1"
}
containerd_stop() { stop_by_pidfile "$CTRD_DIR/containerd.pid" 50; }

# ---- check harness ---------------------------------------------------------------------
PASSED=0 FAILED=0 SKIPPED=0
SUITE=${SUITE:-e2e}
LOGDIR=$E2E/logs/$SUITE-$RUNTIME
RESULTS=$E2E/results/$SUITE.$RUNTIME.tsv

harness_init() {
  rm -rf "$LOGDIR"; mkdir -p "$LOGDIR" "$E2E/results"
  : >"$RESULTS"
}
fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
# must CMD...: run it, fail the scenario if it exits non-zero.
must() { echo "+ $*"; "$@" || fail "exit $?: $*"; }
want_eq() { [ "$1" = "$2" ] || fail "${3:-value}: got [$1], want [$2]"; }
want_match() { [[ $1 =~ $2 ]] || fail "${3:-value}: got [$1], want match of /$2/"; }
want_no_match() { [[ ! $1 =~ $2 ]] || fail "${3:-value}: got [$1], must not match /$2/"; }

# check NAME FUNC [ARGS...]: runs FUNC in a subshell (fail/exit end it), logs to LOGDIR/NAME.log,
# then runs the suite's per-scenario cleanup (function `between`, if defined).
check() {
  local name=$1; shift
  local log=$LOGDIR/$name.log rc t0=$SECONDS
  ( "$@" ) >"$log" 2>&1 </dev/null; rc=$?
  if [ $rc = 0 ]; then
    PASSED=$((PASSED + 1)); echo "ok - $name"; printf '%s\tok\n' "$name" >>"$RESULTS"
  elif [ $rc = 77 ]; then
    SKIPPED=$((SKIPPED + 1)); echo "ok - $name # SKIP $(grep -m1 '^SKIP:' "$log" | cut -c7-)"
    printf '%s\tskip\n' "$name" >>"$RESULTS"
  else
    FAILED=$((FAILED + 1)); echo "not ok - $name"; printf '%s\tFAIL\n' "$name" >>"$RESULTS"
    tail -n 12 "$log" | sed 's/^/#   /'
  fi
  [ $((SECONDS - t0)) -lt 30 ] || echo "#   ($name took $((SECONDS - t0))s)"
  if declare -F between >/dev/null; then between >>"$LOGDIR/_between.log" 2>&1 </dev/null; fi
}
summary() {
  echo "# $SUITE with RUNTIME=$RUNTIME: logs in $LOGDIR, runtime calls in $E2E/trace/$RUNTIME.log"
  if [ "$SKIPPED" -gt 0 ]; then echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
  else echo "$PASSED passed, $FAILED failed"; fi
}

# On this hybrid host crun 1.8.1 refuses to run while the controller-less cgroup2 is mounted at
# /sys/fs/cgroup/unified: re-exec the calling script in a private mount namespace without it.
reexec_for_crun() {
  if [ "$RUNTIME" = crun ] && [ -z "${E2E_CRUN_NS:-}" ] && mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
    exec env E2E_CRUN_NS=1 unshare -m --propagation private \
      sh -c 'umount /sys/fs/cgroup/unified && exec bash "$0" "$@"' "$@"
  fi
}

# Removes what netavark added for the tests: the test bridge and, when the host had no netavark
# rules before setup (host.before), every NETAVARK rule and chain; restores ip_forward.
net_teardown() {
  local before_fwd before_chains
  before_fwd=$(sed -n 's/^ip_forward=//p' "$E2E/host.before" 2>/dev/null)
  before_chains=$(sed -n 's/^chains=//p' "$E2E/host.before" 2>/dev/null)
  ip link show "$NET_IF" >/dev/null 2>&1 && ip link del "$NET_IF"
  if [ "${before_chains:-1}" = 0 ] && command -v iptables >/dev/null; then
    local tbl rule chain
    for tbl in filter nat; do
      iptables -t "$tbl" -S | grep -E '^-A (FORWARD|PREROUTING|OUTPUT|POSTROUTING|INPUT) .*NETAVARK' | while read -r rule; do
        # shellcheck disable=SC2086
        eval iptables -t "$tbl" -D "${rule#-A }"
      done
      for chain in $(iptables -t "$tbl" -S | awk '$1 == "-N" && $2 ~ /^NETAVARK/ { print $2 }'); do iptables -t "$tbl" -F "$chain"; done
      for chain in $(iptables -t "$tbl" -S | awk '$1 == "-N" && $2 ~ /^NETAVARK/ { print $2 }'); do iptables -t "$tbl" -X "$chain"; done
    done
  fi
  [ -z "$before_fwd" ] || sysctl -qw net.ipv4.ip_forward="$before_fwd"
}
