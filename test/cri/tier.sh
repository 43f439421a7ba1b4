#!/usr/bin/env bash
# test/cri/tier.sh: the CRI tier. Drives containerd's CRI plugin as kubelet does (the tier's own
# CRI client, test/cri/client.ts) with two runtime handlers on the runc shim
# (io.containerd.runc.v2): "tsrun" (BinaryName = build/Release/tsrun) and "runc"
# (/usr/sbin/runc), every scenario with both in the same run. A private containerd (own root,
# state, socket, config; cgroupfs driver), images the tier builds itself (busybox-static and a
# static pause program, imported as OCI archives), a loopback-only CNI config. Prints the
# scenario lines, the table and "cri: N passed, N failed" (tsrun's scenarios); stops
# containerd and removes everything it made, also on failure. TSRUN_CRI_DIR: the work dir;
# CRI_ONLY=REGEX: only the scenarios whose name matches; TSRUN_CRI_BINARY: the tsrun the "tsrun"
# handler runs (default build/Release/tsrun).
set -uo pipefail
cd "$(dirname "$0")/../.."
TOP=$PWD
[ "$(id -u)" = 0 ] || { echo "the CRI tier runs real containers: run it as root" >&2; exit 1; }
D=${TSRUN_CRI_DIR:-/tmp/tsrun-cri}
SOCK=$D/containerd.sock
CTR=(ctr -a "$SOCK" -n k8s.io)
CGPARENT=tsrun-cri-$$
TSRUN_BIN=${TSRUN_CRI_BINARY:-$TOP/build/Release/tsrun}
t0=$SECONDS
fail_setup() { echo "not ok - setup: $*"; echo "cri: 0 passed, 1 failed"; exit 1; }
for c in containerd ctr /usr/sbin/runc /usr/lib/cni/loopback gcc; do command -v "$c" >/dev/null || fail_setup "$c is missing (scripts/setup.sh installs it)"; done
[ -x "$TSRUN_BIN" ] && [ -f build/test/cri/scenarios.js ] || fail_setup "build tsrun and the tests first (npm run build && npm run build:test)"

