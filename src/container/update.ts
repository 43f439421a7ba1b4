import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { stdio } from '../util/stdio.js';
import { callerPath } from '../util/caller.js';
import { applyResources } from '../cgroups/apply.js';
import { updateSystemdUnit } from '../cgroups/systemd/driver.js';
import type { Resources } from '../cgroups/resources.js';
import { TsrunError } from '../errors.js';
import { containerDir } from '../state/paths.js';
import { statusOf } from '../state/status.js';
import { withContainerLock } from '../state/lock.js';
import { loadState } from '../state/store.js';
import { log } from '../cli/log.js';

/** "64m", "1g", "512k", "-1", "100" → bytes, as runc's --memory takes them (base 1024). */
export function parseBytes(v: string, flag: string): number {
  if (v === '-1') return -1;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i.exec(v.trim());
  if (!m) throw new TsrunError(`invalid value "${v}" for flag --${flag}: not a size`);
  const mult = 1024 ** ' kmgtp'.indexOf((m[2] || ' ').toLowerCase());
  return Math.trunc(Number(m[1]) * mult);
}

/** Reads -r FILE (or - for stdin): the linux.resources object, as Podman and containerd pass it. */
export function readResourcesFile(path: string): Resources {
  let text: string;
  try {
    text = readFileSync(path === '-' ? stdio.in : callerPath(resolve(path)), 'utf8');
  } catch (e) {
    throw new TsrunError(`read resources ${path}: ${(e as Error).message}`);
  }
  try {
    const r = JSON.parse(text) as unknown;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new Error('not a JSON object');
    return r as Resources;
  } catch (e) {
    throw new TsrunError(`parse resources ${path}: ${(e as Error).message}`);
  }
}

/**
 * Applies new limits to a live container's cgroups (runtime.md doesn't define update; runc's
 * does this). As runc: the container is looked up, then the new limits read, then its status
 * checked, and the errors come in that order.
 */
export function updateContainer(root: string, id: string, resources: () => Resources): void {
  withContainerLock(root, id, () => updateLocked(root, id, resources));
}

function updateLocked(root: string, id: string, resources: () => Resources): void {
  const s = loadState(root, id);
  const r = resources();
  const status = statusOf(containerDir(root, id), s);
  if (status === 'stopped') throw new TsrunError('container not running');
  // The device list is the container's own business after create: update leaves it alone.
  if (s.systemd) updateSystemdUnit(s.systemd, s.cgroupDirs, r, (m) => log('warning', m));
  else applyResources(s.cgroupDirs, r, undefined, (m) => log('warning', m));
}
