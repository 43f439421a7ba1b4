#!/usr/bin/env bash
# test/e2e/docker.sh: Docker (Debian's docker.io dockerd 20.10, through its own containerd and
# containerd-shim-runc-v2) scenarios with `docker run --runtime R`, R registered with
# dockerd --add-runtime. The daemon gets its own data-root/exec-root/pidfile/socket under
# $E2E/docker, no bridge and no iptables rules; it is started and stopped by PID here.
# Needs test/e2e/setup.sh first (with docker.io installed). ONLY=regex runs matching scenarios.
set -uo pipefail
SUITE=docker
. "$(dirname "$0")/lib.sh"
reexec_for_crun "$0" "$@"
harness_init
D=$E2E/docker
DOCKER=/usr/bin/docker     # Debian's client (another docker may come first on the PATH)
case $RUNTIME in tsrun) RT=tsrun ;; *) RT=$RUNTIME-e2e ;; esac   # names given to --add-runtime
TMPD=$(mktemp -d "$E2E/docker-$RUNTIME.XXXXXX")
dk() { timeout -k 5 "${T:-90}" "$DOCKER" -H "unix://$D/docker.sock" "$@"; }
DKC="$(printf '%q ' "$DOCKER" -H "unix://$D/docker.sock")"

dockerd_stop() {
  stop_by_pidfile "$D/dockerd.pid" 150
  grep -o " $D/[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done 2>/dev/null
}
dockerd_start() {
  if [ ! -x /usr/sbin/dockerd ]; then echo "dockerd not installed (apt-get install docker.io)"; return 1; fi
  mkdir -p "$D"
  setsid /usr/sbin/dockerd --data-root "$D/data" --exec-root "$D/exec" --pidfile "$D/dockerd.pid" \
    -H "unix://$D/docker.sock" --bridge none --iptables=false --ip-masq=false \
    --exec-opt "native.cgroupdriver=$CGROUP_MANAGER" --default-ulimit nofile=20000:20000 \
    --add-runtime "tsrun=$E2E/bin/tsrun" --add-runtime "runc-e2e=$E2E/bin/runc" \
    --add-runtime "crun-e2e=$E2E/bin/crun" >>"$D/dockerd.log" 2>&1 </dev/null &
  local i
  for i in $(seq 150); do dk version >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "dockerd did not come up: $(tail -3 "$D/dockerd.log")"; return 1
}
cleanup_all() { local c; c=$(dk ps -aq 2>/dev/null); [ -z "$c" ] || T=60 dk rm -f $c >/dev/null 2>&1; }
between() { [ -n "${KEEP:-}" ] || cleanup_all; }
finish() { cleanup_all; dockerd_stop; rm -rf "$TMPD"; }
trap finish EXIT
t_start=$SECONDS
if ! dockerd_start; then echo "not ok - dockerd_start"; echo "0 passed, 1 failed"; exit 1; fi
dk image inspect "$IMG" >/dev/null 2>&1 || dk load -q -i "$DOCKER_ARCHIVE" >/dev/null
echo "# docker: dockerd and the image ready in $((SECONDS - t_start))s"

drun() { dk run --runtime "$RT" --network none "$@"; }
state() { dk inspect -f '{{.State.Status}}' "$1"; }

