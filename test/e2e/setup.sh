#!/usr/bin/env bash
# test/e2e/setup.sh: prepares the end-to-end tier (as root, Debian). Idempotent.
#  - installs podman, conmon, containerd, netavark/aardvark-dns, iptables, runc, crun, busybox-static,
#    docker.io (dockerd 20.10), containernetworking-plugins (the CRI tier's CNI), without letting their packages start the system daemons
#  - builds tsrun if build/Release/tsrun is missing
#  - writes $E2E (default /tmp/tsrun-e2e): runtime wrappers bin/{tsrun,runc,crun} that log each
#    call (argv, env, cwd, fds, stdin of `update -r -`) to trace/NAME.log and exec the runtime
#    (E2E_TRACE=0: symlinks, no log: a logged call forks a dozen times, seconds in a guest);
#    containers.conf (CONTAINERS_CONF), storage.conf, registries.conf; containerd's config.toml
#  - builds localhost/busybox:tsrun from Debian's busybox-static (no registry): podman import,
#    for containerd an OCI archive (podman save; containerd.sh imports it with ctr), and for
#    dockerd a docker archive (docker.sh loads it). With E2E_ARCHIVE and E2E_DOCKER_ARCHIVE
#    (archives another setup made: the guest tiers give the host's), podman loads the image
#    from the first instead of building it.
#  - E2E_NETNS=none: containers get no network by default (containers.conf netns; the
#    user-mode-linux guest has no veth or bridge)
#  - creates podman's test network (bridge tsrune2e0, 10.231.231.0/24) as the default network
set -euo pipefail
. "$(dirname "$0")/lib.sh"

pkgs=(podman conmon containerd netavark aardvark-dns iptables runc crun busybox-static util-linux docker.io containernetworking-plugins)
# (one dpkg-query: a call costs a second in the test guests, which run this too)
installed=" $(dpkg-query -W -f '${db:Status-Status}:${Package} ' "${pkgs[@]}" 2>/dev/null) "
missing=()
for p in "${pkgs[@]}"; do [[ $installed == *" installed:$p "* ]] || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # docker.io's and containerd's postinst would start the system daemons: keep them stopped.
  policy=0
  [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; policy=1; }
  rc=0; apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
  [ $policy = 0 ] || rm -f /usr/sbin/policy-rc.d
  [ $rc = 0 ] || exit $rc
fi
[ -x "$TSRUN_JS" ] || (cd "$E2E_TOP" && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build)

mkdir -p "$E2E"/{bin,trace,logs,results,storage,run,libpod,networks,containerd}

# ---- runtime wrappers ------------------------------------------------------------------
for rt in tsrun runc crun; do
  case $rt in
    tsrun) real=$TSRUN_JS ;;
    *) real=$(command -v "$rt") ;;
  esac
  if [ "${E2E_TRACE:-1}" = 0 ]; then ln -sfn "$real" "$E2E/bin/$rt"; continue; fi
  cat >"$E2E/bin/$rt.new" <<EOF
#!/bin/bash
# Logs this runtime call, then execs $real with the same argv, env, cwd and fds.
# (Callers may give no PATH: only absolute paths here.)
log=$E2E/trace/$rt.log
stdin_note=
if [[ " \$* " == *" update "* && ( " \$* " == *" -r - "* || " \$* " == *" --resources - "* ) ]]; then
  tmp=\$(/bin/mktemp); /bin/cat >"\$tmp"; stdin_note="stdin: \$(/bin/cat "\$tmp")"; exec 0<"\$tmp"; /bin/rm -f "\$tmp"
fi
# One write per call: the suites run at once and share this log.
rec=\$(
  printf '=== %s pid=%s ppid=%s (%s) cwd=%s\n' "\$(/bin/date +%T.%N)" \$\$ \$PPID "\$(/bin/cat /proc/\$PPID/comm 2>/dev/null)" "\$PWD"
  printf 'argv: %s' "\$0"; printf ' %q' "\$@"; printf '\n'
  printf 'env:'; while IFS= read -r -d '' kv; do printf ' %q' "\$kv"; done </proc/\$\$/environ; printf '\n'
  printf 'fds:'; for f in /proc/\$\$/fd/*; do printf ' %s->%s' "\${f##*/}" "\$(/bin/readlink "\$f")"; done
  [ -z "\$stdin_note" ] || printf '\n%s' "\$stdin_note"
)
printf '%s\n' "\$rec" >>"\$log" 2>/dev/null
exec $real "\$@"
EOF
  chmod 755 "$E2E/bin/$rt.new"; mv -f "$E2E/bin/$rt.new" "$E2E/bin/$rt"
done

