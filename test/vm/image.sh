# Sourced by run.sh: makes (once) and names the guest's kernel and initramfs in $cache.
# Sets KERNEL (qemu only) and INITRD. The initramfs holds static busybox, the modules the root
# needs (overlay; virtio and 9p for qemu) and init.sh behind the backend's mount functions;
# its name carries a hash of those, so a changed init.sh makes a new one.
# Debian's kernel package for qemu is only unpacked here, never installed.

pack_initrd() { # DIR OUT
  (cd "$1" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -1 > "$2.tmp" && mv "$2.tmp" "$2"
}

# initrd_tree DIR MOUNT-FUNCTIONS: busybox, /init and an empty module list.
initrd_tree() {
  mkdir -p "$1"/{bin,dev,proc,sys,lib/modules}
  cp /bin/busybox "$1/bin/busybox"
  : > "$1/lib/modules/order"
  { echo '#!/bin/busybox sh'; printf '%s\n' "$2"; cat "$here/init.sh"; } > "$1/init"
  chmod +x "$1/init"
}

UML_MOUNTS='mount_host() { $B mount -t hostfs -o ro,/ none /host; }
mount_run() { $B mount -t hostfs -o "$tsrun_vm_run" none "$1"; }
mount_share() { $B mount -t hostfs -o "$2" none "$3"; }'

QEMU_MOUNTS='O9=trans=virtio,version=9p2000.L,msize=262144
mount_host() { $B mount -t 9p -o ro,$O9,cache=loose hostroot /host; }
mount_run() { $B mount -t 9p -o $O9,cache=mmap vmrun "$1"; }
mount_share() { $B mount -t 9p -o $O9,cache=mmap vmrw$1 "$3"; }'

image_uml() {
  local ver sig d
  ver=$(ls /usr/lib/uml/modules | sort -V | tail -1)
  sig=$({ echo "$UML_MOUNTS"; cat "$here/init.sh"; } | md5sum | cut -c1-10)
  INITRD=$cache/uml-$ver-$sig.initrd
  [ -s "$INITRD" ] && return 0
  d=$(mktemp -d)
  initrd_tree "$d" "$UML_MOUNTS"
  cp "/usr/lib/uml/modules/$ver/kernel/fs/overlayfs/overlay.ko" "$d/lib/modules/"
  echo overlay > "$d/lib/modules/order"
  pack_initrd "$d" "$INITRD"; rm -rf "$d"
}

# The kernel package linux-image-amd64 points at, e.g. linux-image-6.1.0-41-amd64.
kernel_package() {
  apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}

# An uncompressed ELF vmlinux boots through PVH: no real-mode setup and no xz in the guest,
# seconds faster under TCG. Falls back to the bzImage when the payload is not xz.
unpack_vmlinux() { # VMLINUZ OUT
  local off
  off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$1" 2>/dev/null | head -1 | cut -d: -f1) || true
  if [ -n "$off" ]; then
    # --single-stream: what follows the payload in the bzImage is not xz.
    tail -c +$((off + 1)) "$1" > "$2.xz"
    if xz -dc --single-stream "$2.xz" > "$2" 2>/dev/null &&
       [ "$(head -c 4 "$2" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then rm -f "$2.xz"; return 0; fi
    rm -f "$2.xz"
  fi
  cp "$1" "$2"
}

QEMU_MODULES='drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev
drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci drivers/virtio/virtio_mmio
drivers/char/virtio_console drivers/block/virtio_blk fs/netfs/netfs fs/fscache/fscache
net/9p/9pnet net/9p/9pnet_virtio fs/9p/9p fs/overlayfs/overlay'

image_qemu() {
  local pkg sig d kver m f mods
  pkg=$(kernel_package)
  [ -n "$pkg" ] || die "no linux-image-amd64 in the apt lists: run scripts/setup.sh"
  sig=$({ echo "$QEMU_MOUNTS"; cat "$here/init.sh"; } | md5sum | cut -c1-10)
  KERNEL=$cache/$pkg.vmlinux
  INITRD=$cache/$pkg-$sig.initrd
  [ -s "$KERNEL" ] && [ -s "$INITRD" ] && return 0
  d=$(mktemp -d)
  (cd "$d" && apt-get download "$pkg" >/dev/null 2>&1) || { rm -rf "$d"; die "apt-get download $pkg failed"; }
  dpkg-deb -x "$d"/*.deb "$d/x"
  kver=$(basename "$(ls "$d"/x/boot/vmlinuz-* | head -1)"); kver=${kver#vmlinuz-}
  unpack_vmlinux "$d/x/boot/vmlinuz-$kver" "$d/vmlinux"
  initrd_tree "$d/i" "$QEMU_MOUNTS"
  mods=$d/x/lib/modules/$kver/kernel
  for m in $QEMU_MODULES; do
    f=$(ls "$mods/$m.ko"* 2>/dev/null | head -1) || true
    [ -n "$f" ] || continue             # built into this kernel
    case $f in
      *.xz) xz -dc "$f" > "$d/i/lib/modules/${m##*/}.ko";;
      *.zst) zstd -qdc "$f" > "$d/i/lib/modules/${m##*/}.ko";;
      *) cp "$f" "$d/i/lib/modules/${m##*/}.ko";;
    esac
    echo "${m##*/}" >> "$d/i/lib/modules/order"
  done
  pack_initrd "$d/i" "$d/initrd"
  mv "$d/vmlinux" "$KERNEL"; mv "$d/initrd" "$INITRD"; rm -rf "$d"
}

# modules_qemu: the guest kernel's whole module tree (about 400 MB, once), indexed with depmod,
# in $cache/<package>.modules; sets MODROOT. run.sh --modules links it at
# /lib/modules/$(uname -r) in the guest, so modprobe and the kernel's module autoload work
# (CRIU loads the *_diag socket modules, tun and nf_tables).
modules_qemu() {
  local pkg d kver
  pkg=$(kernel_package)
  [ -n "$pkg" ] || die "no linux-image-amd64 in the apt lists: run scripts/setup.sh"
  MODROOT=$cache/$pkg.modules
  [ -f "$MODROOT/.done" ] && return 0
  command -v depmod >/dev/null || die "depmod is missing: run scripts/setup.sh"
  d=$(mktemp -d)
  (cd "$d" && apt-get download "$pkg" >/dev/null 2>&1) || { rm -rf "$d"; die "apt-get download $pkg failed"; }
  dpkg-deb -x "$d"/*.deb "$d/x"
  kver=$(basename "$(ls -d "$d"/x/lib/modules/* | head -1)")
  rm -rf "$MODROOT"; mkdir -p "$MODROOT/lib"
  mv "$d/x/lib/modules" "$MODROOT/lib/"
  depmod -b "$MODROOT" "$kver" || { rm -rf "$d" "$MODROOT"; die "depmod $kver failed"; }
  touch "$MODROOT/.done"; rm -rf "$d"
}
