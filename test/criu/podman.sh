# shellcheck shell=bash
# Sourced by tier.sh unless TSRUN_CRIU_PODMAN=0 (it needs check, $tmp and $fail): Podman's container
# checkpoint and restore with --runtime tsrun, then --export and --import. Podman probes
# `RUNTIME checkpoint --help`, calls checkpoint with --image-path/--work-path, and restore through
# conmon with --bundle/--pid-file/-d. Storage on a tmpfs (overlayfs cannot use the guest's overlay
# root as its upper dir), no network, the cgroupfs driver, the image from test/e2e/setup.sh's
# archive (test/e2e/setup.sh makes it; scripts/test-criu.sh runs that when it is missing).
pmdir=/run/tsrun-criu-podman
archive=${TSRUN_E2E_DIR:-/tmp/tsrun-e2e}/busybox.oci.tar
mkdir -p "$pmdir"
mountpoint -q /sys/kernel/security || mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
printf '%s\n' '[containers]' 'netns = "none"' '[engine]' 'cgroup_manager = "cgroupfs"' \
  'events_logger = "file"' > "$pmdir/containers.conf"
printf '%s\n' '[storage]' 'driver = "overlay"' "runroot = \"$pmdir/run\"" \
  "graphroot = \"$pmdir/storage\"" > "$pmdir/storage.conf"
P() {
  CONTAINERS_CONF=$pmdir/containers.conf CONTAINERS_STORAGE_CONF=$pmdir/storage.conf \
    timeout -k 5 180 podman --root "$pmdir/storage" --runroot "$pmdir/run" --tmpdir "$pmdir/tmp" \
    --cgroup-manager cgroupfs --events-backend file --runtime "$PWD/build/Release/tsrun" "$@"
}
podman_cleanup() { P rm -fa >/dev/null 2>&1; rm -rf "$pmdir"; }
if [ ! -f "$archive" ]; then
  check "podman: the image archive $archive exists (run test/e2e/setup.sh on the host)" false
else
  P load -i "$archive" >/dev/null 2>&1
  last() { P logs "$1" 2>/dev/null | tail -n 1; }
  restarts() { P logs "$1" 2>/dev/null | grep -c '^1$'; }
  P run -d --name criu-pm localhost/busybox:tsrun sh -c 'i=0; while true; do i=$((i+1)); echo $i; sleep 0.1; done' >/dev/null 2>&1
  sleep 2
  check "podman: container checkpoint" 'P container checkpoint criu-pm >/dev/null 2>"$tmp/pm.err"'
  a=$(last criu-pm)
  check "podman: checkpointed: exited" 'P ps -a --format "{{.Status}}" --filter name=criu-pm | grep -q Exited'
  check "podman: container restore" 'P container restore criu-pm >/dev/null 2>>"$tmp/pm.err"'
  sleep 2
  check "podman: restored: up, counting on from $a ($(last criu-pm)), never from 1 again" '[ "$(last criu-pm)" -gt "$a" ] 2>/dev/null && [ "$(restarts criu-pm)" = 1 ]'
  check "podman: restored: exec" '[ "$(P exec criu-pm echo in-restored 2>&1)" = in-restored ]'
  check "podman: checkpoint --export" 'P container checkpoint --export "$pmdir/cp.tar.gz" criu-pm >/dev/null 2>>"$tmp/pm.err"'
  a=$(last criu-pm)
  P rm -f criu-pm >/dev/null 2>&1
  check "podman: restore --import" 'P container restore --import "$pmdir/cp.tar.gz" >/dev/null 2>>"$tmp/pm.err"'
  sleep 2
  check "podman: imported: counting on from $a ($(last criu-pm))" '[ "$(last criu-pm)" -gt "$a" ] 2>/dev/null && [ "$(restarts criu-pm)" = 1 ]'
  P rm -f criu-pm >/dev/null 2>&1
  # With a terminal (run -t): Podman does not pass --shell-job, without which CRIU cannot dump a
  # tree whose terminal is outside it (runc's own tests turn the terminal off for this reason).
  # The checkpoint is refused with that reason before anything is frozen, and the container
  # runs on. (tsrun's own restore of a terminal, with --shell-job, is checked above.)
  P run -d -t --name criu-pmt localhost/busybox:tsrun sh -c 'i=0; while true; do i=$((i+1)); echo $i; sleep 0.1; done' >/dev/null 2>&1
  sleep 1
  check "podman: checkpoint of a container with a terminal is refused, naming process.terminal and --shell-job" \
    '! P container checkpoint criu-pmt >"$tmp/pmt.out" 2>&1 && grep -q "process.terminal.*--shell-job" "$tmp/pmt.out"'
  a=$(last criu-pmt | tr -d '\r')
  sleep 1
  check "podman: ... and it runs on, counting from $a ($(last criu-pmt | tr -d '\r'))" '[ "$(last criu-pmt | tr -d "\r")" -gt "$a" ] 2>/dev/null'
  [ "$fail" = 0 ] || cat "$tmp/pm.err" 2>/dev/null
fi
podman_cleanup
