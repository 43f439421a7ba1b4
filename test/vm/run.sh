#!/usr/bin/env bash
# test/vm/run.sh [OPTIONS] -- CMD [ARGS...]
#
# Runs CMD as root in a throw-away Linux guest on pure cgroup v2 (v1 with --cgroup) and returns
# its exit status.
# The guest's root is the host's own root, read-only, under a tmpfs overlay: the host's binaries,
# this checkout and /tmp are at the same paths, and what the guest writes is gone when it stops
# (except in --rw directories). CMD runs in the caller's cwd with the caller's exported
# environment plus TSRUN_VM (the guest kind), TSRUN_VM_BACKEND, TSRUN_VM_DISK and
# TSRUN_VM_DISK_MAJMIN; its stdin is /dev/null, its stdout and stderr are pipes relayed to ours.
#
# Guests (--guest):
#   plain    the default. Our own init mounts proc, sys, cgroup2 (nsdelegate,
#            memory_recursiveprot; every controller enabled at the root), devpts, shm, mqueue and
#            /run, then CMD runs as PID 1 in the root cgroup. No systemd, no D-Bus.
#   systemd  systemd (the host's /lib/systemd/systemd) is PID 1 with a D-Bus system bus: the host
#            Fedora, Ubuntu, Debian 12 and RHEL users have. CMD runs as tsrun-vm-command.service
#            (cgroup /system.slice/tsrun-vm-command.service); the guest powers off when it ends.
#            --systemd-mode minimal (default) boots D-Bus alone, basic adds sysinit.target and
#            basic.target (journald, udev, tmpfiles). --delegate sets Delegate=yes on the service
#            (move processes into a leaf before writing cgroup.subtree_control then).
#            --mask UNIT masks one more unit. --cgroup legacy boots systemd on cgroup v1 alone
#            (systemd.unified_cgroup_hierarchy=0), --cgroup hybrid on v1 controllers plus a
#            controller-less v2 tree at /sys/fs/cgroup/unified (the host tsrun is developed on);
#            unified (pure v2) is the default.
# Backends (--backend):
#   uml      the default: Debian's user-mode-linux kernel runs as host processes; the host root
#            is reached through hostfs. About 2 s for a trivial command; controllers cpu, io,
#            memory, pids (no cpuset, hugetlb, rdma, misc, no PSI files), 1 CPU; no veth,
#            bridge or netfilter. Every syscall goes through ptrace: fork+exec costs ~30x.
#   qemu     Debian's linux-image-amd64 (unpacked into the cache, not installed) under
#            qemu-system-x86_64 -M microvm, the host root over virtio-9p. Every controller and
#            PSI, --cpus vCPUs; KVM when the host has it, else TCG (~5 s for a trivial command).
# Other options:
#   --mem MIB (1024)  --cpus N (qemu; 2)  --timeout SECONDS (900; the guest is killed, exit 124)
#   --rw DIR          a host directory the guest may write, at the same path (repeatable)
#   --disk-mb N       a sparse scratch block device for io.* tests, TSRUN_VM_DISK in the guest
#                     (256; 0 for none)
#   --keep            keep the run dir (the guest's console log) and print its path
#   --verbose         print the guest's console after the run
#   --timing          print the guest's uptime when CMD started and the host's wall time
#   --modules         qemu: the guest kernel's whole module tree at /lib/modules/$(uname -r), so
#                     modprobe and module autoload work (CRIU needs them); unpacked once into
#                     the cache (about 400 MB)
#   --prepare         only build the cached kernel and initramfs for --backend (and --modules)
# Cache: $TSRUN_VM_CACHE (default /var/cache/tsrun-vm), remade when missing or when init.sh
# changes; packages come from scripts/setup.sh. Exit 125: the runner or the guest failed.
# Not a security boundary: root in the guest can reach the host's files.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
guest=plain backend=uml mem=1024 cpus=2 timeout=900 disk_mb=256 sd_mode=minimal delegate=0
keep=0 verbose=0 timing=0 prepare=0 modules=0 rw=() mask= hier=unified
die() { echo "test/vm/run.sh: $*" >&2; exit 125; }
while [ $# -gt 0 ]; do
  case $1 in
    --guest) guest=$2; shift 2;;
    --backend) backend=$2; shift 2;;
    --mem) mem=$2; shift 2;;
    --cpus) cpus=$2; shift 2;;
    --timeout) timeout=$2; shift 2;;
    --rw) rw+=("$2"); shift 2;;
    --disk-mb) disk_mb=$2; shift 2;;
    --systemd-mode) sd_mode=$2; shift 2;;
    --delegate) delegate=1; shift;;
    --mask) mask="$mask $2"; shift 2;;
    --cgroup) hier=$2; shift 2;;
    --keep) keep=1; shift;;
    --verbose) verbose=1; shift;;
    --timing) timing=1; shift;;
    --prepare) prepare=1; shift;;
    --modules) modules=1; shift;;
    --) shift; break;;
    -*) die "unknown option $1";;
    *) break;;
  esac
