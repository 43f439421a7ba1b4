#!/usr/bin/env bash
# Builds the conformance probe (conformance/probe.c + probe-util.c) into build/probe: a static
# binary that runs in any rootfs. Does nothing when build/probe is newer than its sources.
set -euo pipefail
cd "$(dirname "$0")/.."
# build/seccomp-helper (conformance/seccomp-helper.c) for test/seccomp.ts, likewise when stale.
if [ ! -x build/seccomp-helper ] || [ conformance/seccomp-helper.c -nt build/seccomp-helper ]; then
  mkdir -p build
  gcc -static -O2 -Wall -Wextra -Werror -o build/seccomp-helper.tmp conformance/seccomp-helper.c
  mv build/seccomp-helper.tmp build/seccomp-helper
fi
srcs=(conformance/probe.c conformance/probe-util.c conformance/probe.h "$0")
out=build/probe
if [ -x "$out" ]; then
  stale=0
  for s in "${srcs[@]}"; do [ "$s" -nt "$out" ] && stale=1; done
  [ "$stale" = 0 ] && exit 0
fi
mkdir -p build
gcc -static -O2 -Wall -Wextra -Werror -o "$out.tmp" conformance/probe.c conformance/probe-util.c
mv "$out.tmp" "$out"