# ---- podman config ---------------------------------------------------------------------
# CONTAINERS_CONF replaces the whole system containers.conf: everything the tests need is here.
cat >"$CONTAINERS_CONF" <<EOF
[containers]
${E2E_NETNS:+netns = \"$E2E_NETNS\"}
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
log_driver = "k8s-file"

[engine]
cgroup_manager = "$CGROUP_MANAGER"
events_logger = "file"
events_logfile_path = "$E2E/libpod/events.log"
runtime = "tsrun"
conmon_path = ["/usr/bin/conmon"]
runtime_supports_json = ["crun", "runc", "kata", "runsc", "krun", "youki", "tsrun"]
# this podman (4.3) reads the key without the final "s" (containers/common's toml tag)
runtime_supports_nocgroup = ["crun", "krun", "tsrun"]
runtime_supports_kvm = ["kata", "krun"]
volume_path = "$E2E/storage/volumes"
[engine.runtimes]
tsrun = ["$E2E/bin/tsrun"]
runc = ["$E2E/bin/runc"]
crun = ["$E2E/bin/crun"]

[network]
network_backend = "netavark"
network_config_dir = "$E2E/networks"
default_network = "$NET"
default_subnet = "$NET_SUBNET"
EOF
cat >"$CONTAINERS_STORAGE_CONF" <<EOF
[storage]
driver = "overlay"
graphroot = "$E2E/storage"
runroot = "$E2E/run"
EOF
cat >"$CONTAINERS_REGISTRIES_CONF" <<EOF
unqualified-search-registries = []
short-name-mode = "disabled"
EOF

# ---- containerd config -----------------------------------------------------------------
cat >"$CTRD_DIR/config.toml" <<EOF
version = 2
root = "$CTRD_DIR/root"
state = "$CTRD_DIR/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CTRD_SOCK"
[ttrpc]
  address = "$CTRD_SOCK.ttrpc"
[debug]
  address = "$CTRD_DIR/debug.sock"
  level = "info"
EOF

# ---- busybox image ---------------------------------------------------------------------
rootfs=$E2E/rootfs
if podman --root "$E2E/storage" --runroot "$E2E/run" --tmpdir "$E2E/libpod" image exists "$IMG"; then :
elif [ -n "${E2E_ARCHIVE:-}" ] && [ -f "$ARCHIVE" ]; then
  podman --root "$E2E/storage" --runroot "$E2E/run" --tmpdir "$E2E/libpod" load -q -i "$ARCHIVE" >/dev/null
else
  echo "setup: building $IMG from /bin/busybox"
  rm -rf "$rootfs"
  mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,home/user,var/tmp,run}
  chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
  install -m 755 /bin/busybox "$rootfs/bin/busybox"
  chroot "$rootfs" /bin/busybox --install -s
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'user:x:1000:1000:user:/home/user:/bin/sh' \
    'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$rootfs/etc/passwd"
  printf '%s\n' 'root:x:0:' 'tty:x:5:' 'user:x:1000:' 'nogroup:x:65534:' >"$rootfs/etc/group"
  chown 1000:1000 "$rootfs/home/user"
  tar -C "$rootfs" -c . | podman --root "$E2E/storage" --runroot "$E2E/run" --tmpdir "$E2E/libpod" \
    import --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' - "$IMG" >/dev/null
fi
[ -f "$ARCHIVE" ] || podman --root "$E2E/storage" --runroot "$E2E/run" --tmpdir "$E2E/libpod" \
  save --format oci-archive -o "$ARCHIVE" "$IMG"
# (dockerd 20.10 loads only docker archives; made here once, where podman is fast, for the guests)
[ -f "$DOCKER_ARCHIVE" ] || podman --root "$E2E/storage" --runroot "$E2E/run" --tmpdir "$E2E/libpod" \
  save -q --format docker-archive -o "$DOCKER_ARCHIVE" "$IMG"

# ---- podman's test network -------------------------------------------------------------
# Before-state of the host, so teardown removes only what the tests added.
[ -f "$E2E/host.before" ] || {
  echo "ip_forward=$(sysctl -n net.ipv4.ip_forward)"
  echo "chains=$( (iptables -S; iptables -t nat -S) 2>/dev/null | grep -c NETAVARK || true)"
} >"$E2E/host.before"
# Podman 4.3 makes the default network up in memory with bridge podman0 (and ignores
# --interface-name): write our own network file so the tests use a bridge of their own.
if [ ! -f "$E2E/networks/$NET.json" ]; then
  cat >"$E2E/networks/$NET.json" <<EOF
{
  "name": "$NET",
  "id": "$(printf '%s' "$NET" | sha256sum | cut -c1-64)",
  "driver": "bridge",
  "network_interface": "$NET_IF",
  "created": "$(date -u +%Y-%m-%dT%H:%M:%S.000000000Z)",
  "subnets": [ { "subnet": "$NET_SUBNET", "gateway": "${NET_SUBNET%.0/24}.1" } ],
  "ipv6_enabled": false,
  "internal": false,
  "dns_enabled": false,
  "ipam_options": { "driver": "host-local" }
}
EOF
fi

echo "setup: ready in $E2E (podman image $IMG; containerd.sh imports $ARCHIVE)"
