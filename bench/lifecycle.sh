#!/usr/bin/env bash
# Times a whole container lifecycle (create, start, wait, delete) and `run` of /bin/true for
# tsrun, runc and crun in one run, and prints each as a ratio to tsrun. Also reports the PSS of
# the process left waiting in the created state.
# usage: bench/lifecycle.sh [RUNS]   (root; needs hyperfine, runc, crun; npm run build first)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
# crun 1.8 refuses hybrid cgroups (v1 controllers plus a cgroup2 mount). The whole run moves
# into a private mount namespace without the cgroup2 mount, so all three see the same v1 host.
if [ -z "${TSRUN_BENCH_NS:-}" ] && mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
  exec env TSRUN_BENCH_NS=1 unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified && exec bash "$0" "$@"' "$0" "$@"
fi
# Node pays for NODE_EXTRA_CA_CERTS at start; tsrun's own launcher drops it, the bench too.
unset NODE_EXTRA_CA_CERTS
tmp=$(mktemp -d /tmp/tsrun-bench.XXXXXX)
trap 'for r in tsrun runc crun; do for d in "$tmp/root-$r"/*/; do [ -d "$d" ] && "$(rtbin "$r")" --root "$tmp/root-$r" delete -f "$(basename "$d")" >/dev/null 2>&1; done; done; rm -rf "$tmp"' EXIT
rtbin() { case $1 in tsrun) echo "$PWD/dist/tsrun.js" ;; *) command -v "$1" ;; esac; }
rtflags() { :; }

bash scripts/make-bundle.sh "$tmp/bundle" /bin/true >/dev/null
# crun 1.8 accepts only 1.0.x configs; the bundle uses nothing newer.
node -e 'const f=process.argv[1], fs=require("fs"), c=JSON.parse(fs.readFileSync(f)); c.ociVersion="1.0.2"; fs.writeFileSync(f, JSON.stringify(c))' "$tmp/bundle/config.json"
runtimes=()
for r in tsrun runc crun; do
  if [ -x "$(rtbin "$r" || true)" ]; then runtimes+=("$r"); else echo "skipping $r: not installed" >&2; fi
  mkdir -p "$tmp/root-$r"
done

for r in "${runtimes[@]}"; do
  bin=$(rtbin "$r"); fl=$(rtflags "$r")
  hyperfine -N --warmup 3 --runs "$runs" --export-json "$tmp/$r-cycle.json" \
    "bash bench/cycle.sh $bin $tmp/root-$r $tmp/bundle $fl" >/dev/null
  hyperfine -N --warmup 3 --runs "$runs" --export-json "$tmp/$r-run.json" \
    "$bin --root $tmp/root-$r $fl run --bundle $tmp/bundle bench-run" >/dev/null
  "$bin" --root "$tmp/root-$r" $fl create --bundle "$tmp/bundle" --pid-file "$tmp/$r.pid" bench-pss
  pid=$(<"$tmp/$r.pid")
  awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" >"$tmp/$r.pss"
  "$bin" --root "$tmp/root-$r" $fl delete -f bench-pss
done

node - "$tmp" "${runtimes[@]}" <<'JS'
const fs = require('fs');
const [tmp, ...rts] = process.argv.slice(2);
const mean = (f) => JSON.parse(fs.readFileSync(f, 'utf8')).results[0].mean * 1000;
const rows = rts.map((r) => ({ r, cycle: mean(`${tmp}/${r}-cycle.json`), run: mean(`${tmp}/${r}-run.json`), pss: Number(fs.readFileSync(`${tmp}/${r}.pss`, 'utf8')) / 1024 }));
const base = rows.find((x) => x.r === 'tsrun') ?? rows[0];
console.log('runtime  lifecycle ms  ratio   run ms  ratio   created-state PSS MB');
for (const x of rows) {
  console.log(`${x.r.padEnd(8)} ${x.cycle.toFixed(1).padStart(12)} ${(x.cycle / base.cycle).toFixed(2).padStart(6)} ${x.run.toFixed(1).padStart(8)} ${(x.run / base.run).toFixed(2).padStart(6)} ${x.pss.toFixed(2).padStart(10)}`);
}
console.log('ratio = runtime time / tsrun time (above 1: slower than tsrun)');
JS
