import { readFileSync } from 'node:fs';

/** One mounted cgroup hierarchy: a v1 controller set (cpu, memory, name=systemd...) or the v2 tree. */
export interface Hierarchy {
  mountpoint: string;
  /** Mount root inside the hierarchy (usually "/"). */
  root: string;
  version: 1 | 2;
  /** v1: the controllers of the mount ("cpu", "cpuacct", "name=systemd"); v2: empty. */
  controllers: string[];
}

let cached: Hierarchy[] | undefined;

/**
 * The cgroup hierarchies of this host, read once from /proc/self/mountinfo. A v1 host, a pure v2
 * host and a hybrid host (v1 controllers plus a controller-less v2 mount) all come out as a list.
 */
export function hierarchies(): Hierarchy[] {
  if (cached) return cached;
  const found: Hierarchy[] = [];
  const seen = new Set<string>();
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const [fstype, , superOpts] = line.slice(sep + 3).split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const f = line.slice(0, sep).split(' ');
    const root = unescape(f[3]!);
    const mountpoint = unescape(f[4]!);
    const controllers = fstype === 'cgroup' ? (superOpts ?? '').split(',').filter((o) => !['rw', 'ro', 'relatime', 'noatime', 'nosuid', 'nodev', 'noexec', 'clone_children', 'xattr', 'noprefix', 'cpuset_v2_mode'].includes(o) && !o.startsWith('release_agent=')) : [];
    const key = fstype === 'cgroup' ? controllers.join(',') : 'cgroup2';
    if (seen.has(key)) continue; // the same hierarchy bind-mounted twice
    seen.add(key);
    found.push({ mountpoint, root, version: fstype === 'cgroup' ? 1 : 2, controllers });
  }
  cached = found;
  return found;
}

/** A pure cgroup v2 host: /sys/fs/cgroup itself is the unified hierarchy. */
export function isUnifiedHost(): boolean {
  return hierarchies().some((h) => h.version === 2 && h.mountpoint === '/sys/fs/cgroup');
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The cgroup of a process in one hierarchy, from /proc/PID/cgroup. */
export function processCgroup(pid: number | 'self', h: Hierarchy): string | undefined {
  for (const line of cgroupLines(pid)) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const ctrls = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (h.version === 2 ? line.startsWith('0::') : ctrls.split(',').sort().join(',') === [...h.controllers].sort().join(',')) return path;
  }
  return undefined;
}

/** This process's cgroups, read once: create asks for them once per hierarchy. */
let selfLines: string[] | undefined;

function cgroupLines(pid: number | 'self'): string[] {
  if (pid === 'self' && selfLines) return selfLines;
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  if (pid === 'self') selfLines = lines;
  return lines;
}
