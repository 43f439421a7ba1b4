#!/usr/bin/env bash
# Runs the systemd driver's cgroup v1 checks (test/systemd/v1-tier.sh) in a throw-away systemd
# guest booted on cgroup v1 (test/vm/run.sh --guest systemd --cgroup legacy). Opt-in, not part
# of npm test: a guest of its own costs about 3 min on a loaded 2-core machine.
# `--cgroup hybrid` boots the hybrid layout instead; other options go to test/vm/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
exec test/vm/run.sh --guest systemd --cgroup legacy --timeout 900 "$@" -- bash test/systemd/v1-tier.sh
