#!/usr/bin/env bash
# Runs Podman and containerd with the systemd cgroup driver (tsrun, and runc with
# E2E_RUNTIMES="tsrun runc") in a throw-away guest whose PID 1 is systemd
# (test/vm/run.sh --guest systemd; test/e2e/systemd-guest.sh), then the CRI tier's cgroup
# scenarios with SystemdCgroup = true in the same boot (TSRUN_SKIP_CRI=1 leaves them out).
# test/e2e/setup.sh runs here first (the image archive the guest loads), and test/cri/prepare.sh
# (the CRI tier's images and bundled client: seconds here, a minute under TCG). Options go to
# test/vm/run.sh. The qemu backend, as for scripts/test-e2e-cgroup2.sh: the clients are fork-
# and thread-heavy.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/e2e/setup.sh
[ "${TSRUN_SKIP_CRI:-}" = 1 ] || bash test/cri/prepare.sh "${TSRUN_E2E_DIR:-/tmp/tsrun-e2e}/cri"
exec test/vm/run.sh --guest systemd --backend qemu --timeout 1200 "$@" -- bash test/e2e/systemd-guest.sh
