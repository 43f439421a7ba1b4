// What the host looks like: mounts, cgroup dirs and processes, for "nothing is left behind" checks.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

interface MountLine {
  mountpoint: string;
  fstype: string;
}

function mountLines(pid: number | 'self' = 'self'): MountLine[] {
  const out: MountLine[] = [];
  for (const line of readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    out.push({ mountpoint: unescape(line.slice(0, sep).split(' ')[4]!), fstype: line.slice(sep + 3).split(' ')[0]! });
  }
  return out;
}

/** Mount points of this process at or under `path`, deepest first. */
export function mountsUnder(path: string): string[] {
  return mountLines()
    .map((m) => m.mountpoint)
    .filter((m) => m === path || m.startsWith(path + '/'))
    .sort((a, b) => b.length - a.length);
}

/** The mount points of the cgroup hierarchies (v1 controllers and cgroup2). */
export function cgroupMounts(): string[] {
  return [...new Set(mountLines().filter((m) => m.fstype === 'cgroup' || m.fstype === 'cgroup2').map((m) => m.mountpoint))];
}

/**
 * Cgroup directories whose name passes `wanted`, up to 4 levels below each hierarchy's mount
 * (a runtime puts a container at <mount>/<cgroup of pid 1>/<id>, usually <mount>/<id>).
 */
export function cgroupDirsWhere(wanted: (name: string) => boolean): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = join(dir, e.name);
      if (wanted(e.name)) found.push(p);
      if (depth < 4) walk(p, depth + 1);
    }
  };
  for (const m of cgroupMounts()) walk(m, 1);
  return found;
}

/** Cgroup directories named after any of `ids` (see cgroupDirsWhere). */
export function cgroupDirsNamed(ids: Iterable<string>): string[] {
  const want = new Set(ids);
  return want.size ? cgroupDirsWhere((n) => want.has(n)) : [];
}

/** Pids of every process but this one. */
function otherPids(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((p) => p !== process.pid);
}

export function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Processes that belong to a container: in a cgroup whose last element is `id`, or holding a
 * mount or an open file whose path contains `token` (a path element unique to the test, such
 * as the bundle dir). The C core's processes have no marker of their own, so these are the
 * traces a leaked one cannot avoid.
 */
export function processesOf(id: string, token: string): number[] {
  const found: number[] = [];
  for (const pid of otherPids()) {
    const cg = readOr(`/proc/${pid}/cgroup`);
    let hit = cg.split('\n').some((l) => l.endsWith(`/${id}`));
    if (!hit) hit = readOr(`/proc/${pid}/mountinfo`).includes(token);
    if (!hit) {
      let fds: string[] = [];
      try {
        fds = readdirSync(`/proc/${pid}/fd`);
      } catch {
        // gone, or a kernel thread
      }
      hit = fds.some((fd) => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`).includes(token);
        } catch {
          return false;
        }
      });
    }
    if (hit) found.push(pid);
  }
  return found;
}

export const NS_NAMES = ['pid', 'net', 'mnt', 'ipc', 'uts', 'user', 'cgroup', 'time'] as const;
export type NsName = (typeof NS_NAMES)[number];

/** The namespace links of this process, as /proc/self/ns/X reads ("net:[4026531840]"). */
export function hostNamespaces(): Record<NsName, string | null> {
  const out = {} as Record<NsName, string | null>;
  for (const n of NS_NAMES) {
    try {
      out[n] = readlinkSync(`/proc/self/ns/${n}`);
    } catch {
      out[n] = null;
    }
  }
  return out;
}

/** A process that exists and has not exited (a zombie counts as exited). */
export function alive(pid: number): boolean {
  const stat = readOr(`/proc/${pid}/stat`);
  if (!stat) return false;
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}