ctrd_pid= node_pid=
cleanup() {
  local rt m
  [ -z "$node_pid" ] || kill "$node_pid" 2>/dev/null
  [ -z "$ctrd_pid" ] || { kill "$ctrd_pid" 2>/dev/null; for _ in $(seq 50); do kill -0 "$ctrd_pid" 2>/dev/null || break; sleep 0.1; done; kill -9 "$ctrd_pid" 2>/dev/null; }
  # What containerd's shims left (a failed scenario): the containers, then the mounts under $D.
  for rt in tsrun runc; do
    m=$D/$rt-root/k8s.io   # the shim's Root option is the runtime's --root, per namespace
    [ -d "$m" ] || continue
    for id in $(ls "$m" | grep -v '^@'); do
      if [ "$rt" = tsrun ]; then "$TSRUN_BIN" --root "$m" delete -f "$id"; else runc --root "$m" delete -f "$id"; fi
    done >/dev/null 2>&1
  done
  # The shims this containerd started (their command line names its socket).
  for p in /proc/[0-9]*; do
    [ "$(cat "$p/comm" 2>/dev/null)" = containerd-shim ] && tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "-address $SOCK " && kill -9 "${p#/proc/}"
  done 2>/dev/null
  awk -v d="$D/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
  for m in /sys/fs/cgroup/*/"$CGPARENT"; do [ -d "$m" ] && find "$m" -depth -type d -exec rmdir {} + 2>/dev/null; done
  rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
rm -rf "$D"; mkdir -p "$D"/{root,state,cni,images,tsrun-root,runc-root,logs,mnt}

# ---- images: busybox and the pause program, as OCI archives --------------------------------
# oci_archive NAME ROOTFS CMD-JSON OUT: an OCI image layout (one uncompressed layer) as a tar.
oci_archive() {
  local name=$1 rootfs=$2 cmd=$3 out=$4 l=$D/images/layout blob cfg man dl dc dm
  rm -rf "$l"; mkdir -p "$l/blobs/sha256"
  tar -C "$rootfs" --numeric-owner -cf "$l/layer.tar" .
  dl=$(sha256sum "$l/layer.tar" | cut -d' ' -f1); mv "$l/layer.tar" "$l/blobs/sha256/$dl"
  cfg='{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":'$cmd'},"rootfs":{"type":"layers","diff_ids":["sha256:'$dl'"]}}'
  dc=$(printf %s "$cfg" | sha256sum | cut -d' ' -f1); printf %s "$cfg" >"$l/blobs/sha256/$dc"
  man='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'$dc'","size":'${#cfg}'},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:'$dl'","size":'$(stat -c %s "$l/blobs/sha256/$dl")'}]}'
  dm=$(printf %s "$man" | sha256sum | cut -d' ' -f1); printf %s "$man" >"$l/blobs/sha256/$dm"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"%s"}}]}' "$dm" "${#man}" "$name" >"$l/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$l/oci-layout"
  tar -C "$l" -cf "$out" .
}
bb=$D/images/busybox
mkdir -p "$bb"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,var/tmp,run}
chmod 1777 "$bb/tmp" "$bb/var/tmp"
install -m 755 /bin/busybox "$bb/bin/busybox"
chroot "$bb" /bin/busybox --install -s
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'user:x:1000:1000:user:/tmp:/bin/sh' >"$bb/etc/passwd"
printf '%s\n' 'root:x:0:' 'user:x:1000:' 'extra:x:2000:' >"$bb/etc/group"
oci_archive localhost/tsrun-cri/busybox:1 "$bb" '["/bin/sh"]' "$D/images/busybox.tar"
pz=$D/images/pause
mkdir -p "$pz"
gcc -O2 -Wall -Wextra -Werror -static -o "$pz/pause" test/cri/pause.c || fail_setup "building test/cri/pause.c"
oci_archive localhost/tsrun-cri/pause:1 "$pz" '["/pause"]' "$D/images/pause.tar"

# ---- containerd ----------------------------------------------------------------------------
cat >"$D/cni/10-loopback.conflist" <<EOC
{"cniVersion": "0.4.0", "name": "tsrun-cri-lo", "plugins": [{"type": "loopback"}]}
EOC
# runtime_toml HANDLER BINARY: the CRI runtime handler HANDLER on the runc shim, running BINARY
# with its own state root.
runtime_toml() {
  cat <<EOC
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$1]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$1.options]
        BinaryName = "$2"
        Root = "$D/$1-root"
        SystemdCgroup = false
EOC
}
cat >"$D/config.toml" <<EOC
version = 2
root = "$D/root"
state = "$D/state"
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  address = "$D/debug.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/tsrun-cri/pause:1"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  # Sandboxes get oom_score_adj -998; lowering a score needs CAP_SYS_RESOURCE, which the
  # machines this runs on may not give root: no score below containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "tsrun"
$(runtime_toml tsrun "$TSRUN_BIN")
$(runtime_toml runc /usr/sbin/runc)
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$D/cni"
EOC
containerd --config "$D/config.toml" >"$D/logs/containerd.log" 2>&1 &
ctrd_pid=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && "${CTR[@]}" version >/dev/null 2>&1 && break; sleep 0.1; done
"${CTR[@]}" version >/dev/null 2>&1 || { tail -20 "$D/logs/containerd.log"; fail_setup "containerd did not start"; }
for i in busybox pause; do
  "${CTR[@]}" images import "$D/images/$i.tar" >/dev/null 2>>"$D/logs/import.log" || { cat "$D/logs/import.log"; fail_setup "ctr images import $i"; }
done
echo "# cri: setup took $((SECONDS - t0))s"

CRI_ONLY=${CRI_ONLY:-} CRI_SOCK=$SOCK CRI_DIR=$D CRI_CGPARENT=$CGPARENT node --experimental-websocket --no-warnings build/test/cri/scenarios.js &
# (in the background: a signal to the tier then stops it at once, not after the scenarios)
node_pid=$!
wait $node_pid
rc=$?
node_pid=
[ $rc = 0 ] || { echo "# containerd log (last 30 lines):"; tail -30 "$D/logs/containerd.log" | sed 's/^/# /'; }
echo "# cri: the tier took $((SECONDS - t0))s"
exit $rc
