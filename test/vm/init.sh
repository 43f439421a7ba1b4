# PID 1 of the guest's initramfs, run by busybox sh. image.sh prepends mount_host, mount_run and
# mount_share for its backend (hostfs under user-mode-linux, virtio-9p under qemu).
# The kernel hands unknown command-line parameters to init as environment variables:
# tsrun_vm_guest (plain|systemd) and, for user-mode-linux, tsrun_vm_run (the per-run dir).
B=/bin/busybox
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev
fail() { echo "tsrun-vm init: $*"; $B poweroff -f; $B sleep 1000; }
[ -f /lib/modules/order ] && for m in $($B cat /lib/modules/order); do
  $B insmod "/lib/modules/$m.ko" || echo "tsrun-vm init: insmod $m failed"; done

# The host's root, read-only, under a tmpfs overlay whose writes vanish with the guest.
$B mkdir -p /host /ovl /newroot
mount_host || fail "cannot mount the host root"
$B mount -t tmpfs -o mode=755 ovl /ovl && $B mkdir /ovl/u /ovl/w
$B mount -t overlay -o lowerdir=/host,upperdir=/ovl/u,workdir=/ovl/w overlay /newroot || fail "overlay mount failed"
$B mkdir -p /newroot/tsrun-vm
mount_run /newroot/tsrun-vm || fail "cannot mount the run dir"
R=/newroot
i=0
while read -r p; do
  [ -n "$p" ] || continue
  $B mkdir -p "$R$p"
  mount_share $i "$p" "$R$p" || fail "cannot mount the read-write share $p"
  i=$((i + 1))
done < $R/tsrun-vm/rw
$B umount /proc /sys

if [ "$tsrun_vm_guest" = systemd ]; then
  # The host root carries /.dockerenv: systemd would take the guest for a container and ignore
  # the kernel command line (and boot every enabled host service).
  $B rm -f $R/.dockerenv $R/run/.containerenv
  $B cp -a $R/tsrun-vm/etc/. $R/etc/ || fail "cannot install the guest's units"
  $B mount --move /dev $R/dev
  exec $B switch_root $R /lib/systemd/systemd
fi

# The plain guest: this script mounts what systemd would, then bash runs the command as PID 1.
$B mount --move /dev $R/dev
$B mount -t proc proc $R/proc
$B mount -t sysfs sysfs $R/sys
$B mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 $R/sys/fs/cgroup
for c in $($B cat $R/sys/fs/cgroup/cgroup.controllers); do
  echo "+$c" > $R/sys/fs/cgroup/cgroup.subtree_control; done
$B mount -t bpf -o mode=700 bpf $R/sys/fs/bpf 2>/dev/null
$B ln -sf /proc/self/fd $R/dev/fd; $B ln -sf fd/0 $R/dev/stdin
$B ln -sf fd/1 $R/dev/stdout; $B ln -sf fd/2 $R/dev/stderr
$B mkdir -p $R/dev/pts $R/dev/shm $R/dev/mqueue
$B mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $R/dev/pts
$B mount -t tmpfs -o mode=1777 shm $R/dev/shm
$B mount -t mqueue mqueue $R/dev/mqueue 2>/dev/null
$B mount -t tmpfs -o mode=755 run $R/run
$B ip link set lo up
$B hostname tsrun-vm
exec $B switch_root $R /bin/bash /tsrun-vm/command.sh
