import { existsSync } from 'node:fs';
import { TsrunError } from '../errors.js';
import type { Config } from '../spec/load.js';
import type { PlanRecord } from './encode.js';

export type NsType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup' | 'time';
export const NS_TYPES: NsType[] = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'];

/** Namespace type → name under /proc/PID/ns. */
export const NS_PROC_NAME: Record<NsType, string> = { pid: 'pid', network: 'net', mount: 'mnt', ipc: 'ipc', uts: 'uts', user: 'user', cgroup: 'cgroup', time: 'time' };

export interface NsInfo {
  /** type → path ("" = new). Types absent are inherited from the runtime. */
  ns: Map<NsType, string>;
  records: PlanRecord[];
}

/** config-linux.md#namespaces: duplicates and unknown types are errors; paths must exist. */
export function planNamespaces(cfg: Config): NsInfo {
  const ns = new Map<NsType, string>();
  const list = cfg.linux?.namespaces ?? [];
  list.forEach((n, i) => {
    const field = `linux.namespaces[${i}]`;
    const type = n.type as NsType;
    if (!NS_TYPES.includes(type)) throw new TsrunError(`${field}.type: unknown namespace type "${n.type}"`);
    if (ns.has(type)) throw new TsrunError(`${field}.type: namespace "${type}" is listed more than once`);
    const path = n.path ?? '';
    if (path && !path.startsWith('/')) throw new TsrunError(`${field}.path: must be absolute: ${path}`);
    if (path && !existsSync(path)) throw new TsrunError(`${field}.path: ${path}: no such file or directory`);
    ns.set(type, path);
  });
  const records: PlanRecord[] = [];
  for (const [type, path] of ns) records.push(['ns', type, path]);

  const linux = cfg.linux ?? {};
  const newUser = ns.get('user') === '';
  if (newUser) {
    if (!linux.uidMappings?.length || !linux.gidMappings?.length) {
      throw new TsrunError('linux.uidMappings, linux.gidMappings: a new user namespace needs both mappings');
    }
    for (const m of linux.uidMappings) records.push(['uidmap', m.containerID, m.hostID, m.size]);
    for (const m of linux.gidMappings) records.push(['gidmap', m.containerID, m.hostID, m.size]);
  } else if (linux.uidMappings?.length || linux.gidMappings?.length) {
    if (!ns.has('user')) throw new TsrunError('linux.uidMappings: user mappings need a user namespace');
  }
  if (linux.timeOffsets) {
    if (ns.get('time') !== '') throw new TsrunError('linux.timeOffsets: offsets need a new time namespace');
    for (const clock of ['monotonic', 'boottime'] as const) {
      const o = linux.timeOffsets[clock];
      if (o) records.push(['timeoffset', clock, o.secs ?? 0, o.nanosecs ?? 0]);
    }
  }
  if ((cfg.hostname || cfg.domainname) && !ns.has('uts')) {
    throw new TsrunError(`${cfg.hostname ? 'hostname' : 'domainname'}: setting it needs a uts namespace (it would rename the host)`);
  }
  if (cfg.root?.readonly && !ns.has('mount')) throw new TsrunError('root.readonly: a read-only rootfs needs a mount namespace');
  if (cfg.hostname) records.push(['hostname', cfg.hostname]);
  if (cfg.domainname) records.push(['domainname', cfg.domainname]);
  return { ns, records };
}
