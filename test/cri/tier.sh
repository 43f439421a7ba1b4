#!/usr/bin/env bash
# test/cri/tier.sh: the CRI tier. Drives containerd's CRI plugin as kubelet does (the tier's own
# CRI client, test/cri/client.ts) with two runtime handlers on the runc shim
# (io.containerd.runc.v2): "tsrun" (BinaryName = build/Release/tsrun) and "runc"
# (/usr/sbin/runc), every scenario with both in the same run. A private containerd (own root,
# state, socket, config), images the tier builds itself (busybox-static and a static pause
# program; test/cri/prepare.sh) pulled through CRI's PullImage from a registry of the tier's own
# (Debian's docker-registry on the loopback of the tier's network namespace, containerd's
# hosts.toml sending the name localhost/... to it), the pods on a CNI bridge in the tier's own
# network namespace. Prints the scenario lines, the table and "cri: N passed,
# N failed" (tsrun's scenarios); stops containerd and removes everything it made, also on
# failure.
# TSRUN_CRI_DIR: the work dir (a tmpfs in a test guest: the overlayfs snapshotter cannot sit on
# the guest's overlay root); CRI_ONLY=REGEX: only the scenarios whose name matches;
# CRI_SET=cgroups: only the scenarios that touch cgroups; TSRUN_CRI_BINARY: the tsrun the
# "tsrun" handler runs (default build/Release/tsrun); CRI_PREPARED: a dir with
# test/cri/prepare.sh's images and bundled scenarios (made there when missing); CRI_LOGS: a dir
# to copy the logs to (containerd's, the pods'); CRI_CGROUP_DRIVER: cgroupfs (the default) or
# systemd (SystemdCgroup = true, pods under a slice as kubelet's systemd driver puts them: the
# systemd guest, test/e2e/systemd-guest.sh); CRI_NETWORK=node: the pods on the tier's network
# namespace, not the CNI bridge.
set -uo pipefail
cd "$(dirname "$0")/../.."
TOP=$PWD
[ "$(id -u)" = 0 ] || { echo "the CRI tier runs real containers: run it as root" >&2; exit 1; }
D=${TSRUN_CRI_DIR:-/tmp/tsrun-cri}
SOCK=$D/containerd.sock
DRIVER=${CRI_CGROUP_DRIVER:-cgroupfs}
case $DRIVER in
  cgroupfs) CGPARENT=tsrun-cri-$$ ;;
  # the slice the pods' slices go under (systemd's "-" is the slice hierarchy: none in it)
  systemd) CGPARENT=tsruncri$$ ;;
  *) echo "CRI_CGROUP_DRIVER must be cgroupfs or systemd" >&2; exit 2 ;;
esac
TSRUN_BIN=${TSRUN_CRI_BINARY:-$TOP/build/Release/tsrun}
t0=$SECONDS
fail_setup() { echo "not ok - setup: $*"; echo "cri: 0 passed, 1 failed"; exit 1; }
for c in containerd docker-registry /usr/sbin/runc /usr/lib/cni/loopback /usr/lib/cni/bridge /usr/lib/cni/host-local gcc unshare nsenter ip; do command -v "$c" >/dev/null || fail_setup "$c is missing (scripts/setup.sh installs it)"; done
[ -x "$TSRUN_BIN" ] && [ -f build/test/cri/scenarios.js ] || fail_setup "build tsrun and the tests first (npm run build && npm run build:test)"

