import { statSync } from 'node:fs';
import { TsrunError } from '../errors.js';

/** The inode /proc/self/ns/user has in the initial user namespace (PROC_USER_INIT_INO). */
const INIT_USER_NS_INO = 0xeffffffd;

let inUserNs: boolean | undefined;

/** True when tsrun runs inside a user namespace other than the initial one (e.g. rootless Podman's). */
export function runningInUserNs(): boolean {
  if (inUserNs === undefined) {
    try {
      inUserNs = statSync('/proc/self/ns/user').ino !== INIT_USER_NS_INO;
    } catch {
      inUserNs = false;
    }
  }
  return inUserNs;
}

export function euid(): number {
  return process.geteuid?.() ?? 0;
}

/** Not root in the initial user namespace: what rootless mode is about (runc's RootlessEUID is euid != 0). */
export function rootlessEuid(): boolean {
  return euid() !== 0;
}

/** runc's --rootless values: auto (or empty), or a Go boolean spelling. */
export function parseRootlessFlag(v: string): boolean | undefined {
  if (v === '' || v === 'auto') return undefined;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new TsrunError(`invalid --rootless value: ${JSON.stringify(v)} (true, false or auto)`);
}

/**
 * runc's rootless cgroup rule: --rootless true/false wins; auto means rootless when euid != 0, or
 * when root inside a user namespace (the cgroups may or may not be delegated to it). Rootless
 * cgroups are used only where they can be made and joined; a permission error skips them.
 */
export function rootlessCgroups(flag: string): boolean {
  const b = parseRootlessFlag(flag);
  if (b !== undefined) return b;
  return rootlessEuid() || runningInUserNs();
}
