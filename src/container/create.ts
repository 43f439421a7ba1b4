import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { applyResources } from '../cgroups/apply.js';
import { validateResources } from '../cgroups/resources.js';
import { deviceFilterProgram, deviceProgramDir } from '../cgroups/device-filter.js';
import { devicePolicy } from '../cgroups/devices.js';
import { freezerOf } from '../cgroups/freezer.js';
import { cgroupDirsFor, createCgroups, procsFiles, removeCgroups } from '../cgroups/manage.js';
import { checkPreexisting } from '../cgroups/preexisting.js';
import { needsDeviceProgram, prepareSystemd, startSystemdUnit, stopSystemdUnit } from '../cgroups/systemd/driver.js';
import { log } from '../cli/log.js';
import { stdioOf } from '../criu/descriptors.js';
import { TsrunError } from '../errors.js';
import { laterHooks, runCreateHooks, runHooksWarn } from '../hooks/run.js';
import { stateInfo, stateJson } from '../hooks/state.js';
import { buildPlan } from '../plan/build.js';
import { encodePlan, type PlanRecord } from '../plan/encode.js';
import { loadConfig, rootfsPath, type Config } from '../spec/load.js';
import { CONFIG_FILE, FIFO_FILE } from '../state/paths.js';
import { procStat } from '../state/status.js';
import { lockContainer, lockFd } from '../state/lock.js';
import { loadNative } from '../native/addon.js';
import { makeContainerDir, removeContainerDir, saveState, type SavedState } from '../state/store.js';
import { writePidFile } from '../state/pid-file.js';
import { launch, type Launched } from './launch.js';
import { moveNetDevices } from './netdevices.js';
import { unmountUnder } from './unmount.js';
import { testPause } from '../util/test-pause.js';

export interface CreateOptions {
  root: string;
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot: boolean;
  preserveFds: number;
  /** Foreground run: the C parent waits for the container and reports its status. */
  wait: boolean;
  /** False with `--cgroup-manager disabled` (Podman's --cgroups=disabled): no cgroup at all. */
  cgroups: boolean;
  /** Rootless cgroups (--rootless, auto-detected): a cgroup that cannot be made or joined is skipped. */
  rootless: boolean;
  /** The systemd driver: the cgroup is a transient unit (src/cgroups/systemd/). */
  systemd?: boolean;
}

export interface Created extends Launched {
  state: SavedState;
  dir: string;
}

/**
 * runtime.md#create: validate, make the state dir and cgroup, start the container's process
 * waiting on the exec fifo, then record state and the pid file. Any failure undoes every step.
 */
