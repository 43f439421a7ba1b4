#!/usr/bin/env bash
# test/e2e/rootless-podman.sh: rootless Podman driving tsrun (and, side by side, other runtimes).
#
# Run as root: it creates an unprivileged user with /etc/subuid and /etc/subgid ranges, a home
# and an XDG_RUNTIME_DIR, builds a busybox image in that user's own storage (podman import of a
# rootfs tarball: there is no registry), then, as that user, runs each scenario with
# `podman --runtime PATH` for every runtime in RUNTIMES (default: tsrun; e.g.
# RUNTIMES="tsrun runc"). Networking is --network none: slirp4netns cannot open /dev/net/tun
# on this machine. One "ok - RUNTIME SCENARIO" / "not ok - ..." line per check, a table, then
# "rootless-podman: N passed, N failed". Everything it made (the user, its ranges, home,
# runtime dir, storage and processes) is removed at the end, also on failure.
set -uo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUNTIMES=${RUNTIMES:-tsrun}
RL_USER=${TSRUN_RL_PODMAN_USER:-tsrun-rlpm}
IMG=localhost/busybox:rootless
unset NODE_EXTRA_CA_CERTS

[ "$(id -u)" = 0 ] || { echo "rootless-podman.sh: run it as root (it creates the test user)" >&2; exit 2; }
command -v podman >/dev/null && command -v conmon >/dev/null && command -v newuidmap >/dev/null || {
  echo "rootless-podman.sh: needs podman, conmon and newuidmap (uidmap): see scripts/setup.sh" >&2; exit 2; }
[ -x "$TOP/dist/tsrun.js" ] || { echo "rootless-podman.sh: build first (npm run build)" >&2; exit 2; }

runtime_path() {
  case $1 in
    tsrun) echo "$TOP/dist/tsrun.js" ;;
    *) command -v "$1" ;;
  esac
}

RUN_DIR=
UID_=
# Removes the user, its ranges and every file and process it has; safe to call twice.
cleanup() {
  if id "$RL_USER" >/dev/null 2>&1; then
    UID_=$(id -u "$RL_USER")
    # Podman's pause process and any container left: the user's processes, by pid.
    for _ in 1 2 3; do
      pids=$(ps -o pid= -u "$UID_" | tr -d ' ')
      [ -n "$pids" ] || break
      # shellcheck disable=SC2086
      kill -9 $pids 2>/dev/null
      sleep 0.2
    done
    # Rootless overlay/vfs may leave mounts under the run dir
    grep -F " /run/user/$UID_/" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
    userdel -r "$RL_USER" >/dev/null 2>&1
    rm -rf "/run/user/$UID_"
  fi
  [ "${MADE_RUN_USER:-0}" = 0 ] || rmdir /run/user 2>/dev/null
  # userdel removes the ranges; a failed run may have left them.
  sed -i "/^$RL_USER:/d" /etc/subuid /etc/subgid
}

as_user() {
  setpriv --reuid "$RL_USER" --regid "$RL_USER" --init-groups \
    env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME="/home/$RL_USER" USER="$RL_USER" \
    XDG_RUNTIME_DIR="/run/user/$UID_" CONTAINERS_CONF="/home/$RL_USER/containers.conf" \
    timeout -k 5 120 "$@"
}

cleanup
trap cleanup EXIT

# ---- the user ----------------------------------------------------------------------------
useradd -m -s /bin/sh "$RL_USER" || exit 1
UID_=$(id -u "$RL_USER")
# Own ranges (useradd may have added some already: replace them with known ones).
sed -i "/^$RL_USER:/d" /etc/subuid /etc/subgid
echo "$RL_USER:1300000:65536" >>/etc/subuid
echo "$RL_USER:1300000:65536" >>/etc/subgid
RUN_DIR=/run/user/$UID_
[ -d /run/user ] || { mkdir -m 755 /run/user && MADE_RUN_USER=1; }
mkdir -p "$RUN_DIR" && chown "$RL_USER:" "$RUN_DIR" && chmod 700 "$RUN_DIR"
H=/home/$RL_USER
cat >"$H/containers.conf" <<EOF
[containers]
log_driver = "k8s-file"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime_supports_json = ["crun", "runc", "tsrun", "tsrun.js"]
EOF
chown "$RL_USER:" "$H/containers.conf"
# The tsrun checkout must be readable by the user (nothing is installed as root for it).
if ! as_user test -x "$TOP/dist/tsrun.js" -a -r "$TOP/dist/tsrun.js" -a -x "$TOP/build/Release/tsrun-init"; then
  echo "rootless-podman.sh: $RL_USER cannot read $TOP/dist/tsrun.js or run build/Release/tsrun-init" >&2; exit 1
fi

# ---- the image, in the user's own storage ------------------------------------------------
tmp=$(mktemp -d)
r=$tmp/rootfs
mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,home/user,run}
chmod 1777 "$r/tmp"
install -m 755 /bin/busybox "$r/bin/busybox"
chroot "$r" /bin/busybox --install -s
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'user:x:1000:1000:user:/home/user:/bin/sh' >"$r/etc/passwd"
printf '%s\n' 'root:x:0:' 'user:x:1000:' >"$r/etc/group"
tar -C "$r" -cf "$H/busybox.tar" . && chown "$RL_USER:" "$H/busybox.tar"
rm -rf "$tmp"
as_user podman system migrate >/dev/null 2>&1
as_user podman import --change 'CMD ["/bin/sh"]' "$H/busybox.tar" "$IMG" >/dev/null 2>&1 || { echo "podman import failed" >&2; exit 1; }
mkdir -p "$H/vol" && chown "$RL_USER:" "$H/vol"

