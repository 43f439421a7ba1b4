import { closeSync, existsSync, openSync, readSync, rmSync, constants } from 'node:fs';
import { join } from 'node:path';
import { constants as osConstants } from 'node:os';
import { cgroupDirsFor, cgroupPids, removeCgroups } from '../cgroups/manage.js';
import { freezerOf, isFrozen, setFrozen } from '../cgroups/freezer.js';
import { stopSystemdUnit, systemdRunning, type SystemdUnit } from '../cgroups/systemd/driver.js';
import { unitPlace } from '../cgroups/systemd/unit-name.js';
import { NotFoundError, TsrunError } from '../errors.js';
import { checkId, containerDir, FIFO_FILE } from '../state/paths.js';
import { isAlive, statusOf } from '../state/status.js';
import { lockContainer, withContainerLock } from '../state/lock.js';
import { loadSavedConfig, loadState, removeContainerDir, type SavedState } from '../state/store.js';
import { log } from '../cli/log.js';
import { runHooks, runHooksWarn, type Hooks } from '../hooks/run.js';
import { stateJson, type StateInfo } from '../hooks/state.js';
import type { Config } from '../spec/load.js';
import { sleepMs } from '../util/sleep.js';
import { loadNative } from '../native/addon.js';
import { unmountUnder } from './unmount.js';
import { testPause } from '../util/test-pause.js';

/** The config saved at create (hooks and ociVersion), or undefined if it cannot be read. */
function savedConfig(root: string, id: string): Config | undefined {
  try {
    return loadSavedConfig(root, id);
  } catch {
    return undefined;
  }
}

function info(s: SavedState): StateInfo {
  return { ociVersion: s.ociVersion, id: s.id, bundle: s.bundle, annotations: s.annotations };
}

/** How long start waits for the start byte: the startContainer hooks run before it is written. */
function startDeadlineMs(hooks: Hooks | undefined): number {
  const list = hooks?.startContainer ?? [];
  if (list.some((h) => !h.timeout)) return Infinity;
  return 2000 + list.reduce((n, h) => n + (h.timeout ?? 0) * 1000, 0);
}

/**
 * runtime.md#start: open the exec fifo for reading, which releases the container's process
 * blocked opening it for writing, and take the byte it writes (after the startContainer hooks,
 * just before execve); then the poststart hooks. A failing startContainer or poststart hook
 * stops the container and continues at lifecycle step 12 (destroy, poststop hooks).
 */
export function startContainer(root: string, id: string): SavedState {
  return withContainerLock(root, id, () => startLocked(root, id));
}

function startLocked(root: string, id: string): SavedState {
  const cfg = savedConfig(root, id);
  const s = waitStart(root, id, cfg?.hooks);
  // runc 1.1 runs poststart hooks at the end of create (before start, which runtime.md puts
  // them after), so in the bundle dir: they start there here too, while it exists.
  const ctx = existsSync(s.bundle) ? { cwd: s.bundle } : {};
  // Spec 1.0.x made a failing poststart hook a warning; from 1.1 on it fails start. A config
  // keeps the semantics of the version it declares.
  if (/^1\.0\./.test(cfg?.ociVersion ?? '')) {
    runHooksWarn(cfg?.hooks, 'poststart', stateJson(info(s), 'running', s.pid), (m) => log('warning', m), ctx);
  } else {
    try {
      runHooks(cfg?.hooks, 'poststart', stateJson(info(s), 'running', s.pid), ctx);
    } catch (e) {
      destroyAfterFailure(root, id);
      throw e;
    }
  }
  return s;
}

function destroyAfterFailure(root: string, id: string): void {
  try {
    deleteContainer(root, id, true);
  } catch (e) {
    log('warning', `delete ${id}: ${(e as Error).message}`);
  }
}

