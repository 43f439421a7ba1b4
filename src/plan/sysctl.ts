import { TsrunError } from '../errors.js';
import type { PlanRecord } from './encode.js';
import type { NsType } from './namespaces.js';

/**
 * Only namespaced sysctls may be set, and only when the container has its own namespace of
 * that kind (runc's rule): IPC ones need an ipc namespace, net.* a network namespace, and
 * kernel.hostname/domainname a uts namespace.
 */
export function planSysctl(sysctl: Record<string, string | undefined>, ns: Map<NsType, string>): PlanRecord[] {
  const out: PlanRecord[] = [];
  const need = (type: NsType, key: string): void => {
    if (!ns.has(type)) throw new TsrunError(`linux.sysctl: "${key}" is not allowed in the host's ${type} namespace`);
  };
  for (const [key, value] of Object.entries(sysctl)) {
    if (value === undefined) continue;
    if (key.includes('/') || key.split('.').includes('..')) throw new TsrunError(`linux.sysctl: invalid key "${key}"`);
    if (['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'].includes(key) || key.startsWith('fs.mqueue.')) {
      need('ipc', key);
    } else if (key.startsWith('net.')) {
      need('network', key);
    } else if (key === 'kernel.hostname' || key === 'kernel.domainname') {
      need('uts', key);
    } else {
      throw new TsrunError(`linux.sysctl: "${key}" is not in a separate kernel namespace`);
    }
    out.push(['sysctl', key, value]);
  }
  return out;
}
