# shellcheck shell=bash
# Sourced by the guest tiers (cgroup2-guest.sh, systemd-guest.sh), which set host_e2e and here.
# suites_then_cri TIER DRIVER RUN-ARGS...: test/e2e/run.sh with RUN-ARGS, then (unless
# TSRUN_SKIP_CRI=1) the CRI tier's cgroup steps with CRI_CGROUP_DRIVER=DRIVER in the same boot,
# the pods on the tier's network namespace (neither guest has the bridge module); closes with
# "TIER: N passed, N failed" counting both, and returns non-zero if one failed.

# summary FILE: "P F" from the closing "[WORD: ]N passed, N failed" line of FILE ("0 1" if none).
summary() { sed -n -E 's/^([a-z0-9_-]+: )?([0-9]+) passed, ([0-9]+) failed$/\2 \3/p' "$1" | tail -1 | grep . || echo "0 1"; }

suites_then_cri() {
  local tier=$1 driver=$2 pass fail p f
  shift 2
  bash "$here/run.sh" "$@" | tee /run/e2e.out
  read -r pass fail < <(summary /run/e2e.out)
  if [ "${TSRUN_SKIP_CRI:-}" != 1 ]; then
    TSRUN_CRI_DIR=/run/tsrun-cri CRI_CGROUP_DRIVER=$driver CRI_SET=cgroups CRI_PREPARED=$host_e2e/cri CRI_NETWORK=node \
      bash "$here/../cri/tier.sh" | tee /run/cri.out
    read -r p f < <(summary /run/cri.out)
    pass=$((pass + p)) fail=$((fail + f))
  fi
  echo "$tier: $pass passed, $fail failed"
  [ "$fail" = 0 ]
}