# ---- scenarios -----------------------------------------------------------------------------
PASSED=0 FAILED=0
declare -A RESULT
SCENARIOS=()
check() { # check RUNTIME NAME FUNC
  local rt=$1 name=$2 out t0 secs
  [[ " ${SCENARIOS[*]} " == *" $name "* ]] || SCENARIOS+=("$name")
  t0=$(date +%s%N)
  if out=$("$3" "$rt" 2>&1); then
    secs=$(( ($(date +%s%N) - t0) / 100000000 ))
    echo "ok - $rt $name"; PASSED=$((PASSED + 1)); RESULT[$rt/$name]="ok $((secs / 10)).$((secs % 10))s"
  else
    echo "not ok - $rt $name"; printf '%s\n' "$out" | sed 's/^/    # /'; FAILED=$((FAILED + 1)); RESULT[$rt/$name]=FAIL
  fi
}
pm() { local rt=$1; shift; as_user podman --runtime "$(runtime_path "$rt")" "$@"; }
want() { [ "$1" = "$2" ] || { echo "got [$1], want [$2]"; return 1; }; }

s_run() { # run --rm: the container's root is the user; the whole subordinate range is mapped
  local out; out=$(pm "$1" run --rm --network none "$IMG" sh -c 'id -u; wc -l < /proc/self/uid_map; echo hi') || return 1
  want "$(echo "$out" | tr '\n' ' ')" "0 2 hi "
}
s_detach() { # -d, exec, stop, rm
  local id out
  id=$(pm "$1" run -d --network none "$IMG" sleep 1000) || return 1
  out=$(pm "$1" exec "$id" sh -c 'echo in; cat /proc/1/cmdline | tr "\0" " "') || return 1
  want "$(echo "$out" | tr '\n' '|')" "in|sleep 1000 |" || return 1
  pm "$1" stop -t 1 "$id" >/dev/null 2>&1 || { echo "stop failed"; return 1; }
  want "$(pm "$1" inspect -f '{{.State.Status}}' "$id")" exited || return 1
  pm "$1" rm "$id" >/dev/null
}
s_user() { # --user: a subordinate id; its files belong to the mapped host id
  local out; out=$(pm "$1" run --rm --network none --user 1000:1000 "$IMG" sh -c 'id -u; id -g; touch /tmp/f && stat -c %u /tmp/f') || return 1
  want "$(echo "$out" | tr '\n' ' ')" "1000 1000 1000 " || return 1
  local id host
  id=$(pm "$1" run -d --network none --user 1000:1000 "$IMG" sleep 1000) || return 1
  host=$(pm "$1" inspect -f '{{.State.Pid}}' "$id")
  # container uid 1000 = the 1000th id of the range after the user's own (0 -> uid, 1.. -> 1300000..)
  want "$(awk '/^Uid:/{print $2}' "/proc/$host/status")" 1300999 || { pm "$1" rm -f -t 0 "$id" >/dev/null; return 1; }
  pm "$1" rm -f -t 0 "$id" >/dev/null
}
s_volume() { # a bind volume: written in the container as root, owned by the user on the host
  rm -f "$H/vol/f-$1"
  pm "$1" run --rm --network none -v "$H/vol:/data" "$IMG" sh -c "echo v > /data/f-$1" || return 1
  want "$(stat -c '%U %s' "$H/vol/f-$1")" "$RL_USER 2"
}
s_tty() { # -t: a terminal from the container's devpts, through conmon's console socket
  local out; out=$(pm "$1" run --rm -t --network none "$IMG" sh -c 'tty; stat -c %t /dev/console' </dev/null) || return 1
  want "$(echo "$out" | tr -d '\r' | tr '\n' ' ')" "/dev/pts/0 88 "
}
s_clean() { # nothing left: no container, no runtime state (tsrun's "@..." caches are not state)
  want "$(pm "$1" ps -aq | wc -l)" 0 || return 1
  local state=$RUN_DIR/$1
  [ "$1" = tsrun ] && state=$RUN_DIR/tsrun
  [ ! -d "$state" ] || want "$(ls -A "$state" | grep -vc '^@')" 0
}

for rt in $RUNTIMES; do
  [ -n "$(runtime_path "$rt")" ] || { echo "not ok - $rt: not installed"; FAILED=$((FAILED + 1)); continue; }
  check "$rt" "run --rm" s_run
  check "$rt" "-d + exec + stop" s_detach
  check "$rt" "--user 1000:1000" s_user
  check "$rt" "bind volume" s_volume
  check "$rt" "-t terminal" s_tty
  check "$rt" "nothing left" s_clean
done

echo
printf '%-22s' "scenario (wall time)"; for rt in $RUNTIMES; do printf '%-11s' "$rt"; done; echo
for s in "${SCENARIOS[@]}"; do
  printf '%-22s' "$s"; for rt in $RUNTIMES; do printf '%-11s' "${RESULT[$rt/$s]:--}"; done; echo
done
echo "rootless-podman: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
