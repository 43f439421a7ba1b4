import { closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readlinkSync, rmdirSync, statSync, writeFileSync, constants } from 'node:fs';
import { join, posix, relative, resolve } from 'node:path';
import { applyResources } from '../cgroups/apply.js';
import { deviceFilterProgram, deviceProgramDir } from '../cgroups/device-filter.js';
import { devicePolicy } from '../cgroups/devices.js';
import { freezerOf } from '../cgroups/freezer.js';
import { hierarchies } from '../cgroups/hierarchy.js';
import { cgroupDirsFor, createCgroups, removeCgroups } from '../cgroups/manage.js';
import { checkPreexisting } from '../cgroups/preexisting.js';
import { validateResources } from '../cgroups/resources.js';
import { log } from '../cli/log.js';
import { endHookAction, prepareHookAction } from '../criu/action.js';
import { restoreArgs } from '../criu/args.js';
import { findCriu, requireVersion } from '../criu/binary.js';
import { loadPipeDescriptors, stdioOf } from '../criu/descriptors.js';
import type { CriuOptions } from '../criu/options.js';
import { runCriu } from '../criu/run.js';
import { loadTtyKey } from '../criu/tty.js';
import { TsrunError } from '../errors.js';
import { validateHooks } from '../hooks/run.js';
import { stateInfo } from '../hooks/state.js';
import { loadNative } from '../native/addon.js';
import { loadConfig, rootfsPath, type Config } from '../spec/load.js';
import { CONFIG_FILE } from '../state/paths.js';
import { writePidFile } from '../state/pid-file.js';
import { procStat } from '../state/status.js';
import { lockContainer } from '../state/lock.js';
import { makeContainerDir, removeContainerDir, saveState } from '../state/store.js';
import { childProcess } from '../util/child-process.js';
import { checkCriuCan, criuConfigFile } from './checkpoint.js';
import { creatingState } from './create.js';

export interface RestoreOptions {
  root: string;
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  cgroups: boolean;
  rootless: boolean;
  systemd: boolean;
  criu: CriuOptions;
}

/**
 * runc's restore: a new container ID from the bundle's config, its cgroups made and limited as
 * create makes them, then `criu restore` of the image dir into them. The restored process is
 * the container's pid 1 and tsrun's child (CRIU's --restore-sibling); state.json then says
 * running, as after create and start. Any failure undoes every step.
 */
