#!/usr/bin/env bash
# The systemd guest tier: runs inside the guest whose PID 1 is systemd on pure cgroup v2
# (scripts/test-systemd.sh starts it), the host most users have. It proves the guest is that host:
# systemd runs, a transient scope made over D-Bus gets its limit, and runc --systemd-cgroup runs
# a container in a scope of its own, which goes when the container is deleted.
# Prints one "ok"/"not ok" line per check and a closing "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
[ "${TSRUN_VM:-}" = systemd ] || { echo "run me with scripts/test-systemd.sh" >&2; exit 2; }
tmp=$(mktemp -d /tmp/tsrun-sd.XXXXXX)
pass=0 fail=0
check() { # name, then a command that must succeed
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); echo "ok - $name"; else fail=$((fail + 1)); echo "not ok - $name"; fi
}
sleeper=
cleanup() {
  runc --root "$tmp/runc" delete -f sd-runc >/dev/null 2>&1
  systemctl stop tsrun-sd-probe.scope >/dev/null 2>&1
  [ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null
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

# runc is the reference for the systemd driver: cgroupsPath slice:prefix:name becomes
# prefix-name.scope in the slice, with the container's limits.
bash scripts/make-bundle.sh "$tmp/b" sleep 300 >/dev/null
node -e '
  const fs = require("fs"); const f = process.argv[1] + "/config.json"; const c = JSON.parse(fs.readFileSync(f));
  c.linux.cgroupsPath = "system.slice:tsrun-sd:sd-runc";
  c.linux.resources = { ...c.linux.resources, memory: { limit: 33554432 }, pids: { limit: 20 } };
  fs.writeFileSync(f, JSON.stringify(c));' "$tmp/b"
unit=tsrun-sd-sd-runc.scope
check "runc --systemd-cgroup run -d" runc --root "$tmp/runc" --systemd-cgroup run -d --bundle "$tmp/b" sd-runc
check "runc's container is in $unit" [ "$(systemctl is-active $unit)" = active ]
check "the scope has the memory limit" [ "$(cat /sys/fs/cgroup/system.slice/$unit/memory.max)" = 33554432 ]
check "the scope has the pids limit" [ "$(systemctl show -P TasksMax $unit)" = 20 ]
pid=$(runc --root "$tmp/runc" state sd-runc | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
check "the container's pid 1 is in the scope" grep -q "/system.slice/$unit\$" "/proc/$pid/cgroup"
runc --root "$tmp/runc" delete -f sd-runc
for _ in $(seq 50); do systemctl is-active -q $unit || break; sleep 0.1; done
check "runc delete removes the scope" [ ! -e /sys/fs/cgroup/system.slice/$unit ]

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
