#!/bin/bash
# Prints, to stderr, what the guest's processes wait on: test/vm/command.sh runs it shortly
# before test/vm/run.sh's timeout kills the guest, so a command that hangs leaves a trace of
# where (a hang inside a call of tsrun's client, its server's threads or tsrun-init, or systemd).
echo "# test/vm/hang-report.sh: the command is still running after ${1:-?} s; its processes:"
ps -eo pid,ppid,stat,wchan:28,etime,args --sort=pid | grep -v -E ' \[[^]]*\]$' | cut -c1-220
for p in $(pgrep -f 'Release/tsrun|dist/tsrun|tsrun-init|conmon|containerd|dockerd|criu'); do
  [ -d "/proc/$p" ] || continue
  echo "# pid $p ($(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null | cut -c1-120)): threads"
  for t in /proc/"$p"/task/*; do
    echo "#   tid ${t##*/} $(cut -d' ' -f3 "$t/stat" 2>/dev/null) wchan $(cat "$t/wchan" 2>/dev/null) syscall $(cut -d' ' -f1 "$t/syscall" 2>/dev/null)"
  done
  ls -l /proc/"$p"/fd 2>/dev/null | awk 'NR > 1 { print "#   fd", $9, $10, $11 }' | head -20
done
# the servers' own failures (src/server/server.ts appends them there)
find / -xdev -path '*/@server/*.log' 2>/dev/null | head -5 | while read -r f; do echo "# $f:"; tail -n 20 "$f"; done
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  echo "# systemd jobs:"; systemctl list-jobs --no-pager 2>&1 | head -20
  echo "# journal, last lines:"; journalctl -n 40 --no-pager 2>&1 | cut -c1-200
fi
