#!/usr/bin/env bash
# The systemd driver on a cgroup v1 host (systemd.unified_cgroup_hierarchy=0: legacy, or hybrid
# with the controller-less v2 tree at /sys/fs/cgroup/unified), in the systemd guest
# scripts/test-systemd-v1.sh boots. tsrun and runc through the same lifecycle, side by side:
# prefix-name.scope in the slice, pid 1 in the scope's dir of every hierarchy (runc 1.1.5's
# legacyManager: systemd's own controllers through the unit, the others made by the runtime),
# the limits in the files and as the unit's v1 properties (MemoryLimit, CPUShares, TasksMax:
# what systemd writes back when it realizes the unit's cgroup, on daemon-reload), exec in the
# same cgroups, update, pause/resume, delete leaving no unit and no dir.
# Prints one "ok"/"not ok" line per check (tsrun's; runc's are reported) and a closing
# "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
[ "${TSRUN_VM:-}" = systemd ] || { echo "run me with scripts/test-systemd-v1.sh" >&2; exit 2; }
tmp=$(mktemp -d /tmp/tsrun-sd1.XXXXXX)
. test/systemd/lib.sh
cleanup() {
  runc --root "$tmp/runc-root" delete -f v1-runc
  build/Release/tsrun --root "$tmp/tsrun-root" --systemd-cgroup delete -f v1-tsrun
  rm -rf "$tmp"
} >/dev/null 2>&1
trap cleanup EXIT

check "systemd is PID 1" [ "$(cat /proc/1/comm)" = systemd ]
check "cgroup v1: /sys/fs/cgroup is a tmpfs of hierarchies" [ "$(stat -fc %T /sys/fs/cgroup)" = tmpfs ]
hybrid=0; [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] && hybrid=1
echo "# hybrid (v2 tree at /sys/fs/cgroup/unified): $hybrid"

