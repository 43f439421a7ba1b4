// The transient unit's life over D-Bus, as runc's systemd driver leads it (common.go: startUnit,
// stopUnit, resetFailedUnit, setUnitProperties): every job is waited for, and systemd's own words
// are what the caller sees when it refuses.
import { existsSync } from 'node:fs';
import { TsrunError } from '../../errors.js';
import { sleepMs } from '../../util/sleep.js';
import { Bus, DbusError, TIMEOUT_MS } from './bus.js';
import type { Property } from './properties.js';
import type { DbusValue } from './wire.js';

const propsValue = (props: Property[]): DbusValue[] => props.map(([n, v]) => [n, v]);

/** systemd's version number ("252.38-1~deb12u1" → 252), asked once per connection. */
export function systemdVersion(bus: Bus): number {
  const v = bus.call('Get', 'ss', ['org.freedesktop.systemd1.Manager', 'Version'], undefined, 'org.freedesktop.DBus.Properties')[0] as { value: string };
  const m = /^"?v?(\d+)/.exec(String(v.value));
  return m ? Number(m[1]) : -1;
}

/** A manager property (ControlGroup of a user instance, ...). */
export function managerProperty(bus: Bus, name: string): DbusValue {
  return (bus.call('Get', 'ss', ['org.freedesktop.systemd1.Manager', name], undefined, 'org.freedesktop.DBus.Properties')[0] as { value: DbusValue }).value;
}

function waitJob(bus: Bus, job: string, unit: string, what: string): void {
  const result = bus.jobResult(job);
  if (result !== 'done') {
    resetFailed(bus, unit);
    throw new TsrunError(`systemd: ${what} ${unit}: the job ended "${result}"`);
  }
}

/**
 * Makes the transient unit and waits for its start job. A unit of the same name that exists is
 * reset once in case it is a leftover failed one, then it is an error (runc's rule): the unit is
 * someone else's then, and must be left as it is.
 */
export function startUnit(bus: Bus, unit: string, props: Property[]): void {
  let job: string;
  try {
    job = startCall(bus, unit, props);
  } catch (e) {
    if (!(e instanceof DbusError) || e.dbusName !== 'org.freedesktop.systemd1.UnitExists') throw unitError('start unit', unit, e);
    resetFailed(bus, unit);
    try {
      job = startCall(bus, unit, props);
    } catch (e2) {
      throw unitError('start unit', unit, e2);
    }
  }
  waitJob(bus, job, unit, 'start unit');
}

function startCall(bus: Bus, unit: string, props: Property[]): string {
  return bus.call('StartTransientUnit', 'ssa(sv)a(sa(sv))', [unit, 'replace', propsValue(props), []])[0] as string;
}

function unitError(what: string, unit: string, e: unknown): Error {
  if (e instanceof DbusError) return new TsrunError(`systemd: ${what} ${unit}: ${e.message}`);
  return e as Error;
}

/** Changes a running unit's properties (runtime, not persisted: update is for this boot). */
export function setUnitProperties(bus: Bus, unit: string, props: Property[]): void {
  if (!props.length) return;
  try {
    bus.call('SetUnitProperties', 'sba(sv)', [unit, true, propsValue(props)]);
  } catch (e) {
    throw unitError('set properties of', unit, e);
  }
}

/** Lets systemd forget a failed unit; nothing to do for one that is not failed, or gone. */
export function resetFailed(bus: Bus, unit: string): void {
  try {
    bus.call('ResetFailedUnit', 's', [unit]);
  } catch {
    // not loaded, or not failed
  }
}

/**
 * Stops the unit and waits for the stop job, resets it if it failed (an OOM kill), and waits until
 * its cgroup is gone. A unit that no longer exists (its last process ended) is no error.
 */
export function stopUnit(bus: Bus, unit: string, cgroupDir: string | undefined): void {
  let job: string | undefined;
  try {
    job = bus.call('StopUnit', 'ss', [unit, 'replace'])[0] as string;
  } catch (e) {
    if (!(e instanceof DbusError) || e.dbusName !== 'org.freedesktop.systemd1.NoSuchUnit') throw unitError('stop unit', unit, e);
  }
  if (job) {
    const result = bus.jobResult(job);
    if (result !== 'done' && result !== 'canceled') {
      resetFailed(bus, unit);
      throw new TsrunError(`systemd: stop unit ${unit}: the job ended "${result}"`);
    }
  }
  resetFailed(bus, unit);
  if (!cgroupDir) return;
  for (const end = Date.now() + TIMEOUT_MS; existsSync(cgroupDir); sleepMs(2)) {
    if (Date.now() > end) throw new TsrunError(`systemd: stop unit ${unit}: its cgroup ${cgroupDir} is still there after ${TIMEOUT_MS / 1000} s`);
  }
}

/** Opens the connection for one command and closes it after fn, whatever happens. */
export function withBus<T>(user: boolean, fn: (bus: Bus) => T): T {
  const bus = Bus.connect(user);
  try {
    return fn(bus);
  } finally {
    bus.close();
  }
}