function waitStart(root: string, id: string, hooks: Hooks | undefined): SavedState {
  const s = loadState(root, id);
  const dir = containerDir(root, id);
  const status = statusOf(dir, s);
  if (status === 'stopped') throw new TsrunError('cannot start a container that has stopped');
  if (status === 'running') throw new TsrunError('cannot start an already running container');
  // runc's words for the others (a paused created container): "in the paused state"
  if (status !== 'created') throw new TsrunError(`cannot start a container in the ${status} state`);
  if (s.hasProcess === false) {
    // Such a container can never run anything: its init stops, so that delete needs no --force.
    killAll(s.id, s.cgroupDirs, s);
    throw new TsrunError('process: config.json has no process, so there is nothing to start');
  }
  const fifo = join(dir, FIFO_FILE);
  const deadline = Date.now() + startDeadlineMs(hooks);
  // Non-blocking: a blocking open would hang forever if the process died meanwhile.
  const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  testPause('start:opened');
  const native = loadNative();
  try {
    let woke = false;
    for (let polls = 0; ; polls++) {
      const n = readStartByte(fd);
      if (n === 1) break;
      if (polls === 0) testPause('start:polled');
      if (!isAlive(s)) {
        // A short-lived process can take the fifo, write its byte, execve and exit between the
        // read above and this look at pid 1: its byte then waits in the fifo, and it did start.
        if (readStartByte(fd) === 1) break;
        if (!hooks?.startContainer?.length) throw new TsrunError('cannot start a container that has stopped');
        destroyAfterFailure(root, id);
        throw new TsrunError(`start ${id}: the container's process exited before execve: a startContainer hook failed (the reason is on the container's stderr)`);
      }
      if (Date.now() > deadline) throw new TsrunError(`start ${id}: the container did not take the start signal`);
      // The wait ends when the byte is written, not at a sleep loop's next look (a warm start
      // is a few ms in all). A writer gone without its byte leaves the fifo hung up, which
      // polls as readable at once: only the look at pid 1 above ends that, so it is paced.
      if (woke && n === 0) sleepMs(1);
      woke = native.pollIn(fd, 10);
    }
  } finally {
    closeSync(fd);
  }
  testPause('start:read');
  rmSync(fifo, { force: true });
  return s;
}

/** One non-blocking read of the start byte: 1, 0 (no writer yet) or -1 (EAGAIN: a writer, no byte yet). */
function readStartByte(fd: number): number {
  try {
    return readSync(fd, Buffer.alloc(1), 0, 1, null);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    return -1;
  }
}

const SIGNALS = new Map<string, number>(Object.entries(osConstants.signals));

/** A signal by name (KILL, SIGKILL) or number, as runc's kill takes it; 0 checks the process is there. */
export function parseSignal(text: string): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n > 64) throw new TsrunError(`invalid signal: ${text}`);
    return n;
  }
  const name = text.toUpperCase();
  const n = SIGNALS.get(name.startsWith('SIG') ? name : `SIG${name}`);
  if (n === undefined) throw new TsrunError(`unknown signal "${text}"`);
  return n;
}

/** runc's kill: the container is looked up before the signal is read, so a missing one is the error. */
export function killContainer(root: string, id: string, signal: string, all: boolean): void {
  withContainerLock(root, id, () => killLocked(root, id, parseSignal(signal), all));
}

function killLocked(root: string, id: string, signal: number, all: boolean): void {
  const s = loadState(root, id);
  const status = statusOf(containerDir(root, id), s);
  const send = (pids: number[]): void => {
    for (const pid of pids) {
      try {
        process.kill(pid, signal);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw new TsrunError(`kill ${pid}: ${(e as Error).message}`);
      }
    }
  };
  // A frozen process dies of SIGKILL only once thawed: as runc, a paused container killed is
  // thawed, and a failed thaw is not the kill's error.
  const thawIfKilled = (): void => {
    if (status !== 'paused' || signal !== osConstants.signals.SIGKILL) return;
    try {
      setFrozen(s.freezer, false);
    } catch (e) {
      log('warning', (e as Error).message);
    }
  };
  if (!all) {
    // pid 0 would signal tsrun's own process group: a create that never got a pid has no process.
    // A frozen cgroup says "paused" even once pid 1 is gone: its pid may be another process's now.
    if (status === 'stopped' || !isAlive(s)) throw new TsrunError('container not running');
    send([s.pid]);
    return thawIfKilled();
  }
  // As runc, --all signals whatever is left in the cgroup, of a stopped container too (nothing,
  // or children that outlived a pid 1 without its own pid namespace).
  if (status === 'stopped') return send(cgroupPids(s.cgroupDirs));
  // Frozen, no process can fork a new one between reading the pid list and signalling it.
  let freeze = status === 'running';
  try {
    if (freeze) setFrozen(s.freezer, true);
  } catch {
    freeze = false; // no freezer here: signal without it
  }
  try {
    const pids = cgroupPids(s.cgroupDirs);
    send(pids.length ? pids : [s.pid]); // no cgroup (--cgroup-manager disabled): pid 1 at least
  } finally {
    try {
      if (freeze) setFrozen(s.freezer, false);
    } catch (e) {
      // A cgroup its manager removed once emptied (a systemd scope) needs no thaw.
      if (existsSync(s.freezer!.dir)) throw e;
    }
  }
  thawIfKilled();
}

/** How the container's cgroup was made, as the caller's global flags say (runc's rule: every call of a client passes them). */
export interface CgroupDriver {
  systemd: boolean;
  rootless: boolean;
}

