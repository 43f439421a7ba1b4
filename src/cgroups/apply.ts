import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TsrunError } from '../errors.js';
import { hierarchies, isUnifiedHost, type Hierarchy } from './hierarchy.js';
import type { DevicePolicy } from './devices.js';
import { v1Writes, v2Writes, validateResources, type CgroupWrite, type Resources } from './resources.js';

/** The container's dir in the hierarchy that holds `controller` (v1), or in the v2 tree. */
function dirFor(dirs: string[], pick: (h: Hierarchy) => boolean): string | undefined {
  const hs = hierarchies();
  for (let i = 0; i < hs.length; i++) if (pick(hs[i]!) && dirs[i]) return dirs[i];
  return undefined;
}

export function availableControllers(dir: string): string[] {
  try {
    return readFileSync(join(dir, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * Enables each needed controller in the subtree_control of every ancestor between the
 * hierarchy's mount point and the container's cgroup (v2 lets a cgroup use only controllers its
 * parent delegates).
 */
export function enableControllers(mountpoint: string, dir: string, controllers: Set<string>): void {
  const chain: string[] = [];
  for (let d = dirname(dir); d.length >= mountpoint.length && d.startsWith(mountpoint); d = dirname(d)) {
    chain.unshift(d);
    if (d === mountpoint) break;
  }
  for (const d of chain) {
    const available = availableControllers(d);
    const wanted = [...controllers].filter((c) => available.includes(c));
    if (!wanted.length) continue;
    const current = readFileSync(join(d, 'cgroup.subtree_control'), 'utf8').trim().split(/\s+/);
    const missing = wanted.filter((c) => !current.includes(c));
    if (!missing.length) continue;
    try {
      writeFileSync(join(d, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
    } catch (e) {
      // The errno stays readable: rootless mode skips a hierarchy on a permission error.
      throw Object.assign(new TsrunError(`enable controllers ${missing.join(', ')} in ${d}: ${(e as Error).message}`), { code: (e as NodeJS.ErrnoException).code });
    }
  }
}

/** Writes one file; false when the kernel said EINVAL and `w` may be tried again later. */
function write(dir: string, w: CgroupWrite, mayDefer = false): boolean {
  const file = join(dir, w.file);
  if (w.optional && !existsSync(file)) return true;
  try {
    writeFileSync(file, w.value);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (mayDefer && w.againAfterNext && code === 'EINVAL') return false;
    const why = code === 'ENOENT' ? 'the kernel has no such cgroup file' : (e as Error).message;
    throw new TsrunError(`${w.field}: write ${JSON.stringify(w.value)} to ${file}: ${why}`);
  }
}

function tryWrite(dir: string, w: CgroupWrite): void {
  try {
    write(dir, w);
  } catch {
    // rootless devices rules: ignored, as runc does
  }
}

/** The quota half of a v2 cpu.max ("max" when there is none yet). */
function currentQuota(dir: string): string {
  try {
    return readFileSync(join(dir, 'cpu.max'), 'utf8').split(' ')[0] || 'max';
  } catch {
    return 'max';
  }
}

/** runc's words for a limit whose cgroup rootless mode could not make or join. */
function noCgroup(w: CgroupWrite): TsrunError {
  return new TsrunError(`${w.field}: cannot set ${w.controller} limit: container could not join or create cgroup`);
}

/**
 * Writes linux.resources into the container's cgroups (v1, v2, or hybrid: v1 controllers, with
 * controllers that only the v2 tree has, such as hugetlb here, written there). `setAlready`
 * (cgroup v2): the spec fields whose files hold their value already (a systemd unit's properties
 * wrote them); their controllers are checked, the files not written again.
 */
export function applyResources(dirs: string[], r: Resources, devices: DevicePolicy | undefined, warn: (msg: string) => void, rootless = false, setAlready?: ReadonlySet<string>): void {
  validateResources(r);
  if (isUnifiedHost()) {
    const dir = dirs[0]!;
    const all = v2Writes(r, warn, () => currentQuota(dir));
    if (!all.length) return;
    if (!dir) throw noCgroup(all[0]!);
    const writes = setAlready ? all.filter((w) => !setAlready.has(w.field)) : all;
    if (writes.length) enableControllers(hierarchies()[0]!.mountpoint, dir, new Set(writes.map((w) => w.controller)));
    const have = availableControllers(dir);
    for (const w of all) if (!have.includes(w.controller)) throw new TsrunError(`${w.field}: the ${w.controller} controller is not available in ${dir}`);
    for (const w of writes) write(dir, w);
    return;
  }
  const memDir = dirFor(dirs, (h) => h.controllers.includes('memory'));
  const currentMemsw = (): number => Number(readFileSync(join(memDir!, 'memory.memsw.limit_in_bytes'), 'utf8'));
  let deferred: { dir: string; w: CgroupWrite } | undefined;
  for (const w of v1Writes(r, devices, memDir ? currentMemsw : undefined)) {
    const dir = dirFor(dirs, (h) => h.controllers.includes(w.controller));
    // runc's rootless cgroups: the devices controller is not expected to work, every other
    // requested limit must be applied.
    if (rootless && w.controller === 'devices') {
      if (dir) tryWrite(dir, w);
      continue;
    }
    if (dir) {
      if (!write(dir, w, true)) {
        deferred = { dir, w };
        continue;
      }
      if (deferred) write(deferred.dir, deferred.w);
      deferred = undefined;
      continue;
    }
    const skipped = hierarchies().some((h, i) => (h.controllers.includes(w.controller) || (w.controller === 'hugetlb' && h.version === 2)) && dirs[i] === '');
    if (skipped) throw noCgroup(w);
    const unified = dirFor(dirs, (h) => h.version === 2);
    const uh = hierarchies().find((h) => h.version === 2);
    if (w.controller === 'hugetlb' && unified && uh && availableControllers(uh.mountpoint).includes('hugetlb')) {
      enableControllers(uh.mountpoint, unified, new Set(['hugetlb']));
      write(unified, { ...w, file: w.file.replace('.limit_in_bytes', '.max') });
      continue;
    }
    throw new TsrunError(`${w.field}: cannot set ${w.controller} limit: the ${w.controller} cgroup controller is not mounted`);
  }
}
