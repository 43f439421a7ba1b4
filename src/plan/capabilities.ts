import { readFileSync } from 'node:fs';
import { callerPid } from '../util/caller.js';
import { TsrunError } from '../errors.js';

/** <linux/capability.h> numbers, in order. */
export const CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
].map((c) => `CAP_${c}`);

let lastCap: number | undefined;

/** The highest capability this kernel knows: newer names are dropped rather than failing. */
export function kernelLastCap(): number {
  if (lastCap === undefined) {
    try {
      lastCap = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
    } catch {
      lastCap = CAPABILITIES.length - 1;
    }
  }
  return lastCap;
}

export function capNumbers(names: string[], field: string): number[] {
  const out: number[] = [];
  for (const n of names) {
    const i = CAPABILITIES.indexOf(n.toUpperCase());
    if (i < 0) throw new TsrunError(`${field}: unknown capability "${n}"`);
    if (i <= kernelLastCap() && !out.includes(i)) out.push(i);
  }
  return out;
}

let bounding: bigint | undefined;

/**
 * The runtime's bounding set (CapBnd): no process it starts can hold a capability outside it.
 * The caller's: it starts tsrun-init (the client, in the warm server); a cold call's own is read once.
 */
export function runtimeBoundingSet(): bigint {
  const pid = callerPid();
  if (pid !== 'self' || bounding === undefined) {
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    const set = m ? BigInt(`0x${m[1]}`) : (1n << BigInt(kernelLastCap() + 1)) - 1n;
    if (pid !== 'self') return set;
    bounding = set;
  }
  return bounding;
}

/**
 * A capability outside the runtime's bounding set cannot be granted: runc 1.1 fails with "unable
 * to apply caps: operation not permitted" for the effective, permitted, inheritable and ambient
 * sets, and ignores it in the bounding set (dropping what is not there is a no-op). tsrun does
 * the same, but says so at create and names the field.
 */
export function checkBounding(set: string, nums: number[], field: string): void {
  if (set === 'bounding') return;
  const missing = nums.filter((n) => !((runtimeBoundingSet() >> BigInt(n)) & 1n)).map((n) => CAPABILITIES[n]);
  if (missing.length) throw new TsrunError(`${field}: ${missing.join(', ')} not in the runtime's bounding set, so it cannot be granted`);
}
