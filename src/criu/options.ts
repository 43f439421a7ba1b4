import { statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { bool, list, str, type FlagSpec, type Parsed } from '../cli/args.js';
import { TsrunError } from '../errors.js';

// The flags and help texts of runc 1.1.5's checkpoint.go and restore.go.
const imagePath = (help: string): FlagSpec => ({ names: ['image-path'], value: true, help });
const common = {
  workPath: { names: ['work-path'], value: true, help: 'path for saving work files and logs' },
  tcp: { names: ['tcp-established'], value: false, help: 'allow open tcp connections' },
  extUnix: { names: ['ext-unix-sk'], value: false, help: 'allow external unix sockets' },
  shellJob: { names: ['shell-job'], value: false, help: 'allow shell jobs' },
  lazy: { names: ['lazy-pages'], value: false, help: 'use userfaultfd to lazily restore memory pages' },
  fileLocks: { names: ['file-locks'], value: false, help: 'handle file locks, for safety' },
  cgMode: { names: ['manage-cgroups-mode'], value: true, help: "cgroups mode: 'soft' (default), 'full' and 'strict'" },
  emptyNs: { names: ['empty-ns'], value: true, multi: true, help: "create a namespace, but don't restore its properties" },
  dedup: { names: ['auto-dedup'], value: false, help: 'enable auto deduplication of memory images' },
} satisfies Record<string, FlagSpec>;

export const checkpointFlags: FlagSpec[] = [
  imagePath('path for saving criu image files'),
  common.workPath,
  { names: ['parent-path'], value: true, help: 'path for previous criu image files in pre-dump' },
  { names: ['leave-running'], value: false, help: 'leave the process running after checkpointing' },
  common.tcp,
  common.extUnix,
  common.shellJob,
  common.lazy,
  { names: ['status-fd'], value: true, help: 'criu writes \\0 to this FD once lazy-pages is ready (default: -1)' },
  { names: ['page-server'], value: true, help: 'ADDRESS:PORT of the page server' },
  common.fileLocks,
  { names: ['pre-dump'], value: false, help: "dump container's memory information only, leave the container running after this" },
  common.cgMode,
  common.emptyNs,
  common.dedup,
];

export const restoreFlags: FlagSpec[] = [
  { names: ['console-socket'], value: true, help: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal" },
  imagePath('path to criu image files for restoring'),
  common.workPath,
  common.tcp,
  common.extUnix,
  common.shellJob,
  common.fileLocks,
  common.cgMode,
  { names: ['bundle', 'b'], value: true, help: 'path to the root of the bundle directory' },
  { names: ['detach', 'd'], value: false, help: "detach from the container's process" },
  { names: ['pid-file'], value: true, help: 'specify the file to write the process id to' },
  { names: ['no-subreaper'], value: false, help: 'disable the use of the subreaper used to reap reparented processes' },
  { names: ['no-pivot'], value: false, help: 'do not use pivot root to jail process inside rootfs.  This should be used whenever the rootfs is on top of a ramdisk' },
  common.emptyNs,
  common.dedup,
  common.lazy,
  { names: ['lsm-profile'], value: true, help: 'Specify an LSM profile to be used during restore in the form of TYPE:NAME.' },
  { names: ['lsm-mount-context'], value: true, help: 'Specify an LSM mount context to be used during restore.' },
];

/** What checkpoint and restore hand CRIU, from their flags (runc's CriuOpts). */
export interface CriuOptions {
  imageDir: string;
  workDir?: string;
  /** Relative to imageDir, as CRIU's --prev-images-dir wants it. */
  parentPath?: string;
  leaveRunning: boolean;
  preDump: boolean;
  tcpEstablished: boolean;
  extUnixSk: boolean;
  shellJob: boolean;
  fileLocks: boolean;
  autoDedup: boolean;
  manageCgroupsMode?: 'soft' | 'full' | 'strict';
  /** Namespaces CRIU makes empty; network always (runc: it does not manage network devices). */
  emptyNs: string[];
  pageServer?: { address: string; port: number };
  lsmProfile?: string;
  lsmMountContext?: string;
}

/**
 * Reads and checks the flags before anything is touched. runc's default image dir is
 * ./checkpoint in the caller's cwd. lazy-pages needs CRIU's RPC mode (the lazy-pages daemon
 * and its status fd), which tsrun does not drive: refused here, before anything stops.
 */
export function criuOptions(p: Parsed): CriuOptions {
  if (bool(p, 'lazy-pages')) throw new TsrunError('--lazy-pages is not supported by tsrun (it drives the criu command line, not its RPC lazy-pages mode)');
  if (str(p, 'status-fd') !== undefined && str(p, 'status-fd') !== '-1') throw new TsrunError('--status-fd is only used with --lazy-pages, which tsrun does not support');
  const imageDir = resolve(str(p, 'image-path') || 'checkpoint');
  const parent = str(p, 'parent-path') || undefined;
  if (parent !== undefined) {
    if (isAbsolute(parent)) throw new TsrunError('--parent-path must be relative');
    const real = join(imageDir, parent);
    let dir: boolean;
    try {
      dir = statSync(real).isDirectory();
    } catch (e) {
      throw new TsrunError(`invalid --parent-path: ${(e as Error).message}`);
    }
    if (!dir) throw new TsrunError(`invalid --parent-path: ${real}: not a directory`);
  }
  const mode = str(p, 'manage-cgroups-mode') || undefined;
  if (mode !== undefined && mode !== 'soft' && mode !== 'full' && mode !== 'strict') throw new TsrunError(`Invalid manage cgroups mode: ${mode} (soft, full or strict)`);
  const emptyNs = ['net'];
  for (const ns of list(p, 'empty-ns')) {
    if (ns !== 'network') throw new TsrunError(`namespace "${ns}" is not supported by --empty-ns (only network)`);
  }
  let pageServer: CriuOptions['pageServer'];
  const ps = str(p, 'page-server');
  if (ps) {
    const m = /^(.+):(\d+)$/.exec(ps);
    if (!m || !m[1]) throw new TsrunError('Use --page-server ADDRESS:PORT to specify page server');
    pageServer = { address: m[1].replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) };
  }
  return {
    imageDir,
    workDir: str(p, 'work-path') ? resolve(str(p, 'work-path')!) : undefined,
    parentPath: parent,
    leaveRunning: bool(p, 'leave-running'),
    preDump: bool(p, 'pre-dump'),
    tcpEstablished: bool(p, 'tcp-established'),
    extUnixSk: bool(p, 'ext-unix-sk'),
    shellJob: bool(p, 'shell-job'),
    fileLocks: bool(p, 'file-locks'),
    autoDedup: bool(p, 'auto-dedup'),
    manageCgroupsMode: mode,
    emptyNs,
    pageServer,
    lsmProfile: str(p, 'lsm-profile') || undefined,
    lsmMountContext: str(p, 'lsm-mount-context') || undefined,
  };
}
