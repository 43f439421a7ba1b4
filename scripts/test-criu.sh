#!/usr/bin/env bash
# Runs the checkpoint/restore tier (test/criu/tier.sh) in a qemu guest with the guest kernel's
# modules (test/vm/run.sh --backend qemu --modules): CRIU 3.17 fails on newer host kernels, and
# it loads the socket-diag, tun and nf_tables modules. Options go to test/vm/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v criu >/dev/null || { echo "criu tier skipped: criu is not installed (scripts/setup.sh)"; echo "criu: 0 passed, 0 failed"; exit 0; }
# Podman's and containerd's steps load the image archive test/e2e/setup.sh makes (npm test's
# earlier e2e tiers have made it by now).
[ -f "${TSRUN_E2E_DIR:-/tmp/tsrun-e2e}/busybox.oci.tar" ] || bash test/e2e/setup.sh
exec test/vm/run.sh --guest plain --backend qemu --modules --timeout 600 "$@" -- bash test/criu/tier.sh
