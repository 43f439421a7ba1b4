#!/usr/bin/env bash
# Runs the cgroup v2 tier in a throw-away pure cgroup v2 guest (test/vm/run.sh --guest plain).
# Options go to test/vm/run.sh (e.g. --backend qemu for every controller).
set -euo pipefail
cd "$(dirname "$0")/.."
exec test/vm/run.sh --guest plain "$@" -- bash test/cgroup2/tier.sh
