import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hierarchies, isUnifiedHost } from './hierarchy.js';

/** runc's stats JSON (`events --stats`), the fields a v1 or v2 kernel can fill. */
export interface Stats {
  cpu: { usage: { total?: number; percpu?: number[]; kernel: number; user: number }; throttling: { periods?: number; throttled_periods?: number; throttled_time?: number } };
  memory: { cache?: number; usage: MemoryEntry; swap: MemoryEntry; kernel: MemoryEntry; kernelTCP: MemoryEntry; raw?: Record<string, number> };
  pids: { current?: number; limit?: number };
  blkio: { ioServiceBytesRecursive?: BlkioEntry[]; ioServicedRecursive?: BlkioEntry[] };
  hugetlb: Record<string, { usage?: number; max?: number; failcnt: number }>;
}
interface MemoryEntry { limit: number; usage?: number; max?: number; failcnt: number }
interface BlkioEntry { major: number; minor: number; op: string; value: number }

const MAX = 2 ** 64 - 1;

function read(dir: string | undefined, file: string): string | undefined {
  if (!dir) return undefined;
  try {
    return readFileSync(join(dir, file), 'utf8').trim();
  } catch {
    return undefined;
  }
}

function num(dir: string | undefined, file: string): number | undefined {
  const v = read(dir, file);
  if (v === undefined) return undefined;
  return v === 'max' ? MAX : Number(v);
}

/** "key value" lines (memory.stat, cpu.stat) as a map. */
function keyed(dir: string | undefined, file: string): Record<string, number> {
  return keyedText(read(dir, file) ?? '');
}

function keyedText(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.split(' ');
    if (k && v !== undefined) out[k] = Number(v);
  }
  return out;
}

function entry(dir: string | undefined, prefix: string): MemoryEntry {
  return { limit: num(dir, `${prefix}.limit_in_bytes`) ?? 0, usage: num(dir, `${prefix}.usage_in_bytes`), max: num(dir, `${prefix}.max_usage_in_bytes`), failcnt: num(dir, `${prefix}.failcnt`) ?? 0 };
}

function v1(dirs: string[]): Stats {
  const hs = hierarchies();
  const d = (c: string): string | undefined => dirs[hs.findIndex((h) => h.controllers.includes(c))];
  const cpuacct = d('cpuacct');
  const cpu = d('cpu');
  const mem = d('memory');
  const cstat = keyed(cpu, 'cpu.stat');
  const acct = keyed(cpuacct, 'cpuacct.stat');
  const tick = 1e9 / 100; // USER_HZ ticks to ns
  const raw = keyed(mem, 'memory.stat');
  const blk = (file: string): BlkioEntry[] =>
    (read(d('blkio'), file) ?? '').split('\n').map((l) => l.split(' ')).filter((f) => f.length === 3).map(([dev, op, v]) => {
      const [major, minor] = dev!.split(':').map(Number);
      return { major: major!, minor: minor!, op: op!, value: Number(v) };
    });
  return {
    cpu: {
      usage: { total: num(cpuacct, 'cpuacct.usage'), percpu: read(cpuacct, 'cpuacct.usage_percpu')?.split(/\s+/).map(Number), kernel: (acct.system ?? 0) * tick, user: (acct.user ?? 0) * tick },
      throttling: { periods: cstat.nr_periods, throttled_periods: cstat.nr_throttled, throttled_time: cstat.throttled_time },
    },
    memory: { cache: raw.cache, usage: entry(mem, 'memory'), swap: entry(mem, 'memory.memsw'), kernel: entry(mem, 'memory.kmem'), kernelTCP: entry(mem, 'memory.kmem.tcp'), raw },
    pids: { current: num(d('pids'), 'pids.current'), limit: num(d('pids'), 'pids.max') },
    blkio: { ioServiceBytesRecursive: blk('blkio.throttle.io_service_bytes_recursive'), ioServicedRecursive: blk('blkio.throttle.io_serviced_recursive') },
    hugetlb: {},
  };
}

