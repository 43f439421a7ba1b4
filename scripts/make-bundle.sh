#!/usr/bin/env bash
# make-bundle.sh DIR [ARGS...]: makes an OCI bundle in DIR from Debian's busybox-static (and the
# conformance probe, if built): DIR/rootfs and DIR/config.json (from `tsrun spec`, then process
# args = ARGS or ["sh"], terminal false, root.readonly false, hostname "tsrun").
# Idempotent (config.json is rewritten every time), no network; needs root for chroot.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 DIR [ARGS...]" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$1; shift
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "$0: $busybox not found: apt-get install busybox-static" >&2; exit 1; }

root=$dir/rootfs
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,home/user}
chmod 1777 "$root/tmp"
cmp -s "$busybox" "$root/bin/busybox" || install -m 755 "$busybox" "$root/bin/busybox"
# Every applet as a symlink at its usual place (/bin/sh, /usr/bin/env...); existing links stay.
chroot "$root" /bin/busybox --install -s
if [ -x "$top/build/probe" ]; then
  cmp -s "$top/build/probe" "$root/bin/probe" || install -m 755 "$top/build/probe" "$root/bin/probe"
fi
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'user:x:1000:1000:user:/home/user:/bin/sh' \
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$root/etc/passwd"
printf '%s\n' 'root:x:0:' 'tty:x:5:' 'user:x:1000:' 'nogroup:x:65534:' >"$root/etc/group"
chown 1000:1000 "$root/home/user"

rm -f "$dir/config.json"
node_run() { env -u NODE_EXTRA_CA_CERTS node "$@"; }
node_run "$top/dist/tsrun.js" spec --bundle "$dir"
[ $# -gt 0 ] || set -- sh
node_run -e '
const fs = require("fs");
const [file, ...args] = process.argv.slice(1);
const c = JSON.parse(fs.readFileSync(file, "utf8"));
c.process.terminal = false;
c.process.args = args;
c.root.readonly = false;
c.hostname = "tsrun";
fs.writeFileSync(file, JSON.stringify(c, null, "\t") + "\n");
' "$dir/config.json" "$@"
