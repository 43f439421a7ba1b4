/** The global flags every command sees. */
export interface Globals {
  root: string;
  systemdCgroup: boolean;
  /** crun's --cgroup-manager: cgroupfs (default), systemd (refused), disabled (no cgroups). */
  cgroupManager: 'cgroupfs' | 'systemd' | 'disabled';
  rootless: string;
  /** Rootless cgroups (--rootless, auto-detected): cgroups that cannot be made or joined are skipped. */
  rootlessCgroups: boolean;
  debug: boolean;
}
