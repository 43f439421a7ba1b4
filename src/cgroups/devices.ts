import { TsrunError } from '../errors.js';
import type { DeviceCgroup } from '../spec/generated/config.js';
import { deviceAccess } from './device-access.js';

/** One entry of linux.resources.devices, or of the defaults below, with its wildcards as '*'. */
export interface DeviceRule {
  allow: boolean;
  type: 'a' | 'b' | 'c';
  major: number | '*';
  minor: number | '*';
  access: string;
  /** Where it comes from, for errors: "linux.resources.devices[2]", or the default rules. */
  field: string;
}

/** An exception to the default: a device class and the accesses (ACCESS bits) it covers. */
export interface DeviceException {
  type: 'b' | 'c';
  major: number | '*';
  minor: number | '*';
  access: number;
}

/**
 * The device cgroup as the rules leave it: allow-all or deny-all, and exceptions that all do
 * the opposite. This is the v1 devices.list model; the v2 program is compiled from it.
 */
export interface DevicePolicy {
  allowAll: boolean;
  exceptions: DeviceException[];
}

/** BPF_DEVCG_ACC_* bits, which v1 spells m, r, w. */
export const ACCESS = { m: 1, r: 2, w: 4 } as const;
export const ALL_ACCESS = 7;

const DEFAULT_FIELD = 'linux.resources.devices (a default rule)';

/**
 * Devices a container may always use, appended after the config's rules as runc 1.1's
 * specconv AllowedDevices: mknod of any node, the default /dev nodes, ptys, tun.
 */
const DEFAULT_ALLOWED: DeviceRule[] = [
  { allow: true, type: 'c', major: '*', minor: '*', access: 'm', field: DEFAULT_FIELD },
  { allow: true, type: 'b', major: '*', minor: '*', access: 'm', field: DEFAULT_FIELD },
  ...([[1, 3], [1, 8], [1, 7], [5, 0], [1, 5], [1, 9], [5, 2], [10, 200]] as const).map(([major, minor]): DeviceRule => ({ allow: true, type: 'c', major, minor, access: 'rwm', field: DEFAULT_FIELD })),
  { allow: true, type: 'c', major: 136, minor: '*', access: 'rwm', field: DEFAULT_FIELD },
];

const accessBits = (access: string): number => [...access].reduce((m, c) => m | ACCESS[c as keyof typeof ACCESS], 0);
/** "rwm" order, as v1 and systemd's DeviceAllow spell an access set. */
export const accessText = (bits: number): string => (['r', 'w', 'm'] as const).filter((c) => bits & ACCESS[c]).join('');
const num = (n: number | '*'): number => (n === '*' ? -1 : n);

/** "c 1:3 rwm" as devices.allow/devices.deny take it and devices.list shows it. */
export function exceptionText(e: DeviceException): string {
  return `${e.type} ${e.major}:${e.minor} ${accessText(e.access)}`;
}

/**
 * config-linux.md#allowed-device-list: the rules in the listed order, then the default allowed
 * devices, applied as the v1 devices cgroup applies writes to devices.allow and devices.deny.
 * linux.devices takes no part: a node put in the container does not widen the rules (runc
 * neither; config-linux.md#devices: containers MAY NOT access nodes the lists do not allow).
 */
export function devicePolicy(rules: DeviceCgroup[] | undefined): DevicePolicy {
  const input: DeviceRule[] = (rules ?? []).map((d, i) => ({
    allow: d.allow,
    type: (d.type ?? 'a') as DeviceRule['type'],
    // -1 is runc's spelling of "all" (it fills unset numbers with it)
    major: d.major === undefined || d.major === -1 ? '*' : d.major,
    minor: d.minor === undefined || d.minor === -1 ? '*' : d.minor,
    access: deviceAccess(d.access, `linux.resources.devices[${i}].access`),
    field: `linux.resources.devices[${i}]`,
  }));
  let allowAll = false;
  let exceptions = new Map<string, DeviceException>();
  for (const r of [...input, ...DEFAULT_ALLOWED]) {
    // "a" resets the whole cgroup, whatever numbers or access it names (v1 reads only the "a")
    if (r.type === 'a') {
      allowAll = r.allow;
      exceptions = new Map();
      continue;
    }
    const e: DeviceException = { type: r.type, major: r.major, minor: r.minor, access: accessBits(r.access) };
    const key = `${e.type} ${e.major}:${e.minor}`;
    const old = exceptions.get(key)?.access ?? 0;
    // A rule that does what the default does removes access from an exception; the opposite adds it.
    const access = r.allow === allowAll ? old & ~e.access : old | e.access;
    if (r.allow === allowAll) checkNoHole(r, e, exceptions);
    if (access) exceptions.set(key, { ...e, access });
    else exceptions.delete(key);
  }
  // devices.list order, as runc writes them: by major, minor, then type, "*" first.
  const sorted = [...exceptions.values()].sort((a, b) => num(a.major) - num(b.major) || num(a.minor) - num(b.minor) || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  return { allowAll, exceptions: sorted };
}

/**
 * v1 removes an access only from an exception with the very same numbers: taken from inside a
 * wildcard exception it would be silently ignored, so the access would stay. runc refuses such
 * a rule; so does tsrun, on v1 and v2 alike.
 */
function checkNoHole(r: DeviceRule, e: DeviceException, exceptions: Map<string, DeviceException>): void {
  for (const [major, minor] of [['*', e.minor], [e.major, '*'], ['*', '*']] as const) {
    if (major === e.major && minor === e.minor) continue;
    const wide = exceptions.get(`${e.type} ${major}:${minor}`);
    if (wide && wide.access & e.access) {
      const rule = `${r.allow ? 'allow' : 'deny'} ${exceptionText(e)}`;
      throw new TsrunError(`${r.field}: ${rule} would punch a hole in the ${r.allow ? 'denied' : 'allowed'} wildcard ${exceptionText(wide)}, which the devices cgroup cannot do`);
    }
  }
}
