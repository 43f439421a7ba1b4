#!/usr/bin/env bash
# The systemd guest tier: runs inside the guest whose PID 1 is systemd on pure cgroup v2
# (scripts/test-systemd.sh starts it), the host most users have. It proves the guest is that host
# (systemd runs, a transient scope made over D-Bus gets its limit), then puts tsrun's systemd
# cgroup driver and runc's through the same checks, side by side.
# Prints one "ok"/"not ok" line per check and a closing "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
[ "${TSRUN_VM:-}" = systemd ] || { echo "run me with scripts/test-systemd.sh" >&2; exit 2; }
tmp=$(mktemp -d /tmp/tsrun-sd.XXXXXX)
. test/systemd/lib.sh
sleeper=
cleanup() {
  for rt in runc tsrun; do
    for id in sd-$rt sd-$rt-dup bad-$rt oom-$rt del plain-$rt wr; do
      if [ "$rt" = runc ]; then runc --root "$tmp/runc-root" delete -f $id; else build/Release/tsrun --root "$tmp/tsrun-root" --systemd-cgroup delete -f $id; fi
    done
  done >/dev/null 2>&1
  systemctl stop tsrun-sd-probe.scope tsrun-sd-del.scope >/dev/null 2>&1
  [ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null
  if id tsrun-sd-user >/dev/null 2>&1; then
    systemctl stop user@4711.service >/dev/null 2>&1; userdel tsrun-sd-user >/dev/null 2>&1
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

check "systemd is PID 1" [ "$(cat /proc/1/comm)" = systemd ]
state=$(systemctl is-system-running 2>&1)
check "systemctl is-system-running: running or degraded ($state)" grep -qxE 'running|degraded' <<<"$state"
check "the cgroup hierarchy is pure v2" [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]

# StartTransientUnit(name, mode, properties, aux) over the system bus, as a runtime's systemd
# driver calls it: a scope holding one process, with MemoryMax and TasksMax.
sleep 300 & sleeper=$!
busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager \
  StartTransientUnit 'ssa(sv)a(sa(sv))' tsrun-sd-probe.scope fail \
  4 PIDs au 1 "$sleeper" MemoryMax t 67108864 TasksMax t 17 Delegate b true 0 >/dev/null
for _ in $(seq 50); do [ "$(systemctl is-active tsrun-sd-probe.scope)" = active ] && break; sleep 0.1; done
scope=/sys/fs/cgroup/system.slice/tsrun-sd-probe.scope
check "the transient scope is active" [ "$(systemctl is-active tsrun-sd-probe.scope)" = active ]
check "the scope holds the process" grep -qx "$sleeper" "$scope/cgroup.procs"
check "MemoryMax reached memory.max" [ "$(cat "$scope/memory.max")" = 67108864 ]
check "TasksMax reached pids.max" [ "$(cat "$scope/pids.max")" = 17 ]
check "systemctl show reports the limit" [ "$(systemctl show -P MemoryMax tsrun-sd-probe.scope)" = 67108864 ]
kill "$sleeper"; wait "$sleeper" 2>/dev/null; sleeper=
for _ in $(seq 50); do [ -e "$scope" ] || break; sleep 0.1; done
check "the scope goes when its last process ends" [ ! -e "$scope" ]

# The systemd driver, tsrun and runc through the same checks (runc is the reference): cgroupsPath
# slice:prefix:name becomes prefix-name.scope in the slice, with the container's limits as unit
# properties and in its files; exec joins it; update, pause and resume act on it; delete stops it;
# a create systemd refuses leaves no unit and no container. Each check runs for both runtimes and
# a table of the two columns closes the section; only tsrun's column passes or fails the tier
# (runc 1.1.5 takes a unit that exists as its own: it ignores systemd's UnitExists).
bash scripts/make-bundle.sh "$tmp/b" sleep 300 >/dev/null
gone() { # unit: not loaded (or inactive and without a cgroup) within 5 s
  for _ in $(seq 50); do
    [ "$(show "$1" LoadState)" = not-found ] || { [ "$(show "$1" ActiveState)" = inactive ] && [ -z "$(find /sys/fs/cgroup -name "$1" 2>/dev/null)" ]; } && return 0
    sleep 0.1
  done
  return 1
}
side() { # runtime name, then its command line
  local rt=$1; shift
  local -a R=("$@" --root "$tmp/$rt-root")
  local id=sd-$rt unit=tsrun-sd-sd-$rt.scope dir=/sys/fs/cgroup/system.slice/tsrun-sd-sd-$rt.scope
  bundle_for "$tmp/$rt" "system.slice:tsrun-sd:sd-$rt"
  both "$rt" "create --systemd-cgroup" "${R[@]}" --systemd-cgroup create --bundle "$tmp/$rt" "$id"
  both "$rt" "the unit prefix-name.scope is active" [ "$(show $unit ActiveState)" = active ]
  local pid; pid=$("${R[@]}" state "$id" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
  both "$rt" "pid 1 is in the unit's cgroup" grep -qx "0::/system.slice/$unit" "/proc/$pid/cgroup"
  both "$rt" "systemctl show: MemoryMax" [ "$(show $unit MemoryMax)" = 33554432 ]
  both "$rt" "systemctl show: TasksMax" [ "$(show $unit TasksMax)" = 20 ]
  both "$rt" "systemctl show: CPUQuotaPerSecUSec" [ "$(show $unit CPUQuotaPerSecUSec)" = 500ms ]
  both "$rt" "systemctl show: Delegate" [ "$(show $unit Delegate)" = yes ]
  both "$rt" "memory.max, pids.max, cpu.max files" [ "$(cat $dir/memory.max $dir/pids.max $dir/cpu.max | tr '\n' ' ')" = "33554432 20 50000 100000 " ]
  both "$rt" "start" "${R[@]}" start "$id"
  local cg; cg=$("${R[@]}" exec "$id" sh -c 'cat /proc/1/cgroup; cat /proc/self/cgroup' 2>&1 | sort -u | wc -l)
  both "$rt" "exec runs in pid 1's cgroup" [ "$cg" = 1 ]
  both "$rt" "update --memory 64m --pids-limit 30" "${R[@]}" update --memory 64m --pids-limit 30 "$id"
  both "$rt" "update reached the unit (MemoryMax, TasksMax)" [ "$(show $unit MemoryMax) $(show $unit TasksMax)" = "67108864 30" ]
  both "$rt" "update reached the files" [ "$(cat $dir/memory.max $dir/pids.max | tr '\n' ' ')" = "67108864 30 " ]
  both "$rt" "pause" "${R[@]}" pause "$id"
  both "$rt" "paused: cgroup.freeze 1, state paused" [ "$(cat $dir/cgroup.freeze)" = 1 ] && "${R[@]}" state "$id" | grep -q '"paused"'
  both "$rt" "resume" "${R[@]}" resume "$id"
  both "$rt" "ps --format json lists pid 1" sh -c "'$1' ${R[*]:1} ps --format json '$id' | grep -qw '$pid'"
  # Another container for the same unit: systemd refuses, and the first one's unit stays.
  # (output through a file: a container that does start holds a pipe open for its life)
  local out; "${R[@]}" --systemd-cgroup create --bundle "$tmp/$rt" "$id-dup" >"$tmp/out" 2>&1; out=$(cat "$tmp/out")
  both "$rt" "a unit that exists: create fails with systemd's error" grep -qi "exists" <<<"$out"
  both "$rt" "  ... and leaves no container" sh -c "! '$1' ${R[*]:1} state '$id-dup' >/dev/null 2>&1"
  both "$rt" "  ... and the existing unit runs on" [ "$(show $unit ActiveState)" = active ]
  # events through the end: pid 1 killed, not OOM-killed, and systemd removes the scope at once:
  # no oom event (tsrun's events then reads the slice's count: see oom_side below).
  "${R[@]}" events --interval 60s "$id" >"$tmp/$id.events" 2>&1 &
  local ev=$!
  for _ in $(seq 300); do grep -q '"type":"stats"' "$tmp/$id.events" && break; sleep 0.1; done
  both "$rt" "kill --all KILL" "${R[@]}" kill --all "$id" KILL
  for _ in $(seq 300); do kill -0 $ev 2>/dev/null || break; sleep 0.1; done
  kill $ev 2>/dev/null; wait $ev 2>/dev/null
  both "$rt" "  ... events: no oom event" sh -c "grep -q '\"type\":\"stats\"' '$tmp/$id.events' && ! grep -q '\"type\":\"oom\"' '$tmp/$id.events'"
  both "$rt" "delete" "${R[@]}" delete -f "$id"
  both "$rt" "delete leaves no unit, no cgroup" gone $unit
  # A property systemd refuses (CollectMode takes inactive or inactive-or-failed).
  bundle_for "$tmp/$rt-bad" "system.slice:tsrun-sd:bad-$rt" '{"annotations":{"org.systemd.property.CollectMode":"'"'bogus'"'"}}'
  "${R[@]}" --systemd-cgroup create --bundle "$tmp/$rt-bad" "bad-$rt" >"$tmp/out" 2>&1; out=$(cat "$tmp/out")
  both "$rt" "a property systemd refuses: create fails with its error" grep -qi "collect" <<<"$out"
  both "$rt" "  ... and leaves no unit" gone "tsrun-sd-bad-$rt.scope"
  both "$rt" "  ... and no container" sh -c "! '$1' ${R[*]:1} state 'bad-$rt' >/dev/null 2>&1"
  echo "# $rt: $out" | head -c 300; echo
}
side runc runc
side tsrun "$PWD/build/Release/tsrun"

# The cgroupfs driver with no cgroupsPath on this host: runc 1.1.5 puts the container below the
# parent of the caller's own cgroup (fs2/defaultpath.go), not below pid 1's (/init.scope holds
# systemd itself, so a child of it can't get controllers: EBUSY).
plain() { # runtime name, then its command line
  local rt=$1; shift
  local -a R=("$@" --root "$tmp/$rt-root")
  local id=plain-$rt own; own=$(sed -n 's/^0:://p' /proc/self/cgroup)
  local want; want=$(dirname "$own"); want=${want%/}/$id
  bundle_for "$tmp/$rt-plain" ""
  node -e 'const fs = require("fs"); const f = process.argv[1] + "/config.json"; const c = JSON.parse(fs.readFileSync(f));
    delete c.linux.cgroupsPath; fs.writeFileSync(f, JSON.stringify(c));' "$tmp/$rt-plain"
  both "$rt" "no cgroupsPath (cgroupfs driver): run -d" "${R[@]}" run -d --bundle "$tmp/$rt-plain" "$id"
  local pid; pid=$("${R[@]}" state "$id" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
  both "$rt" "  ... pid 1 is in <parent of the caller's cgroup>/<id>" grep -qx "0::$want" "/proc/${pid:-0}/cgroup"
  both "$rt" "  ... the memory limit is applied there" [ "$(cat "/sys/fs/cgroup$want/memory.max" 2>&1)" = 33554432 ]
  both "$rt" "  ... delete leaves no cgroup" sh -c "'$1' ${R[*]:1} delete -f '$id' && [ ! -e '/sys/fs/cgroup$want' ]"
}
plain runc runc
plain tsrun "$PWD/build/Release/tsrun"
# events with the systemd driver: --stats reads the scope's cgroup, and the stream reports an OOM
# kill as runc's does, also when the kill ends pid 1 and systemd removes the emptied scope at once
# (runc's events watches memory.events with inotify; tsrun's also reads the slice's count, which
# stays: see OomCounter in src/cgroups/stats.ts; side() above checks that a pid 1 killed
# otherwise gets no event). OOMPolicy: runc 1.1.5 sets none, so the scope has systemd's default;
# tsrun's must be the same.
oom_side() { # runtime name, then its command line
  local rt=$1; shift
  local -a R=("$@" --root "$tmp/$rt-root")
  local id=oom-$rt unit=tsrun-sd-oom-$rt.scope
  bundle_for "$tmp/$id" "system.slice:tsrun-sd:$id"
  node -e 'const fs = require("fs"), f = process.argv[1] + "/config.json", c = JSON.parse(fs.readFileSync(f));
    c.process.args = ["dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"]; fs.writeFileSync(f, JSON.stringify(c));' "$tmp/$id"
  "${R[@]}" --systemd-cgroup create --bundle "$tmp/$id" "$id" </dev/null >"$tmp/out" 2>&1
  local stats; stats=$("${R[@]}" events --stats "$id" 2>/dev/null)
  both "$rt" "events --stats: pids.current 1, memory usage" node -e 'const e = JSON.parse(process.argv[1]);
    process.exit(e.type === "stats" && e.data.pids.current === 1 && e.data.memory.usage.usage > 0 ? 0 : 1)' "$stats"
  oom_policy[$rt]=$(show $unit OOMPolicy)
  "${R[@]}" events --interval 60s "$id" >"$tmp/$id.events" 2>&1 &
  local ev=$!
  for _ in $(seq 300); do grep -q '"type":"stats"' "$tmp/$id.events" && break; sleep 0.1; done
  "${R[@]}" start "$id"
  for _ in $(seq 300); do kill -0 $ev 2>/dev/null || break; sleep 0.1; done
  kill $ev 2>/dev/null; wait $ev 2>/dev/null
  both "$rt" "events: an OOM kill of pid 1 is reported" grep -q '"type":"oom"' "$tmp/$id.events"
  "${R[@]}" --systemd-cgroup delete -f "$id"
  both "$rt" "  ... and delete leaves no unit" gone $unit
}
declare -A oom_policy
oom_side runc runc
oom_side tsrun "$PWD/build/Release/tsrun"
check "tsrun: the scope's OOMPolicy is runc's (${oom_policy[runc]:-none})" [ "${oom_policy[tsrun]:-}" = "${oom_policy[runc]:-}" ]

# The files a create leaves to systemd: a new unit's properties are in its cgroup when its start
# job ends (memory.max, pids.max here: side() above checks their values), so tsrun does not write
# them again (runc 1.1.5 does, in Set after Apply); cpu.max, which no property sets exactly, it
# writes. strace sees the opens of a cold run of `true`.
bundle_for "$tmp/wr" "system.slice:tsrun-sd:wr"
node -e 'const fs = require("fs"), f = process.argv[1] + "/config.json", c = JSON.parse(fs.readFileSync(f));
  c.process.args = ["true"]; fs.writeFileSync(f, JSON.stringify(c));' "$tmp/wr"
TSRUN_SERVER=off timeout 600 strace -f -qq -e trace=openat -o "$tmp/wr.strace" build/Release/tsrun --root "$tmp/tsrun-root" \
  --systemd-cgroup run --bundle "$tmp/wr" wr </dev/null >/dev/null 2>&1
check "run with the systemd driver, under strace" grep -q 'tsrun-sd-wr.scope/cgroup.controllers"' "$tmp/wr.strace"
check "  ... the unit's memory.max and pids.max: tsrun does not write them again" sh -c "! grep -E 'tsrun-sd-wr.scope/(memory|pids)\.max\", O_WRONLY' '$tmp/wr.strace'"
check "  ... cpu.max (no exact property): tsrun writes it" grep -q 'tsrun-sd-wr.scope/cpu.max", O_WRONLY' "$tmp/wr.strace"

# delete --force of a container the state of which is unreadable (state.json corrupt: a crash, a
# full disk) or whose processes died: the unit and its cgroup go with the entry. runc 1.1.5
# refuses to delete the first ("container does not exist"), so tsrun's column only.
T() { build/Release/tsrun --root "$tmp/tsrun-root" --systemd-cgroup "$@"; }
bundle_for "$tmp/del" "system.slice:tsrun-sd:del"
unit=tsrun-sd-del.scope
T create --bundle "$tmp/del" del && T start del
pid=$(T state del | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
echo '{"id": "del", "pid": ' > "$tmp/tsrun-root/del/state.json"
check "delete --force, state.json corrupt: succeeds" T delete --force del
check "  ... and leaves no unit, no cgroup" gone $unit
check "  ... the container's process is gone" sh -c "[ -n '$pid' ] && ! kill -0 '$pid' 2>/dev/null"
check "  ... nor its state dir" [ ! -e "$tmp/tsrun-root/del" ]
T create --bundle "$tmp/del" del && T start del
pid=$(T state del | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
[ -n "$pid" ] && kill -9 "$pid"
for _ in $(seq 50); do T state del 2>/dev/null | grep -q '"stopped"' && break; sleep 0.1; done
check "delete --force after pid 1 died: succeeds" T delete --force del
check "  ... and leaves no unit, no cgroup" gone $unit
check "  ... nor its state dir" [ ! -e "$tmp/tsrun-root/del" ]
# A created container (pid 1 waiting for start) whose process was killed, and a corrupt state.
T create --bundle "$tmp/del" del
pid=$(T state del | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
rm -f "$tmp/tsrun-root/del/state.json"
check "delete --force, created, state.json missing: succeeds" T delete --force del
check "  ... and leaves no unit, no cgroup" gone $unit
check "  ... the container's process is gone" sh -c "[ -n '$pid' ] && ! kill -0 '$pid' 2>/dev/null"

# Rootless with the user's systemd instance (--systemd-cgroup as a user, runc's rule): a user
# whose user@UID.service systemd started, and the runtime run inside that instance's tree (a
# transient service of it, as a login session's processes are: systemd --user can move only
# processes of its own delegated tree). The unit is <prefix>-<name>.scope in the instance's
# user.slice, made over $XDG_RUNTIME_DIR/systemd/private, with its limits; delete stops it.
ruid=4711 ruser=tsrun-sd-user
if useradd -M -N -u $ruid -d "$tmp/rlhome" -s /bin/sh $ruser && systemctl start user@$ruid.service; then
  chmod 755 "$tmp"; mkdir -p "$tmp/rl" "$tmp/rlhome"; chown $ruid "$tmp/rlhome"
  # runc's rootless template (spec --rootless: no network namespace, /sys bound, devpts without
  # gid=5), mapping root to the user.
  build/Release/tsrun spec --rootless --bundle "$tmp/rl"
  node -e 'const fs = require("fs"), f = process.argv[1] + "/config.json", c = JSON.parse(fs.readFileSync(f)), u = Number(process.argv[2]);
    c.root = { path: process.argv[3], readonly: true }; c.process.args = ["sleep", "300"]; c.process.terminal = false;
    c.linux.uidMappings = [{ containerID: 0, hostID: u, size: 1 }]; c.linux.gidMappings = [{ containerID: 0, hostID: 100, size: 1 }];
    c.linux.cgroupsPath = ":tsrun-sd:rl"; c.linux.resources = { memory: { limit: 33554432 }, pids: { limit: 20 } };
    fs.writeFileSync(f, JSON.stringify(c));' "$tmp/rl" $ruid "$tmp/b/rootfs"
  # One script per runtime, run as the user in the instance; it prints KEY=VALUE lines.
  cat >"$tmp/rl.sh" <<'EOS'
rt=$1; shift
R=("$@" --root "$HOME/$rt-root" --systemd-cgroup)
cd "$HOME"
unit=tsrun-sd-rl.scope
"${R[@]}" create --bundle "$BUNDLE" rl </dev/null >"$HOME/rl-$rt.err" 2>&1; echo "create=$?"
pid=$("${R[@]}" state rl 2>/dev/null | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
echo "cgroup=$(cat /proc/${pid:-0}/cgroup 2>/dev/null)"
echo "base=$(systemctl --user show -P ControlGroup)"
echo "props=$(systemctl --user show -P ActiveState $unit) $(systemctl --user show -P MemoryMax $unit) $(systemctl --user show -P TasksMax $unit)"
"${R[@]}" start rl; echo "start=$?"
echo "exec=$("${R[@]}" exec rl cat /proc/self/cgroup 2>&1)"
"${R[@]}" delete -f rl; echo "delete=$?"
for _ in $(seq 50); do [ "$(systemctl --user show -P LoadState $unit)" = not-found ] && break; sleep 0.1; done
echo "after=$(systemctl --user show -P LoadState $unit)"
echo "err=$(tr '\n' ' ' <"$HOME/rl-$rt.err" | head -c 300)"
EOS
  for rt in runc tsrun; do
    if [ $rt = runc ]; then set -- runc; else set -- "$PWD/build/Release/tsrun"; fi
    setpriv --reuid $ruid --regid 100 --clear-groups env -i PATH="$PATH" XDG_RUNTIME_DIR=/run/user/$ruid \
      DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$ruid/bus systemd-run --user --wait --pipe --collect -q \
      -E PATH="$PATH" -E HOME="$tmp/rlhome" -E BUNDLE="$tmp/rl" bash "$tmp/rl.sh" $rt "$@" >"$tmp/rl-$rt.out" 2>&1 </dev/null
    get() { sed -n "s/^$1=//p" "$tmp/rl-$rt.out"; }
    base=$(get base)
    both $rt "rootless, user instance: create --systemd-cgroup" [ "$(get create)" = 0 ]
    both $rt "  ... pid 1 in the scope of the user's instance" [ "$(get cgroup)" = "0::$base/user.slice/tsrun-sd-rl.scope" ]
    both $rt "  ... the unit is active with MemoryMax, TasksMax" [ "$(get props)" = "active 33554432 20" ]
    both $rt "  ... exec joins it" [ "$(get exec)" = "$(get cgroup)" ]
    both $rt "  ... delete leaves no unit" [ "$(get delete) $(get after)" = "0 not-found" ]
    echo "# $rt (rootless): $(get err)"
  done
  # Outside the instance's tree (here: the test's own service, as root's): systemd --user cannot
  # take the process; tsrun refuses first, naming why, and leaves nothing (runc: its job fails).
  out=$(setpriv --reuid $ruid --regid 100 --clear-groups env -i PATH="$PATH" HOME="$tmp/rlhome" \
    XDG_RUNTIME_DIR=/run/user/$ruid build/Release/tsrun --root "$tmp/rlhome/tsrun-root" --systemd-cgroup \
    create --bundle "$tmp/rl" rl-out 2>&1 </dev/null)
  check "rootless outside the instance's tree: create refused, naming why" grep -q "outside the cgroup of the user's systemd instance" <<<"$out"
  check "  ... and leaves no container" [ ! -e "$tmp/rlhome/tsrun-root/rl-out" ]
  echo "# tsrun: $out" | head -c 300; echo
else
  check "a user with user@$ruid.service started" false
fi

columns "systemd driver"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