d_run_rm() { local out; out=$(drun --rm "$IMG" echo hello) || fail "run: $?"; want_eq "$out" hello; }
d_exit_code() { drun --rm "$IMG" sh -c 'exit 42'; want_eq $? 42 "exit status"; }
d_net_host() {
  local out; out=$(dk run --rm --runtime "$RT" --network host "$IMG" readlink /proc/self/ns/net) || fail "run: $?"
  want_eq "$out" "$(readlink /proc/self/ns/net)" "network namespace"
}
d_run_d_exec() {
  must drun -d --name dx "$IMG" sleep 1000
  local out; out=$(dk exec dx echo hi) || fail "exec: $?"; want_eq "$out" hi
  out=$(dk exec -u 1000 -w /tmp -e FOO=bar dx sh -c 'id -u; pwd; echo $FOO') || fail "exec: $?"; want_eq "$(echo $out)" "1000 /tmp bar"
  dk exec dx sh -c 'exit 7'; want_eq $? 7 "exec status"
}
d_run_tty() {
  local out; out=$(timeout -k 5 60 script -qec "$DKC run --rm -it --runtime $RT --network none $IMG tty" /dev/null </dev/null | tr -d '\r\000' | sed 's/\^@//g')
  want_match "$out" "^/dev/pts/0" tty
}
d_logs() {
  must drun -d --name dl "$IMG" sh -c 'echo to-stdout; echo to-stderr >&2; sleep 1000'
  sleep 1; local out; out=$(dk logs dl 2>&1) || fail "logs: $?"
  want_match "$out" to-stdout; want_match "$out" to-stderr
}
d_stop() {
  must drun -d --name ds "$IMG" sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
  sleep 0.5; local t0=$SECONDS; must dk stop -t 20 ds
  [ $((SECONDS - t0)) -lt 10 ] || fail "stop took $((SECONDS - t0))s"
  want_eq "$(state ds)" exited; want_eq "$(dk inspect -f '{{.State.ExitCode}}' ds)" 0 "exit code"
}
d_stop_ignores_term() {
  must drun -d --name dsi "$IMG" sleep 1000
  local t0=$SECONDS; must dk stop -t 2 dsi
  [ $((SECONDS - t0)) -ge 2 ] || fail "stop returned before the timeout"
  want_eq "$(dk inspect -f '{{.State.ExitCode}}' dsi)" 137 "exit code"
}
d_kill() {
  must drun -d --name dk1 "$IMG" sleep 1000
  must dk kill dk1; sleep 0.5; want_eq "$(state dk1)" exited
}
d_pause_unpause() {
  must drun -d --name dp "$IMG" sleep 1000
  must dk pause dp; want_eq "$(state dp)" paused
  must dk unpause dp; want_eq "$(state dp)" running
}
d_restart() {
  must drun -d --name dr "$IMG" sleep 1000
  local p1; p1=$(dk inspect -f '{{.State.Pid}}' dr)
  must dk restart -t 1 dr; want_eq "$(state dr)" running
  [ "$p1" != "$(dk inspect -f '{{.State.Pid}}' dr)" ] || fail "same pid after restart"
}
d_memory() {
  must drun -d --name dm --memory 64m "$IMG" sleep 1000
  want_eq "$(cg_get "$(dk inspect -f '{{.State.Pid}}' dm)" memory.limit)" 67108864 "memory limit"
  want_unit "$(dk inspect -f '{{.State.Pid}}' dm)" MemoryMax 67108864
}
d_cpus() {
  must drun -d --name dc --cpus 0.5 "$IMG" sleep 1000
  want_eq "$(cg_get "$(dk inspect -f '{{.State.Pid}}' dc)" cpu.quota)" 50000 "cpu quota"
}
d_update() {
  must drun -d --name du "$IMG" sleep 1000
  must dk update --memory 128m --memory-swap 256m --cpus 0.5 du
  local pid; pid=$(dk inspect -f '{{.State.Pid}}' du)
  want_eq "$(cg_get "$pid" memory.limit)" 134217728 "memory limit"
  want_eq "$(cg_get "$pid" cpu.quota)" 50000 "cpu quota"
  want_unit "$pid" MemoryMax 134217728
}
d_rm_f() {
  must drun -d --name drf "$IMG" sleep 1006
  local pid cg; pid=$(dk inspect -f '{{.State.Pid}}' drf); cg=$(cg_dir "$pid" memory) || fail "no cgroup"
  must dk rm -f drf
  ! kill -0 "$pid" 2>/dev/null || fail "process $pid still alive"
  # (the systemd guest tier: no unit, no cgroup left)
  [ "$CGROUP_MANAGER" != systemd ] || want_cg_gone "$cg"
}
# With native.cgroupdriver=systemd, one container through the lifecycle: docker-<id>.scope with
# --memory in systemctl show, exec, stop (sleep ignores TERM: KILL after 1 s), rm, no unit left.
d_systemd_unit() {
  must drun -d --name dsu --memory 64m "$IMG" sleep 1000
  local pid cg out; pid=$(dk inspect -f '{{.State.Pid}}' dsu); cg=$(cg_dir "$pid" memory) || fail "no cgroup"
  want_unit "$pid" MemoryMax 67108864
  out=$(dk exec dsu echo hi) || fail "exec: $?"; want_eq "$out" hi
  must dk stop -t 1 dsu
  want_eq "$(state dsu)" exited
  must dk rm dsu
  want_cg_gone "$cg"
}
d_read_only_tmpfs() { must drun --rm --read-only --tmpfs /tmp "$IMG" touch /tmp/x; }
d_device() { local out; out=$(drun --rm --device /dev/zero:/dev/myzero "$IMG" sh -c 'head -c 5 /dev/myzero | wc -c') || fail "run: $?"; want_eq "$(echo $out)" 5; }
d_privileged() {
  local out host; host=$(grep CapEff /proc/self/status | awk '{print $2}')
  # dockerd 20.10 asks for every capability it knows (0..37) for --privileged, and for no
  # newer one (a 6.1 kernel has 0..40); a host whose bounding set lacks one of 0..37 (this VM
  # has no CAP_SYS_RESOURCE) fails with runc and crun alike.
  [ $((0x$host & 0x3fffffffff)) = $((0x3fffffffff)) ] || skip "host lacks capabilities (CapEff $host): every runtime fails"
  out=$(drun --rm --privileged "$IMG" grep CapEff /proc/self/status) || fail "run: $?"
  want_match "$out" "CapEff:	0000003fffffffff" caps
}
d_init() { local out; out=$(drun --rm --init "$IMG" cat /proc/1/cmdline | tr '\0' ' ') || fail "run: $?"; want_match "$out" init "pid 1"; }

SET_cgroup="pause_unpause memory_64m cpus update rm_f device privileged"
# SET_systemd: with native.cgroupdriver=systemd (docker-<id>.scope in system.slice); two
# containers, as dockerd costs the systemd guest tier most per container (see
# docs/TEST-GUESTS.md)
SET_systemd="exit_code systemd_unit"
t run_rm d_run_rm
t exit_code d_exit_code
t net_host d_net_host
t run_d_exec d_run_d_exec
t run_tty d_run_tty
t logs d_logs
t stop d_stop
t stop_ignores_term d_stop_ignores_term
t kill d_kill
t pause_unpause d_pause_unpause
t restart d_restart
t memory_64m d_memory
t cpus d_cpus
t update d_update
t rm_f d_rm_f
t read_only_tmpfs d_read_only_tmpfs
t device d_device
t privileged d_privileged
t init d_init
[ "$CGROUP_MANAGER" != systemd ] || t systemd_unit d_systemd_unit
summary
[ "$FAILED" = 0 ]
