import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { TsrunError } from '../errors.js';
import { sleepMs } from '../util/sleep.js';
import { enableControllers, availableControllers } from './apply.js';
import { hierarchies, isUnifiedHost, processCgroup, type Hierarchy } from './hierarchy.js';
import { callerPid } from '../util/caller.js';

/**
 * The container's directory in one hierarchy. An absolute cgroupsPath is taken from the
 * hierarchy's root; a relative one (and the default, the container ID) from where runc 1.1.5's
 * cgroupfs driver puts it (libcontainer/cgroups/fs/paths.go, fs2/defaultpath.go):
 */
function dirIn(h: Hierarchy, cgroupsPath: string): string {
  let inner = cgroupsPath;
  if (!posix.isAbsolute(inner)) inner = posix.join(relativeBase(h), inner);
  inner = posix.normalize(inner);
  // The mount may show only a subtree (mount root != "/"), as inside another container.
  if (h.root !== '/' && inner.startsWith(h.root)) inner = inner.slice(h.root.length) || '/';
  return join(h.mountpoint, inner);
}

/**
 * - a v1 hierarchy: below the runtime's own cgroup (not pid 1's: on a systemd host that is
 *   /init.scope, which holds a process);
 * - a pure v2 host: below the parent of the runtime's own cgroup (a cgroup holding processes,
 *   such as the caller's session scope, can't enable controllers for a child);
 * - the controller-less v2 tree of a hybrid host: from its root.
 */
function relativeBase(h: Hierarchy): string {
  if (h.version === 1) return processCgroup(callerPid(), h) ?? '/';
  if (!isUnifiedHost()) return '/';
  return posix.dirname(processCgroup(callerPid(), h) ?? '/');
}

export function checkCgroupsPath(p: string): void {
  if (p.split('/').includes('..')) throw new TsrunError(`linux.cgroupsPath: must not contain "..": ${p}`);
}

/** Where the container's cgroups are (or would be), one dir per hierarchy, without making them. */
export function cgroupDirsFor(cgroupsPath: string): string[] {
  checkCgroupsPath(cgroupsPath);
  return hierarchies().map((h) => dirIn(h, cgroupsPath));
}

/** How createCgroups treats a hierarchy it may not write to. */
export interface RootlessCgroups {
  /** Rootless mode (runc's rootless cgroup manager). */
  rootless: boolean;
  /** linux.cgroupsPath was given: then, as in runc, a permission error is an error even rootless. */
  explicitPath: boolean;
  /** Where a skipped hierarchy is noted (debug log). */
  note: (msg: string) => void;
}

const PERMISSION_CODES = new Set(['EACCES', 'EPERM', 'EROFS']);

/**
 * Makes the container's cgroup in every hierarchy; returns the dirs, one per hierarchy, "" for a
 * hierarchy rootless mode skipped (it could not be made or joined for lack of permission, and
 * no cgroupsPath was asked for). Undone by removeCgroups.
 */
export function createCgroups(cgroupsPath: string, rl?: RootlessCgroups): string[] {
  checkCgroupsPath(cgroupsPath);
  const dirs: string[] = [];
  try {
    for (const h of hierarchies()) {
      const dir = dirIn(h, cgroupsPath);
      try {
        makeOne(h, dir);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (!rl?.rootless || rl.explicitPath || !code || !PERMISSION_CODES.has(code)) throw e;
        rl.note(`rootless: no cgroup in ${h.mountpoint}: ${(e as Error).message}`);
        dirs.push('');
        continue;
      }
      dirs.push(dir);
    }
  } catch (e) {
    removeCgroups(dirs);
    throw new TsrunError(`create cgroup ${cgroupsPath}: ${(e as Error).message}`);
  }
  return dirs;
}

