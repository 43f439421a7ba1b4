import { TsrunError } from '../errors.js';
import type { Linux } from '../spec/generated/config.js';
import { exceptionText, type DevicePolicy } from './devices.js';
import { deviceAccess } from './device-access.js';
import { blkioWeightToIoWeight, pageSizeBytes, sharesToWeight } from './convert.js';

export type Resources = NonNullable<Linux['resources']>;

/** One write into a cgroup file: the v1 controller whose hierarchy holds it ("" on v2). */
export interface CgroupWrite {
  controller: string;
  file: string;
  value: string;
  /** Spec field the write comes from, for error messages. */
  field: string;
  /** Skip quietly when the kernel has no such file (deprecated knobs). */
  optional?: boolean;
  /** Refused with EINVAL, try it once more after the next write (runc's cfs period before quota). */
  againAfterNext?: boolean;
}

const limit = (v: number): string => (v === -1 ? '-1' : String(v));
const max = (v: number): string => (v === -1 ? 'max' : String(v));

function checkRange(field: string, v: number | undefined, lo: number, hi: number): void {
  if (v !== undefined && (v < lo || v > hi)) throw new TsrunError(`${field}: must be within ${lo}..${hi}: ${v}`);
}

function checkLimit(field: string, v: number | undefined): void {
  if (v !== undefined && v < -1) throw new TsrunError(`${field}: must be -1 (unlimited) or a non-negative number of bytes: ${v}`);
}

/** Checks values both drivers share: the errors name the field. */
export function validateResources(r: Resources): void {
  const m = r.memory ?? {};
  checkLimit('linux.resources.memory.limit', m.limit);
  checkLimit('linux.resources.memory.reservation', m.reservation);
  checkLimit('linux.resources.memory.swap', m.swap);
  checkLimit('linux.resources.memory.kernel', m.kernel);
  checkLimit('linux.resources.memory.kernelTCP', m.kernelTCP);
  checkRange('linux.resources.memory.swappiness', m.swappiness, 0, 100);
  if (m.limit !== undefined && m.swap !== undefined && m.limit > 0 && m.swap > 0 && m.swap < m.limit) {
    throw new TsrunError(`linux.resources.memory.swap: memory+swap limit ${m.swap} is below the memory limit ${m.limit}`);
  }
  const c = r.cpu ?? {};
  if (c.shares !== undefined && c.shares !== 0) checkRange('linux.resources.cpu.shares', c.shares, 2, 262144);
  if (c.quota !== undefined && c.quota < -1) throw new TsrunError(`linux.resources.cpu.quota: must be -1 or positive: ${c.quota}`);
  if (c.period !== undefined && c.period !== 0) checkRange('linux.resources.cpu.period', c.period, 1000, 1000000);
  if (c.burst !== undefined && c.quota !== undefined && c.quota > 0 && c.burst > c.quota) throw new TsrunError(`linux.resources.cpu.burst: ${c.burst} is larger than quota ${c.quota}`);
  checkRange('linux.resources.cpu.idle', c.idle, 0, 1);
  for (const [f, v] of [['cpus', c.cpus], ['mems', c.mems]] as const) {
    if (v !== undefined && v !== '' && !/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(v)) throw new TsrunError(`linux.resources.cpu.${f}: invalid list "${v}"`);
  }
  if (r.pids?.limit !== undefined && r.pids.limit < -1) throw new TsrunError(`linux.resources.pids.limit: must be -1 (unlimited) or positive: ${r.pids.limit}`);
  const b = r.blockIO ?? {};
  if (b.weight !== undefined && b.weight !== 0) checkRange('linux.resources.blockIO.weight', b.weight, 10, 1000);
  if (b.leafWeight !== undefined && b.leafWeight !== 0) checkRange('linux.resources.blockIO.leafWeight', b.leafWeight, 10, 1000);
  (b.weightDevice ?? []).forEach((d, i) => {
    if (d.weight === undefined && d.leafWeight === undefined) throw new TsrunError(`linux.resources.blockIO.weightDevice[${i}]: needs weight or leafWeight`);
  });
  (r.hugepageLimits ?? []).forEach((h, i) => {
    if (pageSizeBytes(h.pageSize) === undefined) throw new TsrunError(`linux.resources.hugepageLimits[${i}].pageSize: invalid size "${h.pageSize}"`);
  });
  (r.devices ?? []).forEach((d, i) => {
    if (d.type !== undefined && !['a', 'b', 'c'].includes(d.type)) throw new TsrunError(`linux.resources.devices[${i}].type: must be a, b or c: "${d.type}"`);
    deviceAccess(d.access, `linux.resources.devices[${i}].access`);
    for (const n of ['major', 'minor'] as const) {
      const v = d[n];
      if (v !== undefined && v < -1) throw new TsrunError(`linux.resources.devices[${i}].${n}: must be -1 (all) or a device number: ${v}`);
    }
  });
  for (const key of Object.keys(r.unified ?? {})) {
    if (!/^[a-z_]+\.[a-z0-9_.]+$/.test(key) || key.includes('..') || key.includes('/')) throw new TsrunError(`linux.resources.unified: invalid key "${key}"`);
  }
}

