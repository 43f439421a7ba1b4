import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsrunError } from '../errors.js';
import { sleepMs } from '../util/sleep.js';
import { hierarchies } from './hierarchy.js';

/** Where a container's freeze switch is; saved in state.json at create (`freezer`). */
export interface Freezer {
  dir: string;
  v1: boolean;
}

/** The v1 freezer hierarchy if mounted, else the v2 tree's cgroup.freeze. */
export function freezerOf(dirs: string[]): Freezer | undefined {
  const hs = hierarchies();
  const i = hs.findIndex((h) => h.controllers.includes('freezer'));
  if (i >= 0 && dirs[i]) return { dir: dirs[i]!, v1: true };
  const j = hs.findIndex((h) => h.version === 2);
  if (j >= 0 && dirs[j] && existsSync(join(dirs[j]!, 'cgroup.freeze'))) return { dir: dirs[j]!, v1: false };
  return undefined;
}

function frozenNow(f: Freezer): boolean {
  if (f.v1) return readFileSync(join(f.dir, 'freezer.state'), 'utf8').trim() === 'FROZEN';
  return /^frozen 1$/m.test(readFileSync(join(f.dir, 'cgroup.events'), 'utf8'));
}

export function isFrozen(f: Freezer | undefined): boolean {
  if (!f) return false;
  try {
    if (f.v1) return frozenNow(f);
    return readFileSync(join(f.dir, 'cgroup.freeze'), 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

/** Freezes (or thaws) every process of the container and waits until the kernel says it is done. */
export function setFrozen(f: Freezer | undefined, frozen: boolean): void {
  if (!f) throw new TsrunError('pause: no freezer: neither the v1 freezer controller nor cgroup.freeze is available');
  const file = join(f.dir, f.v1 ? 'freezer.state' : 'cgroup.freeze');
  const value = f.v1 ? (frozen ? 'FROZEN' : 'THAWED') : frozen ? '1' : '0';
  for (let i = 0; i < 1000; i++) {
    try {
      writeFileSync(file, value);
    } catch (e) {
      throw new TsrunError(`${frozen ? 'freeze' : 'thaw'} ${file}: ${(e as Error).message}`);
    }
    if (frozenNow(f) === frozen) return;
    // v1 can stay in FREEZING while a task is in an uninterruptible sleep: write again.
    sleepMs(i < 10 ? 1 : 10);
  }
  throw new TsrunError(`${frozen ? 'freeze' : 'thaw'} ${f.dir}: the cgroup did not reach the ${frozen ? 'frozen' : 'thawed'} state`);
}
