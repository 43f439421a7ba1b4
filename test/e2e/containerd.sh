#!/usr/bin/env bash
# test/e2e/containerd.sh: containerd (containerd-shim-runc-v2 + ctr) scenarios against
# RUNTIME=tsrun|runc|crun, given to the shim with `ctr run --runc-binary`. Starts its own
# containerd (config/root/state/socket under $E2E/containerd) by PID and stops it at the end;
# imports setup.sh's image archive into namespace tsrun-e2e when it is missing.
# Needs test/e2e/setup.sh first. ONLY=regex or E2E_SET=cgroup selects scenarios (lib.sh, before t).
set -uo pipefail
SUITE=containerd
. "$(dirname "$0")/lib.sh"
reexec_for_crun "$0" "$@"
harness_init
TMPD=$(mktemp -d "$E2E/containerd-$RUNTIME.XXXXXX")
BIN=$(runtime_bin "$RUNTIME")
CTRC="$(printf '%q ' ctr --address "$CTRD_SOCK" -n "$CTR_NS")"
RUNC_ROOT_NS=/run/containerd/runc/$CTR_NS   # where the shim tells the runtime to keep state

cleanup_all() {
  local c
  for c in $(T=20 ctrc task ls -q 2>/dev/null); do
    T=20 ctrc task kill -a -s KILL "$c" >/dev/null 2>&1; T=20 ctrc task delete -f "$c" >/dev/null 2>&1
  done
  for c in $(T=20 ctrc container ls -q 2>/dev/null); do T=20 ctrc container delete "$c" >/dev/null 2>&1; done
}
between() { [ -n "${KEEP:-}" ] || cleanup_all; }
finish() {
  cleanup_all
  containerd_stop
  rm -rf "$TMPD"
}
trap finish EXIT
containerd_start || { echo "not ok - containerd_start"; echo "0 passed, 1 failed"; exit 1; }
if ! ctrc image ls -q | grep -qx "$IMG"; then   # once per containerd root
  ctrc image import --base-name localhost/busybox "$ARCHIVE" >/dev/null || ctrc image import "$ARCHIVE" >/dev/null
  ctrc image ls -q | grep -qx "$IMG" || ctrc image tag "$(ctrc image ls -q | head -1)" "$IMG"
fi
cleanup_all

# ctr run with the runtime under test; with the systemd driver the shim passes --systemd-cgroup
# and ctr needs a slice:prefix:name cgroupsPath (the ID follows the image among the arguments).
crun_() {
  local a prev= id=
  for a; do [ "$prev" = "$IMG" ] && { id=$a; break; }; prev=$a; done
  if [ "$CGROUP_MANAGER" = systemd ]; then
    ctrc run --runc-binary "$BIN" --runc-systemd-cgroup --cgroup "system.slice:tsrun-e2e:$id" "$@"
  else ctrc run --runc-binary "$BIN" "$@"; fi
}
tty_ctr() { timeout -k 5 60 script -qec "$CTRC $*" /dev/null </dev/null | tr -d '\r\000' | sed 's/\^@//g'; }
task_status() { ctrc task ls | awk -v c="$1" '$1 == c { print $3 }'; }
task_pid() { ctrc task ls | awk -v c="$1" '$1 == c { print $2 }'; }
wait_status() { local i; for i in $(seq 50); do [ "$(task_status "$1")" = "$2" ] && return 0; sleep 0.2; done; fail "$1 never $2 (now $(task_status "$1"))"; }
run_d() { must crun_ -d "$@" >/dev/null; }

