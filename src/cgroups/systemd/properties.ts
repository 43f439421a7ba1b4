// linux.resources and org.systemd.property.* annotations as transient unit properties, the way
// runc's systemd driver turns them (libcontainer/cgroups/systemd/v2.go, common.go,
// devices/systemd.go). What systemd has no property for is written to the unit's cgroup files
// afterwards (apply.ts), as runc's driver does after SetUnitProperties.
import { TsrunError } from '../../errors.js';
import { sharesToWeight, blkioWeightToIoWeight } from '../convert.js';
import { accessText, type DevicePolicy } from '../devices.js';
import type { Resources } from '../resources.js';
import type { DbusValue, Variant } from './wire.js';

/** One unit property: its name and typed value, an element of StartTransientUnit's a(sv). */
export type Property = [name: string, value: Variant];

const INFINITY = 2n ** 64n - 1n;
const DEFAULT_PERIOD = 100000;

const t = (v: number | bigint): Variant => ({ sig: 't', value: BigInt(v) });

/** "0-2,7" → the little-endian bit mask systemd's AllowedCPUs and AllowedMemoryNodes take. */
export function rangeToBits(list: string, field: string): number[] {
  const bytes: number[] = [];
  for (const part of list.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    const lo = m ? Number(m[1]) : NaN;
    const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
    if (!m || hi < lo || hi > 65535) throw new TsrunError(`${field}: invalid list "${list}"`);
    for (let i = lo; i <= hi; i++) bytes[i >> 3] = (bytes[i >> 3] ?? 0) | (1 << (i & 7));
  }
  if (!bytes.length) throw new TsrunError(`${field}: empty list "${list}"`);
  return Array.from(bytes, (b) => b ?? 0);
}

/**
 * CPUQuotaPerSecUSec (and CPUQuotaPeriodUSec) for a quota and period. systemd keeps the quota as
 * a whole percent of a CPU, so a finer one is rounded up to the next 10 ms per second, as runc
 * does; the quota to write to cpu.max then is the rounded one, returned too.
 */
export function cpuQuotaProperties(quota: number, period: number, version: () => number): { props: Property[]; quota: number } {
  const props: Property[] = [];
  if (period) {
    if (version() >= 242) props.push(['CPUQuotaPeriodUSec', t(period)]);
  }
  if (quota > 0) {
    const p = period || DEFAULT_PERIOD;
    let perSec = Math.trunc((quota * 1000000) / p);
    if (perSec % 10000 !== 0) {
      perSec = (Math.trunc(perSec / 10000) + 1) * 10000;
      quota = Math.trunc((perSec * p) / 1000000);
    }
    props.push(['CPUQuotaPerSecUSec', t(perSec)]);
  } else if (quota !== 0 || period) props.push(['CPUQuotaPerSecUSec', t(INFINITY)]);
  return { props, quota };
}

/**
 * DevicePolicy and DeviceAllow for the container's device policy (runc's
 * generateDeviceProperties). systemd only has an allow list over "deny everything": a deny-all
 * policy becomes DevicePolicy=strict with its exceptions as the list; allow-all (with or without
 * exceptions) or a "*:N" exception becomes DevicePolicy=auto with no list, and tsrun's own
 * device program (attached to the same cgroup) enforces the policy exactly. On v1 there is one
 * list, which systemd writes again whenever it realizes the cgroup (daemon-reload): auto would
 * then allow every device, so a policy systemd cannot say is strict with what it can say (deny
 * all for allow-all with exceptions, a "*:N" exception left out), as runc does; tsrun's files
 * set the exact list until then. The first DeviceAllow, empty, clears an existing list. `exact`:
 * the unit's own device program is the policy, and tsrun's is not needed.
 */