function v2(dir: string): Stats {
  const c = keyed(dir, 'cpu.stat');
  const raw = keyed(dir, 'memory.stat');
  const io: BlkioEntry[] = [];
  const ops: BlkioEntry[] = [];
  for (const line of (read(dir, 'io.stat') ?? '').split('\n').filter(Boolean)) {
    const [dev, ...kv] = line.split(' ');
    const [major, minor] = dev!.split(':').map(Number);
    for (const p of kv) {
      const [k, v] = p.split('=');
      const op = { rbytes: 'Read', wbytes: 'Write', rios: 'Read', wios: 'Write' }[k!];
      if (!op) continue;
      (k!.endsWith('bytes') ? io : ops).push({ major: major!, minor: minor!, op, value: Number(v) });
    }
  }
  const events = keyed(dir, 'memory.events');
  return {
    cpu: {
      usage: { total: (c.usage_usec ?? 0) * 1000, kernel: (c.system_usec ?? 0) * 1000, user: (c.user_usec ?? 0) * 1000 },
      throttling: { periods: c.nr_periods, throttled_periods: c.nr_throttled, throttled_time: c.throttled_usec !== undefined ? c.throttled_usec * 1000 : undefined },
    },
    memory: {
      cache: raw.file,
      usage: { limit: num(dir, 'memory.max') ?? MAX, usage: num(dir, 'memory.current'), max: num(dir, 'memory.peak'), failcnt: events.max ?? 0 },
      swap: { limit: num(dir, 'memory.swap.max') ?? 0, usage: num(dir, 'memory.swap.current'), failcnt: 0 },
      kernel: { limit: 0, failcnt: 0 },
      kernelTCP: { limit: 0, failcnt: 0 },
      raw,
    },
    pids: { current: num(dir, 'pids.current'), limit: num(dir, 'pids.max') },
    blkio: { ioServiceBytesRecursive: io, ioServicedRecursive: ops },
    hugetlb: {},
  };
}

export function readStats(dirs: string[]): Stats {
  return isUnifiedHost() ? v2(dirs[0]!) : v1(dirs);
}

/**
 * The file the kernel notifies (inotify IN_MODIFY) when the counter below moves: v2's
 * memory.events. v1 signals through an eventfd instead: undefined there.
 */
export function oomEventsFile(dirs: string[]): string | undefined {
  return isUnifiedHost() && dirs[0] ? join(dirs[0], 'memory.events') : undefined;
}

/** The oom_kill line of memory.events (v2) or memory.oom_control (v1); undefined when unreadable. */
function oomKillIn(dir: string | undefined, file: string): number | undefined {
  const text = read(dir, file);
  return text === undefined ? undefined : (keyedText(text).oom_kill ?? 0);
}

/** The container's OOM kill counter. */
function oomKills(dirs: string[]): number | undefined {
  if (isUnifiedHost()) return oomKillIn(dirs[0], 'memory.events');
  const hs = hierarchies();
  return oomKillIn(dirs[hs.findIndex((h) => h.controllers.includes('memory'))], 'memory.oom_control');
}

/**
 * A container's OOM kills as events counts them, also after its cgroup is gone. systemd removes a
 * scope's cgroup as soon as its last process ends, and an OOM kill of pid 1 is that: the kernel's
 * notification of the new count may come after the removal (cgroup_file_notify defers one that
 * follows another within 10 ms, and drops it with the file), or before a reader gets to the file.
 * v2's memory.events counts the kills of the whole subtree, so the parent's count, which stays,
 * holds the kill: the count of the other children is the parent's minus ours at the last read of
 * both, and once ours cannot be read, ours is the parent's now minus that. (A sibling's kill
 * between that read and the removal would be taken for ours; reads come on every notification and
 * every poll.)
 */
export class OomCounter {
  private kills: number;
  private others: number | undefined;
  private readonly parent: string | undefined;

  constructor(private readonly dirs: string[]) {
    this.parent = isUnifiedHost() && dirs[0] ? dirname(dirs[0]) : undefined;
    this.kills = 0;
    this.read();
  }

  /** Reads the count; true when it moved since the last call. */
  check(): boolean {
    const before = this.kills;
    this.read();
    return this.kills > before;
  }

  private read(): void {
    for (let tries = 0; tries < 5; tries++) {
      const own = oomKills(this.dirs);
      const parent = this.parent ? oomKillIn(this.parent, 'memory.events') : undefined;
      if (own === undefined) {
        if (parent !== undefined && this.others !== undefined) this.kills = Math.max(this.kills, parent - this.others);
        return;
      }
      // the two reads are not one: a kill between them would shift the others' count by one
      if (oomKills(this.dirs) !== own) continue;
      this.kills = Math.max(this.kills, own);
      if (parent !== undefined) this.others = parent - own;
      return;
    }
  }
}