export function restoreContainer(o: RestoreOptions): { pid: number } {
  const bundle = resolve(o.bundle);
  const cfg = loadConfig(bundle);
  const rootfs = rootfsPath(bundle, cfg);
  checkCriuCan(cfg, o.criu, o.id);
  if (o.consoleSocket && !cfg.process?.terminal) throw new TsrunError('cannot use console socket if tsrun will not allocate tty (process.terminal is false)');
  if (cfg.process?.terminal && !o.consoleSocket) throw new TsrunError('process.terminal: restore needs --console-socket to send the new terminal\'s master to (tsrun does not relay a restored terminal)');
  if (o.cgroups && o.systemd) throw new TsrunError('restore with the systemd cgroup driver is not supported by tsrun; use --cgroup-manager cgroupfs');
  validateResources(cfg.linux?.resources ?? {});
  validateHooks(cfg.hooks);
  const devices = devicePolicy(cfg.linux?.resources?.devices);
  const criu = findCriu();
  if (o.criu.lsmProfile) requireVersion(criu, 31600, '--lsm-profile');
  if (o.criu.lsmMountContext) requireVersion(criu, 31600, '--lsm-mount-context');
  if (!existsSync(o.criu.imageDir)) throw new TsrunError(`--image-path ${o.criu.imageDir}: no such directory`);
  const pipes = loadPipeDescriptors(o.criu.imageDir);
  const ttyKey = cfg.process?.terminal ? loadTtyKey(o.criu.imageDir) : undefined;
  const cgroupsPath = cfg.linux?.cgroupsPath ?? o.id;
  const joinNs = joinedNamespaces(cfg);
  loadNative(); // before mkdir: a missing addon must not leave an entry behind

  const dir = makeContainerDir(o.root, o.id);
  const unlock = lockContainer(o.root, o.id);
  let cgroupDirs: string[] = [];
  let pid = 0;
  const nsFds: number[] = [];
  let pty: [number, number] | undefined;
  let consoleFd: number | undefined;
  try {
    const state = creatingState(cfg, o.id, bundle, rootfs);
    if (o.cgroups) {
      checkPreexisting(cgroupDirsFor(cgroupsPath), (m) => log('warning', m));
      cgroupDirs = createCgroups(cgroupsPath, { rootless: o.rootless, explicitPath: !!cfg.linux?.cgroupsPath, note: (m) => log('debug', m) });
      state.cgroupDirs = cgroupDirs;
      state.freezer = freezerOf(cgroupDirs);
      applyResources(cgroupDirs, cfg.linux?.resources ?? {}, devices, (m) => log('warning', m), o.rootless);
      // What tsrun-init attaches at create (runc's cgroup manager Set does both at restore).
      const devDir = deviceProgramDir(cgroupDirs, o.rootless);
      if (devDir) {
        try {
          loadNative().attachDeviceProgram(devDir, deviceFilterProgram(devices));
        } catch (e) {
          throw new TsrunError(`linux.resources.devices: ${(e as Error).message}`);
        }
      }
    }
    saveState(dir, state);
    makeMountpoints(cfg, rootfs);
    const externalNs: { type: 'network' | 'pid'; fd: number }[] = [];
    for (const ns of cfg.linux?.namespaces ?? []) {
      if (!ns.path || (ns.type !== 'network' && ns.type !== 'pid')) continue;
      if ((ns.type === 'network' && criu.version < 31100) || (ns.type === 'pid' && criu.version < 31500)) continue;
      try {
        nsFds.push(openSync(ns.path, constants.O_RDONLY));
      } catch (e) {
        throw new TsrunError(`linux.namespaces: ${ns.type} ${ns.path}: ${(e as Error).message}`);
      }
      externalNs.push({ type: ns.type, fd: 2 + nsFds.length });
    }
    // runc records the stdio criu is given (the restoring caller's), which the restored pipes are.
    state.stdio = stdioOf('self');
    let tty: { fd: number; path: string; key: string } | undefined;
    if (ttyKey && o.consoleSocket) {
      // Connected first: a socket nobody listens on fails the restore before CRIU runs.
      consoleFd = connectConsole(o.consoleSocket);
      pty = loadNative().openPty();
      const slave = readlinkSync(`/proc/self/fd/${pty[1]}`);
      tty = { fd: 3 + nsFds.length, path: slave, key: ttyKey };
      state.stdio = [slave, slave, slave];
    }
    const criuPidFile = join(dir, 'criu.pid');
    // runc's restore works in the bundle dir (setupSpec): its hooks start there, as create's.
    const actionScript = prepareHookAction(dir, cfg.hooks, stateInfo(cfg, o.id, bundle), bundle);
    withRootMount(o.root, rootfs, (criuRoot) => {
      const args = restoreArgs(o.criu, {
        cfg,
        bundle,
        root: criuRoot,
        pidFile: criuPidFile,
        cgroupRoots: cgroupRoots(cgroupDirs),
        pipes,
        externalNs,
        joinNs,
        configFile: criuConfigFile(cfg),
        actionScript,
        tty,
      });
      let failed: unknown;
      try {
        runCriu(criu, args, o.criu.workDir ?? o.criu.imageDir, 'restore.log', 'inherit', pty ? [...nsFds, pty[1]] : nsFds);
      } catch (e) {
        failed = e;
      }
      // A failed hook is the reason to give, not criu's "action scripts failed".
      const hook = actionScript ? endHookAction(dir) : undefined;
      if (failed) throw hook ? new TsrunError(hook) : failed;
    });
    pid = Number(readFileSync(criuPidFile, 'utf8').trim());
    const st = procStat(pid);
    if (!Number.isInteger(pid) || pid <= 0 || !st) throw new TsrunError(`criu restored no process (pid file ${criuPidFile})`);
    state.pid = pid;
    state.pidStartTime = st.startTime;
    if (pty && consoleFd !== undefined) sendMaster(consoleFd, pty[0], o.consoleSocket!);
    writeFileSync(join(dir, CONFIG_FILE), JSON.stringify(cfg), { mode: 0o600 });
    delete state.creating;
    saveState(dir, state);
    if (o.pidFile) writePidFile(o.pidFile, pid);
    return { pid };
  } catch (e) {
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
        loadNative().waitExit(pid, 5000);
      } catch {
        // gone already
      }
    }
    try {
      removeCgroups(cgroupDirs);
    } finally {
      removeContainerDir(o.root, o.id);
    }
    throw e;
  } finally {
    for (const fd of [...nsFds, ...(pty ?? []), ...(consoleFd === undefined ? [] : [consoleFd])]) closeSync(fd);
    unlock();
  }
}

/** The --console-socket connection, with the path named in its error. */
function connectConsole(path: string): number {
  try {
    return loadNative().unixConnect(resolve(path), 10000);
  } catch (e) {
    throw new TsrunError(`--console-socket ${path}: ${(e as Error).message}`);
  }
}

