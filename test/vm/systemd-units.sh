# Sourced by run.sh for --guest systemd: writes into $run/etc what init.sh copies over the guest's
# /etc before systemd starts. systemd boots tsrun-vm.target, which wants only D-Bus and the
# command's service; nothing the host has enabled is started, and the guest powers off as soon
# as the command ends (SuccessAction/FailureAction), without an orderly shutdown.
# mode minimal: D-Bus alone (about the plain guest's boot time); basic: sysinit.target and
# basic.target too (journald, udev, tmpfiles), a second or two more.

systemd_units() { # RUN MODE DELEGATE MASK
  local etc=$1/etc u=$1/etc/systemd/system g
  mkdir -p "$u" "$etc/systemd/journald.conf.d" "$etc/tmpfiles.d" "$etc/systemd/system-generators"
  echo tsrun-vm > "$etc/hostname"
  # Debian's tmp.conf ("D /tmp") would empty the guest's view of the host's /tmp, where the
  # caller's cwd and read-write shares often are.
  echo 'd /tmp 1777 root root -' > "$etc/tmpfiles.d/tmp.conf"
  printf '[Journal]\nStorage=volatile\nForwardToConsole=no\n' > "$etc/systemd/journald.conf.d/tsrun-vm.conf"
  printf '[Unit]\nDescription=tsrun test guest\nWants=tsrun-vm-command.service\nAllowIsolate=yes\n' > "$u/tsrun-vm.target"
  {
    printf '[Unit]\nDescription=the test command\nWants=dbus.socket\nAfter=dbus.socket\n'
    printf 'FailureAction=poweroff-immediate\nSuccessAction=poweroff-immediate\n'
    if [ "$2" = basic ]; then
      printf 'Wants=basic.target\nAfter=basic.target\n'
    else
      echo 'DefaultDependencies=no'
    fi
    printf '[Service]\nType=exec\nExecStart=/bin/bash /tsrun-vm/command.sh\nStandardInput=null\n'
    printf 'StandardOutput=journal+console\nStandardError=inherit\nTimeoutStartSec=infinity\n'
    [ "$3" = 1 ] && echo 'Delegate=yes'
  } > "$u/tsrun-vm-command.service"
  if [ "$2" = minimal ]; then
    for g in dbus.socket dbus.service; do
      mkdir -p "$u/$g.d"; printf '[Unit]\nDefaultDependencies=no\n' > "$u/$g.d/tsrun-vm.conf"
    done
  fi
  # No generator is needed (no fstab, getty or SysV script) and each is a slow fork+exec here.
  for g in /lib/systemd/system-generators/*; do ln -sf /dev/null "$etc/systemd/system-generators/${g##*/}"; done
  # Units basic.target would pull in that do nothing useful in a throw-away guest.
  for g in systemd-timesyncd.service apparmor.service systemd-pstore.service e2scrub_reap.service \
           systemd-firstboot.service systemd-update-utmp.service systemd-random-seed.service \
           systemd-machine-id-commit.service systemd-binfmt.service proc-sys-fs-binfmt_misc.automount \
           systemd-pcrphase.service systemd-pcrphase-sysinit.service systemd-repart.service \
           systemd-ask-password-console.path systemd-ask-password-wall.path \
           sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount \
           sys-fs-fuse-connections.mount apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer \
           e2scrub_all.timer fstrim.timer man-db.timer podman-auto-update.timer logrotate.timer $4; do
    ln -sf /dev/null "$u/$g"
  done
}
