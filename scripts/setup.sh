#!/usr/bin/env bash
# Installs what building and testing tsrun needs on a Debian machine (as root), then builds.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(busybox-static cmake g++ make iproute2 util-linux procps runc crun hyperfine libc6-dev user-mode-linux libseccomp2 libseccomp-dev uidmap podman conmon time)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build
