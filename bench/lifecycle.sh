#!/usr/bin/env bash
# Times tsrun, runc and crun on the calls their callers make (bench/bench.mjs: paired rounds,
# medians, median of per-round ratios) and prints a markdown table.
# usage: bench/lifecycle.sh [ROUNDS]   (root; needs runc, crun, /usr/bin/time; npm run build first)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-20}
# crun 1.8 refuses hybrid cgroups (v1 controllers plus a cgroup2 mount). The whole run moves
# into a private mount namespace without the cgroup2 mount, so all three see the same v1 host.
if [ -z "${TSRUN_BENCH_NS:-}" ] && mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
  exec env TSRUN_BENCH_NS=1 unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified && exec bash "$0" "$@"' "$0" "$@"
fi
# Node pays for NODE_EXTRA_CA_CERTS at start; tsrun's client drops it before it starts Node.
unset NODE_EXTRA_CA_CERTS
[ -f build/test/helpers/docker-profile.js ] || npx tsc -p test/tsconfig.json
tmp=$(mktemp -d /tmp/tsrun-bench.XXXXXX)
rtbin() { case $1 in tsrun | tsrun-warm) echo "$PWD/build/Release/tsrun" ;; *) command -v "$1" ;; esac; }
cleanup() {
  # Not under set -e: a failed delete must not stop the rest. The roots also hold tsrun's
  # caches (@code-cache, @seccomp-cache), which are no containers.
  set +e
  for r in tsrun-warm tsrun runc crun; do
    for d in "$tmp/root-$r"/*/; do
      case $(basename "$d") in @*) continue ;; esac
      [ -d "$d" ] && "$(rtbin "$r")" --root "$tmp/root-$r" delete -f "$(basename "$d")" >/dev/null 2>&1
    done
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
bash scripts/make-bundle.sh "$tmp/bundle" /bin/true >/dev/null
gcc -O2 -Wall -Wextra -Werror -o "$tmp/timecall" bench/timecall.c
# crun 1.8 accepts only 1.0.x configs; the bundle uses nothing newer.
node -e 'const f=process.argv[1], fs=require("fs"), c=JSON.parse(fs.readFileSync(f)); c.ociVersion="1.0.2"; fs.writeFileSync(f, JSON.stringify(c))' "$tmp/bundle/config.json"
args=()
# tsrun-warm: calls through the warm server (docs/CLIENT-SERVER.md); tsrun: every call cold
for r in tsrun-warm tsrun runc crun; do
  if [ -x "$(rtbin "$r" || true)" ]; then args+=("$r=$(rtbin "$r")"); else echo "skipping $r: not installed" >&2; fi
done
echo "$(nproc) cores, $(uname -r), node $(node --version), $(runc --version | head -1), $(crun --version | head -1)"
node bench/bench.mjs "$tmp" "$rounds" "${args[@]}"
