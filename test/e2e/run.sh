#!/usr/bin/env bash
# test/e2e/run.sh [--compare | --runtimes "tsrun runc"] [--suites "podman containerd docker"]
# [--later "docker"]: the end-to-end tier. Runs setup.sh, then each suite for RUNTIME=tsrun (the
# three suites at once: they share nothing: own podman storage, own containerd, own dockerd;
# the --later ones once the others are done, where a guest's CPUs are too few for all at once),
# and with --compare the same for runc and crun (crun's pass in a private mount namespace
# without /sys/fs/cgroup/unified). The suites read ONLY and E2E_SET (lib.sh) to run fewer
# scenarios.
# Prints every scenario line, the scenario x runtime table, and a closing "N passed, N failed"
# that counts the first runtime's (tsrun's) scenarios only; exits non-zero when one failed.
set -uo pipefail
cd "$(dirname "$0")"
. ./lib.sh
[ "$(id -u)" = 0 ] || { echo "run.sh runs real containers: run it as root" >&2; exit 1; }
runtimes=(tsrun) suites=(podman containerd docker) later=()
while [ $# -gt 0 ]; do
  case $1 in
    --compare) runtimes=(tsrun runc crun) ;;
    --runtimes) read -ra runtimes <<<"$2"; shift ;;
    --suites) read -ra suites <<<"$2"; shift ;;
    --later) read -ra later <<<"$2"; shift ;;
    *) echo "usage: $0 [--compare | --runtimes \"tsrun runc crun\"] [--suites \"podman containerd docker\"] [--later \"docker\"]" >&2; exit 2 ;;
  esac
  shift
done
t0=$SECONDS
bash ./setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
mkdir -p "$E2E/out"
for rt in "${runtimes[@]}"; do
  : >"$E2E/trace/$rt.log"
  t1=$SECONDS
  for phase in now later; do
    pids=()
    for s in "${suites[@]}"; do
      if [[ " ${later[*]} " == *" $s "* ]]; then when=later; else when=now; fi
      [ "$when" = "$phase" ] || continue
      rm -f "$E2E/results/$s.$rt.tsv"
      RUNTIME=$rt bash "./$s.sh" >"$E2E/out/$s.$rt.out" 2>&1 &
      pids+=($!)
    done
    [ ${#pids[@]} = 0 ] || wait "${pids[@]}"
  done
  for s in "${suites[@]}"; do echo "# ---- $s, RUNTIME=$rt"; grep -v -E '^[0-9]+ passed, ' "$E2E/out/$s.$rt.out"; done
  echo "# RUNTIME=$rt: the suites took $((SECONDS - t1))s"
done
net_teardown

# The table: one row per suite/scenario, one column per runtime (the result, the seconds).
echo
printf '%-32s' "scenario"; for rt in "${runtimes[@]}"; do printf ' %-10s' "$rt"; done; echo
# n_results SUITE RUNTIME RESULT: how many of the pass's scenarios had RESULT (ok, FAIL).
n_results() { local n=0 f=$E2E/results/$1.$2.tsv; [ -f "$f" ] && n=$(grep -c $'\t'"$3"$'\t' "$f"); echo "${n:-0}"; }
main=${runtimes[0]} pass=0 fail=0
for s in "${suites[@]}"; do
  cat "$E2E/results/$s.$main.tsv" "$E2E/results/$s".*.tsv 2>/dev/null | cut -f1 | awk '!seen[$0]++' | while read -r name; do
    printf '%-32s' "$s/$name"
    for rt in "${runtimes[@]}"; do
      r=$(awk -F'\t' -v n="$name" '$1 == n { print $2 " " $3 "s" }' "$E2E/results/$s.$rt.tsv" 2>/dev/null)
      printf ' %-10s' "${r:--}"
    done
    echo
  done
  pass=$((pass + $(n_results "$s" "$main" ok)))
  fail=$((fail + $(n_results "$s" "$main" FAIL)))
  # A suite that died before writing its summary counts as a failure.
  grep -qE '^[0-9]+ passed, ' "$E2E/out/$s.$main.out" || fail=$((fail + 1))
done
for rt in "${runtimes[@]:1}"; do
  p=0 f=0
  for s in "${suites[@]}"; do
    p=$((p + $(n_results "$s" "$rt" ok))); f=$((f + $(n_results "$s" "$rt" FAIL)))
  done
  echo "# $rt: $p passed, $f failed"
done
# The clients leave their parent cgroups (libpod_parent, docker, containerd's namespace) behind,
# empty once their containers are gone: remove those, deepest first, in every hierarchy.
for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
  for d in libpod_parent docker tsrun-e2e; do
    [ -d "$h$d" ] && find "$h$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
done
echo "# e2e took $((SECONDS - t0))s; logs under $E2E/logs, runtime calls under $E2E/trace"
echo "e2e: $pass passed, $fail failed"
[ "$fail" = 0 ]
