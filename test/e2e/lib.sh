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
ARCHIVE=${E2E_ARCHIVE:-$E2E/busybox.oci.tar}   # IMG as an OCI archive (setup.sh)
DOCKER_ARCHIVE=${E2E_DOCKER_ARCHIVE:-$E2E/busybox.docker.tar}   # and as a docker archive
# The clients' cgroup driver: cgroupfs, or systemd (Podman's cgroup_manager, containerd's
# SystemdCgroup: the runtime gets --systemd-cgroup and a slice:prefix:name cgroupsPath; the
# systemd guest tier, test/e2e/systemd-guest.sh).
CGROUP_MANAGER=${E2E_CGROUP_MANAGER:-cgroupfs}
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
# then runs the suite's per-scenario cleanup (function `between NAME`, if defined). RESULTS
# gets "NAME<TAB>ok|skip|FAIL<TAB>SECONDS".
check() {
  local name=$1; shift
  local log=$LOGDIR/$name.log rc t0=$SECONDS took
  ( "$@" ) >"$log" 2>&1 </dev/null; rc=$?
  took=$((SECONDS - t0))
  if [ $rc = 0 ]; then
    PASSED=$((PASSED + 1)); echo "ok - $name"; printf '%s\tok\t%s\n' "$name" "$took" >>"$RESULTS"
  elif [ $rc = 77 ]; then
    SKIPPED=$((SKIPPED + 1)); echo "ok - $name # SKIP $(grep -m1 '^SKIP:' "$log" | cut -c7-)"
    printf '%s\tskip\t%s\n' "$name" "$took" >>"$RESULTS"
  else
    FAILED=$((FAILED + 1)); echo "not ok - $name"; printf '%s\tFAIL\t%s\n' "$name" "$took" >>"$RESULTS"
    tail -n 12 "$log" | sed 's/^/#   /'
  fi
  [ "$took" -lt 30 ] || echo "#   ($name took ${took}s)"
  if declare -F between >/dev/null; then between "$name" >>"$LOGDIR/_between.log" 2>&1 </dev/null; fi
}
# t NAME FUNC [ARGS...]: the scenario NAME, unless left out. ONLY=regex runs the names it
# matches; E2E_SET=NAME runs only the names the suite lists in SET_<NAME> (SET_cgroup: the
# scenarios that touch devices and cgroups, which the cgroup v2 guest tier runs).
sel() {
  [ -z "${ONLY:-}" ] || [[ $1 =~ $ONLY ]] || return 1
  [ -z "${E2E_SET:-}" ] && return 0
  local list="SET_$E2E_SET"; list=${!list:-}
  [[ " ${list//$'\n'/ } " == *" $1 "* ]]
}
any_sel() { local n; for n; do sel "$n" && return 0; done; return 1; }
t() { local name=$1; shift; sel "$name" && check "$name" "$@"; }
summary() {
  echo "# $SUITE with RUNTIME=$RUNTIME: logs in $LOGDIR, runtime calls in $E2E/trace/$RUNTIME.log"
  if [ "$SKIPPED" -gt 0 ]; then echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
  else echo "$PASSED passed, $FAILED failed"; fi
}

