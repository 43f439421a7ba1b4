#!/usr/bin/env bash
# npm test: build, then every tier: tap tests with real containers on this host, and the
# cgroup v2 tier in a pure cgroup v2 guest. Prints a closing "N passed, N failed" line.
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

if [ "${TSRUN_SKIP_CGROUP2:-}" = 1 ]; then
  echo "cgroup v2 tier skipped (TSRUN_SKIP_CGROUP2=1)"; cg_pass=0; cg_fail=0; cg_rc=0
else
  bash scripts/test-cgroup2.sh 2>&1 | tee build/cgroup2.log; cg_rc=${PIPESTATUS[0]}
  cg_pass=$(grep -cE '^ok ' build/cgroup2.log); cg_fail=$(grep -cE '^not ok ' build/cgroup2.log)
  [ "$cg_rc" = 0 ] || [ "$cg_fail" -gt 0 ] || cg_fail=1
fi

pass=$((tap_pass + cg_pass)); fail=$((tap_fail + cg_fail))
[ "$tap_rc" = 0 ] || [ "$tap_fail" -gt 0 ] || fail=$((fail + 1))
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
