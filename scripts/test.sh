#!/usr/bin/env bash
# npm test: build, then every tier: tap tests with real containers on this host, the cgroup v2
# tier in a pure cgroup v2 guest, the systemd tier in a guest whose PID 1 is systemd, the
# Podman/containerd device and cgroup scenarios in a pure cgroup v2 guest, Podman/containerd
# with the systemd cgroup driver in the systemd guest, checkpoint/restore through CRIU in a qemu
# guest with its kernel's modules (the guests through test/vm/run.sh), Podman/containerd/Docker
# end to end on this host, and containerd's CRI plugin driven as kubelet does
# (test/cri/tier.sh). Prints a closing "N passed, N failed" line. TSRUN_SKIP_CGROUP2=1,
# TSRUN_SKIP_SYSTEMD=1, TSRUN_SKIP_E2E_CGROUP2=1, TSRUN_SKIP_E2E_SYSTEMD=1, TSRUN_SKIP_CRIU=1,
# TSRUN_SKIP_E2E=1 and TSRUN_SKIP_CRI=1 leave a tier out (TSRUN_SKIP_CRI=1 also the CRI steps
# the systemd guest runs after the Podman/containerd suites).
set -uo pipefail
cd "$(dirname "$0")/.."
unset NODE_EXTRA_CA_CERTS
[ "$(id -u)" = 0 ] || { echo "npm test runs real containers: run it as root" >&2; exit 1; }
# cpu_ticks: "BUSY TOTAL" jiffies of the host's CPUs so far; busy_pct T0-TICKS: the share of
# the CPUs' time busy since then (where a tier leaves the host idle, another could overlap it).
cpu_ticks() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat; }
busy_pct() { local b0 t0 b1 t1; read -r b0 t0 <<<"$1"; read -r b1 t1 < <(cpu_ticks); echo $(((b1 - b0) * 100 / (t1 - t0 + 1))); }
t_start_ticks=$(cpu_ticks)
set -e
npm run --silent build
bash conformance/build-probe.sh
gcc -O2 -Wall -Wextra -Werror -o build/recvtty conformance/recvtty.c
npm run --silent build:test
set +e

# Two files at a time, test/client-server.ts among them (the server stops it makes at exact steps,
# TSRUN_TEST_SERVER_PAUSE_AT, take effect before the worker goes on, however late a second file's
# load lets the server's main thread run): two tap processes of one job each, on two lists of
# about the same run time (scripts/tap-lists.mjs; tap itself takes its files in name order).
# tap runs the files with a Test class it builds for test/.taprc's plugins: built here, once, not
# by the two tap processes below at the same time.
TAP_RCFILE=test/.taprc npx tap build >/dev/null || { echo "tap build failed" >&2; exit 1; }
mapfile -t tap_lists < <(node scripts/tap-lists.mjs build/test)
[ "${#tap_lists[@]}" = 2 ] && [ -n "${tap_lists[0]}" ] && [ -n "${tap_lists[1]}" ] || { echo "scripts/tap-lists.mjs gave no two lists of build/test" >&2; exit 1; }
tap_list() { # N: runs list N into build/tap-N.log, printing its result lines; tap's exit status
  # shellcheck disable=SC2086 # a list of paths without spaces
  TAP_RCFILE=test/.taprc npx tap --reporter=tap --jobs=1 ${tap_lists[$1]} 2>&1 | tee "build/tap-$1.log" |
    grep --line-buffered -E '^(not )?ok |^    not ok'
  return "${PIPESTATUS[0]}"
}
tap_list 0 & tap0=$!
tap_list 1 & tap1=$!
wait "$tap0"; tap_rc=$?
wait "$tap1"; rc1=$?; [ "$tap_rc" != 0 ] || tap_rc=$rc1
cat build/tap-0.log build/tap-1.log > build/tap.log
tap_pass=$(grep -cE '^ok ' build/tap.log)
tap_fail=$(grep -cE '^not ok ' build/tap.log)
echo "tap: files passed $tap_pass, failed $tap_fail (exit $tap_rc)"
echo "# tier tap (with the build): ${SECONDS}s, CPUs $(busy_pct "$t_start_ticks")% busy"

