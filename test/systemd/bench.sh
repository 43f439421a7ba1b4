#!/usr/bin/env bash
# What the systemd cgroup driver adds to a create, for tsrun and for runc, in the systemd guest:
#   test/vm/run.sh --guest systemd -- bash test/systemd/bench.sh [ROUNDS]
# Each round times one create with the cgroupfs driver and one with --systemd-cgroup (the order
# alternating), for each runtime; the figure is the median over rounds of (systemd - cgroupfs),
# in ms. The bundles have no device rules of its own (the same device program for both drivers);
# the cgroupfs one has cgroupsPath /tsrun-bench (the default, below pid 1's cgroup, is systemd's
# init.scope here, where no controller can be enabled), the systemd one the default unit.
set -uo pipefail
cd "$(dirname "$0")/../.."
[ "${TSRUN_VM:-}" = systemd ] || { echo "run me in the systemd guest (test/vm/run.sh --guest systemd)" >&2; exit 2; }
rounds=${1:-7}
tmp=$(mktemp -d /tmp/tsrun-sdbench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
bash scripts/make-bundle.sh "$tmp/b" sleep 300 >/dev/null
node -e '
  const fs = require("fs"); const f = process.argv[1] + "/config.json"; const c = JSON.parse(fs.readFileSync(f));
  c.linux.resources = { memory: { limit: 33554432 }, pids: { limit: 20 } };
  fs.writeFileSync(f, JSON.stringify(c));
  fs.mkdirSync(process.argv[1] + "fs"); c.root.path = process.argv[1] + "/rootfs"; c.linux.cgroupsPath = "/tsrun-bench";
  fs.writeFileSync(process.argv[1] + "fs/config.json", JSON.stringify(c));' "$tmp/b"
now() { date +%s%N; }
one() { # runtime binary, driver flag ("" or --systemd-cgroup), id: prints the create's ms
  local t0 t1 b=$tmp/bfs
  [ -n "$2" ] && b=$tmp/b
  t0=$(now)
  "$1" --root "$tmp/root-$(basename "$1")" $2 create --bundle "$b" "$3" >/dev/null 2>"$tmp/err" || { echo "# $(head -c 300 "$tmp/err")" >&2; echo fail; return; }
  t1=$(now)
  "$1" --root "$tmp/root-$(basename "$1")" delete -f "$3" >/dev/null 2>&1
  echo $(( (t1 - t0) / 1000000 ))
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for rt in runc "$PWD/build/Release/tsrun"; do
  name=$(basename "$rt")
  one "$rt" "" warm-$name >/dev/null; one "$rt" --systemd-cgroup warm-$name >/dev/null # code caches, first units
  : >"$tmp/$name.diff"
  for i in $(seq "$rounds"); do
    if [ $((i % 2)) = 0 ]; then a=$(one "$rt" "" c$i); b=$(one "$rt" --systemd-cgroup s$i)
    else b=$(one "$rt" --systemd-cgroup s$i); a=$(one "$rt" "" c$i); fi
    [ "$a" = fail ] || [ "$b" = fail ] && { echo "# $name round $i: a create failed" >&2; continue; }
    echo "# $name round $i: cgroupfs ${a} ms, systemd ${b} ms" >&2
    echo $((b - a)) >>"$tmp/$name.diff"
  done
  echo "$name: systemd minus cgroupfs, median of $(wc -l <"$tmp/$name.diff") paired rounds: $(median <"$tmp/$name.diff") ms"
done
