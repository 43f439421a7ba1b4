import type { Device, DeviceCgroup } from '../spec/generated/config.js';
import { deviceAccess } from './device-access.js';

export interface DeviceRule {
  allow: boolean;
  type: 'a' | 'b' | 'c';
  major: number | '*';
  minor: number | '*';
  access: string;
}

/** Devices a container may always use, as runc allows them: the default /dev nodes, ptys, tun. */
const DEFAULT_ALLOWED: DeviceRule[] = [
  { allow: true, type: 'c', major: '*', minor: '*', access: 'm' },
  { allow: true, type: 'b', major: '*', minor: '*', access: 'm' },
  ...([[1, 3], [1, 8], [1, 7], [5, 0], [1, 5], [1, 9], [5, 2], [10, 200]] as const).map(([major, minor]): DeviceRule => ({ allow: true, type: 'c', major, minor, access: 'rwm' })),
  { allow: true, type: 'c', major: 136, minor: '*', access: 'rwm' },
];

/**
 * The device rules in the order they apply: the config's resources.devices rules, then the
 * defaults, then every device of linux.devices (a device put in the container is usable).
 */
export function deviceRules(rules: DeviceCgroup[] | undefined, devices: Device[] | undefined): DeviceRule[] {
  const out: DeviceRule[] = (rules ?? []).map((d, i) => ({
    allow: d.allow,
    type: (d.type ?? 'a') as DeviceRule['type'],
    major: d.major ?? '*',
    minor: d.minor ?? '*',
    access: deviceAccess(d.access, `linux.resources.devices[${i}].access`),
  }));
  out.push(...DEFAULT_ALLOWED);
  for (const d of devices ?? []) {
    if (d.type === 'c' || d.type === 'b' || d.type === 'u') out.push({ allow: true, type: d.type === 'b' ? 'b' : 'c', major: d.major ?? '*', minor: d.minor ?? '*', access: 'rwm' });
  }
  return out;
}

/** "c 1:3 rwm" as devices.allow/devices.deny take it. */
export function ruleText(r: DeviceRule): string {
  return r.type === 'a' ? 'a' : `${r.type} ${r.major}:${r.minor} ${r.access}`;
}