done
case $guest in plain|systemd) ;; *) die "--guest must be plain or systemd";; esac
case $backend in uml|qemu) ;; *) die "--backend must be uml or qemu";; esac
case $sd_mode in minimal|basic) ;; *) die "--systemd-mode must be minimal or basic";; esac
case $hier in unified|legacy|hybrid) ;; *) die "--cgroup must be unified, legacy or hybrid";; esac
[ "$hier" = unified ] || [ "$guest" = systemd ] || die "--cgroup $hier needs --guest systemd"
[ "$modules" = 0 ] || [ "$backend" = qemu ] || die "--modules needs --backend qemu"
[ "$(id -u)" = 0 ] || die "run it as root"
[ $# -ge 1 ] || [ "$prepare" = 1 ] || die "usage: test/vm/run.sh [OPTIONS] -- CMD [ARGS...]"

need() { command -v "$1" >/dev/null || die "$1 is missing: run scripts/setup.sh"; }
need busybox
if [ "$backend" = uml ]; then need linux.uml; else need qemu-system-x86_64; need xz; fi
[ "$guest" = plain ] || { [ -x /lib/systemd/systemd ] && need dbus-daemon; } || die "systemd is missing: run scripts/setup.sh"

cache=${TSRUN_VM_CACHE:-/var/cache/tsrun-vm}
mkdir -p "$cache"
. "$here/image.sh"
MODROOT=
{ flock 9; "image_$backend"; [ "$modules" = 0 ] || modules_qemu; } 9>"$cache/.lock"   # one builder at a time
[ "$prepare" = 1 ] && exit 0

run=$(mktemp -d "${TMPDIR:-/tmp}/tsrun-vm.XXXXXX")
case $run in *[[:space:],]*) rm -rf "$run"; die "TMPDIR must not hold spaces or commas";; esac
tpid=
kill_vm() { # the VM's process group: user-mode-linux is several host processes
  local pg n=0; pg=$(cat "$run/vm.pid" 2>/dev/null) || return 0
  kill -KILL -- "-$pg" 2>/dev/null || return 0
  while kill -0 -- "-$pg" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
}
cleanup() {
  set +e
  [ -n "$tpid" ] && { kill_vm; kill -KILL "$tpid"; wait "$tpid"; } 2>/dev/null
  jobs -p | xargs -r kill 2>/dev/null
  if [ "$keep" = 1 ]; then echo "test/vm/run.sh: run dir kept: $run" >&2; else rm -rf "$run"; fi
}
trap 'rc=$?; cleanup; exit $rc' EXIT
trap 'trap - INT TERM; exit 130' INT TERM

: > "$run/rw"
shares=()
for p in "${rw[@]}"; do
  p=$(realpath -e "$p") || die "--rw: $p does not exist"
  [ -d "$p" ] || die "--rw: $p is not a directory"
  case $p in *,*) die "--rw: a comma in $p";; esac
  echo "$p" >> "$run/rw"; shares+=("$p")
done

if [ "$backend" = uml ]; then out=/dev/ttyS0 err=/dev/ttyS1 disk=/dev/ubda
else out=vmout err=vmerr disk=/dev/vda; fi             # qemu: virtio-serial port names
[ "$disk_mb" -gt 0 ] 2>/dev/null || disk=
printf 'out=%q err=%q disk=%q modroot=%q timeout=%q\n' "$out" "$err" "$disk" "$MODROOT" "$timeout" > "$run/params"
cp "$here/command.sh" "$here/hang-report.sh" "$run/"
{ export -p | grep -v -E '^declare -[a-zA-Z]*r' | grep -v -E '^declare -x (PWD|OLDPWD|SHLVL|_)(=|$)'
  printf 'export TSRUN_VM=%q TSRUN_VM_BACKEND=%q TSRUN_VM_DISK=%q\n' "$guest" "$backend" "$disk"
  printf 'cd -- %q || exit 125\n' "$PWD"
  printf 'exec'; printf ' %q' "$@"; printf '\n'; } > "$run/cmd.sh"
if [ "$guest" = systemd ]; then . "$here/systemd-units.sh"; systemd_units "$run" "$sd_mode" "$delegate" "$mask"; fi

# apparmor=0: Debian's qemu kernel enables AppArmor, and with securityfs mounted (systemd mounts
# it) dockerd then refuses to start a container without apparmor_parser, which hosts without
# AppArmor (this one) lack; no test here relies on an LSM.
case $hier in
  unified) cgroups="cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1";;
  legacy) cgroups="systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=1";;
  hybrid) cgroups="systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=0";;
