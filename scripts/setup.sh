#!/usr/bin/env bash
# Installs what building and testing tsrun needs on a Debian machine (as root), then builds.
set -euo pipefail
cd "$(dirname "$0")/.."

# The test guests (test/vm/run.sh): user-mode-linux and qemu kernels, busybox for their
# initramfs, systemd and D-Bus for the systemd guest; kmod (depmod, modprobe) and CRIU for the
# checkpoint tier, whose qemu guest gets the kernel's modules (--modules).
guest_pkgs=(user-mode-linux qemu-system-x86 xz-utils kmod systemd dbus criu)
# musl-tools: the client (build/Release/tsrun) is linked statically against musl (CMakeLists.txt).
# The CRI tier (test/cri/tier.sh): containerd (its CRI plugin), the CNI plugins, the registry its
# images are pulled from and skopeo, which pushes them there (test/cri/prepare.sh).
pkgs=(busybox-static cmake g++ make musl-tools iproute2 util-linux procps runc crun hyperfine libc6-dev libseccomp2 libseccomp-dev uidmap podman conmon time
  containerd containernetworking-plugins docker-registry skopeo)
# apt_install [APT-GET OPTIONS] -- PACKAGES: the packages not installed yet.
apt_install() {
  local opts=() missing=() p
  while [ "$1" != -- ]; do opts+=("$1"); shift; done; shift
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -gt 0 ] || return 0
  [ -n "${apt_updated:-}" ] || { apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${opts[@]}" "${missing[@]}" >/dev/null
}
had_registry=$(dpkg -s docker-registry >/dev/null 2>&1 && echo 1 || true)
apt_install -- "${pkgs[@]}"
# docker-registry's package enables a registry service on port 5000 of every address; the CRI
# tier runs its own on a loopback of its own, so the one it brought is disabled (and stopped
# where systemd runs).
if [ -z "$had_registry" ]; then
  systemctl disable docker-registry.service >/dev/null 2>&1 || true
  [ ! -d /run/systemd/system ] || systemctl stop docker-registry.service
fi
apt_install --no-install-recommends -- "${guest_pkgs[@]}"
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build
# The guests' kernels and initramfs, cached in /var/cache/tsrun-vm (remade when missing).
test/vm/run.sh --backend uml --prepare
test/vm/run.sh --backend qemu --modules --prepare