# ---- cgroups: v1 controllers on the hybrid host, pure v2 in the test guests -----------------
cg_v2() { [ -f /sys/fs/cgroup/cgroup.controllers ]; }
# cg_dir PID CONTROLLER: the process's cgroup directory (CONTROLLER's hierarchy under v1).
cg_dir() {
  local path
  if cg_v2; then path=$(sed -n 's/^0:://p' "/proc/$1/cgroup")
  else path=$(awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$1/cgroup"); fi
  [ -n "$path" ] || { echo "no $2 cgroup for pid $1" >&2; return 1; }
  if cg_v2; then echo "/sys/fs/cgroup$path"; else echo "/sys/fs/cgroup/$2$path"; fi
}
# cg_get PID KEY: a value of the process's cgroup in v1's terms, read from the v1 or v2 file.
# KEY: memory.limit (bytes), cpu.quota and cpu.period (us), cpu.nr_throttled, pids.max.
cg_get() {
  local d; d=$(cg_dir "$1" "${2%%.*}") || return 1
  case $2 in
    memory.limit) if cg_v2; then cat "$d/memory.max"; else cat "$d/memory.limit_in_bytes"; fi ;;
    cpu.quota) if cg_v2; then cut -d' ' -f1 "$d/cpu.max"; else cat "$d/cpu.cfs_quota_us"; fi ;;
    cpu.period) if cg_v2; then cut -d' ' -f2 "$d/cpu.max"; else cat "$d/cpu.cfs_period_us"; fi ;;
    cpu.nr_throttled) awk '$1 == "nr_throttled" { print $2 }' "$d/cpu.stat" ;;
    pids.max) cat "$d/pids.max" ;;
    *) echo "cg_get: unknown key $2" >&2; return 1 ;;
  esac
}
# want_cg_gone DIR: the container's cgroup DIR is removed (within 2 s) once it is deleted; with
# the systemd driver its unit (DIR's last component, prefix-name.scope) is gone too.
want_cg_gone() {
  local i unit=${1##*/}
  for i in $(seq 20); do [ -d "$1" ] || break; sleep 0.1; done
  [ ! -d "$1" ] || fail "cgroup $1 left behind ($(cat "$1/cgroup.procs" 2>/dev/null | wc -l) processes in it)"
  [ "$CGROUP_MANAGER" = systemd ] || return 0
  for i in $(seq 20); do [ "$(systemctl show -P LoadState "$unit" 2>/dev/null)" = not-found ] && return 0; sleep 0.1; done
  fail "unit $unit left behind ($(systemctl show -P ActiveState "$unit" 2>&1))"
}
# want_unit PID PROPERTY VALUE: with the systemd driver, the unit holding PID (a scope the
# runtime made over D-Bus) reports PROPERTY=VALUE in systemctl show, and its cgroup is the
# unit's own; with cgroupfs, nothing to check.
want_unit() {
  [ "$CGROUP_MANAGER" = systemd ] || return 0
  local d unit; d=$(cg_dir "$1" memory) || fail "no cgroup for $1"; unit=${d##*/}
  [[ $unit == *.scope ]] || fail "pid $1 is in $d, not in a systemd scope"
  want_eq "$(systemctl show -P ControlGroup "$unit")" "${d#/sys/fs/cgroup}" "$unit ControlGroup"
  want_eq "$(systemctl show -P "$2" "$unit")" "$3" "$unit $2"
}
# want_cg_throttled PID: a busy loop the caller ran in PID's cgroup was throttled by its quota.
want_cg_throttled() {
  local n; n=$(cg_get "$1" cpu.nr_throttled) || fail "no cpu.stat"
  [ "${n:-0}" -gt 0 ] || fail "a busy loop under the CPU quota was never throttled (nr_throttled ${n:-none})"
}
# In a container: allocates until the memory limit OOM-kills it (exit 137).
MEMORY_HOG='x=a; while :; do x=$x$x$x$x; done'
# In a container: one line per default device in use (config-linux.md#default-devices), then
# the error opening a /dev/kmsg node (c 1:11, not a default device) made with mknod: the
# runtime's device rules must refuse it ("Operation not permitted"; mknod needs CAP_MKNOD).
# (true, not the special builtin ":": a failed redirection of a special builtin ends the shell)
DEFAULT_DEVICES_SH='echo x >/dev/null && echo null; head -c 3 /dev/zero | wc -c; head -c 3 /dev/urandom | wc -c
head -c 3 /dev/random | wc -c; echo x 2>&1 >/dev/full; true <>/dev/ptmx && echo ptmx
mknod /tmp/kmsg c 1 11 && { true >/tmp/kmsg; } 2>&1; echo done'
want_default_devices() { # OUTPUT of DEFAULT_DEVICES_SH
  echo "$1"
  want_eq "$(head -4 <<<"$1" | tr '\n' ' ')" "null 3 3 3 " "/dev/null, /dev/zero, /dev/urandom, /dev/random"
  want_match "$1" "No space left on device" "write to /dev/full"
  want_match "$1" $'\nptmx\n' "open /dev/ptmx"
  want_match "$1" "kmsg: Operation not permitted" "open of a /dev/kmsg node"
  want_match "$1" $'\ndone$' "the end of the script"
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
      iptables -t "$tbl" -S 2>/dev/null | grep -E '^-A (FORWARD|PREROUTING|OUTPUT|POSTROUTING|INPUT) .*NETAVARK' | while read -r rule; do
        # shellcheck disable=SC2086
        eval iptables -t "$tbl" -D "${rule#-A }"
      done
      for chain in $(iptables -t "$tbl" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^NETAVARK/ { print $2 }'); do iptables -t "$tbl" -F "$chain"; done
      for chain in $(iptables -t "$tbl" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^NETAVARK/ { print $2 }'); do iptables -t "$tbl" -X "$chain"; done
    done
  fi
  [ -z "$before_fwd" ] || sysctl -qw net.ipv4.ip_forward="$before_fwd"
}
