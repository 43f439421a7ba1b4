import { isAbsolute, posix, resolve } from 'node:path';
import type { Config } from '../spec/load.js';
import type { CriuOptions } from './options.js';

// The criu command lines of checkpoint and restore, decided here from the config and the flags
// the way runc 1.1's libcontainer fills CRIU's RPC options (container_linux.go).

/** A mount's destination as CRIU names it: cleaned, as seen from the container's root. */
function mountKey(dest: string): string {
  return posix.normalize(posix.join('/', dest));
}

function isBind(m: NonNullable<Config['mounts']>[number]): boolean {
  return m.type === 'bind' || !!m.options?.some((o) => o === 'bind' || o === 'rbind');
}

const CONSOLE = '/dev/console';

/** CRIU's names for the namespaces a container may be handed by path. */
const CRIU_NS: Record<string, string> = { network: 'net', pid: 'pid', ipc: 'ipc', uts: 'uts', mount: 'mnt', user: 'user', cgroup: 'cgroup', time: 'time' };

/** The key runc gives an external namespace (extRootNetNS, extRootPidNS). */
export function externalNsKey(type: 'network' | 'pid'): string {
  return type === 'network' ? 'extRootNetNS' : 'extRootPidNS';
}

function common(o: CriuOptions, logFile: string): string[] {
  const a = ['-D', o.imageDir, '-o', logFile, '-v4'];
  if (o.workDir) a.push('-W', o.workDir);
  a.push(o.manageCgroupsMode ? `--manage-cgroups=${o.manageCgroupsMode}` : '--manage-cgroups');
  if (o.shellJob) a.push('--shell-job');
  if (o.tcpEstablished) a.push('--tcp-established');
  if (o.extUnixSk) a.push('--ext-unix-sk');
  if (o.fileLocks) a.push('--file-locks');
  if (o.autoDedup) a.push('--auto-dedup');
  return a;
}

export interface DumpInput {
  cfg: Config;
  rootfs: string;
  pid: number;
  /** The container's freezer cgroup dir: CRIU freezes the tree through it instead of ptrace. */
  freezeCgroup?: string;
  /** Masked paths that are files in the container (bind mounts of /dev/null there). */
  maskedFiles: string[];
  /** Namespaces the container joined by path, with their inodes: CRIU leaves them out. */
  externalNs: { type: 'network' | 'pid'; inode: number }[];
  /** CRIU's configuration file (the org.criu.config annotation, or runc's default), if it exists. */
  configFile?: string;
}

/** `criu dump` (or `pre-dump`): runc's Checkpoint. */
export function dumpArgs(o: CriuOptions, d: DumpInput): string[] {
  const a = [o.preDump ? 'pre-dump' : 'dump', '-t', String(d.pid), ...common(o, o.preDump ? 'pre-dump.log' : 'dump.log'), '--root', d.rootfs];
  if (d.configFile) a.push('--config', d.configFile);
  if (o.leaveRunning) a.push('--leave-running');
  if (!o.preDump) a.push('--empty-ns', o.emptyNs.join(','));
  if (d.freezeCgroup) a.push('--freeze-cgroup', d.freezeCgroup);
  if (o.pageServer) a.push('--page-server', '--address', o.pageServer.address, '--port', String(o.pageServer.port));
  // A pre-dump and a dump after one track memory changes; the dump reads the pages it has.
  if (o.preDump || o.parentPath) a.push('--track-mem');
  if (o.parentPath) a.push('--prev-images-dir', o.parentPath);
  for (const ns of d.externalNs) a.push('--external', `${CRIU_NS[ns.type]}[${ns.inode}]:${externalNsKey(ns.type)}`);
  if (o.preDump) return a;
  // Bind mounts come from outside the container: CRIU records them by destination.
  for (const m of d.cfg.mounts ?? []) if (isBind(m)) a.push('--external', `mnt[${mountKey(m.destination)}]:${mountKey(m.destination)}`);
  for (const p of d.maskedFiles) a.push('--external', `mnt[${mountKey(p)}]:/dev/null`);
  for (const dev of d.cfg.linux?.devices ?? []) a.push('--external', `mnt[${mountKey(dev.path)}]:${mountKey(dev.path)}`);
  // A terminal's slave is bound on /dev/console: CRIU dumps such a bind only with its master
  // (or with the RPC's orphan_pts_master), so it is external and restore binds the new slave.
  if (d.cfg.process?.terminal) a.push('--external', `mnt[${CONSOLE}]:${CONSOLE}`);
  return a;
}

export interface RestoreInput {
  cfg: Config;
  bundle: string;
  /** The rootfs bind-mounted on a dir of its own: CRIU wants a mount point whose parent is not overmounted. */
  root: string;
  pidFile: string;
  /** --cgroup-root values: where the restored tasks go instead of the dumped cgroups' parents. */
  cgroupRoots: string[];
  /** stdio entries of descriptors.json that are pipes, by fd: the caller's fd of that number replaces each. */
  pipes: { fd: number; key: string }[];
  /** Namespaces the container joins by path, handed to criu as these fds. */
  externalNs: { type: 'network' | 'pid'; fd: number }[];
  /** Other namespaces joined by path (config's linux.namespaces). */
  joinNs: { type: string; path: string }[];
  configFile?: string;
  /** Run by criu at each step of the restore (src/criu/action.ts): the hooks runc runs from CRIU's notifications. */
  actionScript?: string;
  /** The terminal: criu's fd holding a new pty's slave, the slave's path, and the key checkpoint recorded for the old one (src/criu/tty.ts). */
  tty?: { fd: number; path: string; key: string };
}

/** `criu restore`: runc's Restore. The root task becomes tsrun's child (a sibling of criu) and criu exits. */
export function restoreArgs(o: CriuOptions, r: RestoreInput): string[] {
  const a = ['restore', ...common(o, 'restore.log'), '--root', r.root, '--restore-detached', '--restore-sibling', '--pidfile', r.pidFile, '--evasive-devices', '--empty-ns', o.emptyNs.join(',')];
  if (r.configFile) a.push('--config', r.configFile);
  if (r.actionScript) a.push('--action-script', r.actionScript);
  for (const c of r.cgroupRoots) a.push('--cgroup-root', c);
  if (o.lsmProfile) a.push('--lsm-profile', o.lsmProfile);
  if (o.lsmMountContext) a.push('--lsm-mount-context', o.lsmMountContext);
  for (const ns of r.externalNs) a.push('--inherit-fd', `fd[${ns.fd}]:${externalNsKey(ns.type)}`);
  for (const ns of r.joinNs) a.push('--join-ns', `${CRIU_NS[ns.type] ?? ns.type}:${ns.path}`);
  for (const m of r.cfg.mounts ?? []) {
    if (!isBind(m) || !m.source) continue;
    a.push('--external', `mnt[${mountKey(m.destination)}]:${isAbsolute(m.source) ? m.source : resolve(r.bundle, m.source)}`);
  }
  if (r.cfg.linux?.maskedPaths?.length) a.push('--external', 'mnt[/dev/null]:/dev/null');
  for (const dev of r.cfg.linux?.devices ?? []) a.push('--external', `mnt[${mountKey(dev.path)}]:${mountKey(dev.path)}`);
  for (const p of r.pipes) a.push('--inherit-fd', `fd[${p.fd}]:${p.key}`);
  // The new pty's slave in place of the dumped one (the --shell-job it needs: checkCriuCan).
  if (r.tty) a.push('--inherit-fd', `fd[${r.tty.fd}]:${r.tty.key}`, '--external', `mnt[${CONSOLE}]:${r.tty.path}`);
  return a;
}
