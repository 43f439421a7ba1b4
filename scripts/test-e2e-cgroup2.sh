#!/usr/bin/env bash
# Runs the client scenarios that touch devices and cgroups (Podman and containerd with the
# cgroupfs driver; tsrun, and runc for comparison) in a throw-away pure cgroup v2 guest
# (test/vm/run.sh --guest plain), then the CRI tier's cgroup scenarios with the cgroupfs driver
# in the same boot (test/e2e/cgroup2-guest.sh). test/e2e/setup.sh runs here first (packages, the
# image archive the guest loads), and test/cri/prepare.sh (the CRI tier's images and client).
# Options go to test/vm/run.sh (e.g. --backend uml).
# The qemu backend: Podman, conmon, containerd and the runtimes are fork- and thread-heavy Go
# and C, and user-mode-linux (every syscall through ptrace) runs them 2-3x slower than TCG does.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/e2e/setup.sh
[ "${TSRUN_SKIP_CRI:-}" = 1 ] || bash test/cri/prepare.sh "${TSRUN_E2E_DIR:-/tmp/tsrun-e2e}/cri"
exec test/vm/run.sh --guest plain --backend qemu --timeout 1800 "$@" -- bash test/e2e/cgroup2-guest.sh