c_run_rm() { local out; out=$(crun_ --rm "$IMG" c-rm echo hello) || fail "run: $?"; want_eq "$out" hello; }
c_exit_code() { crun_ --rm "$IMG" c-exit sh -c 'exit 42'; want_eq $? 42 "exit status"; }
# The shell outlives its output by 0.3 s, as in podman.sh's run_tty (the shim's drain at exit).
c_run_tty() {
  local out; out=$(tty_ctr run --runc-binary "$BIN" --rm -t "$IMG" c-tty sh -c "'tty; stty -a | head -1; sleep 0.3'")
  want_match "$out" "/dev/pts/0" tty; want_match "$out" "speed 38400" stty
}
c_run_d() { run_d "$IMG" c-d sleep 1000; wait_status c-d RUNNING; }
c_task_ls() {
  local out; out=$(ctrc task ls) || fail "task ls: $?"; echo "$out"
  want_match "$out" "ex +[0-9]+ +RUNNING" "task ls line"
}
c_exec() { local out; out=$(ctrc task exec --exec-id e1 ex echo hi) || fail "exec: $?"; want_eq "$out" hi; }
c_exec_user_cwd() {
  local out; out=$(ctrc task exec --exec-id e2 --user 1000 --cwd /tmp ex sh -c 'id -u; pwd') || fail "exec: $?"
  want_eq "$(echo $out)" "1000 /tmp"
}
c_exec_exit_code() { ctrc task exec --exec-id e3 ex sh -c 'exit 7'; want_eq $? 7 "exec status"; }
c_exec_tty() { local out; out=$(tty_ctr task exec -t --exec-id e4 ex tty); want_match "$out" "^/dev/pts/[0-9]+" "tty in exec"; }
c_exec_detach() {
  must ctrc task exec -d --exec-id e5 ex sh -c 'echo detached >/tmp/d'
  local i; for i in $(seq 20); do [ "$(ctrc task exec --exec-id e5r$i ex cat /tmp/d 2>/dev/null)" = detached ] && return 0; sleep 0.2; done
  fail "detached exec did not run"
}
c_task_ps() { local out; out=$(ctrc task ps ex) || fail "task ps: $?"; echo "$out"; want_match "$out" "$(task_pid ex)" "pid 1 listed"; }
c_metrics() {
  local out; out=$(ctrc task metrics ex) || fail "metrics: $?"; echo "$out"
  want_match "$out" "memory.usage(_in_bytes)? +[0-9]+" "memory usage (v1 or v2 metrics)"
}
c_pause_resume() {
  must ctrc task pause ex; want_eq "$(task_status ex)" PAUSED "after pause"
  must ctrc task resume ex; want_eq "$(task_status ex)" RUNNING "after resume"
  local out; out=$(ctrc task exec --exec-id e6 ex echo alive) || fail "exec after resume: $?"; want_eq "$out" alive
}
c_kill_usr1() {
  run_d "$IMG" c-usr1 sh -c 'trap "echo got >/tmp/usr1" USR1; while :; do sleep 0.1; done'
  sleep 0.5
  must ctrc task kill -s USR1 c-usr1
  local i; for i in $(seq 20); do [ "$(ctrc task exec --exec-id r$i c-usr1 cat /tmp/usr1 2>/dev/null)" = got ] && return 0; sleep 0.2; done
  fail "USR1 not delivered"
}
c_kill() {
  run_d "$IMG" c-kill sleep 1000
  must ctrc task kill -s KILL c-kill; wait_status c-kill STOPPED
}
c_delete() {
  must crun_ "$IMG" c-del true
  ctrc task delete c-del >/dev/null 2>&1 || true
  must ctrc container delete c-del
  ! ctrc container info c-del >/dev/null 2>&1 || fail "container still exists"
}
c_kill_all() {
  run_d "$IMG" c-killall sh -c 'sleep 1003 & sleep 1004 & wait'
  sleep 0.5
  local pid; pid=$(task_pid c-killall)
  must ctrc task kill -a -s KILL c-killall; wait_status c-killall STOPPED
  pgrep -f 'sleep 100[34]' && fail "processes left after kill -a"
  return 0
}
c_delete_f() {
  run_d "$IMG" c-delf sleep 1005
  local pid cg; pid=$(task_pid c-delf); cg=$(cg_dir "$pid" memory) || fail "no cgroup"
  must ctrc task delete -f c-delf
  ! kill -0 "$pid" 2>/dev/null || fail "process $pid still alive"
  ! ctrc task ls | grep -q c-delf || fail "task still listed"
  want_cg_gone "$cg"
}
# With the systemd driver (SystemdCgroup: the shim passes --systemd-cgroup) the task is in the
# scope its cgroupsPath names, with its limits as unit properties; delete -f leaves no unit.
c_systemd_unit() {
  run_d --memory-limit 67108864 --cpus 0.5 "$IMG" c-su sleep 1000
  local pid cg; pid=$(task_pid c-su); cg=$(cg_dir "$pid" memory) || fail "no cgroup"
  want_eq "$(cg_get "$pid" memory.limit) $(cg_get "$pid" cpu.quota)" "67108864 50000" "memory.max, cpu.max"
  [ "$CGROUP_MANAGER" != systemd ] || want_eq "${cg##*/}" tsrun-e2e-c-su.scope "the unit of system.slice:tsrun-e2e:c-su"
  want_unit "$pid" MemoryMax 67108864
  want_unit "$pid" CPUQuotaPerSecUSec 500ms
  must ctrc task delete -f c-su
  ! kill -0 "$pid" 2>/dev/null || fail "process $pid still alive"
  want_cg_gone "$cg"
}
c_memory_limit() {
  run_d --memory-limit 67108864 "$IMG" c-mem sleep 1000
  want_eq "$(cg_get "$(task_pid c-mem)" memory.limit)" 67108864 "memory limit"
  want_unit "$(task_pid c-mem)" MemoryMax 67108864
}
c_memory_oom() {
  crun_ --rm --memory-limit 33554432 "$IMG" c-oom sh -c "$MEMORY_HOG"
  local rc=$?; want_eq $rc 137 "status of a task over its memory limit"
}
c_cpus() {
  run_d --cpus 0.5 "$IMG" c-cpu sleep 1000
  local pid; pid=$(task_pid c-cpu)
  want_eq "$(cg_get "$pid" cpu.quota)" 50000 "cpu quota"
  want_unit "$pid" CPUQuotaPerSecUSec 500ms
  ctrc task exec --exec-id busy c-cpu timeout 3 sh -c 'while :; do :; done'
  want_cg_throttled "$pid"
}
c_default_devices() {
  # (ctr's default spec grants CAP_MKNOD)
  local out; out=$(crun_ --rm "$IMG" c-devs sh -c "$DEFAULT_DEVICES_SH" 2>&1) || fail "run: $?: $out"
  want_default_devices "$out"
}
c_device() {
  # --device adds /dev/kmsg, and its rule: the node opens (for writing, nothing written).
  local out; out=$(crun_ --rm --device /dev/kmsg "$IMG" c-dev sh -c 'ls -l /dev/kmsg; true >/dev/kmsg && echo opened' 2>&1) || fail "run: $?: $out"
  want_match "$out" "^crw" "device node"; want_match "$out" "opened$" "open"
}
c_cap_drop() {
  local out; out=$(crun_ --rm --cap-drop CAP_NET_RAW --cap-drop CAP_CHOWN "$IMG" c-cap sh -c 'grep CapEff /proc/self/status; chown 1 /tmp && echo chowned') || true
  echo "$out"; want_no_match "$out" chowned "chown without CAP_CHOWN"; want_match "$out" "CapEff:" "caps"
}
c_read_only() {
  crun_ --rm --read-only "$IMG" c-ro touch /x && fail "write to / succeeded"
  return 0
}
c_bind_mount() {
  mkdir -p "$TMPD/bind"; echo from-host >"$TMPD/bind/in"
  local out; out=$(crun_ --rm --mount "type=bind,src=$TMPD/bind,dst=/data,options=rbind:rw" "$IMG" c-bind sh -c 'cat /data/in; echo from-ctr >/data/out') || fail "run: $?"
  want_eq "$out" from-host; want_eq "$(cat "$TMPD/bind/out")" from-ctr
}
c_net_host() {
  local out; out=$(crun_ --rm --net-host "$IMG" c-net readlink /proc/self/ns/net) || fail "run: $?"
  want_eq "$out" "$(readlink /proc/self/ns/net)" "network namespace"
}
c_net_default() {
  # Without --net-host (and no CNI) ctr gives the task a network namespace of its own: only lo.
  local out; out=$(crun_ --rm "$IMG" c-netd sh -c 'readlink /proc/self/ns/net; ls /sys/class/net') || fail "run: $?"
  [ "$(head -1 <<<"$out")" != "$(readlink /proc/self/ns/net)" ] || fail "shares the host's network namespace"
  want_eq "$(tail -n +2 <<<"$out" | tr '\n' ' ')" "lo " "interfaces"
}
c_seccomp() {
  # --seccomp: containerd's default profile; the task runs under a filter, and a call the
  # profile refuses to an unprivileged task (unshare of a user namespace needs privileges it
  # lacks: EPERM from the profile) fails.
  local out; out=$(crun_ --rm --seccomp "$IMG" c-sec grep Seccomp: /proc/self/status) || fail "run: $?"
  want_eq "$(awk '{print $2}' <<<"$out")" 2 "seccomp mode (filter)"
  crun_ --rm --seccomp "$IMG" c-sec2 unshare -U true 2>/dev/null && fail "unshare -U allowed under the default profile"
  return 0
}
c_privileged() {
  local out host; host=$(grep CapEff /proc/self/status | awk '{print $2}')
  out=$(crun_ --rm --privileged "$IMG" c-priv grep CapEff /proc/self/status) || fail "run: $?"
  want_match "$out" "CapEff:	$host" caps
}
c_runc_root() {
  mkdir -p "$TMPD/rroot"
  run_d --runc-root "$TMPD/rroot" "$IMG" c-root sleep 1000
  ls -la "$TMPD/rroot" "$TMPD/rroot"/* || true
  [ -e "$TMPD/rroot/$CTR_NS/c-root" ] || [ -e "$TMPD/rroot/c-root" ] || fail "no state for c-root under --runc-root $TMPD/rroot"
  must ctrc task kill -s KILL c-root; wait_status c-root STOPPED
  must ctrc task delete c-root
}

SET_cgroup="exec task_ps metrics pause_resume kill_all delete_f memory_limit memory_oom cpus default_devices
  device privileged"
SET_systemd="exit_code exec task_ps metrics pause_resume kill_all systemd_unit memory_oom"

t run_rm c_run_rm
t exit_code c_exit_code
t run_tty c_run_tty
t run_d c_run_d
if any_sel task_ls exec exec_user_cwd exec_exit_code exec_tty exec_detach task_ps metrics pause_resume; then crun_ -d "$IMG" ex sleep 1000 >/dev/null || echo "# could not start ex"; fi
KEEP=1 t task_ls c_task_ls
KEEP=1 t exec c_exec
# (before exec_user_cwd: after a `ctr task exec --user`, ctr 1.6's `exec -d` never runs its
# process, with runc as with tsrun)
KEEP=1 t exec_detach c_exec_detach
KEEP=1 t exec_user_cwd c_exec_user_cwd
KEEP=1 t exec_exit_code c_exec_exit_code
KEEP=1 t exec_tty c_exec_tty
KEEP=1 t task_ps c_task_ps
KEEP=1 t metrics c_metrics
KEEP=1 t pause_resume c_pause_resume
cleanup_all
t kill_usr1 c_kill_usr1
t kill c_kill
t delete c_delete
t kill_all c_kill_all
t delete_f c_delete_f
t systemd_unit c_systemd_unit
t memory_limit c_memory_limit
t memory_oom c_memory_oom
t cpus c_cpus
t default_devices c_default_devices
t device c_device
t cap_drop c_cap_drop
t read_only c_read_only
t bind_mount c_bind_mount
t net_host c_net_host
t net_default c_net_default
t seccomp c_seccomp
t privileged c_privileged
t runc_root c_runc_root

summary
[ "$FAILED" = 0 ]