const devRule = (d: { major: number; minor: number }): string => `${d.major}:${d.minor}`;

/** The v1 writes for resources, in the order runc makes them. */
export function v1Writes(r: Resources, devices: DevicePolicy | undefined, currentMemsw?: () => number): CgroupWrite[] {
  const w: CgroupWrite[] = [];
  const add = (controller: string, file: string, value: string | number, field: string, optional = false): void => {
    w.push({ controller, file, value: String(value), field: `linux.resources.${field}`, optional });
  };
  // "a" sets the default and empties the exception list; the exceptions that follow rebuild it.
  if (devices) {
    const [toDefault, toException] = devices.allowAll ? ['devices.allow', 'devices.deny'] : ['devices.deny', 'devices.allow'];
    add('devices', toDefault, 'a', 'devices');
    for (const e of devices.exceptions) add('devices', toException, exceptionText(e), 'devices');
  }
  const m = r.memory;
  if (m) {
    // memsw must never be below the limit: raise memsw first when growing, the limit first when shrinking.
    const memswFirst = m.swap !== undefined && m.limit !== undefined && (m.swap === -1 || (currentMemsw !== undefined && m.swap > currentMemsw()));
    if (memswFirst && m.swap !== undefined) add('memory', 'memory.memsw.limit_in_bytes', limit(m.swap), 'memory.swap');
    if (m.limit !== undefined) add('memory', 'memory.limit_in_bytes', limit(m.limit), 'memory.limit');
    if (!memswFirst && m.swap !== undefined) add('memory', 'memory.memsw.limit_in_bytes', limit(m.swap), 'memory.swap');
    if (m.reservation !== undefined) add('memory', 'memory.soft_limit_in_bytes', limit(m.reservation), 'memory.reservation');
    if (m.kernel !== undefined) add('memory', 'memory.kmem.limit_in_bytes', limit(m.kernel), 'memory.kernel', true);
    if (m.kernelTCP !== undefined) add('memory', 'memory.kmem.tcp.limit_in_bytes', limit(m.kernelTCP), 'memory.kernelTCP');
    if (m.swappiness !== undefined) add('memory', 'memory.swappiness', m.swappiness, 'memory.swappiness');
    if (m.disableOOMKiller) add('memory', 'memory.oom_control', 1, 'memory.disableOOMKiller');
    if (m.useHierarchy) add('memory', 'memory.use_hierarchy', 1, 'memory.useHierarchy');
  }
  const c = r.cpu;
  if (c) {
    if (c.cpus) add('cpuset', 'cpuset.cpus', c.cpus, 'cpu.cpus');
    if (c.mems) add('cpuset', 'cpuset.mems', c.mems, 'cpu.mems');
    if (c.shares) add('cpu', 'cpu.shares', c.shares, 'cpu.shares');
    const quota = c.quota !== undefined && c.quota !== 0;
    if (c.period) {
      add('cpu', 'cpu.cfs_period_us', c.period, 'cpu.period');
      // The kernel refuses a period the current quota does not fit in (its ratio above the
      // parent's): runc then writes the quota first and the period after it.
      if (quota) w[w.length - 1]!.againAfterNext = true;
    }
    if (quota) add('cpu', 'cpu.cfs_quota_us', c.quota!, 'cpu.quota');
    if (c.burst !== undefined) add('cpu', 'cpu.cfs_burst_us', c.burst, 'cpu.burst');
    if (c.realtimePeriod) add('cpu', 'cpu.rt_period_us', c.realtimePeriod, 'cpu.realtimePeriod');
    if (c.realtimeRuntime) add('cpu', 'cpu.rt_runtime_us', c.realtimeRuntime, 'cpu.realtimeRuntime');
    if (c.idle !== undefined) add('cpu', 'cpu.idle', c.idle, 'cpu.idle');
  }
  if (r.pids?.limit !== undefined && r.pids.limit !== 0) add('pids', 'pids.max', r.pids.limit > 0 ? r.pids.limit : 'max', 'pids.limit');
  const b = r.blockIO;
  if (b) {
    if (b.weight) add('blkio', 'blkio.weight', b.weight, 'blockIO.weight');
    if (b.leafWeight) add('blkio', 'blkio.leaf_weight', b.leafWeight, 'blockIO.leafWeight');
    for (const d of b.weightDevice ?? []) {
      if (d.weight) add('blkio', 'blkio.weight_device', `${devRule(d)} ${d.weight}`, 'blockIO.weightDevice');
      if (d.leafWeight) add('blkio', 'blkio.leaf_weight_device', `${devRule(d)} ${d.leafWeight}`, 'blockIO.weightDevice');
    }
    for (const [list, file] of [[b.throttleReadBpsDevice, 'read_bps_device'], [b.throttleWriteBpsDevice, 'write_bps_device'], [b.throttleReadIOPSDevice, 'read_iops_device'], [b.throttleWriteIOPSDevice, 'write_iops_device']] as const) {
      for (const d of list ?? []) add('blkio', `blkio.throttle.${file}`, `${devRule(d)} ${d.rate ?? 0}`, 'blockIO');
    }
  }
  for (const h of r.hugepageLimits ?? []) add('hugetlb', `hugetlb.${h.pageSize}.limit_in_bytes`, h.limit, 'hugepageLimits');
  if (r.network?.classID !== undefined) add('net_cls', 'net_cls.classid', r.network.classID, 'network.classID');
  for (const p of r.network?.priorities ?? []) add('net_prio', 'net_prio.ifpriomap', `${p.name} ${p.priority}`, 'network.priorities');
  for (const [dev, v] of Object.entries(r.rdma ?? {})) {
    if (!v) continue;
    const parts = [v.hcaHandles !== undefined ? `hca_handle=${v.hcaHandles}` : '', v.hcaObjects !== undefined ? `hca_object=${v.hcaObjects}` : ''].filter(Boolean);
    add('rdma', 'rdma.max', `${dev} ${parts.join(' ')}`, 'rdma');
  }
  if (r.unified && Object.keys(r.unified).length) throw new TsrunError('linux.resources.unified: needs cgroup v2, and this host runs cgroup v1');
  return w;
}