bash scripts/make-bundle.sh "$tmp/b" sleep 300 >/dev/null
v1() { echo "/sys/fs/cgroup/$1/system.slice/$2"; } # controller dir, unit
# The v1 hierarchies' lines of /proc/PID/cgroup with the unit's name as UNIT (the v2 line too
# on a hybrid host), sorted: the two runtimes' must be the same.
cgroups_of() { sed -n "s/$2/UNIT/; /^0::/p; /^[0-9]*:[^:]/p" "/proc/$1/cgroup" | cut -d: -f2- | sort; }
gone_everywhere() { # unit: not loaded and no dir of it in any hierarchy, within 5 s
  for _ in $(seq 50); do
    [ "$(show "$1" LoadState)" = not-found ] && [ -z "$(find /sys/fs/cgroup -maxdepth 3 -name "$1" 2>/dev/null)" ] && return 0
    sleep 0.1
  done
  return 1
}
not_all_devices() { [ -n "$1" ] && ! grep -qx 'a \*:\* rwm' <<<"$1"; }
declare -A cgs
side() { # runtime name, then its command line
  local rt=$1; shift
  local -a R=("$@" --root "$tmp/$rt-root")
  local id=v1-$rt unit=tsrun-sd-v1-$rt.scope
  bundle_for "$tmp/$rt" "system.slice:tsrun-sd:$id"
  both "$rt" "create --systemd-cgroup" "${R[@]}" --systemd-cgroup create --bundle "$tmp/$rt" "$id"
  both "$rt" "the unit prefix-name.scope is active" [ "$(show $unit ActiveState)" = active ]
  local pid; pid=$("${R[@]}" state "$id" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
  cgs[$rt]=$(cgroups_of "${pid:-0}" $unit)
  echo "# $rt: pid 1's cgroups: $(echo ${cgs[$rt]})"
  both "$rt" "pid 1 in system.slice/<unit> of name=systemd, memory, pids, devices, cpu" \
    sh -c "for c in name=systemd memory pids devices cpu,cpuacct; do grep -qx \"\$c:/system.slice/UNIT\" <<EOF || exit 1
${cgs[$rt]}
EOF
done"
  both "$rt" "memory.limit_in_bytes, pids.max, cpu.cfs_quota_us, cpu.shares" \
    [ "$(cat "$(v1 memory $unit)/memory.limit_in_bytes" "$(v1 pids $unit)/pids.max" "$(v1 cpu,cpuacct $unit)/cpu.cfs_quota_us" "$(v1 cpu,cpuacct $unit)/cpu.shares" 2>&1 | tr '\n' ' ')" = "33554432 20 50000 512 " ]
  both "$rt" "systemctl show: MemoryLimit, TasksMax, CPUShares, CPUQuotaPerSecUSec" \
    [ "$(show $unit MemoryLimit) $(show $unit TasksMax) $(show $unit CPUShares) $(show $unit CPUQuotaPerSecUSec)" = "33554432 20 512 500ms" ]
  local devs; devs=$(sort "$(v1 devices $unit)/devices.list")
  both "$rt" "devices.list: the default rules, not a *:* rwm" not_all_devices "$devs"
  systemctl daemon-reload
  both "$rt" "after systemctl daemon-reload: the limits stay in the files" \
    [ "$(cat "$(v1 memory $unit)/memory.limit_in_bytes" "$(v1 pids $unit)/pids.max" "$(v1 cpu,cpuacct $unit)/cpu.shares" 2>&1 | tr '\n' ' ')" = "33554432 20 512 " ]
  both "$rt" "  ... and devices.list" [ "$(sort "$(v1 devices $unit)/devices.list")" = "$devs" ]
  echo "# $rt: devices.list, before and after (< >): $(diff <(echo "$devs") <(sort "$(v1 devices $unit)/devices.list") | grep '^[<>]' | tr '\n' ' ')"
  both "$rt" "start" "${R[@]}" start "$id"
  local ex; ex=$("${R[@]}" exec "$id" cat /proc/self/cgroup 2>&1 | sed "s/$unit/UNIT/" | sed -n '/^0::/p; /^[0-9]*:[^:]/p' | cut -d: -f2- | sort)
  both "$rt" "exec runs in pid 1's cgroups" [ "$ex" = "${cgs[$rt]}" ]
  both "$rt" "update --memory 64m --pids-limit 30" "${R[@]}" update --memory 64m --pids-limit 30 "$id"
  both "$rt" "update reached the files" [ "$(cat "$(v1 memory $unit)/memory.limit_in_bytes" "$(v1 pids $unit)/pids.max" 2>&1 | tr '\n' ' ')" = "67108864 30 " ]
  both "$rt" "update reached the unit (MemoryLimit, TasksMax)" [ "$(show $unit MemoryLimit) $(show $unit TasksMax)" = "67108864 30" ]
  both "$rt" "pause: freezer.state FROZEN" sh -c "'$1' ${R[*]:1} pause '$id' && [ \"\$(cat '$(v1 freezer $unit)/freezer.state')\" = FROZEN ]"
  both "$rt" "resume" sh -c "'$1' ${R[*]:1} resume '$id' && [ \"\$(cat '$(v1 freezer $unit)/freezer.state')\" = THAWED ]"
  both "$rt" "ps lists pid 1" sh -c "'$1' ${R[*]:1} ps --format json '$id' | grep -qw '$pid'"
  both "$rt" "delete" "${R[@]}" delete -f "$id"
  both "$rt" "delete leaves no unit, no dir in any hierarchy" gone_everywhere $unit
}
t0=$SECONDS; side runc runc; echo "# runc: $((SECONDS - t0)) s"
t0=$SECONDS; side tsrun "$PWD/build/Release/tsrun"; echo "# tsrun: $((SECONDS - t0)) s"
check "tsrun: pid 1's cgroups are runc's" [ "${cgs[tsrun]}" = "${cgs[runc]}" ]

columns "systemd driver on cgroup v1"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
