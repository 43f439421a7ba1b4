// A cgroup named by linux.cgroupsPath may exist before create: what runc's factory checks in it
// before anything is made (libcontainer/factory_linux.go, Create).
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { TsrunError } from '../errors.js';
import { cgroupPids } from './manage.js';
import { hierarchies } from './hierarchy.js';

/** The file's text, or undefined when the kernel has no such file (no freezer there). */
function readIf(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENODEV') return undefined;
    throw new TsrunError(`read ${file}: ${(e as Error).message}`);
  }
}

/** `dir` and its ancestors up to the hierarchy's mount point, nearest first. */
function upTo(dir: string, mountpoint: string): string[] {
  const out: string[] = [];
  for (let d = dir; d.startsWith(mountpoint); d = posix.dirname(d)) {
    out.push(d);
    if (d === mountpoint) break;
  }
  return out;
}

/**
 * The frozen cgroup that would freeze the container's pid 1 as soon as it joins, or undefined.
 * v1: freezer.state of the nearest dir that exists (it reads FROZEN too when a parent is frozen);
 * v2: cgroup.freeze of the dir or any ancestor (cgroup.freeze is a core file, so on a hybrid
 * host the controller-less tree can freeze too).
 */
function frozenAt(dirs: string[]): string | undefined {
  const hs = hierarchies();
  for (let i = 0; i < hs.length; i++) {
    const h = hs[i]!;
    const dir = dirs[i];
    if (!dir) continue;
    if (h.version === 1 && h.controllers.includes('freezer')) {
      const d = upTo(dir, h.mountpoint).find((p) => existsSync(p));
      const state = d && readIf(join(d, 'freezer.state'));
      if (d && (state === 'FROZEN' || state === 'FREEZING')) return d;
    } else if (h.version === 2) {
      const d = upTo(dir, h.mountpoint).find((p) => existsSync(p) && readIf(join(p, 'cgroup.freeze')) === '1');
      if (d) return d;
    }
  }
  return undefined;
}

/**
 * Refuses a cgroup that is frozen (runc: "container's cgroup unexpectedly frozen"), which would
 * otherwise stop the container's pid 1 before it reports ready; warns, as runc 1.1 does, when
 * the cgroup already holds processes. Only reads: nothing is made before it.
 */
export function checkPreexisting(dirs: string[], warn: (m: string) => void): void {
  const frozen = frozenAt(dirs);
  if (frozen) {
    const where = dirs.includes(frozen) ? frozen : `${frozen}, the parent it would be made in`;
    throw new TsrunError(`linux.cgroupsPath: container's cgroup unexpectedly frozen: ${where} (thaw it or choose another path)`);
  }
  const pids = cgroupPids(devicesFirst(dirs).filter((d) => existsSync(d)));
  if (pids.length) warn(`container's cgroup is not empty: ${pids.length} process(es) found`);
}

/** runc counts the processes of the devices hierarchy (one hierarchy is enough: they agree). */
function devicesFirst(dirs: string[]): string[] {
  const i = hierarchies().findIndex((h) => h.controllers.includes('devices'));
  return i >= 0 && dirs[i] ? [dirs[i]!, ...dirs.filter((_, k) => k !== i)] : dirs;
}
