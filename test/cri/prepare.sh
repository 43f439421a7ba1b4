#!/usr/bin/env bash
# test/cri/prepare.sh OUT: what the CRI tier runs, made before it starts (on the host before a
# guest boots, scripts/test-e2e-systemd.sh: under TCG gcc, esbuild and every exec cost
# seconds, and Node reading a few hundred modules over virtio-9p ten):
#  - OUT/registry: the storage of a registry (Debian's docker-registry, test/cri/registry.yml)
#    holding the tier's images, which the tier serves to containerd's pulls (test/cri/tier.sh):
#    tsrun-cri/busybox:1 (Debian's busybox-static), tsrun-cri/pause:1 (test/cri/pause.c built
#    static), and tsrun-cri/pulled:tsrun and :runc, the busybox layer under a config of each
#    handler's own (the image-pull scenario pulls and removes one per handler: containerd's
#    RemoveImage drops every name of an image ID). Made here in skopeo's dir: format and pushed
#    with one skopeo sync to a registry on the loopback of a network namespace of this
#    script's own. Nothing is pulled from outside.
#  - OUT/scenarios.js: build/test/cri/scenarios.js with its modules (@grpc/grpc-js,
#    @grpc/proto-loader) in one script (npm run build:test first).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# = 1 ] || { echo "usage: $0 OUT" >&2; exit 2; }
out=$1
[ -f build/test/cri/scenarios.js ] || { echo "$0: build the tests first (npm run build:test)" >&2; exit 1; }
for c in docker-registry skopeo gcc unshare nsenter setpriv; do command -v "$c" >/dev/null || { echo "$0: $c is missing (scripts/setup.sh installs it)" >&2; exit 1; }; done
work=$(mktemp -d "${TMPDIR:-/tmp}/tsrun-cri-images.XXXXXX")
reg_pid=
cleanup() {
  [ -z "$reg_pid" ] || { kill "$reg_pid"; wait "$reg_pid"; } 2>/dev/null || true
  ! mountpoint -q "$work/netns" || umount "$work/netns" || true
  rm -rf "$work" "$out/registry.new"
}
trap cleanup EXIT
mkdir -p "$out"

# add_image REF ROOTFS CMD-JSON [LABELS-JSON]: ROOTFS as an image (one uncompressed layer) at
# $src/REF in skopeo's dir: format (manifest.json, each blob named by its digest's hex, version),
# the blobs made once under $blobs and hard-linked.
src=$work/src blobs=$work/blobs
mkdir -p "$src" "$blobs"
add_image() {
  local ref=$1 rootfs=$2 cmd=$3 labels=${4:-'{}'} cfg man dl dc d=$src/$1
  tar -C "$rootfs" --numeric-owner -cf "$blobs/layer.tar" .
  dl=$(sha256sum "$blobs/layer.tar" | cut -d' ' -f1); mv "$blobs/layer.tar" "$blobs/$dl"
  cfg='{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":'$cmd',"Labels":'$labels'},"rootfs":{"type":"layers","diff_ids":["sha256:'$dl'"]}}'
  dc=$(printf %s "$cfg" | sha256sum | cut -d' ' -f1); printf %s "$cfg" >"$blobs/$dc"
  man='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'$dc'","size":'${#cfg}'},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:'$dl'","size":'$(stat -c %s "$blobs/$dl")'}]}'
  mkdir -p "$d"
  printf %s "$man" >"$d/manifest.json"
  echo 'Directory Transport Version: 1.1' >"$d/version"
  ln "$blobs/$dl" "$blobs/$dc" "$d/"
}
bb=$work/busybox
mkdir -p "$bb"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,var/tmp,run}
chmod 1777 "$bb/tmp" "$bb/var/tmp"
install -m 755 /bin/busybox "$bb/bin/busybox"
chroot "$bb" /bin/busybox --install -s
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'user:x:1000:1000:user:/tmp:/bin/sh' >"$bb/etc/passwd"
printf '%s\n' 'root:x:0:' 'user:x:1000:' 'extra:x:2000:' >"$bb/etc/group"
add_image tsrun-cri/busybox:1 "$bb" '["/bin/sh"]'
# (the handlers of test/cri/scenarios.ts)
for h in tsrun runc; do add_image "tsrun-cri/pulled:$h" "$bb" '["/bin/sh"]' '{"tsrun-cri.handler":"'$h'"}'; done
pz=$work/pause
mkdir -p "$pz"
gcc -O2 -Wall -Wextra -Werror -static -o "$pz/pause" test/cri/pause.c
add_image tsrun-cri/pause:1 "$pz" '["/pause"]'

# ---- the push ------------------------------------------------------------------------------
t0=$(date +%s%N)
rm -rf "$out/registry.new"
touch "$work/netns"
unshare --net="$work/netns" true
NS=(nsenter --net="$work/netns")
"${NS[@]}" ip link set lo up
REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=$out/registry.new "${NS[@]}" docker-registry serve test/cri/registry.yml >"$work/registry.log" 2>&1 &
reg_pid=$!
# skopeo as nobody: root's records its blob-info cache in /var/lib/containers (podman's), any
# other user's under HOME. One sync of every image (four skopeo copies took twice as long).
mkdir -m 700 "$work/home" && chown 65534:65534 "$work/home" && chmod 755 "$work"
"${NS[@]}" setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$work/home" bash -c '
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/5000) 2>/dev/null && break; sleep 0.05; done
  exec skopeo --insecure-policy sync --src dir --dest docker --dest-tls-verify=false "$1" 127.0.0.1:5000/tsrun-cri' push "$src/tsrun-cri" >"$work/push.log" 2>&1 ||
  { cat "$work/push.log" "$work/registry.log" >&2; echo "$0: skopeo sync to the loopback registry failed" >&2; exit 1; }
kill "$reg_pid"; wait "$reg_pid" || true; reg_pid=
rm -rf "$out/registry" && mv "$out/registry.new" "$out/registry"
echo "# cri: the images pushed to the registry in $((($(date +%s%N) - t0) / 1000000))ms"
node_modules/.bin/esbuild build/test/cri/scenarios.js --bundle --platform=node --target=node20 --minify \
  --legal-comments=none --log-level=warning --outfile="$out/scenarios.js"
