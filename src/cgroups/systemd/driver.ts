// The systemd cgroup driver (--systemd-cgroup, --cgroup-manager systemd): the container's cgroup
// is a transient unit systemd makes and owns, as runc's libcontainer/cgroups/systemd does it.
// create: the unit is started over D-Bus with the container's pid 1 in PIDs (the C parent waits
// meanwhile: plan record cgroup_sync), then what systemd has no property for is written to the
// unit's cgroup files. delete: the unit is stopped and waited for. Loaded only with the flag.
import { lstatSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsrunError } from '../../errors.js';
import type { Config } from '../../spec/load.js';
import { applyResources } from '../apply.js';
import type { DevicePolicy } from '../devices.js';
import { hierarchies, isUnifiedHost, processCgroup } from '../hierarchy.js';
import { callerPid } from '../../util/caller.js';
import { cgroupDirsFor, createCgroups } from '../manage.js';
import type { Resources } from '../resources.js';
import { annotationProperties } from './annotations.js';
import { managerProperty, setUnitProperties, startUnit, stopUnit, systemdVersion, withBus } from './manager.js';
import { deviceProperties, resourceProperties, unitProperties } from './properties.js';
import { unitPlace, type UnitPlace } from './unit-name.js';

/** What state.json keeps of the unit (`systemd`). */
export interface SystemdUnit {
  unit: string;
  /** The user's own instance (rootless) rather than the system's. */
  user: boolean;
}

/** runc's test for a host booted with systemd (sd_booted(3)). */
export function systemdRunning(): boolean {
  try {
    return lstatSync('/run/systemd/system').isDirectory();
  } catch {
    return false;
  }
}

export interface SystemdCreate extends SystemdUnit {
  place: UnitPlace;
  description: string;
  /** The unit's cgroup dirs, one per hierarchy, where they are known before the unit exists. */
  dirs: string[];
  /** Set once the unit is started: only then is it ours to stop. */
  started: boolean;
}

/**
 * Everything create can know before anything is made: that systemd runs, the unit's name and
 * place. Errors here leave nothing behind.
 */
export function prepareSystemd(cfg: Config, id: string, rootless: boolean): SystemdCreate {
  if (!systemdRunning()) {
    throw new TsrunError('--systemd-cgroup: systemd cgroup flag passed, but systemd support for managing cgroups is not available: this host was not booted with systemd (/run/systemd/system is missing); use the cgroupfs driver');
  }
  const place = unitPlace(cfg.linux?.cgroupsPath, id, rootless);
  // A user instance's units live under its own cgroup, asked from it at start.
  const dirs = rootless ? [] : cgroupDirsFor(place.cgroup);
  return { unit: place.unit, user: rootless, place, description: `tsrun container ${id}`, dirs, started: false };
}

/**
 * A user's instance can take only processes of its own delegated tree (user@UID.service): writing
 * a pid to a cgroup.procs needs write access to the common ancestor of both cgroups, and outside
 * that tree the ancestor is root's. runc's job then just fails; tsrun says why first. On v2 only:
 * v1 hierarchies do not say where the instance is.
 */
function checkInUserTree(base: string): void {
  const v2 = hierarchies().find((h) => h.version === 2 && h.mountpoint === '/sys/fs/cgroup');
  const own = v2 && processCgroup(callerPid(), v2);
  if (own === undefined || `${own}/`.startsWith(`${base}/`)) return;
  throw new TsrunError(`--systemd-cgroup (rootless): tsrun runs in cgroup ${own}, outside the cgroup of the user's systemd instance (${base}), which can only take processes of its own tree: run it from a unit of that instance (systemd-run --user, or a client that does so, as rootless Podman does)`);
}

/** The unit's cgroup dirs; for a user instance its tree, which is asked from it. */
function unitCgroup(sd: SystemdCreate, base: string | undefined): string[] {
  if (!sd.user || base === undefined) return sd.dirs;
  return cgroupDirsFor(join(base, sd.place.cgroup));
}

/**
 * Starts the unit with pid in it and the config's resources as properties, then writes the
 * resources to its cgroup files as well (what no property covers: the unified map's other keys,
 * io.max, hugetlb, ...). On v1 the hierarchies systemd does not manage get the dirs by cgroupfs.
 * Returns the dirs, one per hierarchy.
 */
export function startSystemdUnit(sd: SystemdCreate, pid: number, cfg: Config, devices: DevicePolicy, warn: (m: string) => void): string[] {
  const r: Resources = cfg.linux?.resources ?? {};
  const unified = isUnifiedHost();
  const isSlice = sd.unit.endsWith('.slice');
  return withBus(sd.user, (bus) => {
    let version: number | undefined;
    const ver = (): number => (version ??= systemdVersion(bus));
    const res = resourceProperties(r, sd.user ? undefined : devices, ver, !unified);
    const base = sd.user ? String(managerProperty(bus, 'ControlGroup')) : undefined;
    if (base !== undefined && unified) checkInUserTree(base);
    const props = [...unitProperties(sd.unit, sd.place.slice, sd.description, isSlice ? undefined : pid), ...annotationProperties(cfg.annotations as Record<string, string> | undefined), ...res.props];
    startUnit(bus, sd.unit, props);
    sd.started = true;
    let dirs = unitCgroup(sd, base);
    if (!unified) dirs = createCgroups(sd.place.cgroup);
    // A scope got the pid from systemd; a slice, or a v1 hierarchy systemd leaves alone, from here.
    if (isSlice || !unified) for (const d of dirs) if (d) writeFileSync(join(d, 'cgroup.procs'), String(pid));
    applyResources(dirs, res.resources, devices, warn, sd.user, res.setByUnit);
    return dirs;
  });
}

/**
 * Whether tsrun's own v2 device program is needed: not when systemd's DevicePolicy=strict and
 * DeviceAllow say exactly what the rules say (runc attaches its own program in any case; one
 * program fewer to load is a create that is that much shorter).
 */
export function needsDeviceProgram(devices: DevicePolicy): boolean {
  return !deviceProperties(devices).exact;
}

/** update: the new limits as unit properties (SetUnitProperties), then in the cgroup files. */
export function updateSystemdUnit(unit: SystemdUnit, dirs: string[], r: Resources, warn: (m: string) => void): void {
  withBus(unit.user, (bus) => {
    let version: number | undefined;
    const res = resourceProperties(r, undefined, () => (version ??= systemdVersion(bus)), !isUnifiedHost());
    setUnitProperties(bus, unit.unit, res.props);
    applyResources(dirs, res.resources, undefined, warn, unit.user);
  });
}

/** delete (and a failed create): stop the unit, reset it if failed, wait until its cgroup is gone. */
export function stopSystemdUnit(unit: SystemdUnit, dirs: string[]): void {
  const unifiedDir = dirs[hierarchies().findIndex((h) => h.version === 2)] || undefined;
  withBus(unit.user, (bus) => stopUnit(bus, unit.unit, isUnifiedHost() ? unifiedDir : undefined));
}