function makeOne(h: Hierarchy, dir: string): void {
  // On v2 a cgroup can use only what its parents delegate: enable everything on the way down.
  const v2 = h.version === 2 && isUnifiedHost();
  if (v2) {
    mkdirSync(posix.dirname(dir), { recursive: true });
    enableControllers(h.mountpoint, dir, new Set(availableControllers(h.mountpoint)));
  }
  // One mkdir in the common case (parent there, dir new): create makes ten of these on a v1 host.
  let made = true;
  try {
    mkdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') made = false;
    else if (code === 'ENOENT') mkdirSync(dir, { recursive: true });
    else throw e;
  }
  try {
    // The C core joins it by writing cgroup.procs: a dir that can be made but not joined is no use.
    accessSync(join(dir, 'cgroup.procs'), constants.W_OK);
    if (h.controllers.includes('cpuset')) inheritCpuset(dir, h.mountpoint);
  } catch (e) {
    if (made) rmdirSync(dir);
    throw e;
  }
}

/** A new v1 cpuset cgroup starts with no cpus and mems, and no task can join it until set. */
function inheritCpuset(dir: string, mountpoint: string): void {
  for (const file of ['cpuset.cpus', 'cpuset.mems']) {
    const chain: string[] = [];
    for (let d = dir; d.startsWith(mountpoint) && d.length >= mountpoint.length; d = posix.dirname(d)) chain.unshift(d);
    let value = '';
    for (const d of chain) {
      const cur = readFileSync(join(d, file), 'utf8').trim();
      if (cur === '' && value !== '') writeFileSync(join(d, file), value);
      else value = cur;
    }
  }
}

/** cgroup.procs files the container's pid 1 is written into by the C core. */
export function procsFiles(dirs: string[]): string[] {
  return dirs.filter(Boolean).map((d) => join(d, 'cgroup.procs'));
}

/** Pids in the container's cgroup and its sub-cgroups (runc's GetAllPids), from the first hierarchy that has the dir. */
export function cgroupPids(dirs: string[]): number[] {
  for (const d of dirs.filter(Boolean)) {
    const pids: number[] = [];
    if (pidsUnder(d, pids)) return pids;
  }
  return [];
}

/** Adds the pids of `dir` and of every cgroup below it; false when `dir` cannot be read. */
function pidsUnder(dir: string, out: number[]): boolean {
  let text: string;
  try {
    text = readFileSync(join(dir, 'cgroup.procs'), 'utf8');
  } catch {
    return false;
  }
  for (const p of text.split('\n')) if (p) out.push(Number(p));
  for (const sub of subdirs(dir)) pidsUnder(join(dir, sub), out);
  return true;
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}

/**
 * Removes the container's cgroups with the sub-cgroups made in them (by the container through a
 * writable cgroup mount, or from the host), deepest first as runc's RemovePath; a dir still busy
 * with exiting tasks is retried briefly.
 */
export function removeCgroups(dirs: string[]): void {
  const failures: string[] = [];
  for (const d of dirs) {
    if (!d || !existsSync(d)) continue;
    let err: NodeJS.ErrnoException | undefined;
    for (let i = 0; i < 50; i++) {
      err = removeTree(d);
      if (err?.code !== 'EBUSY') break;
      sleepMs(10);
    }
    if (err) failures.push(`${err.path ?? d}: ${err.message}`);
  }
  if (failures.length) throw new TsrunError(`remove cgroup: ${failures.join('; ')}`);
}

/** rmdir of a cgroup after its sub-cgroups; the first error, undefined when it is gone. */
function removeTree(dir: string): NodeJS.ErrnoException | undefined {
  const rm = (): NodeJS.ErrnoException | undefined => {
    try {
      rmdirSync(dir);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code !== 'ENOENT') return err;
    }
    return undefined;
  };
  // One rmdir in the common case: no sub-cgroups.
  if (!rm()) return undefined;
  for (const sub of subdirs(dir)) {
    const err = removeTree(join(dir, sub));
    if (err) return err;
  }
  return rm();
}
