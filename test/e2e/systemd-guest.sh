#!/usr/bin/env bash
# The client tier with the systemd cgroup driver, inside the guest whose PID 1 is systemd
# (scripts/test-e2e-systemd.sh boots it after running test/e2e/setup.sh and
# test/cri/prepare.sh on the host): Podman (cgroup_manager systemd, conmon) and containerd (the
# runc shim with SystemdCgroup), and Docker (native.cgroupdriver=systemd; E2E_SUITES picks
# fewer), run the lifecycle and limit scenarios (SET_systemd in each suite); each container must
# sit in its own scope with its limits visible in systemctl show, and leave no unit behind.
# Docker runs after the other two: with all three at once the guest's first Podman run timed
# out (docs/TEST-GUESTS.md). tsrun, and runc with
# E2E_RUNTIMES="tsrun runc". The rest as in test/e2e/cgroup2-guest.sh. Then, in the same boot, the CRI tier's cgroup scenarios with
# SystemdCgroup = true (test/cri/tier.sh, CRI_SET=cgroups: pods in their slices, tsrun and runc;
# TSRUN_SKIP_CRI=1 leaves them out). Closes with "e2e_systemd: N passed, N failed", both
# counted (tsrun's scenarios).
set -uo pipefail
if [ "${TSRUN_VM:-}" != systemd ] || [ "$(cat /proc/1/comm)" != systemd ]; then
  echo "$0 runs in the systemd test guest: use scripts/test-e2e-systemd.sh" >&2; exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
host_e2e=${TSRUN_E2E_DIR:-/tmp/tsrun-e2e}
export TSRUN_E2E_DIR=/run/tsrun-e2e E2E_ARCHIVE=$host_e2e/busybox.oci.tar E2E_DOCKER_ARCHIVE=$host_e2e/busybox.docker.tar E2E_NETNS=none
export E2E_SET=systemd E2E_CGROUP_MANAGER=systemd E2E_TRACE=${E2E_TRACE:-0}
. "$here/guest-tail.sh"
suites_then_cri e2e_systemd systemd --runtimes "${E2E_RUNTIMES:-tsrun}" --suites "${E2E_SUITES:-podman containerd docker}" --later docker