export function deviceProperties(policy: DevicePolicy, v1 = false): { props: Property[]; exact: boolean } {
  const allowAll = { props: [['DeviceAllow', { sig: 'a(ss)', value: [] }], ['DevicePolicy', { sig: 's', value: 'auto' }]] as Property[], exact: false };
  const strict = (entries: DbusValue[], exact: boolean): { props: Property[]; exact: boolean } =>
    ({ props: [['DeviceAllow', { sig: 'a(ss)', value: [] }], ['DevicePolicy', { sig: 's', value: 'strict' }], ['DeviceAllow', { sig: 'a(ss)', value: entries }]], exact });
  if (policy.allowAll) return v1 && policy.exceptions.length ? strict([], false) : allowAll;
  const entries: DbusValue[] = [];
  let exact = true;
  for (const e of policy.exceptions) {
    if (e.major === '*' && e.minor !== '*') {
      if (!v1) return allowAll;
      exact = false;
      continue;
    }
    const kind = e.type === 'b' ? 'block' : 'char';
    const path = e.major === '*' ? `${kind}-*` : e.minor === '*' ? `${kind}-${e.major}` : `/dev/${kind}/${e.major}:${e.minor}`;
    entries.push([path, accessText(e.access)]);
  }
  return strict(entries, exact);
}

function unifiedNumber(key: string, v: string): bigint {
  if (v === 'max') return INFINITY;
  if (!/^\d+$/.test(v)) throw new TsrunError(`linux.resources.unified: "${key}" value "${v}" is not a number`);
  return BigInt(v);
}

/** The unified map's keys systemd has properties for (runc's unifiedResToSystemdProps). */
function unifiedProperties(unified: Record<string, string>, version: () => number): Property[] {
  const props: Property[] = [];
  const memory: Record<string, string> = { 'memory.high': 'MemoryHigh', 'memory.low': 'MemoryLow', 'memory.min': 'MemoryMin', 'memory.max': 'MemoryMax', 'memory.swap.max': 'MemorySwapMax' };
  const idle = unified['cpu.idle']?.trim() === '1' && version() >= 252;
  for (const [key, raw] of Object.entries(unified)) {
    const v = raw.trim();
    if (key in memory) props.push([memory[key]!, t(unifiedNumber(key, v))]);
    else if (key === 'pids.max') {
      const n = unifiedNumber(key, v);
      props.push(['TasksMax', t(n === 0n ? 1n : n)]);
    } else if (key === 'cpu.idle' && idle) props.push(['CPUWeight', t(0)]);
    else if (key === 'cpu.weight' && !idle) props.push(['CPUWeight', t(unifiedNumber(key, v))]);
    else if (key === 'cpu.max') {
      const [q, p] = v.split(/\s+/);
      const quota = q === 'max' || q === undefined ? 0 : Number(unifiedNumber(key, q));
      props.push(...cpuQuotaProperties(quota, p === undefined ? DEFAULT_PERIOD : Number(unifiedNumber(key, p)), version).props);
    } else if ((key === 'cpuset.cpus' || key === 'cpuset.mems') && version() >= 244) {
      props.push([key === 'cpuset.cpus' ? 'AllowedCPUs' : 'AllowedMemoryNodes', { sig: 'ay', value: rangeToBits(v, `linux.resources.unified.${key}`) }]);
    }
  }
  return props;
}

export interface ResourceProperties {
  props: Property[];
  /** The resources to write to the cgroup files afterwards (the CPU quota rounded as systemd keeps it). */
  resources: Resources;
  /**
   * The spec fields whose v2 file a started unit holds already with the very value tsrun would
   * write (systemd writes a new unit's properties before its start job ends): memory.max,
   * memory.low, pids.max. Not the knobs systemd may leave out quietly (memory.swap.max without
   * swap accounting) or writes its own way (cpu.max, io.weight, cpuset).
   */
  setByUnit: Set<string>;
}

/**
 * The unit properties for linux.resources: on cgroup v2 runc's genV2ResourcesProperties, on v1
 * its genV1ResourcesProperties (MemoryLimit, CPUShares, BlockIOWeight: systemd writes a unit's
 * v1 properties back to its cgroup files whenever it realizes the cgroup, on daemon-reload too,
 * so limits written as files alone would not last). `version` gives systemd's version, asked for
 * only when a property depends on it (a D-Bus round trip).
 */
