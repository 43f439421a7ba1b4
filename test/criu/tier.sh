#!/usr/bin/env bash
# The checkpoint/restore tier: runs in a qemu guest with the kernel's modules
# (scripts/test-criu.sh starts it; CRIU 3.17 cannot dump on the development host's kernel).
# Every step runs with tsrun and, for comparison, with runc 1.1.5 in the same boot: a counter
# container is checkpointed (it stops), restored (it goes on from the same value, with stdio
# /dev/null, the restoring caller's pipes, or a terminal handed to a new --console-socket),
# checkpointed with --leave-running, pre-dumped then
# dumped with --parent-path and restored under a new ID; exec, pause, kill and delete work on a
# restored container; failed checkpoints and restores leave the container as it was and nothing
# behind. TSRUN_CRIU_LOGS=DIR (a --rw dir) keeps CRIU's logs; TSRUN_CRIU_RUNTIMES (default
# "tsrun runc") picks the runtimes. Then Podman's checkpoint/restore (test/criu/podman.sh;
# TSRUN_CRIU_PODMAN=0 leaves it out) and containerd's through the runc shim
# (test/criu/containerd.sh; TSRUN_CRIU_CONTAINERD=0 leaves it out).
# Prints "ok"/"not ok" lines and "criu: N passed, N failed" for tsrun's checks; runc's results are
# comment lines, for comparison only (runc's foreground restore has hung once here).
set -uo pipefail
cd "$(dirname "$0")/../.."
export TSRUN_INIT=${TSRUN_INIT:-$PWD/build/Release/tsrun-init}
pass=0 fail=0
check() { # NAME CONDITION: CONDITION (shell code) must succeed; runc's checks only report
  local ok=0; eval "$2" || ok=$?
  case $1 in
    runc:*) if [ $ok = 0 ]; then echo "# ok - $1"; else echo "# FAIL - $1 (runc, for comparison)"; fi ;;
    *) if [ $ok = 0 ]; then pass=$((pass + 1)); echo "ok - $1"; else fail=$((fail + 1)); echo "not ok - $1"; fi ;;
  esac
}
if ! out=$(criu check 2>&1); then
  echo "criu tier skipped: criu check fails in this guest: $(tail -n 1 <<<"$out")"
  echo "criu: 0 passed, 0 failed"; exit 0
fi
# CRIU probes these when it first dumps (5 s under TCG if it has to load them itself).
for m in unix_diag inet_diag tcp_diag udp_diag netlink_diag packet_diag tun nf_tables; do modprobe -q "$m" 2>/dev/null; done