esac
cmdline="quiet $cgroups apparmor=0 tsrun_vm_guest=$guest"
[ "$guest" = systemd ] && cmdline="$cmdline systemd.unit=tsrun-vm.target fstab=no systemd.gpt_auto=0 systemd.firstboot=off"
mkfifo "$run/out.fifo" "$run/err.fifo"
if [ "$backend" = uml ]; then
  # The guest's memory is a deleted file in TMPDIR: /dev/shm when it is large enough.
  memdir=/dev/shm
  [ "$(df -Pk /dev/shm 2>/dev/null | awk 'NR==2 { print $4 }')" -gt $((mem * 1024 + 65536)) ] 2>/dev/null || memdir=$run
  vm=(env TMPDIR=$memdir linux.uml "mem=${mem}M" "initrd=$INITRD" con=null con0=null,fd:6
      ssl=null ssl0=null,fd:7 ssl1=null,fd:8 initcall_blacklist=raid6_select_algo
      "tsrun_vm_run=$run" "uml_dir=$run" umid=vm $cmdline)
  if [ -n "$disk" ]; then vm+=("ubd0=$run/disk.img"); else vm+=(ubd0=/dev/null); fi
else
  . "$here/qemu-args.sh"
fi

# The VM gets its own session and process group under timeout(1), which signals only its own
# child: nothing can hit a recycled pid even if this script is SIGKILLed.
launcher='echo $$ > "$0/vm.pid"; exec setsid "$@"'
# A guest kernel that locks up never ends its command: qemu's TCG once left both vCPUs of the
# plain guest spinning in its kernel ("soft lockup" on the console, at the e2e tier's first
# Podman container, then nothing for the rest of the timeout). The console is watched; on a
# lockup the VM is killed and booted once more, with a fresh disk, and the run says so.
for attempt in 1 2; do
  rm -f "$run/rc" "$run/lockup"
  [ -n "$disk" ] && { rm -f "$run/disk.img"; truncate -s "${disk_mb}M" "$run/disk.img"; }
  cat "$run/out.fifo" & c1=$!
  cat "$run/err.fifo" >&2 & c2=$!
  start=$SECONDS
  if [ "$backend" = uml ]; then
    timeout -k 5 "$timeout" sh -c "$launcher" "$run" "${vm[@]}" </dev/null \
      6>>"$run/console.log" 7>"$run/out.fifo" 8>"$run/err.fifo" >>"$run/console.log" 2>&1 &
  else
    timeout -k 5 "$timeout" sh -c "$launcher" "$run" "${vm[@]}" </dev/null >>"$run/console.log" 2>&1 &
  fi
  tpid=$!
  (while kill -0 "$tpid" 2>/dev/null; do
     if grep -q 'soft lockup' "$run/console.log" 2>/dev/null; then : > "$run/lockup"; kill_vm; exit 0; fi
     sleep 5
   done) </dev/null >/dev/null 2>&1 & wpid=$!
  vmrc=0; wait "$tpid" 2>/dev/null || vmrc=$?
  tpid=
  kill "$wpid" 2>/dev/null || true; wait "$wpid" 2>/dev/null || true
  [ "$backend" = uml ] && kill_vm 2>/dev/null         # helper processes user-mode-linux leaves
  wait "$c1" "$c2" 2>/dev/null || true
  [ -e "$run/lockup" ] || break
  echo "test/vm/run.sh: the guest's kernel locked up (attempt $attempt of 2); its console:" >&2
  grep -m 3 -E 'soft lockup|rcu_preempt detected stalls' "$run/console.log" >&2
  mv "$run/console.log" "$run/console-$attempt.log"
done
[ -e "$run/lockup" ] && { echo "test/vm/run.sh: the guest's kernel locked up twice" >&2; exit 125; }

[ "$verbose" = 1 ] && { echo "----- guest console -----" >&2; cat "$run/console.log" >&2; }
if [ "$vmrc" = 124 ] || { [ "$vmrc" = 137 ] && [ $((SECONDS - start)) -ge "$timeout" ]; }; then
  echo "test/vm/run.sh: timeout after ${timeout}s, the guest was killed" >&2; exit 124
fi
if [ ! -s "$run/rc" ]; then
  echo "test/vm/run.sh: the guest reported no exit status (vm exit $vmrc); its console ends:" >&2
  tail -n 40 "$run/console.log" >&2
  exit 125
fi
[ "$timing" = 1 ] && echo "test/vm/run.sh: CMD started at guest uptime $(cat "$run/command-uptime") s; host wall $((SECONDS - start)) s" >&2
exit "$(cat "$run/rc")"
