#!/usr/bin/env bash
# The client tier on pure cgroup v2, inside the plain test guest (scripts/test-e2e-cgroup2.sh
# boots it after running test/e2e/setup.sh on the host): the Podman and containerd scenarios
# that touch devices and cgroups (SET_cgroup in each suite), cgroupfs driver, tsrun (and runc).
# The guest's own $E2E is on the tmpfs at /run (overlayfs cannot use the guest's overlay root
# as its upper dir); the image comes from the archive the host's setup made. The runtimes'
# calls are not logged (E2E_TRACE=0; E2E_TRACE=1 logs them, to $E2E/trace in the guest).
# Then, in the same boot, the CRI tier's cgroup scenarios with the cgroupfs driver on pure
# cgroup v2 (test/cri/tier.sh, CRI_SET=cgroups, tsrun and runc; TSRUN_SKIP_CRI=1 leaves them
# out). Closes with "e2e_cgroup2: N passed, N failed", both counted (tsrun's scenarios).
set -uo pipefail
if [ -z "${TSRUN_VM:-}" ] || [ ! -f /sys/fs/cgroup/cgroup.controllers ]; then
  echo "$0 runs in a pure cgroup v2 test guest: use scripts/test-e2e-cgroup2.sh" >&2; exit 2
fi
host_e2e=${TSRUN_E2E_DIR:-/tmp/tsrun-e2e}
export TSRUN_E2E_DIR=/run/tsrun-e2e E2E_ARCHIVE=$host_e2e/busybox.oci.tar E2E_DOCKER_ARCHIVE=$host_e2e/busybox.docker.tar E2E_NETNS=none E2E_SET=cgroup
export E2E_TRACE=${E2E_TRACE:-0}
# Docker only when asked (E2E_SUITES="podman containerd docker"): its daemon's start and image
# load cost about a minute here, and its runtime calls come from the same shim as containerd's.
# runc's column (E2E_RUNTIMES="tsrun runc") shows a failure is tsrun's own; npm test runs tsrun
# alone, which saves a third of the tier's time.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/guest-tail.sh"
suites_then_cri e2e_cgroup2 cgroupfs --runtimes "${E2E_RUNTIMES:-tsrun}" --suites "${E2E_SUITES:-podman containerd}"
