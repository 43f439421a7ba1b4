import type { Command } from '../../main.js';
import { parseArgs, str, exactArgs, type Parsed } from '../args.js';
import { parseBytes, readResourcesFile, updateContainer } from '../../container/update.js';
import type { Resources } from '../../cgroups/resources.js';
import { TsrunError } from '../../errors.js';

const flags = [
  { names: ['resources', 'r'], value: true, help: 'path to a file with the resources to update, or "-" for stdin' },
  { names: ['blkio-weight'], value: true, help: 'block IO weight (10-1000)' },
  { names: ['cpu-period'], value: true, help: 'CPU CFS period in microseconds' },
  { names: ['cpu-quota'], value: true, help: 'CPU CFS quota in microseconds' },
  { names: ['cpu-burst'], value: true, help: 'CPU CFS burst in microseconds' },
  { names: ['cpu-share'], value: true, help: 'CPU shares (relative weight)' },
  { names: ['cpu-rt-period'], value: true, help: 'CPU realtime period in microseconds' },
  { names: ['cpu-rt-runtime'], value: true, help: 'CPU realtime runtime in microseconds' },
  { names: ['cpuset-cpus'], value: true, help: 'CPUs to use (0-3, 0,1)' },
  { names: ['cpuset-mems'], value: true, help: 'memory nodes to use (0-3, 0,1)' },
  { names: ['memory'], value: true, help: 'memory limit (in bytes, or with k, m, g)' },
  { names: ['memory-reservation'], value: true, help: 'memory reservation or soft limit' },
  { names: ['memory-swap'], value: true, help: 'total memory usage (memory + swap); -1 for unlimited' },
  { names: ['kernel-memory'], value: true, hidden: true },
  { names: ['kernel-memory-tcp'], value: true, hidden: true },
  { names: ['pids-limit'], value: true, help: 'maximum number of pids allowed in the container' },
  { names: ['l3-cache-schema'], value: true, hidden: true },
  { names: ['mem-bw-schema'], value: true, hidden: true },
];

function int(p: Parsed, name: string): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw new TsrunError(`invalid value "${v}" for flag --${name}: not an integer`);
  return Number(v);
}

function bytes(p: Parsed, name: string): number | undefined {
  const v = str(p, name);
  return v === undefined ? undefined : parseBytes(v, name);
}

/** Flags override the -r file field by field, as runc merges them. */
function fromFlags(p: Parsed, base: Resources): Resources {
  const r: Resources = { ...base, memory: { ...base.memory }, cpu: { ...base.cpu }, blockIO: { ...base.blockIO } };
  const set = <T extends object, K extends keyof T>(o: T, k: K, v: T[K] | undefined): void => {
    if (v !== undefined) o[k] = v;
  };
  set(r.blockIO!, 'weight', int(p, 'blkio-weight'));
  set(r.cpu!, 'period', int(p, 'cpu-period'));
  set(r.cpu!, 'quota', int(p, 'cpu-quota'));
  set(r.cpu!, 'burst', int(p, 'cpu-burst'));
  set(r.cpu!, 'shares', int(p, 'cpu-share'));
  set(r.cpu!, 'realtimePeriod', int(p, 'cpu-rt-period'));
  set(r.cpu!, 'realtimeRuntime', int(p, 'cpu-rt-runtime'));
  set(r.cpu!, 'cpus', str(p, 'cpuset-cpus'));
  set(r.cpu!, 'mems', str(p, 'cpuset-mems'));
  set(r.memory!, 'limit', bytes(p, 'memory'));
  set(r.memory!, 'reservation', bytes(p, 'memory-reservation'));
  set(r.memory!, 'swap', bytes(p, 'memory-swap'));
  set(r.memory!, 'kernel', bytes(p, 'kernel-memory'));
  set(r.memory!, 'kernelTCP', bytes(p, 'kernel-memory-tcp'));
  const pids = int(p, 'pids-limit');
  if (pids !== undefined) r.pids = { limit: pids };
  for (const k of ['memory', 'cpu', 'blockIO'] as const) if (Object.keys(r[k] ?? {}).length === 0) delete r[k];
  return r;
}

const command: Command = {
  flags,
  usage: '[command options] <container-id>',
  run(argv, g) {
    const p = parseArgs(argv, flags, 'update');
    exactArgs(p, 1, 'update');
    if (str(p, 'l3-cache-schema') !== undefined || str(p, 'mem-bw-schema') !== undefined) throw new TsrunError('intel RDT: no resctrl filesystem is mounted on this host');
    const file = str(p, 'resources');
    updateContainer(g.root, p.args[0]!, () => fromFlags(p, file ? readResourcesFile(file) : {}));
    return 0;
  },
};
export default command;