export async function createContainer(o: CreateOptions): Promise<Created> {
  const bundle = resolve(o.bundle);
  const cfg = loadConfig(bundle);
  const rootfs = rootfsPath(bundle, cfg);
  const listenFds = Number(process.env.LISTEN_FDS ?? 0) || 0;
  const preserveFds = o.preserveFds + listenFds;
  const extraEnv = listenFds ? [`LISTEN_FDS=${listenFds}`, 'LISTEN_PID=1'] : [];
  const cgroupsPath = cfg.linux?.cgroupsPath ?? o.id;
  const fifo = join(o.root, o.id, FIFO_FILE);
  // Everything that only reads input is checked before anything is made.
  validateResources(cfg.linux?.resources ?? {});
  const sd = o.cgroups && o.systemd ? prepareSystemd(cfg, o.id, o.rootless) : undefined;
  const devices = devicePolicy(cfg.linux?.resources?.devices);
  const plan = buildPlan({ cfg, id: o.id, debug: (m) => log('debug', m), bundle, rootfs, fifo, consoleSocket: o.consoleSocket && resolve(o.consoleSocket), noPivot: o.noPivot, preserveFds, extraEnv, wait: o.wait, root: o.root });

  // runc's create works in the bundle dir: its hooks start there.
  const inBundle = { cwd: bundle };
  const info = stateInfo(cfg, o.id, bundle);
  loadNative(); // before mkdir: a missing addon must not leave an entry behind
  const dir = makeContainerDir(o.root, o.id);
  testPause('create:state-dir');
  // mkdir was the exclusive step; the lock keeps start, kill and delete out until create ends.
  // If it fails, a forced delete removed the new dir meanwhile: what is there now is not ours.
  const unlock = lockContainer(o.root, o.id);
  let cgroupDirs: string[] = [];
  let pid = 0;
  try {
    const held = lockFd(o.root, o.id)!;
    // Only a hole in the caller's fds could put it there; preserved fds are handed on as they are.
    if (held < 3 + preserveFds) throw new TsrunError(`--preserve-fds: fd ${held} is not open in the caller (fds 3 to ${2 + preserveFds} are handed to the container)`);
    const state = creatingState(cfg, o.id, bundle, rootfs);
    state.sharesMountNs = !plan.ns.has('mount') || undefined;
    const records: PlanRecord[] = [...plan.records];
    let placeChild: ((pid: number) => void) | undefined;
    if (sd) {
      // The unit is made with pid 1 in it while the C parent waits (cgroup_sync), as runc and
      // crun start it with their init's pid.
      records.push(['cgroup_sync']);
      const sdDev = deviceProgramDir(sd.dirs, o.rootless);
      if (sdDev && needsDeviceProgram(devices)) records.push(['device_filter', sdDev, deviceFilterProgram(devices).toString('hex')]);
      placeChild = (p) => {
        testPause('create:cgroups');
        cgroupDirs = startSystemdUnit(sd, p, cfg, devices, (m) => log('warning', m));
        state.cgroupDirs = cgroupDirs;
        state.systemd = { unit: sd.unit, user: sd.user };
        state.freezer = freezerOf(cgroupDirs);
        saveState(dir, state);
      };
    } else if (o.cgroups) {
      checkPreexisting(cgroupDirsFor(cgroupsPath), (m) => log('warning', m));
      cgroupDirs = createCgroups(cgroupsPath, { rootless: o.rootless, explicitPath: !!cfg.linux?.cgroupsPath, note: (m) => log('debug', m) });
      state.cgroupDirs = cgroupDirs;
      state.freezer = freezerOf(cgroupDirs);
      testPause('create:cgroups');
      applyResources(cgroupDirs, cfg.linux?.resources ?? {}, devices, (m) => log('warning', m), o.rootless);
      // The C core runs records in its own fixed order, so the cgroups can go last.
      records.push(...procsFiles(cgroupDirs).map((p): PlanRecord => ['cgroup', p]));
      // cgroup v2 has no devices files: the rules become a BPF program tsrun-init attaches.
      const devDir = deviceProgramDir(cgroupDirs, o.rootless);
      if (devDir) records.push(['device_filter', devDir, deviceFilterProgram(devices).toString('hex')]);
    }
    // config.md#posix-platform-hooks: the child waits before pivot_root while these run here,
    // in the runtime namespace.
    const hooksStep = (): void => {
      testPause('create:hooks');
      runCreateHooks(cfg.hooks, info, pid, inBundle);
    };
    // Saved at each step, so that a tsrun killed mid-create leaves a state `delete --force`
    // can clean up from: pid 0 ("creating") with the cgroups, then the pid.
    saveState(dir, state);
    testPause('create:saved');
    const onPid = (p: number): void => {
      pid = p;
      state.pid = p;
      state.pidStartTime = procStat(p)?.startTime ?? '';
      // The child holds the caller's stdio until tsrun-init releases it (a terminal comes later):
      // what runc records for descriptors.json when its init starts.
      state.stdio = stdioOf(p);
      saveState(dir, state);
      testPause('create:pid');
    };
    const launched = launch(encodePlan(records), preserveFds, onPid, o.wait, hooksStep, placeChild);
    testPause('create:launched');
    if (cfg.linux?.netDevices) moveNetDevices(cfg.linux.netDevices, launched.pid);
    if (!procStat(launched.pid)) throw new TsrunError(`container process ${launched.pid} exited during create`);
    // exec builds on the config as it was at create, not as the bundle has it now.
    writeFileSync(join(dir, CONFIG_FILE), JSON.stringify(cfg), { mode: 0o600 });
    testPause('create:config');
    delete state.creating;
    saveState(dir, state);
    testPause('create:done');
    if (o.pidFile) writePidFile(o.pidFile, launched.pid);
    return { ...launched, state, dir };
  } catch (e) {
    if (pid > 0) killAndReap(pid);
    try {
      if (!plan.ns.has('mount')) unmountUnder(rootfs);
      if (sd?.started) {
        try {
          stopSystemdUnit(sd, cgroupDirs.length ? cgroupDirs : sd.dirs);
        } catch (e2) {
          log('warning', `${(e2 as Error).message}`);
        }
      }
      removeCgroups(cgroupDirs);
    } finally {
      removeContainerDir(o.root, o.id);
    }
    // runtime.md#lifecycle: a failed create continues at step 12, so poststop hooks run too.
    if (pid > 0) runHooksWarn(cfg.hooks, 'poststop', stateJson(info, 'stopped', undefined), (m) => log('warning', m), inBundle);
    throw e;
  } finally {
    unlock();
  }
}

/** state.json of a container being made (create, restore): no pid and no cgroups yet. */
export function creatingState(cfg: Config, id: string, bundle: string, rootfs: string): SavedState {
  return {
    stateVersion: 2,
    ociVersion: cfg.ociVersion,
    id,
    pid: 0,
    pidStartTime: '',
    bundle,
    rootfs,
    created: new Date().toISOString(),
    owner: ownerName(),
    annotations: stateInfo(cfg, id, bundle).annotations,
    hasProcess: cfg.process !== undefined,
    cgroupDirs: [],
    creating: true,
    hooks: laterHooks(cfg.hooks),
  };
}

function killAndReap(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** runc reports the user who owns the state dir by name. */
function ownerName(): string {
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return 'root';
  try {
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[2] === String(uid));
    return line ? line.split(':')[0]! : String(uid);
  } catch {
    return String(uid);
  }
}
