#!/usr/bin/env bash
# Runs the cgroup v2 tier in a throw-away pure cgroup v2 guest (shared/tools/run-in-cgroup2-vm.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
vm=${CG2VM_SCRIPT:-$(cd .. && pwd)/shared/tools/run-in-cgroup2-vm.sh}
[ -x "$vm" ] || vm=$(cd ../.. && pwd)/shared/tools/run-in-cgroup2-vm.sh
[ -x "$vm" ] || { echo "run-in-cgroup2-vm.sh not found (set CG2VM_SCRIPT)" >&2; exit 1; }
exec "$vm" bash test/cgroup2/tier.sh
