import { childProcess } from '../util/child-process.js';
import { existsSync } from 'node:fs';
import { TsrunError } from '../errors.js';
import type { Config } from '../spec/load.js';
import type { NsType } from '../plan/namespaces.js';

type NetDevices = NonNullable<NonNullable<Config['linux']>['netDevices']>;

interface IpAddr {
  family: string;
  local: string;
  prefixlen: number;
  scope: string;
  dynamic?: boolean;
}

function ip(args: string[], nsPid?: number): string {
  const argv = nsPid ? ['-t', String(nsPid), '-n', 'ip', ...args] : args;
  try {
    return childProcess().execFileSync(nsPid ? 'nsenter' : 'ip', argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new TsrunError(`ip ${args.join(' ')}: ${(err.stderr || err.message).trim()}`);
  }
}

/** config-linux.md#network-devices: what can be checked before anything is made. */
export function checkNetDevices(devices: NetDevices, ns: Map<NsType, string>): void {
  if (!Object.keys(devices).length) return;
  if (!ns.has('network')) throw new TsrunError('linux.netDevices: moving devices needs a network namespace');
  for (const [host, d] of Object.entries(devices)) {
    if (!/^[^/\s:]{1,15}$/.test(host) || host === '.' || host === '..') throw new TsrunError(`linux.netDevices: invalid device name "${host}"`);
    if (!existsSync(`/sys/class/net/${host}`)) throw new TsrunError(`linux.netDevices.${host}: no such network device on the host`);
    const name = d?.name;
    if (name !== undefined && !/^[^/\s:]{1,15}$/.test(name)) throw new TsrunError(`linux.netDevices.${host}.name: invalid device name "${name}"`);
  }
}

/**
 * Moves each device into the container's network namespace under its new name, gives it back
 * its permanent global addresses (a move drops them) and sets it up. The kernel picks the name
 * for a "%d" template; a name already taken in the container fails the move.
 */
export function moveNetDevices(devices: NetDevices, pid: number): void {
  for (const [host, d] of Object.entries(devices)) {
    const name = d?.name ?? host;
    const addrs = (JSON.parse(ip(['-j', 'addr', 'show', 'dev', host])) as { addr_info?: IpAddr[] }[])
      .flatMap((l) => l.addr_info ?? [])
      .filter((a) => a.scope === 'global' && !a.dynamic);
    const index = Number(ip(['-j', 'link', 'show', 'dev', host]).match(/"ifindex":(\d+)/)?.[1]);
    ip(['link', 'set', 'dev', host, 'netns', String(pid), 'name', name]);
    // A template's final name is the kernel's choice: find the device by its index.
    const final = name.includes('%d') ? (JSON.parse(ip(['-j', 'link', 'show'], pid)) as { ifindex: number; ifname: string }[]).find((l) => l.ifindex === index)?.ifname ?? name : name;
    for (const a of addrs) ip(['addr', 'add', `${a.local}/${a.prefixlen}`, 'dev', final], pid);
    ip(['link', 'set', 'dev', final, 'up'], pid);
  }
}