# tier NAME SKIP-VARIABLE SCRIPT: a tier that prints "ok"/"not ok" lines and closes with
# "[WORD: ]N passed, N failed" (the e2e tiers count tsrun's scenarios only there, not the
# comparison runtimes'); sets <NAME>_pass and <NAME>_fail from that line. A tier that ends
# without it is counted from its lines, plus one failure; one that exits non-zero with no
# failure counted counts one. A tier begun with tier_start runs in the background into its log,
# and tier then waits for it and prints the log.
tier_start() {
  local name=$1 skip=$2 script=$3
  [ "${!skip:-}" = 1 ] && return
  bash "$script" >"build/$name.log" 2>&1 &
  printf -v "${name}_bg" %s $!
  printf -v "${name}_t0" %s "$SECONDS"
  printf -v "${name}_ticks" %s "$(cpu_ticks)"
}
tier() {
  local name=$1 skip=$2 script=$3 rc p f sum bg=${1}_bg t0=${1}_t0 ticks=${1}_ticks
  [ -n "${!t0:-}" ] || printf -v "$t0" %s "$SECONDS"
  [ -n "${!ticks:-}" ] || printf -v "$ticks" %s "$(cpu_ticks)"
  if [ "${!skip:-}" = 1 ]; then
    echo "$name tier skipped ($skip=1)"; p=0; f=0
  else
    if [ -n "${!bg:-}" ]; then wait "${!bg}"; rc=$?; cat "build/$name.log"
    else bash "$script" 2>&1 | tee "build/$name.log"; rc=${PIPESTATUS[0]}; fi
    sum=$(sed -n -E 's/^([a-z0-9_-]+: )?([0-9]+) passed, ([0-9]+) failed$/\2 \3/p' "build/$name.log" | tail -1)
    if [ -n "$sum" ]; then read -r p f <<<"$sum"
    else p=$(grep -cE '^ok ' "build/$name.log"); f=$(($(grep -cE '^not ok ' "build/$name.log") + 1)); fi
    [ "$rc" = 0 ] || [ "$f" -gt 0 ] || f=1
    echo "# tier $name: $((SECONDS - ${!t0}))s, CPUs $(busy_pct "${!ticks}")% busy (ended at ${SECONDS}s of npm test)"
  fi
  printf -v "${name}_pass" %s "$p"; printf -v "${name}_fail" %s "$f"
}
# Guests (test/vm/run.sh): pure cgroup v2 and systemd as PID 1 at the same time (each
# user-mode-linux guest is one CPU and mostly waits on ptrace, so two share the two cores well),
# then the clients' device and cgroup scenarios on pure cgroup v2, then the clients with the
# systemd driver, then checkpoint/restore (qemu); then Podman, containerd and Docker on this host
# (see the header of test/e2e/run.sh); then the CRI tier, with its own containerd
# (test/cri/tier.sh). (The CRIU guest and the host's e2e and CRI tiers at the same time took as
# long as one after the other: 346 s against about 340 s; the CPUs were 97% busy.)
tier_start systemd TSRUN_SKIP_SYSTEMD scripts/test-systemd.sh
tier cgroup2 TSRUN_SKIP_CGROUP2 scripts/test-cgroup2.sh
tier systemd TSRUN_SKIP_SYSTEMD scripts/test-systemd.sh
tier e2e_cgroup2 TSRUN_SKIP_E2E_CGROUP2 scripts/test-e2e-cgroup2.sh
tier e2e_systemd TSRUN_SKIP_E2E_SYSTEMD scripts/test-e2e-systemd.sh
tier criu TSRUN_SKIP_CRIU scripts/test-criu.sh
tier e2e TSRUN_SKIP_E2E test/e2e/run.sh
tier cri TSRUN_SKIP_CRI test/cri/tier.sh

# The diagnostics of every failed tap assertion (its YAML block, cut at 30 lines), last, where a
# reader of only the end of the output still sees why.
if [ "$tap_fail" -gt 0 ]; then
  echo "# failed tap assertions:"
  awk '/^ +not ok /{on=1; n=0; end=sprintf("%*s...", match($0,/[^ ]/)+1, "")} on{print; n++; if ((n>1 && $0==end) || n>=30) on=0}' build/tap.log
fi

pass=$((tap_pass + cgroup2_pass + systemd_pass + e2e_cgroup2_pass + e2e_systemd_pass + criu_pass + e2e_pass + cri_pass))
fail=$((tap_fail + cgroup2_fail + systemd_fail + e2e_cgroup2_fail + e2e_systemd_fail + criu_fail + e2e_fail + cri_fail))
[ "$tap_rc" = 0 ] || [ "$tap_fail" -gt 0 ] || fail=$((fail + 1))
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
