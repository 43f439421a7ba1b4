import { existsSync, mkdirSync, statSync } from 'node:fs';
import { findCriu, type Criu } from '../criu/binary.js';
import { dumpArgs } from '../criu/args.js';
import { saveDescriptors, stdioOf } from '../criu/descriptors.js';
import type { CriuOptions } from '../criu/options.js';
import { runCriu } from '../criu/run.js';
import { ptyKeyOf, saveTtyKey } from '../criu/tty.js';
import { TsrunError } from '../errors.js';
import type { Config } from '../spec/load.js';
import { containerDir } from '../state/paths.js';
import { statusOf } from '../state/status.js';
import { withContainerLock } from '../state/lock.js';
import { loadSavedConfig, loadState } from '../state/store.js';
import { deleteContainer } from './lifecycle.js';

/**
 * CRIU's per-container configuration file, as runc picks it: the org.criu.config annotation
 * (empty: none), else /etc/criu/runc.conf. The criu command line refuses a file that is not
 * there (RPC mode ignores it), so only an existing one is passed.
 */
export function criuConfigFile(cfg: Config): string | undefined {
  const a = cfg.annotations?.['org.criu.config'];
  const file = a === undefined ? '/etc/criu/runc.conf' : a;
  return file && existsSync(file) ? file : undefined;
}

/** What CRIU cannot do with this container, said before anything is stopped. */
export function checkCriuCan(cfg: Config, o: CriuOptions, id: string): void {
  if (cfg.process?.terminal && !o.shellJob) throw new TsrunError(`container ${id} has a terminal (process.terminal): CRIU needs --shell-job for it`);
  // CRIU 3.17 restores such a root read-write (criu#2632): refused rather than weakened.
  if (cfg.root?.readonly) throw new TsrunError(`container ${id} has a read-only root (root.readonly): CRIU would restore it writable (criu#2632)`);
}

/**
 * runc's checkpoint: `criu dump` of the container's process tree into the image dir. Without
 * --leave-running or --pre-dump CRIU ends the processes and the container is destroyed, as
 * runc does; when CRIU fails it resumes them, and the container is left as it was.
 */
export function checkpointContainer(root: string, id: string, o: CriuOptions): void {
  withContainerLock(root, id, () => {
    const s = loadState(root, id);
    const status = statusOf(containerDir(root, id), s);
    if (status !== 'running' && status !== 'paused') throw new TsrunError(`Container cannot be checkpointed in ${status} state`);
    const cfg = loadSavedConfig(root, id);
    checkCriuCan(cfg, o, id);
    const criu = findCriu();
    const args = dumpArgs(o, {
      cfg,
      rootfs: s.rootfs,
      pid: s.pid,
      freezeCgroup: freezeCgroup(criu, s.freezer),
      maskedFiles: (cfg.linux?.maskedPaths ?? []).filter((p) => isFileIn(s.pid, p)),
      externalNs: externalNamespaces(criu, cfg),
      configFile: criuConfigFile(cfg),
    });
    for (const d of [o.imageDir, o.workDir]) {
      if (!d) continue;
      try {
        mkdirSync(d, { recursive: true, mode: 0o700 });
      } catch (e) {
        throw new TsrunError(`create ${d}: ${(e as Error).message}`);
      }
    }
    // runc writes the stdio it recorded at create; a state from before stateVersion 2 has none.
    if (!o.preDump) saveDescriptors(o.imageDir, s.stdio ?? stdioOf(s.pid));
    // Which pty the terminal is, for restore to give CRIU a new one in its place (src/criu/tty.ts).
    const tty = cfg.process?.terminal && !o.preDump ? ptyKeyOf(s.pid) : undefined;
    if (tty) saveTtyKey(o.imageDir, tty);
    runCriu(criu, args, o.workDir ?? o.imageDir, o.preDump ? 'pre-dump.log' : 'dump.log', 'ignore');
    if (!o.leaveRunning && !o.preDump) deleteContainer(root, id, true);
  });
}

/** CRIU freezes through the cgroup freezer (v2's from CRIU 3.14 on), else with ptrace. */
function freezeCgroup(criu: Criu, f: { dir: string; v1: boolean } | undefined): string | undefined {
  return f && (f.v1 || criu.version >= 31400) ? f.dir : undefined;
}

function isFileIn(pid: number, path: string): boolean {
  try {
    return !statSync(`/proc/${pid}/root${path}`).isDirectory();
  } catch {
    return false;
  }
}

/** The network and pid namespaces the container joined by path (CRIU 3.11 and 3.15 know them as external). */
function externalNamespaces(criu: Criu, cfg: Config): { type: 'network' | 'pid'; inode: number }[] {
  const out: { type: 'network' | 'pid'; inode: number }[] = [];
  for (const ns of cfg.linux?.namespaces ?? []) {
    if (!ns.path) continue;
    if ((ns.type === 'network' && criu.version >= 31100) || (ns.type === 'pid' && criu.version >= 31500)) {
      try {
        out.push({ type: ns.type, inode: statSync(ns.path).ino });
      } catch (e) {
        throw new TsrunError(`linux.namespaces: ${ns.type} ${ns.path}: ${(e as Error).message}`);
      }
    }
  }
  return out;
}
