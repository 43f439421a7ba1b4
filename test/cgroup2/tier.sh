#!/usr/bin/env bash
# The cgroup v2 tier: runs inside a pure cgroup v2 guest (scripts/test-cgroup2.sh starts it) and
# shows that limits are enforced, not just written (config-linux.md#control-groups).
# Prints one "ok"/"not ok" line per check and a closing "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
[ -e /sys/fs/cgroup/cgroup.controllers ] || { echo "not a cgroup v2 host" >&2; exit 2; }
# tsrun-init is the one beside the client (build/Release): TSRUN_INIT would make every call cold
tmp=$(mktemp -d /tmp/tsrun-cg2.XXXXXX)
root=$tmp/root
T() { build/Release/tsrun --root "$root" "$@"; }
pass=0 fail=0
check() { # name, then a command that must succeed
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); echo "ok - $name"; else fail=$((fail + 1)); echo "not ok - $name"; fi
}
cleanup() {
  for d in "$root"/*/; do [ -d "$d" ] && T delete -f "$(basename "$d")" >/dev/null 2>&1; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# bundle NAME RESOURCES-JSON ARGS...: a busybox bundle with linux.resources set.
bundle() {
  local dir=$tmp/$1 res=$2; shift 2
  bash scripts/make-bundle.sh "$dir" "$@" >/dev/null
  node -e '
    const fs = require("fs"); const f = process.argv[1] + "/config.json";
    const c = JSON.parse(fs.readFileSync(f)); c.linux.resources = JSON.parse(process.argv[2]);
    c.process.capabilities.ambient = [];
    // CAP_MKNOD: the device tests make nodes, so only the cgroup can refuse them.
    for (const set of ["bounding", "effective", "permitted"]) c.process.capabilities[set].push("CAP_MKNOD");
    fs.writeFileSync(f, JSON.stringify(c));' "$dir" "$res"
  echo "$dir"
}
cg() { echo "/sys/fs/cgroup/$1"; }

# pids.max: the sixth concurrent process cannot be forked.
b=$(bundle pids '{"pids":{"limit":5}}' sh -c 'for i in 1 2 3 4 5 6 7 8; do sleep 3 & done; wait')
out=$(T run --bundle "$b" cg2-pids 2>&1); rc=$?
check "pids.limit makes fork fail (rc=$rc)" grep -q "can't fork" <<<"$out"

# memory.max: a 64 MiB allocation under a 16 MiB limit (no swap) is OOM-killed.
b=$(bundle mem '{"memory":{"limit":16777216,"swap":16777216}}' dd if=/dev/zero of=/dev/null bs=64M count=1)
T create --bundle "$b" cg2-mem
# runc's events: an "oom" line when the kernel OOM-kills in the container.
T events --interval 60s cg2-mem > "$tmp/events.out" 2>&1 &
events_pid=$!
for _ in $(seq 300); do grep -q '"type":"stats"' "$tmp/events.out" && break; sleep 0.1; done
T start cg2-mem
for _ in $(seq 100); do [ "$(T state cg2-mem | grep -c stopped)" = 1 ] && break; sleep 0.1; done
wait $events_pid
check "events reports the OOM kill" grep -q '"type":"oom"' "$tmp/events.out"
check "memory.limit is memory.max" [ "$(cat "$(cg cg2-mem)/memory.max")" = 16777216 ]
check "memory.swap (mem+swap) becomes memory.swap.max 0" [ "$(cat "$(cg cg2-mem)/memory.swap.max")" = 0 ]
check "memory.limit OOM-kills the allocation" grep -q "oom_kill [1-9]" "$(cg cg2-mem)/memory.events"
T delete cg2-mem
check "delete removes the cgroup" [ ! -e "$(cg cg2-mem)" ]

# cpu: shares convert to cpu.weight (the formula computed here independently), quota/period to cpu.max.
b=$(bundle cpu '{"cpu":{"shares":512,"quota":50000,"period":100000}}' sleep 30)
T create --bundle "$b" cg2-cpu
want=$(awk 'BEGIN { l = log(512) / log(2); e = (l * l + 125 * l) / 612 - 7 / 34; w = exp(e * log(10)); c = int(w); if (c < w) c++; print c }')
check "cpu.shares 512 -> cpu.weight $want" [ "$(cat "$(cg cg2-cpu)/cpu.weight")" = "$want" ]
check "cpu.quota/period -> cpu.max" [ "$(cat "$(cg cg2-cpu)/cpu.max")" = "50000 100000" ]
T start cg2-cpu
# update as Podman drives it: a resources file, then flags.
echo '{"memory":{"limit":67108864},"cpu":{"quota":25000,"period":100000}}' >"$tmp/res.json"
T update --resources "$tmp/res.json" cg2-cpu
check "update -r sets memory.max" [ "$(cat "$(cg cg2-cpu)/memory.max")" = 67108864 ]
check "update -r sets cpu.max" [ "$(cat "$(cg cg2-cpu)/cpu.max")" = "25000 100000" ]
T update --pids-limit 42 --memory 128m cg2-cpu
check "update --pids-limit" [ "$(cat "$(cg cg2-cpu)/pids.max")" = 42 ]
check "update --memory 128m" [ "$(cat "$(cg cg2-cpu)/memory.max")" = 134217728 ]
T delete -f cg2-cpu

# freeze: a counter stops while paused and goes on after resume. Each count is written to a new
# file renamed over the last: `echo > n` truncates first, and a reader (or the freeze) between
# the truncate and the write would see an empty count.
mkdir -p "$tmp/counter"
b=$(bundle frz '{}' sh -c 'i=0; while true; do i=$((i+1)); echo $i > /counter/t; mv /counter/t /counter/n; sleep 0.05; done')
node -e '
  const fs = require("fs"); const f = process.argv[1] + "/config.json"; const c = JSON.parse(fs.readFileSync(f));
  c.mounts.push({ destination: "/counter", type: "bind", source: process.argv[2], options: ["rbind", "rw"] });
  fs.writeFileSync(f, JSON.stringify(c));' "$b" "$tmp/counter"
mkdir -p "$b/rootfs/counter"
T create --bundle "$b" cg2-frz && T start cg2-frz
sleep 1
T pause cg2-frz
check "pause: state says paused" grep -q '"paused"' <(T state cg2-frz)
check "pause: cgroup.events frozen 1" grep -q "frozen 1" "$(cg cg2-frz)/cgroup.events"
a=$(cat "$tmp/counter/n"); sleep 1; b2=$(cat "$tmp/counter/n")
check "pause: no progress while frozen ($a -> $b2)" [ "$a" = "$b2" ]
T resume cg2-frz
sleep 1; c=$(cat "$tmp/counter/n")
check "resume: progress again ($b2 -> $c)" [ "$c" -gt "$b2" ]
T delete -f cg2-frz

# devices: cgroup v2 has no devices files; the eBPF program decides (config-linux.md#allowed-device-list).
# /dev/kmsg (c 1:11) is not a default device; root may write to it without extra capabilities.
b=$(bundle devdeny '{}' sh -c 'mknod /tmp/kmsg c 1 11 && echo mknod-ok && echo tsrun-test > /tmp/kmsg 2>&1; echo null-ok > /dev/null && echo null-ok')
out=$(T run --bundle "$b" cg2-devdeny 2>&1)
check "device program denies opening a device not in the list (mknod, m, is allowed)" grep -qz "mknod-ok.*Operation not permitted" <<<"$out"
check "device program allows the default devices" grep -q "null-ok" <<<"$out"
b=$(bundle devallow '{"devices":[{"allow":true,"type":"c","major":1,"minor":11,"access":"w"}]}' sh -c 'mknod /tmp/kmsg c 1 11 && echo tsrun-test > /tmp/kmsg && echo write-ok')
out=$(T run --bundle "$b" cg2-devallow 2>&1)
check "an allow rule opens that device for writing" grep -q "write-ok" <<<"$out"

# The rule shapes clients send (config-linux.md#allowed-device-list), each loaded through this
# kernel's verifier at create: runc spec's deny-all (also the first rule of Podman's, Docker's
# and containerd's lists), allow-all, a list ending in allow-all, exceptions to allow-all, -1 as
# "every number". /dev/kmsg is in linux.devices each time: the node must not widen the rules
# (config-linux.md#devices; runc 1.1.5 refuses the write with EPERM as well).
kmsg='[{"path":"/dev/kmsg","type":"c","major":1,"minor":11,"fileMode":438}]'
# CAP_MKNOD and the default "c *:* m" let the shell make the node; the program decides the write.
try='mknod /dev/kmsg c 1 11 2>/dev/null; [ -c /dev/kmsg ] && echo tsrun-test > /dev/kmsg && echo kmsg-written; echo x > /dev/null && echo null-ok; exec 3<>/dev/ptmx && echo ptmx-ok'
# edit DIR JS: runs JS on DIR/config.json's object c.
edit() { node -e 'const fs = require("fs"); const f = process.argv[1] + "/config.json"; const c = JSON.parse(fs.readFileSync(f)); new Function("c", process.argv[2])(c); fs.writeFileSync(f, JSON.stringify(c));' "$1" "$2"; }
devrun() { # NAME RESOURCES-JSON: runs $try with /dev/kmsg in linux.devices, prints what it said
  local b; b=$(bundle "$1" "$2" sh -c "$try")
  edit "$b" "c.linux.devices = $kmsg"
  T run --bundle "$b" "cg2-$1" 2>&1
}
out=$(devrun devspec '{"devices":[{"allow":false,"access":"rwm"}]}')
check "runc spec's deny-all: the program loads; /dev/null and /dev/ptmx work" grep -qz "null-ok.*ptmx-ok" <<<"$out"
check "runc spec's deny-all: /dev/kmsg is refused, though linux.devices has it" grep -q "kmsg.*Operation not permitted" <<<"$out"
out=$(devrun devall '{"devices":[{"allow":true,"access":"rwm"}]}')
check "allow-all: the program loads; /dev/kmsg is writable" grep -qz "kmsg-written.*null-ok" <<<"$out"
out=$(devrun devend '{"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":3,"access":"r"},{"allow":true,"access":"rwm"}]}')
check "a list ending in allow-all allows everything" grep -qz "kmsg-written.*null-ok" <<<"$out"
out=$(devrun devexc '{"devices":[{"allow":true,"access":"rwm"},{"allow":false,"type":"c","major":1,"minor":11,"access":"w"},{"allow":false,"type":"b","access":"rwm"}]}')
check "allow-all with deny exceptions: /dev/kmsg refused though linux.devices has it, /dev/null works" grep -qz "kmsg.*Operation not permitted.*null-ok" <<<"$out"
out=$(devrun devwild '{"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":-1,"access":"w"}]}')
check "c 1:-1 w (every minor): /dev/kmsg is writable" grep -q "kmsg-written" <<<"$out"
# Podman's list (Docker's and containerd's are the same but for c 5:1), with a terminal as
# `podman run -t` asks: the pty comes from /dev/ptmx (c 5:2) and /dev/pts (c 136:*).
podman='{"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","access":"m"},{"allow":true,"type":"b","access":"m"}'
for mm in 1:3 1:5 1:7 5:0 5:1 5:2 1:8 1:9 10:200; do podman+=",{\"allow\":true,\"type\":\"c\",\"major\":${mm%:*},\"minor\":${mm#*:},\"access\":\"rwm\"}"; done
podman+=',{"allow":true,"type":"c","major":136,"access":"rwm"}]}'
b=$(bundle devpod "$podman" sh -c "$try; tty")
edit "$b" 'c.process.terminal = true'
build/recvtty "$tmp/pod.sock" >"$tmp/pod.out" 2>&1 &
recv_pid=$!
for _ in $(seq 100); do [ -S "$tmp/pod.sock" ] && break; sleep 0.1; done
# a run that fails before it sends the pty leaves recvtty waiting
T run --console-socket "$tmp/pod.sock" --bundle "$b" cg2-devpod >"$tmp/pod.run" 2>&1 || kill $recv_pid 2>/dev/null
wait $recv_pid
out=$(cat "$tmp/pod.out" "$tmp/pod.run")
check "Podman's list: /dev/null, /dev/ptmx and the terminal on /dev/pts work" grep -qz "null-ok.*ptmx-ok.*/dev/pts/" <<<"$out"
check "Podman's list: /dev/kmsg is refused" grep -q "kmsg.*Operation not permitted" <<<"$out"

# linux.resources.unified: written as given (config-linux.md#unified); an unknown file is an error.
b=$(bundle uni '{"unified":{"memory.high":"50003968","pids.max":"9"}}' true)
T create --bundle "$b" cg2-uni
check "unified memory.high" [ "$(cat "$(cg cg2-uni)/memory.high")" = 50003968 ]
check "unified pids.max" [ "$(cat "$(cg cg2-uni)/pids.max")" = 9 ]
T delete -f cg2-uni
b=$(bundle unibad '{"unified":{"memory.nosuch":"1"}}' true)
out=$(T create --bundle "$b" cg2-unibad 2>&1); rc=$?
check "an unknown unified file is refused, naming it" grep -q "linux.resources.unified.memory.nosuch" <<<"$out"
check "and leaves no cgroup or state" [ $rc -ne 0 ] && [ ! -e "$(cg cg2-unibad)" ] && [ ! -e "$root/cg2-unibad" ]

# cgroups as runc 1.1.5 handles them (P10); test/cgroup-edges.ts has the v1 side.
# (a) a cgroupsPath that exists already: frozen is refused at once, with processes a warning.
cfg_path() { # bundle, cgroupsPath
  node -e '
    const fs = require("fs"); const f = process.argv[1] + "/config.json"; const c = JSON.parse(fs.readFileSync(f));
    c.linux.cgroupsPath = process.argv[2]; fs.writeFileSync(f, JSON.stringify(c));' "$1" "$2"
}
mkdir "$(cg cg2-frozen)" && echo 1 >"$(cg cg2-frozen)/cgroup.freeze"
b=$(bundle frozen '{}' true); cfg_path "$b" /cg2-frozen
out=$(timeout 60 build/Release/tsrun --root "$root" create --bundle "$b" cg2-frozen-c 2>&1); rc=$?
check "a frozen cgroupsPath is refused at once (rc=$rc)" grep -q "container's cgroup unexpectedly frozen" <<<"$out"
check "and left frozen, with no container" [ "$(cat "$(cg cg2-frozen)/cgroup.freeze")" = 1 ] && [ ! -e "$root/cg2-frozen-c" ]
echo 0 >"$(cg cg2-frozen)/cgroup.freeze"; rmdir "$(cg cg2-frozen)"
mkdir "$(cg cg2-busy)"; sleep 300 & busy=$!; echo $busy >"$(cg cg2-busy)/cgroup.procs"
b=$(bundle busy '{}' sleep 300); cfg_path "$b" /cg2-busy
# through a file: the detached container keeps its stdio, a $(...) pipe would wait for its end
T run -d --bundle "$b" cg2-busy-c >"$tmp/busy.out" 2>&1; rc=$?; out=$(cat "$tmp/busy.out")
check "a cgroupsPath with a process: runc's warning, and it runs (rc=$rc)" grep -q "container's cgroup is not empty: 1 process(es) found" <<<"$out"
T delete -f cg2-busy-c; kill $busy 2>/dev/null; wait $busy 2>/dev/null; rmdir "$(cg cg2-busy)" 2>/dev/null
# (b) delete -f removes the sub-cgroups made in the container's cgroup, with what runs there.
b=$(bundle subcg '{}' sleep 300)
T run -d --bundle "$b" cg2-subcg
mkdir -p "$(cg cg2-subcg)/sub/deeper"
T exec -d cg2-subcg sleep 300
for p in $(cat "$(cg cg2-subcg)/cgroup.procs"); do [ "$p" = "$(T state cg2-subcg | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')" ] || echo "$p" >"$(cg cg2-subcg)/sub/deeper/cgroup.procs"; done
T delete -f cg2-subcg; rc=$?
check "delete -f removes sub-cgroups with a process in them (rc=$rc)" [ $rc = 0 ] && [ ! -e "$(cg cg2-subcg)" ]
# (c) exec --cgroup: the process joins a sub-cgroup of the container's.
b=$(bundle execcg '{}' sleep 300)
T run -d --bundle "$b" cg2-execcg
mkdir "$(cg cg2-execcg)/sub"
check "exec --cgroup joins the sub-cgroup" grep -qx "0::/cg2-execcg/sub" <(T exec --cgroup sub cg2-execcg cat /proc/self/cgroup)
T delete -f cg2-execcg
# (d) update: cpu.max is "QUOTA [PERIOD]"; one of the two alone keeps the other.
b=$(bundle cpumax '{"cpu":{"quota":50000,"period":50000}}' sleep 300)
T run -d --bundle "$b" cg2-cpumax
T update --cpu-quota 20000 cg2-cpumax
check "update: a quota alone keeps the period" [ "$(cat "$(cg cg2-cpumax)/cpu.max")" = "20000 50000" ]
T update --cpu-period 100000 cg2-cpumax
check "update: a period alone keeps the quota" [ "$(cat "$(cg cg2-cpumax)/cpu.max")" = "20000 100000" ]
T delete -f cg2-cpumax

# bad input leaves nothing behind.
b=$(bundle bad '{"pids":{"limit":-5}}' true)
out=$(T create --bundle "$b" cg2-bad 2>&1); rc=$?
check "negative pids.limit is refused naming the field" grep -q "linux.resources.pids.limit" <<<"$out"
check "refused create leaves no cgroup and no state" [ $rc -ne 0 ] && [ ! -e "$(cg cg2-bad)" ] && [ ! -e "$root/cg2-bad" ]

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