/** The restored terminal's master to the console socket, as create sends it (runc's protocol: the data names the device). */
function sendMaster(sock: number, master: number, path: string): void {
  try {
    loadNative().sendFd(sock, master, '/dev/ptmx');
  } catch (e) {
    throw new TsrunError(`--console-socket ${path}: ${(e as Error).message}`);
  }
}

/**
 * Runs fn with the rootfs bind-mounted (recursively) on a dir of its own, as CRIU wants its
 * root: a mount point whose parent is not overmounted (runc's criu-root). The dir is beside the
 * containers' state dirs, not in one: a tsrun killed meanwhile leaves a stale mount there, and
 * removing a state dir must never walk into the rootfs.
 */
function withRootMount(root: string, rootfs: string, fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(root, '@criu-root-'));
  const run = (cmd: string, args: string[]): void => {
    try {
      childProcess().execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      throw new TsrunError(`${cmd} ${args.join(' ')}: ${(e as Error).message}`);
    }
  };
  try {
    run('mount', ['--rbind', rootfs, dir]);
  } catch (e) {
    rmdirSync(dir);
    throw e;
  }
  try {
    fn(dir);
  } finally {
    run('umount', ['-l', dir]);
    rmdirSync(dir);
  }
}

/**
 * runc's prepareCriuRestoreMounts: the mount points of the config's mounts exist in the rootfs
 * (a restore may get a fresh copy of it), except below a tmpfs, whose content CRIU restores.
 * A bind mount of a file gets an empty file.
 */
function makeMountpoints(cfg: Config, rootfs: string): void {
  const mounts = cfg.mounts ?? [];
  const tmpfs = mounts.filter((m) => m.type === 'tmpfs').map((m) => posix.normalize(m.destination));
  for (const m of mounts) {
    const dest = posix.normalize(posix.join('/', m.destination));
    if (tmpfs.some((t) => dest.startsWith(`${t}/`)) || m.type === 'cgroup' || m.type === 'cgroup2') continue;
    const bindFile = !!m.source && (m.type === 'bind' || !!m.options?.includes('bind') || !!m.options?.includes('rbind')) && isFile(m.source);
    try {
      makeInRoot(rootfs, dest, bindFile);
    } catch (e) {
      throw new TsrunError(`mounts: create the mount point ${m.destination} in ${rootfs}: ${(e as Error).message}`);
    }
  }
}

/**
 * Makes the missing dirs of dest (and dest, a dir or an empty file) under rootfs. A symlink on
 * the way is left alone: following it could leave the rootfs, and CRIU then says what it misses.
 */
function makeInRoot(rootfs: string, dest: string, file: boolean): void {
  const parts = dest.split('/').filter(Boolean);
  let cur = rootfs;
  for (let i = 0; i < parts.length; i++) {
    cur = join(cur, parts[i]!);
    const last = i === parts.length - 1;
    let st;
    try {
      st = lstatSync(cur);
    } catch {
      if (last && file) writeFileSync(cur, '', { flag: 'a', mode: 0o644 });
      else mkdirSync(cur, { mode: 0o755 });
      continue;
    }
    if (st.isSymbolicLink()) {
      log('debug', `restore: ${dest}: ${cur} is a symlink, no mount point made`);
      return;
    }
  }
}

function isFile(p: string): boolean {
  try {
    return !statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Namespaces joined by path that CRIU joins itself (network and pid are inherited fds instead). */
function joinedNamespaces(cfg: Config): { type: string; path: string }[] {
  const out: { type: string; path: string }[] = [];
  for (const ns of cfg.linux?.namespaces ?? []) {
    if (!ns.path || ns.type === 'network' || ns.type === 'pid') continue;
    if (ns.type === 'cgroup') throw new TsrunError('linux.namespaces: CRIU cannot restore into a cgroup namespace given by path');
    out.push({ type: ns.type, path: ns.path });
  }
  return out;
}

/**
 * CRIU puts the restored tasks below its cgroup root: the container's new cgroups, one per
 * hierarchy, as paths inside it (v1 names the hierarchy's controllers first).
 */
function cgroupRoots(dirs: string[]): string[] {
  const out: string[] = [];
  for (const d of dirs) {
    if (!d) continue;
    const h = hierarchies().find((x) => d === x.mountpoint || d.startsWith(`${x.mountpoint}/`));
    if (!h) continue;
    const inner = `/${relative(h.mountpoint, d)}`;
    // A hybrid host's controller-less v2 mount is not where CRIU's v2 root is.
    if (h.version === 2) {
      if (!hierarchies().some((x) => x.version === 1)) out.push(inner);
    } else if (h.controllers.length) {
      out.push(`${h.controllers.join(',')}:${inner}`);
    }
  }
  return out;
}
