#!/usr/bin/env bash
# npm test: build, then every tier: tap tests with real containers on this host, the cgroup v2
# tier in a pure cgroup v2 guest, the systemd tier in a guest whose PID 1 is systemd (both
# through test/vm/run.sh), and Podman/containerd/Docker end to end. Prints a closing
# "N passed, N failed" line. TSRUN_SKIP_CGROUP2=1, TSRUN_SKIP_SYSTEMD=1 and TSRUN_SKIP_E2E=1
# leave a tier out.
set -uo pipefail
cd "$(dirname "$0")/.."
unset NODE_EXTRA_CA_CERTS
[ "$(id -u)" = 0 ] || { echo "npm test runs real containers: run it as root" >&2; exit 1; }
set -e
npm run --silent build
bash conformance/build-probe.sh
gcc -O2 -Wall -Wextra -Werror -o build/recvtty conformance/recvtty.c
npm run --silent build:test
set +e

TAP_RCFILE=test/.taprc npx tap --reporter=tap build/test/ 2>&1 | tee build/tap.log | grep -E '^(not )?ok |^# (Subtest|fail|pass)|^    not ok' ; tap_rc=${PIPESTATUS[0]}
tap_pass=$(grep -cE '^ok ' build/tap.log)
tap_fail=$(grep -cE '^not ok ' build/tap.log)
echo "tap: files passed $tap_pass, failed $tap_fail (exit $tap_rc)"

# guest_tier NAME SKIP-VARIABLE SCRIPT: a tier that runs in a guest and prints tap-like lines;
# sets <NAME>_pass and <NAME>_fail (a runner or guest failure counts as one failure).
guest_tier() {
  local name=$1 skip=$2 script=$3 rc p f
  if [ "${!skip:-}" = 1 ]; then
    echo "$name tier skipped ($skip=1)"; p=0; f=0
  else
    bash "$script" 2>&1 | tee "build/$name.log"; rc=${PIPESTATUS[0]}
    p=$(grep -cE '^ok ' "build/$name.log"); f=$(grep -cE '^not ok ' "build/$name.log")
    [ "$rc" = 0 ] || [ "$f" -gt 0 ] || f=1
  fi
  printf -v "${name}_pass" %s "$p"; printf -v "${name}_fail" %s "$f"
}
guest_tier cgroup2 TSRUN_SKIP_CGROUP2 scripts/test-cgroup2.sh
guest_tier systemd TSRUN_SKIP_SYSTEMD scripts/test-systemd.sh

if [ "${TSRUN_SKIP_E2E:-}" = 1 ]; then
  echo "e2e tier skipped (TSRUN_SKIP_E2E=1)"; e2e_pass=0; e2e_fail=0
else
  # Podman, containerd and Docker driving tsrun (see the header of test/e2e/run.sh).
  bash test/e2e/run.sh 2>&1 | tee build/e2e.log; e2e_rc=${PIPESTATUS[0]}
  e2e_pass=$(sed -n 's/^e2e: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' build/e2e.log | tail -1)
  e2e_fail=$(sed -n 's/^e2e: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' build/e2e.log | tail -1)
  e2e_pass=${e2e_pass:-0}; e2e_fail=${e2e_fail:-0}
  [ "$e2e_rc" = 0 ] || [ "$e2e_fail" -gt 0 ] || e2e_fail=1
fi

pass=$((tap_pass + cgroup2_pass + systemd_pass + e2e_pass)); fail=$((tap_fail + cgroup2_fail + systemd_fail + e2e_fail))
[ "$tap_rc" = 0 ] || [ "$tap_fail" -gt 0 ] || fail=$((fail + 1))
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
