import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
  const out: Record<string, number> = {};
  for (const line of (read(dir, file) ?? '').split('\n')) {
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

/** The OOM kill counter: v1 memory.oom_control's oom_kill, v2 memory.events' oom_kill. */
export function oomKills(dirs: string[]): number {
  if (isUnifiedHost()) return keyed(dirs[0], 'memory.events').oom_kill ?? 0;
  const hs = hierarchies();
  return keyed(dirs[hs.findIndex((h) => h.controllers.includes('memory'))], 'memory.oom_control').oom_kill ?? 0;
}
