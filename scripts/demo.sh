#!/usr/bin/env bash
# Installs and builds tsrun, makes a busybox bundle and runs a container from it, in the
# foreground, with tsrun's own command line.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bundle=${TSRUN_DEMO_BUNDLE:-/tmp/tsrun-demo}
rm -rf "$bundle"
bash scripts/make-bundle.sh "$bundle" sh -c 'echo "hello from $(hostname): pid $$, uid $(id -u)"; echo "/: $(ls / | tr "\n" " ")"; echo "open fds: $(ls /proc/self/fd | tr "\n" " ")"'
echo "+ tsrun run --bundle $bundle demo"
exec ./build/Release/tsrun run --bundle "$bundle" "demo-$$"
