// Where a container goes under the systemd driver: linux.cgroupsPath "slice:prefix:name" names a
// transient unit, read as runc's libcontainer/cgroups/systemd does (ExpandSlice, getUnitName).
import { posix } from 'node:path';
import { TsrunError } from '../../errors.js';

export interface UnitPlace {
  /** The transient unit: prefix-name.scope, or name itself when it ends in .slice. */
  unit: string;
  /** The slice it goes in (a scope's Slice=, a slice's Wants=). */
  slice: string;
  /** The unit's cgroup below the manager's root: /system.slice/tsrun-x.scope. */
  cgroup: string;
}

/** The prefix of a default unit (no cgroupsPath): tsrun-<id>.scope, as runc makes runc-<id>.scope. */
export const DEFAULT_PREFIX = 'tsrun';

/**
 * a-b-c.slice → /a.slice/a-b.slice/a-b-c.slice; -.slice is the root. Dashes separate levels, so
 * an empty level (a--b.slice, -a.slice, a-.slice) and a "/" are refused, as systemd does.
 */
export function expandSlice(slice: string): string {
  const suffix = '.slice';
  if (slice.length < suffix.length || !slice.endsWith(suffix) || slice.includes('/')) throw new TsrunError(`invalid slice name: ${slice}`);
  const name = slice.slice(0, -suffix.length);
  if (name === '-') return '/';
  let path = '';
  let prefix = '';
  for (const part of name.split('-')) {
    if (part === '') throw new TsrunError(`invalid slice name: ${slice}`);
    path += `/${prefix}${part}${suffix}`;
    prefix += `${part}-`;
  }
  return path;
}

/**
 * The unit for a container: cgroupsPath "slice:prefix:name" (an empty slice is the default), or
 * with no cgroupsPath the default prefix and the container's ID, in system.slice (user.slice for
 * a user's own systemd instance).
 */
export function unitPlace(cgroupsPath: string | undefined, id: string, userInstance: boolean): UnitPlace {
  let slice = '';
  let prefix = DEFAULT_PREFIX;
  let name = id;
  if (cgroupsPath) {
    const parts = cgroupsPath.split(':');
    if (parts.length !== 3) throw new TsrunError(`linux.cgroupsPath: expected "slice:prefix:name" for the systemd cgroup driver, got "${cgroupsPath}"`);
    [slice, prefix, name] = parts as [string, string, string];
  }
  if (!slice) slice = userInstance ? 'user.slice' : 'system.slice';
  if (!name) throw new TsrunError(`linux.cgroupsPath: the unit name (the part after the last ":") is empty in "${cgroupsPath}"`);
  const unit = name.endsWith('.slice') ? name : `${prefix}-${name}.scope`;
  if (!/^[A-Za-z0-9:_.\\-]+$/.test(unit) || unit.length > 255) throw new TsrunError(`linux.cgroupsPath: "${unit}" is not a valid systemd unit name`);
  // A slice unit's place comes from its own name; a scope sits in its slice.
  const cgroup = unit.endsWith('.slice') ? expandSlice(unit) : posix.join(expandSlice(slice), unit);
  return { unit, slice, cgroup };
}
