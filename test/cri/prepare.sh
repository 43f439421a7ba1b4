#!/usr/bin/env bash
# test/cri/prepare.sh OUT: what the CRI tier runs, made before it starts (on the host before a
# guest boots, scripts/test-e2e-systemd.sh: under TCG gcc, esbuild and every ctr call cost
# seconds, and Node reading a few hundred modules over virtio-9p ten):
#  - OUT/images.tar: the tier's images in one OCI archive (one ctr import):
#    localhost/tsrun-cri/busybox:1 (Debian's busybox-static) and localhost/tsrun-cri/pause:1
#    (test/cri/pause.c built static). Nothing is pulled.
#  - OUT/scenarios.js: build/test/cri/scenarios.js with its modules (@grpc/grpc-js,
#    @grpc/proto-loader) in one script (npm run build:test first).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# = 1 ] || { echo "usage: $0 OUT" >&2; exit 2; }
out=$1
[ -f build/test/cri/scenarios.js ] || { echo "$0: build the tests first (npm run build:test)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/tsrun-cri-images.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# add_image NAME ROOTFS CMD-JSON: ROOTFS as an image (one uncompressed layer) in the layout.
l=$work/layout manifests=
mkdir -p "$l/blobs/sha256"
add_image() {
  local name=$1 rootfs=$2 cmd=$3 cfg man dl dc dm
  tar -C "$rootfs" --numeric-owner -cf "$l/layer.tar" .
  dl=$(sha256sum "$l/layer.tar" | cut -d' ' -f1); mv "$l/layer.tar" "$l/blobs/sha256/$dl"
  cfg='{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":'$cmd'},"rootfs":{"type":"layers","diff_ids":["sha256:'$dl'"]}}'
  dc=$(printf %s "$cfg" | sha256sum | cut -d' ' -f1); printf %s "$cfg" >"$l/blobs/sha256/$dc"
  man='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'$dc'","size":'${#cfg}'},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:'$dl'","size":'$(stat -c %s "$l/blobs/sha256/$dl")'}]}'
  dm=$(printf %s "$man" | sha256sum | cut -d' ' -f1); printf %s "$man" >"$l/blobs/sha256/$dm"
  manifests+=${manifests:+,}$(printf '{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"%s"}}' "$dm" "${#man}" "$name")
}
bb=$work/busybox
mkdir -p "$bb"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,var/tmp,run}
chmod 1777 "$bb/tmp" "$bb/var/tmp"
install -m 755 /bin/busybox "$bb/bin/busybox"
chroot "$bb" /bin/busybox --install -s
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'user:x:1000:1000:user:/tmp:/bin/sh' >"$bb/etc/passwd"
printf '%s\n' 'root:x:0:' 'user:x:1000:' 'extra:x:2000:' >"$bb/etc/group"
add_image localhost/tsrun-cri/busybox:1 "$bb" '["/bin/sh"]'
pz=$work/pause
mkdir -p "$pz"
gcc -O2 -Wall -Wextra -Werror -static -o "$pz/pause" test/cri/pause.c
add_image localhost/tsrun-cri/pause:1 "$pz" '["/pause"]'
printf '{"schemaVersion":2,"manifests":[%s]}' "$manifests" >"$l/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' >"$l/oci-layout"
tar -C "$l" -cf "$out/images.tar.new" . && mv "$out/images.tar.new" "$out/images.tar"
node_modules/.bin/esbuild build/test/cri/scenarios.js --bundle --platform=node --target=node20 --minify \
  --legal-comments=none --log-level=warning --outfile="$out/scenarios.js"