ctrd_pid= node_pid= reg_pid=
# Forks are few here (builtins, globs): each fork and exec costs most of a second under TCG.
cleanup() {
  local rt m id p c0=$SECONDS c1 mounts=()
  [ -z "$node_pid" ] || kill "$node_pid" 2>/dev/null
  [ -z "$ctrd_pid" ] || { kill "$ctrd_pid" 2>/dev/null; timeout 10 tail --pid="$ctrd_pid" -f /dev/null; kill -0 "$ctrd_pid" 2>/dev/null && kill -9 "$ctrd_pid"; }
  [ -z "$reg_pid" ] || { kill "$reg_pid" 2>/dev/null; wait "$reg_pid"; }
  c1=$SECONDS
  # What containerd's shims left (a failed scenario): the containers, then the mounts under $D.
  for rt in tsrun runc; do
    for m in "$D/$rt-root/k8s.io"/*; do   # the shim's Root option is the runtime's --root, per namespace
      id=${m##*/}
      [ -d "$m" ] && [ "${id#@}" = "$id" ] || continue
      if [ "$rt" = tsrun ]; then "$TSRUN_BIN" --root "${m%/*}" delete -f "$id"; else runc --root "${m%/*}" delete -f "$id"; fi
    done >/dev/null 2>&1
  done
  # The shims this containerd started (their command line names its socket).
  for p in $(pgrep -f -- "-address $SOCK( |\$)"); do [ "$(cat "/proc/$p/comm")" = containerd-shim ] && kill -9 "$p"; done 2>/dev/null
  while read -r _ _ _ _ m _; do [ "${m#"$D"/}" = "$m" ] || mounts=("$m" "${mounts[@]}"); done </proc/self/mountinfo
  for m in "${mounts[@]}"; do umount -l "$m"; done
  for m in /sys/fs/cgroup/*/"$CGPARENT"; do [ -d "$m" ] && find "$m" -depth -type d -exec rmdir {} + 2>/dev/null; done
  # The systemd driver: kubelet stops the pod slices; stopping their parent stops what is left.
  [ "$DRIVER" = cgroupfs ] || systemctl stop "$CGPARENT.slice" 2>/dev/null
  # libcni's cache of the attachments a killed run left (each names its netns, under $D)
  for m in /var/lib/cni/results/*; do [ -f "$m" ] && grep -qF -- "$D/" "$m" && rm -f "$m"; done 2>/dev/null
  [ -z "${CRI_LOGS:-}" ] || cp -a "$D/logs/." "$CRI_LOGS/" 2>/dev/null
  rm -rf "$D"
  echo "# cri: cleanup took $((SECONDS - c0))s (containerd's stop $((c1 - c0))s); the tier $((SECONDS - t0))s"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
rm -rf "$D"; mkdir -p "$D"/{root,state,cni,cni-ipam,tsrun-root,runc-root,logs,mnt,certs.d/localhost}

# ---- the images and the bundled scenarios (test/cri/prepare.sh) -----------------------------
PREP=${CRI_PREPARED:-$D/prep}
[ -d "$PREP/registry" ] && [ -f "$PREP/scenarios.js" ] || bash test/cri/prepare.sh "$PREP" || fail_setup "test/cri/prepare.sh"

# ---- the tier's network namespace and the pods' network -------------------------------------
# containerd, its shims and pods, and the client run in a network namespace of the tier's own,
# bound at $D/netns (unmounted by cleanup: the namespace, its bridge and veths then go with the
# last process in it). Host-network pods (NODE) share it, not the host's. Pods get their own
# network namespace through CNI's bridge plugin: a bridge in the tier's namespace, host-local
# addresses from a private subnet (its state under $D), no gateway, no default route, no
# masquerade (no iptables rule). Where the kernel has no bridge (the qemu guest has no modules
# without --modules; CRI_NETWORK=node skips the probe) the pods are NODE: the network is not
# what the tier tests.
touch "$D/netns"
unshare --net="$D/netns" true || fail_setup "unshare --net: the tier's network namespace"
NS=(nsenter --net="$D/netns")
"${NS[@]}" ip link set lo up || fail_setup "lo up in the tier's network namespace"
POD_SUBNET=10.231.77.0/24
CNI_NET=tsrun-cri-$$
NETWORK=${CRI_NETWORK:-}
if [ "$NETWORK" != node ] && "${NS[@]}" ip link add tsruncri0 type bridge 2>/dev/null; then
  NETWORK=cni
  cat >"$D/cni/10-tsrun-cri.conflist" <<EOC
{"cniVersion": "0.4.0", "name": "$CNI_NET", "plugins": [{"type": "bridge", "bridge": "tsruncri0",
 "isGateway": false, "ipMasq": false, "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_SUBNET"}]],
 "dataDir": "$D/cni-ipam"}}]}
EOC
else
  NETWORK=node
  # (containerd wants a CNI config even when no pod asks for a network)
  echo '{"cniVersion": "0.4.0", "name": "tsrun-cri-lo", "plugins": [{"type": "loopback"}]}' >"$D/cni/10-loopback.conflist"
fi

# ---- the registry --------------------------------------------------------------------------
# docker-registry on the loopback of the tier's network namespace (test/cri/registry.yml; the
# address is private to the namespace), serving a copy of prepare.sh's storage: pulls write
# nothing to it, but the tier's runs share none. containerd's hosts.toml sends the name
# localhost/... to it over plain HTTP; no other name resolves to anything reachable.
REGISTRY=127.0.0.1:5000 SANDBOX_IMAGE=localhost/tsrun-cri/pause:1
cp -a "$PREP/registry" "$D/registry" || fail_setup "copy the registry's storage"
REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=$D/registry "${NS[@]}" docker-registry serve test/cri/registry.yml >"$D/logs/registry.log" 2>&1 &
reg_pid=$!
printf 'server = "http://%s"\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n' "$REGISTRY" "$REGISTRY" >"$D/certs.d/localhost/hosts.toml"

# ---- containerd ----------------------------------------------------------------------------
# runtime_toml HANDLER BINARY: the CRI runtime handler HANDLER on the runc shim, running BINARY
# with its own state root.
runtime_toml() {
  cat <<EOC
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$1]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$1.options]
        BinaryName = "$2"
        Root = "$D/$1-root"
        SystemdCgroup = $([ "$DRIVER" = systemd ] && echo true || echo false)
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
  sandbox_image = "$SANDBOX_IMAGE"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  # the pods' network namespaces bound under $D/state, not /var/run/netns
  netns_mounts_under_state_dir = true
  # Sandboxes get oom_score_adj -998; lowering a score needs CAP_SYS_RESOURCE, which the
  # machines this runs on may not give root: no score below containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "tsrun"
$(runtime_toml tsrun "$TSRUN_BIN")
$(runtime_toml runc /usr/sbin/runc)
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$D/certs.d"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$D/cni"
EOC
# The client starts with containerd (Node and its modules take seconds under TCG) and waits for
# $D/ready, made once containerd is up, then pulls the images through CRI (as kubelet does
# before it starts a pod); in the background, so a signal to the tier stops it at once.
CRI_ONLY=${CRI_ONLY:-} CRI_SET=${CRI_SET:-} CRI_DRIVER=$DRIVER CRI_SOCK=$SOCK CRI_DIR=$D CRI_CGPARENT=$CGPARENT \
  CRI_READY=$D/ready CRI_NETWORK=$NETWORK CRI_POD_SUBNET=$POD_SUBNET CRI_REGISTRY=$REGISTRY CRI_SANDBOX_IMAGE=$SANDBOX_IMAGE \
  "${NS[@]}" node --experimental-websocket --no-warnings "$PREP/scenarios.js" &
node_pid=$!
"${NS[@]}" containerd --config "$D/config.toml" >"$D/logs/containerd.log" 2>&1 &
ctrd_pid=$!
# (containerd listens once its plugins are up. No sleep(1) in the wait: read -t on a fifo waits
# without a fork)
mkfifo "$D/tick"; exec 9<>"$D/tick"
for _ in $(seq 600); do [ -S "$SOCK" ] && break; kill -0 "$ctrd_pid" 2>/dev/null || break; read -rt 0.1 -u 9; done
[ -S "$SOCK" ] || { tail -20 "$D/logs/containerd.log"; fail_setup "containerd did not start"; }
kill -0 "$reg_pid" 2>/dev/null || { cat "$D/logs/registry.log"; fail_setup "docker-registry did not start"; }
echo "# cri: setup took $((SECONDS - t0))s (then the client's pulls)"
t1=$SECONDS
: >"$D/ready"
wait $node_pid
rc=$?
node_pid=
[ $rc = 0 ] || { echo "# containerd log (last 30 lines):"; tail -30 "$D/logs/containerd.log" | sed 's/^/# /'; }
echo "# cri: the scenarios took $((SECONDS - t1))s"
exit $rc
