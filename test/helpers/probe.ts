// Runs conformance/probe in a container and parses what it reports (see conformance/probe.c).
import { readFileSync } from 'node:fs';
import type { NsName } from './host.js';
import type { BundleOptions, Harness, RunOptions, TestLike } from './runtime.js';

export interface ErrnoValue {
  errno: string;
}

export interface ProbeMount {
  id: number;
  parent: number;
  majmin: string;
  root: string;
  mountpoint: string;
  options: string;
  optional: string[];
  fstype: string;
  source: string | null;
  superOptions: string | null;
}

export interface ProbeStat {
  path: string;
  error?: ErrnoValue;
  type?: 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket' | 'unknown';
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  rdevMajor?: number;
  rdevMinor?: number;
  link?: string | ErrnoValue;
  /** access(W_OK): "ok" or the errno */
  access?: 'ok' | ErrnoValue;
  /** open for writing (O_WRONLY for files and char devices, O_TMPFILE for dirs); null: not tried */
  open?: 'ok' | ErrnoValue | null;
}

export interface ProbeRead {
  path: string;
  content?: string;
  error?: ErrnoValue;
}

type Rlimit = { soft: number; hard: number };

export interface ProbeOutput {
  argv: string[];
  hostname: string;
  domainname: string;
  pid: number;
  ppid: number;
  uid: number;
  gid: number;
  euid: number;
  egid: number;
  groups: number[];
  umask: number;
  cwd: string;
  env: string[];
  caps: { CapInh: string; CapPrm: string; CapEff: string; CapBnd: string; CapAmb: string };
  noNewPrivs: number;
  seccomp: number;
  dumpable: number;
  oomScoreAdj: number;
  /** RLIM_INFINITY is -1 */
  rlimits: Record<string, Rlimit>;
  personality: number;
  scheduler: { policy: number; priority: number; nice: number };
  ioprio: { class: number; priority: number };
  cpus: number[];
  ns: Record<NsName, string | null>;
  cgroup: string[];
  fds: { fd: number; target: string | ErrnoValue }[];
  mounts: ProbeMount[];
  stat: ProbeStat[];
  read: ProbeRead[];
}

export interface ProbeRun extends BundleOptions {
  /** probe arguments: "stat" PATH... "read" FILE... */
  probeArgs?: string[];
  /** extra flags for `tsrun run` (--no-pivot, --preserve-fds N) */
  flags?: string[];
  run?: RunOptions;
}

/**
 * `tsrun run` (foreground) of /bin/probe in a fresh bundle; returns the probe's JSON.
 * Throws with tsrun's stderr if the run fails or the output is not the probe's JSON.
 */
export function probe(h: Harness, t: TestLike, o: ProbeRun = {}): ProbeOutput {
  const bundle = h.bundle({ ...o, args: ['/bin/probe', ...(o.probeArgs ?? [])] });
  const id = h.id(t);
  const r = h.tsrun(['run', '--bundle', bundle, ...(o.flags ?? []), id], o.run);
  if (r.status !== 0) throw new Error(`tsrun run ${id}: exit ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  try {
    return JSON.parse(r.stdout) as ProbeOutput;
  } catch {
    throw new Error(`tsrun run ${id}: the probe's output is not JSON: ${JSON.stringify(r.stdout.slice(0, 500))} (stderr: ${r.stderr.trim()})`);
  }
}

export function statOf(p: ProbeOutput, path: string): ProbeStat {
  const s = p.stat.find((x) => x.path === path);
  if (!s) throw new Error(`probe did not stat ${path}`);
  return s;
}

export function readOf(p: ProbeOutput, path: string): ProbeRead {
  const s = p.read.find((x) => x.path === path);
  if (!s) throw new Error(`probe did not read ${path}`);
  return s;
}

/** The mount at `mountpoint` (the last one mounted there, which is the one visible). */
export function mountAt(p: ProbeOutput, mountpoint: string): ProbeMount | undefined {
  return p.mounts.filter((m) => m.mountpoint === mountpoint).pop();
}

/** <linux/capability.h> numbering, written out here so the tests do not trust the runtime's table. */
const CAP_NUMBERS: Record<string, number> = {
  CAP_CHOWN: 0, CAP_DAC_OVERRIDE: 1, CAP_DAC_READ_SEARCH: 2, CAP_FOWNER: 3, CAP_FSETID: 4, CAP_KILL: 5,
  CAP_SETGID: 6, CAP_SETUID: 7, CAP_SETPCAP: 8, CAP_LINUX_IMMUTABLE: 9, CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11, CAP_NET_ADMIN: 12, CAP_NET_RAW: 13, CAP_IPC_LOCK: 14, CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16, CAP_SYS_RAWIO: 17, CAP_SYS_CHROOT: 18, CAP_SYS_PTRACE: 19, CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21, CAP_SYS_BOOT: 22, CAP_SYS_NICE: 23, CAP_SYS_RESOURCE: 24, CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26, CAP_MKNOD: 27, CAP_LEASE: 28, CAP_AUDIT_WRITE: 29, CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31, CAP_MAC_OVERRIDE: 32, CAP_MAC_ADMIN: 33, CAP_SYSLOG: 34, CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36, CAP_AUDIT_READ: 37, CAP_PERFMON: 38, CAP_BPF: 39, CAP_CHECKPOINT_RESTORE: 40,
};

/** A capability set as /proc/PID/status prints it: 16 hex digits. */
export function capMask(names: string[]): string {
  let m = 0n;
  for (const n of names) {
    const bit = CAP_NUMBERS[n];
    if (bit === undefined) throw new Error(`unknown capability ${n}`);
    m |= 1n << BigInt(bit);
  }
  return m.toString(16).padStart(16, '0');
}

/** Whether this (test) process has `name` in its effective set. */
export function hostHasCap(name: string): boolean {
  const eff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  return (BigInt(`0x${eff}`) & BigInt(`0x${capMask([name])}`)) !== 0n;
}
