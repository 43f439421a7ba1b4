import type { FlagSpec } from './args.js';

/** The global flags every command sees. */
export interface Globals {
  root: string;
  systemdCgroup: boolean;
  /** crun's --cgroup-manager: cgroupfs (default), systemd (the systemd driver, as --systemd-cgroup), disabled (no cgroups). */
  cgroupManager: 'cgroupfs' | 'systemd' | 'disabled';
  rootless: string;
  /** Rootless cgroups (--rootless, auto-detected): cgroups that cannot be made or joined are skipped. */
  rootlessCgroups: boolean;
  debug: boolean;
}

/** runc's global flags (before the command); src/boot.ts reads --root with them too. */
export const globalFlags: FlagSpec[] = [
  { names: ['root'], value: true },
  { names: ['log'], value: true },
  { names: ['log-format'], value: true },
  { names: ['debug'], value: false },
  { names: ['systemd-cgroup'], value: false },
  { names: ['cgroup-manager'], value: true },
  { names: ['rootless'], value: true },
  { names: ['criu'], value: true, hidden: true },
  { names: ['version', 'v'], value: false },
  { names: ['help', 'h'], value: false },
];