/**
 * `delete --force` of an entry whose state.json is missing or corrupt (a crash, a full disk):
 * the cgroups are found again from the saved config (or the default path, the ID), whatever
 * runs in them is killed, and the entry goes. With the systemd driver the cgroup is the unit's,
 * named as create named it: the unit is stopped too (a scope is not removed by rmdir: systemd
 * would keep it loaded, and a slice would outlive its container).
 */
function removeUnreadable(root: string, id: string, driver: CgroupDriver): void {
  let dirs: string[] = [];
  let unit: SystemdUnit | undefined;
  if (existsSync(containerDir(root, id))) {
    const attempt = <T>(fn: () => T): T | undefined => {
      try {
        return fn();
      } catch {
        return undefined;
      }
    };
    const path = attempt(() => savedConfig(root, id)?.linux?.cgroupsPath);
    // Only where systemd runs can there be a unit; a path that is not slice:prefix:name was
    // never one (a container made without the flag): its cgroupfs dirs then.
    const place = driver.systemd && systemdRunning() ? attempt(() => unitPlace(path, id, driver.rootless)) : undefined;
    if (place) unit = { unit: place.unit, user: driver.rootless };
    const found = place ? (driver.rootless ? [] : attempt(() => cgroupDirsFor(place.cgroup))) : attempt(() => cgroupDirsFor(path ?? id));
    dirs = (found ?? []).filter((d) => existsSync(d));
  }
  killAll(id, dirs);
  if (unit) stopSystemdUnit(unit, dirs);
  removeCgroups(dirs);
  removeContainerDir(root, id);
}

/** runtime.md#delete: only a stopped container, unless forced. */
/** After a foreground run or restore: the container goes with its process; a failure is only a warning. */
export function deleteAfterExit(root: string, id: string): void {
  try {
    deleteContainer(root, id, true);
  } catch (e) {
    log('warning', `delete ${id}: ${(e as Error).message}`);
  }
}

export function deleteContainer(root: string, id: string, force: boolean, driver: CgroupDriver = { systemd: false, rootless: false }): void {
  // Checked before anything: a forced delete removes the entry's dir even when it can't be read.
  checkId(id);
  // The dir is removed with the lock held: a command waiting for it then finds no container.
  let release: () => void;
  try {
    release = lockContainer(root, id);
  } catch (e) {
    // As runc: a forced delete of what is not there (never was, or a concurrent delete won) succeeds.
    if (force && e instanceof NotFoundError) return;
    throw e;
  }
  try {
    deleteLocked(root, id, force, driver);
  } finally {
    release();
  }
}

function deleteLocked(root: string, id: string, force: boolean, driver: CgroupDriver): void {
  let s: SavedState;
  try {
    s = loadState(root, id);
  } catch (e) {
    if (force && e instanceof TsrunError) {
      removeUnreadable(root, id, driver);
      return;
    }
    throw e;
  }
  const status = statusOf(containerDir(root, id), s);
  // runtime.md#delete: deleting a container that is not stopped (created included) is an error.
  if (status !== 'stopped' && !force) {
    throw new TsrunError(`cannot delete container ${id} that is not stopped: ${status}`);
  }
  // Also when pid 1 is gone: without a pid namespace its children may still run (runc too).
  if (status !== 'stopped' || cgroupPids(s.cgroupDirs).length) killAll(s.id, s.cgroupDirs, s);
  const cfg = savedConfig(root, id);
  testPause('delete:killed');
  if (s.sharesMountNs) unmountUnder(s.rootfs);
  if (s.systemd) stopSystemdUnit(s.systemd, s.cgroupDirs);
  removeCgroups(s.cgroupDirs);
  testPause('delete:cgroups');
  removeContainerDir(root, id);
  // runtime.md#lifecycle step 13: after the container is destroyed; failures are warnings.
  runHooksWarn(cfg?.hooks, 'poststop', stateJson(info(s), 'stopped', undefined), (m) => log('warning', m));
}

/** SIGKILL pid 1 (which takes a pid namespace with it) and any other process of the cgroup. */
function killAll(id: string, dirs: string[], s?: SavedState): void {
  for (let i = 0; i < 500; i++) {
    const pids = new Set([...cgroupPids(dirs), ...(s && isAlive(s) ? [s.pid] : [])]);
    if (!pids.size) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    // A frozen task dies only once thawed; thawed after the SIGKILL, it runs no more user code.
    if (i === 0) {
      const f = s?.freezer ?? freezerOf(dirs);
      if (isFrozen(f)) setFrozen(f, false);
    }
    sleepMs(i < 10 ? 1 : 10);
  }
  throw new TsrunError(`delete ${id}: processes did not exit after SIGKILL`);
}