/** The v2 writes for resources; v1-only knobs are converted where the kernel docs give a way. */
export function v2Writes(r: Resources, warn: (msg: string) => void, currentQuota: () => string = () => 'max'): CgroupWrite[] {
  const w: CgroupWrite[] = [];
  const add = (file: string, value: string | number, field: string): void => {
    w.push({ controller: file.slice(0, file.indexOf('.')), file, value: String(value), field: `linux.resources.${field}` });
  };
  const m = r.memory;
  if (m) {
    if (m.limit !== undefined && m.limit !== 0) add('memory.max', max(m.limit), 'memory.limit');
    // v1's swap is memory+swap; v2's memory.swap.max is swap alone.
    if (m.swap !== undefined && m.swap !== 0) {
      if (m.swap === -1) add('memory.swap.max', 'max', 'memory.swap');
      else if (m.limit === undefined || m.limit === -1) throw new TsrunError('linux.resources.memory.swap: a swap limit needs a memory limit on cgroup v2');
      else add('memory.swap.max', m.swap - m.limit, 'memory.swap');
    }
    if (m.reservation !== undefined && m.reservation !== 0) add('memory.low', max(m.reservation), 'memory.reservation');
    if (m.kernel !== undefined || m.kernelTCP !== undefined) warn('linux.resources.memory.kernel and kernelTCP are not supported on cgroup v2; ignored');
    if (m.swappiness !== undefined) warn('linux.resources.memory.swappiness is not supported on cgroup v2; ignored');
    if (m.disableOOMKiller) warn('linux.resources.memory.disableOOMKiller is not supported on cgroup v2; ignored');
  }
  const c = r.cpu;
  if (c) {
    if (c.realtimePeriod || c.realtimeRuntime) throw new TsrunError('linux.resources.cpu.realtimeRuntime: realtime scheduling is not supported on cgroup v2');
    if (c.shares) add('cpu.weight', sharesToWeight(c.shares), 'cpu.shares');
    // cpu.max is "QUOTA [PERIOD]": a quota alone keeps the period, a period alone keeps the
    // quota there is (runc's update passes the quota it remembers), as on v1's two files.
    if (c.quota !== undefined && c.quota !== 0) add('cpu.max', `${c.quota === -1 ? 'max' : c.quota}${c.period ? ` ${c.period}` : ''}`, 'cpu.quota');
    else if (c.period) add('cpu.max', `${currentQuota()} ${c.period}`, 'cpu.period');
    if (c.burst !== undefined) add('cpu.max.burst', c.burst, 'cpu.burst');
    if (c.idle !== undefined) add('cpu.idle', c.idle, 'cpu.idle');
    if (c.cpus) add('cpuset.cpus', c.cpus, 'cpu.cpus');
    if (c.mems) add('cpuset.mems', c.mems, 'cpu.mems');
  }
  if (r.pids?.limit !== undefined && r.pids.limit !== 0) add('pids.max', r.pids.limit > 0 ? r.pids.limit : 'max', 'pids.limit');
  const b = r.blockIO;
  if (b) {
    if (b.weight) add('io.weight', blkioWeightToIoWeight(b.weight), 'blockIO.weight');
    for (const d of b.weightDevice ?? []) if (d.weight) add('io.weight', `${devRule(d)} ${blkioWeightToIoWeight(d.weight)}`, 'blockIO.weightDevice');
    if (b.leafWeight) warn('linux.resources.blockIO.leafWeight is not supported on cgroup v2; ignored');
    for (const [list, key] of [[b.throttleReadBpsDevice, 'rbps'], [b.throttleWriteBpsDevice, 'wbps'], [b.throttleReadIOPSDevice, 'riops'], [b.throttleWriteIOPSDevice, 'wiops']] as const) {
      for (const d of list ?? []) add('io.max', `${devRule(d)} ${key}=${d.rate ?? 'max'}`, 'blockIO');
    }
  }
  for (const h of r.hugepageLimits ?? []) add(`hugetlb.${h.pageSize}.max`, h.limit, 'hugepageLimits');
  for (const [dev, v] of Object.entries(r.rdma ?? {})) {
    if (!v) continue;
    const parts = [v.hcaHandles !== undefined ? `hca_handle=${v.hcaHandles}` : '', v.hcaObjects !== undefined ? `hca_object=${v.hcaObjects}` : ''].filter(Boolean);
    add('rdma.max', `${dev} ${parts.join(' ')}`, 'rdma');
  }
  if (r.network?.classID !== undefined || r.network?.priorities?.length) warn('linux.resources.network is not supported on cgroup v2; ignored');
  for (const [key, value] of Object.entries(r.unified ?? {})) if (value !== undefined) add(key, value, `unified.${key}`);
  return w;
}
