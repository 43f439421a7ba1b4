#!/bin/bash
# Runs the caller's command inside the guest: PID 1 of the plain guest, the ExecStart of
# tsrun-vm-command.service in the systemd guest. Its stdout and stderr reach the host on two
# serial lines (user-mode-linux) or virtio-serial ports (qemu); its status goes to the run dir.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
. /tsrun-vm/params
read -r up _ < /proc/uptime; echo "$up" > /tsrun-vm/command-uptime
if [ -n "$modroot" ]; then mkdir -p /lib/modules && ln -sfn "$modroot/lib/modules/$(uname -r)" "/lib/modules/$(uname -r)"; fi
[ -n "$disk" ] && export TSRUN_VM_DISK_MAJMIN=$(< "/sys/class/block/${disk#/dev/}/dev")
for d in /sys/class/virtio-ports/*; do      # qemu names its ports; find them
  [ -f "$d/name" ] || continue
  case $(< "$d/name") in "$out") out=/dev/${d##*/};; "$err") err=/dev/${d##*/};; esac
done
exec 3>"$out" 4>"$err"
# user-mode-linux's serial lines are ttys: raw, or every \n becomes \r\n.
[ -t 3 ] && stty raw -echo <&3; [ -t 4 ] && stty raw -echo <&4
# Two minutes before run.sh's timeout kills the guest, a command still running is reported: what
# its processes wait on goes to the stderr line (test/vm/hang-report.sh).
if [ "${timeout:-0}" -gt 240 ]; then
  (sleep $((timeout - 120)) && bash /tsrun-vm/hang-report.sh $((timeout - 120))) >&4 2>&1 3>&- 4>&- </dev/null &
fi
# The command sees pipes on stdout and stderr, as it would under CI, not the serial ttys.
{ { bash /tsrun-vm/cmd.sh </dev/null 3>&- 4>&-; echo $? > /tsrun-vm/rc; } 2>&1 1>&5 5>&- | cat >&4 3>&-; } 5>&1 | cat >&3 4>&-
# tcsetattr(TCSADRAIN) returns once the lines have sent what was written.
[ -t 3 ] && stty raw -echo <&3; [ -t 4 ] && stty raw -echo <&4
exec 3>&- 4>&-
sync
/bin/busybox poweroff -f
sleep 100