export function resourceProperties(r: Resources, devices: DevicePolicy | undefined, version: () => number, v1 = false): ResourceProperties {
  const props: Property[] = devices ? deviceProperties(devices, v1).props : [];
  const setByUnit = new Set<string>();
  const out: Resources = { ...r };
  const m = r.memory;
  const c = r.cpu;
  if (v1) {
    if (m?.limit) props.push(['MemoryLimit', t(m.limit === -1 ? INFINITY : m.limit)]);
    if (c?.shares) props.push(['CPUShares', t(c.shares)]);
  } else {
    if (m?.limit) {
      props.push(['MemoryMax', t(m.limit === -1 ? INFINITY : m.limit)]);
      setByUnit.add('linux.resources.memory.limit');
    }
    if (m?.reservation) {
      props.push(['MemoryLow', t(m.reservation === -1 ? INFINITY : m.reservation)]);
      setByUnit.add('linux.resources.memory.reservation');
    }
    // v1's swap is memory+swap; MemorySwapMax is swap alone (a swap without a memory limit is refused by v2Writes).
    if (m?.swap === -1) props.push(['MemorySwapMax', t(INFINITY)]);
    else if (m?.swap && m.limit && m.limit > 0) props.push(['MemorySwapMax', t(m.swap - m.limit)]);
    const idle = c?.idle === 1 && version() >= 252;
    if (idle) props.push(['CPUWeight', t(0)]);
    else if (c?.shares) props.push(['CPUWeight', t(sharesToWeight(c.shares))]);
  }
  if (c && ((c.quota !== undefined && c.quota !== 0) || c.period)) {
    const q = cpuQuotaProperties(c.quota === -1 ? -1 : (c.quota ?? 0), c.period ?? 0, version);
    props.push(...q.props);
    if (c.quota !== undefined && c.quota > 0) out.cpu = { ...c, quota: q.quota };
  }
  // pids without a limit (src/spec/relax.ts) asks for none, as runc reads it.
  const pids = r.pids?.limit;
  if (pids !== undefined && pids !== 0) {
    props.push(['TasksMax', t(pids < 0 ? INFINITY : pids)]);
    if (!v1) setByUnit.add('linux.resources.pids.limit');
  }
  if ((c?.cpus || c?.mems) && version() >= 244) {
    if (c.cpus) props.push(['AllowedCPUs', { sig: 'ay', value: rangeToBits(c.cpus, 'linux.resources.cpu.cpus') }]);
    if (c.mems) props.push(['AllowedMemoryNodes', { sig: 'ay', value: rangeToBits(c.mems, 'linux.resources.cpu.mems') }]);
  }
  if (r.blockIO?.weight) props.push(v1 ? ['BlockIOWeight', t(r.blockIO.weight)] : ['IOWeight', t(blkioWeightToIoWeight(r.blockIO.weight))]);
  if (r.unified && !v1) props.push(...unifiedProperties(r.unified as Record<string, string>, version));
  return { props, resources: out, setByUnit };
}

/** The properties a new unit always gets, as runc's UnifiedManager.Apply sets them. */
export function unitProperties(unit: string, slice: string, description: string, pid: number | undefined): Property[] {
  const b = (v: boolean): Variant => ({ sig: 'b', value: v });
  const props: Property[] = [['Description', { sig: 's', value: description }]];
  // A slice's parent is in its name: it only wants the slice given; a scope sits in it.
  if (unit.endsWith('.slice')) props.push(['Wants', { sig: 'as', value: [slice] }]);
  else props.push(['Slice', { sig: 's', value: slice }], ['Delegate', b(true)]);
  if (pid !== undefined) props.push(['PIDs', { sig: 'au', value: [pid] }]);
  props.push(['MemoryAccounting', b(true)], ['CPUAccounting', b(true)], ['IOAccounting', b(true)], ['TasksAccounting', b(true)], ['DefaultDependencies', b(false)]);
  return props;
}
