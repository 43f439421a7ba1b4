# shellcheck shell=bash
# Sourced by tier.sh unless TSRUN_CRIU_CONTAINERD=0 (it needs check, bin, $tmp and $fail):
# containerd 1.6's checkpoint and restore through containerd-shim-runc-v2 with BinaryName (ctr's
# --runc-binary) tsrun, and runc side by side. `ctr c checkpoint --task --rw` makes the shim call
# pause, `checkpoint --image-path --work-path --file-locks --leave-running`, resume;
# `ctr c restore --live --rw` calls `restore --detach --pid-file --no-subreaper --bundle`;
# `ctr t checkpoint --image-path` calls checkpoint with that dir. 186 s for both runtimes with
# containerd's start and the image import, under TCG on this 2-core host at a load of 10.
ctdir=/run/tsrun-criu-containerd
archive=${TSRUN_E2E_DIR:-/tmp/tsrun-e2e}/busybox.oci.tar
mkdir -p "$ctdir"
mountpoint -q "$ctdir" || mount -t tmpfs tmpfs "$ctdir"   # overlayfs needs an upper dir off the overlay root
printf '%s\n' 'version = 2' "root = \"$ctdir/root\"" "state = \"$ctdir/state\"" \
  'disabled_plugins = ["io.containerd.grpc.v1.cri"]' '[grpc]' "  address = \"$ctdir/sock\"" \
  '[ttrpc]' "  address = \"$ctdir/sock.ttrpc\"" > "$ctdir/config.toml"
C() { timeout -k 5 120 ctr --address "$ctdir/sock" -n tsrun-criu "$@"; }
setsid containerd --config "$ctdir/config.toml" >"$ctdir/containerd.log" 2>&1 </dev/null &
ctd_pid=$!
for _ in $(seq 100); do C version >/dev/null 2>&1 && break; sleep 0.1; done
containerd_cleanup() {
  local c
  for c in $(C t ls -q 2>/dev/null); do C t kill -s KILL "$c" >/dev/null 2>&1; sleep 0.5; C t rm -f "$c" >/dev/null 2>&1; done
  for c in $(C c ls -q 2>/dev/null); do C c rm "$c" >/dev/null 2>&1; done
  kill "$ctd_pid" 2>/dev/null; wait "$ctd_pid" 2>/dev/null
  umount -l "$ctdir" 2>/dev/null; rm -rf "$ctdir"
}
if [ ! -f "$archive" ]; then
  check "containerd: the image archive $archive exists (run test/e2e/setup.sh on the host)" false
else
  C image import --base-name localhost/busybox "$archive" >/dev/null 2>&1
  img=$(C image ls -q | head -n 1)
  # the counter's latest value, and how often it wrote 1 (more than once: it started again)
  cn() { C t exec --exec-id "x$RANDOM" "$1" sh -c 'echo $(tail -n 1 /tmp/log) $(grep -c "^1\$" /tmp/log)' 2>/dev/null; }
  for rt in ${TSRUN_CRIU_RUNTIMES-tsrun runc}; do
    id=ctd-$rt
    C run -d --runc-binary "$(readlink -f "$(command -v "${bin[$rt]}")")" "$img" "$id" \
      sh -c 'i=0; while true; do i=$((i+1)); echo $i >> /tmp/log; sleep 0.1; done' >/dev/null 2>"$tmp/ctd-$rt.err"
    sleep 2
    check "$rt: containerd: ctr c checkpoint --task --rw" 'C c checkpoint --task --rw "$id" "criu/$id:1" >/dev/null 2>>"$tmp/ctd-$rt.err"'
    a=$(cn "$id"); a=${a% *}
    C t kill -s KILL "$id" >/dev/null 2>&1; sleep 0.5; C t rm -f "$id" >/dev/null 2>&1; C c rm "$id" >/dev/null 2>&1
    check "$rt: containerd: ctr c restore --live --rw" 'C c restore --live --rw "$id" "criu/$id:1" >/dev/null 2>>"$tmp/ctd-$rt.err"'
    sleep 1
    b=$(cn "$id")
    check "$rt: containerd: restored: running, counting on from about $a ($b), never from 1 again" '[ "${b% *}" -gt 1 ] 2>/dev/null && [ "${b#* }" = 1 ]'
    check "$rt: containerd: ctr t checkpoint --image-path" 'C t checkpoint --image-path "$ctdir/img-$rt" --work-path "$ctdir/work-$rt" "$id" >/dev/null 2>>"$tmp/ctd-$rt.err" && [ -f "$ctdir/img-$rt/inventory.img" ]'
    C t kill -s KILL "$id" >/dev/null 2>&1; sleep 0.5; C t rm -f "$id" >/dev/null 2>&1; C c rm "$id" >/dev/null 2>&1
  done
  [ "$fail" = 0 ] || cat "$tmp"/ctd-*.err 2>/dev/null
fi
containerd_cleanup
