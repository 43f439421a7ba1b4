#!/usr/bin/env bash
# run-oci-suite.sh - run the OCI runtime-tools validation tests against a runtime.
#
# Usage:
#   run-oci-suite.sh --suite DIR --runtime PATH [--out DIR] [--timeout SECS]
#                    [--hide-cgroup2] [TEST...]
#
#   --suite DIR     an already built opencontainers/runtime-tools checkout
#                   (needs ./runtimetest, ./rootfs-<arch>.tar.gz and
#                   validation/NAME/NAME.t; this script does not build anything)
#   --runtime PATH  the OCI runtime to test, e.g. /usr/sbin/runc
#   --out DIR       where NAME.tap / NAME.err are saved (default: a mktemp dir)
#   --timeout SECS  per-test time limit (default 120)
#   --hide-cgroup2  on hybrid-cgroup hosts, unmount /sys/fs/cgroup/unified inside
#                   each test's private namespace (host mounts are untouched), so
#                   runtimes that refuse hybrid mode (crun) see plain cgroup v1
#   TEST...         test names (default: the list in DEFAULT_TESTS below)
#
# Must run as root. Each test runs from the suite root with RUNTIME=PATH inside
# `unshare -m -i --propagation private`, so mounts (and POSIX message queues) a
# test leaves behind stay in a private namespace. Each test gets its own TMPDIR,
# which is where the suite puts its bundles; anything still mounted there is
# unmounted before the namespace exits, and containers the test left registered
# with the runtime are force-deleted (if the runtime implements `list`).
# Prints "NAME passed/total PASS|FAIL [note]" per test and a summary line.
# Exit status: 0 if every requested test passed, 1 otherwise, 2 on usage errors.
set -u

DEFAULT_TESTS="create default delete_only_create_resources config_updates_without_affect
hostname kill kill_no_effect killsig linux_devices linux_masked_paths linux_ns_itype
linux_ns_nopath linux_ns_path linux_ns_path_type linux_readonly_paths
linux_rootfs_propagation linux_sysctl linux_uid_mappings mounts process
process_oom_score_adj process_user root_readonly_true state start delete"

usage() { sed -n '2,/^set -u/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2; exit 2; }

suite= runtime= out= limit=120 hide=0 tests=()
while [ $# -gt 0 ]; do
  case "$1" in
    --suite) suite=${2:?}; shift 2 ;;
    --runtime) runtime=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --timeout) limit=${2:?}; shift 2 ;;
    --hide-cgroup2) hide=1; shift ;;
    -h|--help) usage ;;
    -*) echo "unknown option: $1" >&2; usage ;;
    *) tests+=("$1"); shift ;;
  esac
done
[ -n "$suite" ] && [ -n "$runtime" ] || usage
[ "$(id -u)" = 0 ] || { echo "must run as root" >&2; exit 2; }
suite=$(cd "$suite" && pwd) || exit 2
runtime=$(command -v "$runtime") || { echo "runtime not found" >&2; exit 2; }
[ -x "$suite/runtimetest" ] || { echo "$suite/runtimetest missing (suite not built?)" >&2; exit 2; }
[ ${#tests[@]} -gt 0 ] || read -r -d '' -a tests <<<"$DEFAULT_TESTS"
out=${out:-$(mktemp -d /tmp/oci-suite-out.XXXXXX)}
mkdir -p "$out" && out=$(cd "$out" && pwd) || exit 2
scratch=$(mktemp -d /tmp/oci-suite-tmp.XXXXXX) && chmod 755 "$scratch"  # user-ns tests need o+x

# Unmount everything mounted under $1 (deepest first) in the current namespace.
umount_under() {
  awk -v p="$1/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo |
    sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
}
# IDs of the containers the runtime knows about (empty if it has no `list`).
list_ids() { "$runtime" list 2>/dev/null | awk 'NR > 1 { print $1 }' | sort; }

# Runs inside the private namespaces: the test, then mount cleanup.
inner='[ "$3" = 1 ] && umount -l /sys/fs/cgroup/unified
timeout -k 10 "$1" "./validation/$2/$2.t"; rc=$?
awk -v p="$TMPDIR/" '\''index($5, p) == 1 { print $5 }'\'' /proc/self/mountinfo |
  sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
exit $rc'

npass=0 nfail=0 start=$(date +%s)
for name in "${tests[@]}"; do
  tap="$out/$name.tap" err="$out/$name.err" tmp="$scratch/$name"
  if [ ! -x "$suite/validation/$name/$name.t" ]; then
    echo "$name 0/0 FAIL (no such test binary)"; nfail=$((nfail + 1)); continue
  fi
  mkdir -p "$tmp"; before=$(list_ids)
  (cd "$suite" && TMPDIR="$tmp" RUNTIME="$runtime" \
    unshare -m -i --propagation private bash -c "$inner" inner "$limit" "$name" "$hide") \
    >"$tap" 2>"$err" </dev/null
  rc=$?
  # Containers the test left behind, then anything visible here, then the dir.
  for id in $(comm -13 <(echo "$before") <(list_ids)); do
    "$runtime" delete -f "$id" >/dev/null 2>&1
  done
  umount_under "$tmp"; rm -rf --one-file-system "$tmp"

  # Parse TAP: skip the indented YAML/JSON diagnostic blocks ("  ---" .. "  ...").
  read -r plan ok notok skip < <(awk '
    /^[ \t]+---/ { diag = 1; next }  diag && /^[ \t]+\.\.\.$/ { diag = 0; next }  diag { next }
    /^1\.\.[0-9]+/ { split($1, a, "\\.\\."); plan += a[2]; np++ }  # streams may be concatenated
    /^ok([ \t]|$)/ { ok++; if (tolower($0) ~ /#[ \t]*skip/) skip++ }
    /^Bail out!/ { notok++ }
    /^not ok([ \t]|$)/ { if (tolower($0) ~ /#[ \t]*todo/) ok++; else notok++ }
    END { printf "%d %d %d %d\n", (np ? plan : -1), ok, notok, skip }' "$tap")
  total=$plan; [ "$total" -lt $((ok + notok)) ] && total=$((ok + notok))
  note=
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then note="timeout after ${limit}s"
  elif [ $rc -ne 0 ]; then note="exit $rc"
  elif [ "$plan" -lt 0 ]; then note="no plan"
  elif [ "$plan" -eq 0 ]; then note="no test points"
  elif [ $((ok + notok)) -ne "$plan" ]; then note="ran $((ok + notok)) of $plan"
  fi
  [ "$skip" -gt 0 ] && note="${note:+$note, }$skip skipped"
  # Some files (the *_fail and hook ones) print a diagnostic only when something is wrong and
  # end with "1..0" or nothing: silence is their pass.
  silent=0
  if [ $rc -eq 0 ] && [ "$plan" -le 0 ] && [ "$notok" -eq 0 ] && ! grep -qiE 'error|not ok|fail' "$tap"; then
    silent=1; note="silent: prints only on failure"
  fi
  if [ $silent -eq 1 ] || { [ $rc -eq 0 ] && [ "$plan" -gt 0 ] && [ "$notok" -eq 0 ] && [ "$ok" -eq "$plan" ]; }; then
    verdict=PASS; npass=$((npass + 1))
  else
    verdict=FAIL; nfail=$((nfail + 1))
  fi
  echo "$name $ok/$(( total < 0 ? 0 : total )) $verdict${note:+ ($note)}"
done
rmdir "$scratch" 2>/dev/null || echo "note: leftovers in $scratch" >&2
echo "runtime $runtime, $((npass + nfail)) files in $(( $(date +%s) - start ))s, output in $out"
echo "summary: $npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