tmp=$(mktemp -d /tmp/tsrun-criu.XXXXXX)
declare -A bin=([tsrun]=build/Release/tsrun [runc]=runc)
R() { local rt=$1; shift; "${bin[$rt]}" --root "$tmp/root-$rt" "$@"; }
cleanup() {
  local rt d
  for rt in tsrun runc; do
    for d in "$tmp/root-$rt"/*/; do [ -d "$d" ] && R "$rt" delete -f "$(basename "$d")" >/dev/null 2>&1; done
  done
  jobs -p | xargs -r kill 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# The counter: every 0.1 s the next number, appended to /counter/log (one append per line, so a
# checkpoint never catches half a value: the log's last line is the latest) and written on the
# stdout it was started with. It starts at 1, so a restart shows as a repeated 1.
# pid 1 first moves its own stdout to a file (keeping the original as fd 3): the stdio
# descriptors.json names are the ones recorded when the container started (runc's
# external_descriptors), so the restore still hands the caller's pipe back in.
count='exec 3>&1 >/counter/moved; i=0; while true; do i=$((i+1)); echo $i >> /counter/log; echo $i >&3; sleep 0.1; done'
bash scripts/make-bundle.sh "$tmp/bundle" sh -c "$count" >/dev/null
# /dev/kmsg is a device of the container that no rule allows: cgroup v2's device program,
# attached at create and at restore, denies it.
node -e '
  const fs = require("fs"); const f = process.argv[1] + "/config.json"; const c = JSON.parse(fs.readFileSync(f));
  c.mounts.push({ destination: "/counter", type: "bind", source: "/counter-host", options: ["rbind", "rw"] });
  c.linux.devices = [{ path: "/dev/kmsg", type: "c", major: 1, minor: 11, fileMode: 438 }];
  fs.writeFileSync(f, JSON.stringify(c));' "$tmp/bundle"

# bundle NAME: a copy of the bundle config whose /counter is $tmp/NAME (rootfs shared).
bundle() {
  local b=$tmp/b-$1
  mkdir -p "$b" "$tmp/$1"; : > "$tmp/$1/log"
  sed "s|/counter-host|$tmp/$1|" "$tmp/bundle/config.json" | sed "s|\"path\":\"rootfs\"|\"path\":\"$tmp/bundle/rootfs\"|" > "$b/config.json"
  echo "$b"
}
# n NAME: the counter's latest value (a file rewritten in place read empty once, when a
# checkpoint froze the counter between its truncation and its write).
n() { local v; v=$(tail -n 1 "$tmp/$1/log" 2>/dev/null); echo "${v:-0}"; }
# steady: the counter's log counts 1, 2, 3... with no number repeated or skipped.
steady() { awk 'NR != $1 { exit 1 } END { exit NR < 2 }' "$tmp/$1/log"; }
wait_n() { # NAME MIN: until the counter reaches MIN (10 s)
  local i; for i in $(seq 100); do [ "$(n "$1")" -ge "$2" ] 2>/dev/null && return 0; sleep 0.1; done; return 1
}
pid_of() { R "$1" state "$2" 2>/dev/null | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p'; }
status_of() { R "$1" state "$2" 2>/dev/null | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p'; }
cg() { echo "/sys/fs/cgroup/$1"; }
# devices_as_created RT ID: writing to /dev/kmsg fails with EPERM (no rule allows it), to
# /dev/null works (a default rule): the container's device rules hold.
devices_as_created() {
  R "$1" exec "$2" sh -c 'echo x > /dev/null && ! echo tsrun-criu-tier > /dev/kmsg' 2>"$tmp/dev-$2" &&
    grep -q 'Operation not permitted' "$tmp/dev-$2"
}
# hooked NAME: bundle NAME's config with prestart and createRuntime hooks that append their
# phase and the state they get to $tmp/hooks-NAME.
hooked() {
  node -e '
    const fs = require("fs"); const f = process.argv[1] + "/config.json"; const c = JSON.parse(fs.readFileSync(f));
    const h = (p) => [{ path: "/bin/sh", args: ["sh", "-c", `echo "${p} $(cat)" >> ${process.argv[2]}`] }];
    c.hooks = { prestart: h("prestart"), createRuntime: h("createRuntime") };
    fs.writeFileSync(f, JSON.stringify(c));' "$(bundle "$1")" "$tmp/hooks-$1"
  echo "$tmp/b-$1"
}
# hook_ran LOG PHASE ID PID: PHASE's hook got the state of ID with PID.
hook_ran() { grep "^$2 " "$1" 2>/dev/null | grep "\"id\":\"$3\"" | grep -q "\"pid\":$4[,}]"; }

# recv SOCK OUT: a console socket receiver (build/recvtty) copying the terminal to OUT.
recv() {
  build/recvtty "$1" > "$2" 2>&1 &
  local i; for i in $(seq 50); do [ -S "$1" ] && return 0; sleep 0.1; done; return 1
}
# tty_has OUT N: the terminal copied to OUT showed the number N (on a line of its own).
tty_has() { local i; for i in $(seq 50); do tr -d '\r' < "$1" | grep -qx "$2" && return 0; sleep 0.1; done; return 1; }

for rt in ${TSRUN_CRIU_RUNTIMES-tsrun runc}; do
  # stdio pipes: checkpoint stops the counter and removes the container; restore brings it back
  # where it was, writing to the pipe the restoring caller gives it.
  id=$rt-pipe; b=$(bundle "$id")
  R $rt run -d --bundle "$b" "$id" </dev/null 2>/dev/null > >(cat > "$tmp/out1-$id")
  wait_n "$id" 5
  check "$rt: created: /dev/kmsg denied, /dev/null allowed" 'devices_as_created $rt "$id"'
  check "$rt: checkpoint (stdout a pipe)" 'R $rt checkpoint --image-path "$tmp/img-$id" --work-path "$tmp/work-$id" "$id"'
  a=$(n "$id"); sleep 0.5
  check "$rt: the counter stops at checkpoint ($a, then $(n "$id"))" '[ "$a" = "$(n "$id")" ]'
  check "$rt: the checkpointed container is gone" '[ -z "$(status_of $rt "$id")" ]'
  check "$rt: descriptors.json names the pipe" 'grep -q "pipe:" "$tmp/img-$id/descriptors.json"'
  check "$rt: restore -d" 'R $rt restore -d --image-path "$tmp/img-$id" --work-path "$tmp/work-$id" --bundle "$b" --pid-file "$tmp/pid-$id" "$id" </dev/null 2>/dev/null > >(cat > "$tmp/out2-$id")'
  check "$rt: restored: state running" '[ "$(status_of $rt "$id")" = running ]'
  check "$rt: restored: state's pid is the pid file's" '[ "$(pid_of $rt "$id")" = "$(cat "$tmp/pid-$id" 2>/dev/null)" ]'
  check "$rt: restored: the process is in the container's cgroup" 'grep -q "^0::/$id\$" "/proc/$(pid_of $rt "$id")/cgroup"'
  wait_n "$id" $((a + 5))
  check "$rt: restored: the counter goes on from $a ($(n "$id")), not from 1" 'steady "$id"'
  check "$rt: restored: output goes on in the restoring caller's pipe, though pid 1 moved its stdout ($(head -n 1 "$tmp/out2-$id" 2>/dev/null) after $a)" '[ "$(head -n 1 "$tmp/out2-$id" 2>/dev/null)" = $((a + 1)) ]'
  check "$rt: restored: the device rules hold (/dev/kmsg denied, /dev/null allowed)" 'devices_as_created $rt "$id"'
  out=$(R $rt exec "$id" tail -n 1 /counter/log 2>&1)
  check "$rt: restored: exec ($out)" '[ "$out" -gt "$a" ] 2>/dev/null'
  R $rt pause "$id"; a=$(n "$id"); sleep 0.4
  check "$rt: restored: pause stops it" '[ "$(status_of $rt "$id")" = paused ] && [ "$a" = "$(n "$id")" ]'
  R $rt resume "$id"
  R $rt kill "$id" KILL; for _ in $(seq 50); do [ "$(status_of $rt "$id")" = stopped ] && break; sleep 0.1; done
  check "$rt: restored: kill stops it" '[ "$(status_of $rt "$id")" = stopped ]'
  R $rt delete "$id"
  check "$rt: restored: delete removes it and its cgroup" '[ -z "$(status_of $rt "$id")" ] && [ ! -e "$(cg "$id")" ]'

  # A terminal (process.terminal, --console-socket): checkpoint --shell-job, restore with a new
  # console socket; the counter goes on, writing to the new pty, whose master the new socket gets
  # (runc: CRIU's RPC orphan_pts_master; tsrun: a pty of its own as criu's --inherit-fd).
  id=$rt-tty; b=$(bundle "$id")
  node -e 'const fs = require("fs"); const f = process.argv[1] + "/config.json"; const c = JSON.parse(fs.readFileSync(f));
    c.process.terminal = true; fs.writeFileSync(f, JSON.stringify(c));' "$b"
  recv "$tmp/sock1-$id" "$tmp/tty1-$id"
  R $rt run -d --console-socket "$tmp/sock1-$id" --bundle "$b" "$id" </dev/null >/dev/null 2>"$tmp/err-$id"
  wait_n "$id" 5
  check "$rt: a terminal: the counter writes to the console socket's pty" 'tty_has "$tmp/tty1-$id" 3'
  check "$rt: checkpoint --shell-job (a terminal)" 'R $rt checkpoint --shell-job --image-path "$tmp/img-$id" --work-path "$tmp/work-$id" "$id" 2>>"$tmp/err-$id"'
  a=$(n "$id")
  recv "$tmp/sock2-$id" "$tmp/tty2-$id"
  check "$rt: restore --shell-job --console-socket (a new receiver)" 'R $rt restore -d --shell-job --console-socket "$tmp/sock2-$id" --image-path "$tmp/img-$id" --work-path "$tmp/work-$id" --bundle "$b" "$id" </dev/null >/dev/null 2>>"$tmp/err-$id"'
  wait_n "$id" $((a + 5))
  check "$rt: a terminal: restored, the counter goes on from $a ($(n "$id"))" '[ "$(status_of $rt "$id")" = running ] && steady "$id"'
  check "$rt: a terminal: its output arrives on the new master ($(tr -d "\r" < "$tmp/tty2-$id" 2>/dev/null | head -n 1) after $a)" 'tty_has "$tmp/tty2-$id" $((a + 1))'
  R $rt delete -f "$id"

  # stdio /dev/null: --leave-running, then --pre-dump and a dump on top of it, restored under a
  # new ID; prestart and createRuntime hooks run at restore as at create (runc runs them from
  # CRIU's setup-namespaces notification, with the restored pid).
  id=$rt-null; b=$(hooked "$id")
  R $rt run -d --bundle "$b" "$id" </dev/null >/dev/null 2>&1
  wait_n "$id" 3
  check "$rt: checkpoint --leave-running" 'R $rt checkpoint --leave-running --image-path "$tmp/img-$id/leave" "$id"'
  a=$(n "$id"); sleep 0.4
  check "$rt: --leave-running: still running and counting ($a, then $(n "$id"))" '[ "$(status_of $rt "$id")" = running ] && [ "$(n "$id")" -gt "$a" ]'
  check "$rt: checkpoint --pre-dump" 'R $rt checkpoint --pre-dump --image-path "$tmp/img-$id/pre" "$id"'
  check "$rt: --pre-dump: still running" '[ "$(status_of $rt "$id")" = running ]'
  check "$rt: checkpoint --parent-path ../pre" 'R $rt checkpoint --image-path "$tmp/img-$id/final" --parent-path ../pre "$id"'
  a=$(n "$id")
  check "$rt: --parent-path: the dump links its parent" '[ -L "$tmp/img-$id/final/parent" ]'
  check "$rt: descriptors.json says /dev/null" 'grep -q /dev/null "$tmp/img-$id/final/descriptors.json"'
  check "$rt: restore into a new ID" 'R $rt restore -d --image-path "$tmp/img-$id/final" --bundle "$b" "$id-new" </dev/null >/dev/null 2>&1'
  wait_n "$id" $((a + 3))
  check "$rt: restored as $id-new: running, counting on from $a" '[ "$(status_of $rt "$id-new")" = running ] && steady "$id"'
  p=$(pid_of $rt "$id-new")
  check "$rt: restore ran prestart and createRuntime with the restored pid ($p)" 'hook_ran "$tmp/hooks-$id" prestart "$id-new" "$p" && hook_ran "$tmp/hooks-$id" createRuntime "$id-new" "$p"'
  R $rt delete -f "$id-new"
  # A foreground restore waits for the container and exits with its status; the container goes
  # with it (as run without -d).
  R $rt restore --image-path "$tmp/img-$id/leave" --bundle "$b" "$id-fg" </dev/null >/dev/null 2>&1 &
  fg=$!
  for _ in $(seq 200); do [ "$(status_of $rt "$id-fg")" = running ] && break; sleep 0.1; done
  check "$rt: foreground restore: running" '[ "$(status_of $rt "$id-fg")" = running ]'
  R $rt kill "$id-fg" KILL
  # bounded: a restore that never returns must not hold the guest until its timeout
  for _ in $(seq 300); do kill -0 "$fg" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$fg" 2>/dev/null; then kill -9 "$fg"; wait "$fg"; rc=hung; else wait "$fg"; rc=$?; fi
  check "$rt: foreground restore: exits with the container's status ($rc) and removes it" '[ "$rc" = 137 ] && [ -z "$(status_of $rt "$id-fg")" ]'

  # Failures leave the container as it was and nothing behind.
  id=$rt-err; b=$(bundle "$id")
  R $rt run -d --bundle "$b" "$id" </dev/null >"$tmp/outside-$id" 2>&1
  wait_n "$id" 3
  # stdout is a file outside the container: CRIU cannot dump it ("Can't lookup mount").
  check "$rt: a checkpoint CRIU refuses fails" '! R $rt checkpoint --image-path "$tmp/img-$id" "$id" 2>"$tmp/err-$id"'
  a=$(n "$id"); sleep 0.4
  check "$rt: ... and the container runs on ($a, then $(n "$id"))" '[ "$(status_of $rt "$id")" = running ] && [ "$(n "$id")" -gt "$a" ]'
  check "$rt: restore under an ID in use fails" '! R $rt restore -d --image-path "$tmp/img-$rt-null/final" --bundle "$b" "$id" </dev/null >/dev/null 2>&1'
  check "$rt: ... and the container runs on" '[ "$(status_of $rt "$id")" = running ]'
  check "$rt: restore of a missing image fails" '! R $rt restore -d --image-path "$tmp/no-such-image" --bundle "$b" "$id-x" </dev/null >/dev/null 2>&1'
  check "$rt: ... and leaves no container and no cgroup" '[ -z "$(status_of $rt "$id-x")" ] && [ ! -e "$(cg "$id-x")" ]'
  R $rt delete -f "$id"
done
echo "# criu: the runtimes' own steps took ${SECONDS}s"
# Podman's checkpoint/restore/--export/--import through tsrun.
if [ "${TSRUN_CRIU_PODMAN:-1}" = 1 ]; then
  t=$SECONDS; . test/criu/podman.sh; echo "# criu: Podman's steps took $((SECONDS - t))s"
fi
# containerd's checkpoint/restore through the runc shim, tsrun and runc.
if [ "${TSRUN_CRIU_CONTAINERD:-1}" = 1 ]; then
  t=$SECONDS; . test/criu/containerd.sh; echo "# criu: containerd's steps took $((SECONDS - t))s"
fi
[ -n "${TSRUN_CRIU_LOGS:-}" ] && for f in "$tmp"/img-*/*.log "$tmp"/img-*/*/*.log "$tmp"/work-*/*.log; do
  [ -f "$f" ] && cp "$f" "$TSRUN_CRIU_LOGS/$(echo "${f#"$tmp"/}" | tr / _)"; done
[ "$fail" = 0 ] || { echo "# tsrun's dump/restore logs:"; tail -n 5 "$tmp"/img-tsrun-*/*.log "$tmp"/work-tsrun-*/*.log 2>/dev/null; cat "$tmp"/err-tsrun-* 2>/dev/null; }
echo "criu: $pass passed, $fail failed"
[ "$fail" = 0 ]
