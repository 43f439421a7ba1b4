#!/usr/bin/env bash
# Runs the systemd tier in a throw-away guest whose PID 1 is systemd on pure cgroup v2
# (test/vm/run.sh --guest systemd). Options go to test/vm/run.sh (e.g. --backend qemu). The
# timeout: under a load of 10 on 2 cores the tier took up to 15 min.
set -euo pipefail
cd "$(dirname "$0")/.."
exec test/vm/run.sh --guest systemd --timeout 1500 "$@" -- bash test/systemd/tier.sh
