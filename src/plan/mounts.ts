import { statfsSync } from 'node:fs';
import { isAbsolute, posix, resolve } from 'node:path';
import { TsrunError } from '../errors.js';
import type { Config } from '../spec/load.js';
import type { PlanRecord } from './encode.js';
import { checkMountLabel, labelMountData } from './lsm.js';
import { MS, parseMountOptions } from './mount-options.js';
import { rootfsPropagationSteps } from './rootfs-propagation.js';

type Mapping = { containerID: number; hostID: number; size: number };

function mappingText(m: Mapping[] | undefined): string {
  return (m ?? []).map((x) => `${x.containerID} ${x.hostID} ${x.size}`).join(',');
}

/** What may be mounted under /proc: the files lxcfs emulates (runc's list). */
const PROC_MOUNTS_ALLOWED = new Set([
  '/proc/cpuinfo', '/proc/diskstats', '/proc/meminfo', '/proc/stat', '/proc/swaps', '/proc/uptime',
  '/proc/loadavg', '/proc/slabinfo', '/proc/net/dev', '/proc/sys/kernel/ns_last_pid', '/proc/sys/crypto/fips_enabled',
]);

/**
 * runc's checkProcMount: only a proc may go on /proc, and nothing under it but the lxcfs files.
 * A mount over /proc/sys, /proc/self/attr or a masked file would undo what protects the host.
 */
function checkProcMount(field: string, destination: string, type: string, source: string): void {
  const dest = posix.normalize(destination).replace(/\/+$/, '') || '/';
  if (dest === '/proc') {
    if (type !== 'proc' && !isProcfs(source)) throw new TsrunError(`${field}.destination: "${destination}" cannot be mounted because it is not of type proc`);
  } else if (dest.startsWith('/proc/') && !PROC_MOUNTS_ALLOWED.has(dest)) {
    throw new TsrunError(`${field}.destination: "${destination}" cannot be mounted because it is inside /proc`);
  }
}

/** A bind of a proc filesystem (the host's /proc, say) may go on /proc, as runc allows. */
function isProcfs(path: string): boolean {
  try {
    return path !== '' && statfsSync(path).type === 0x9fa0; // PROC_SUPER_MAGIC
  } catch {
    return false;
  }
}

/**
 * config.md#mounts and the rootfs fields, as plan records in config order. `mountLabel` is
 * linux.mountLabel when SELinux is enabled (else undefined: the label is then ignored, as crun
 * does; runc would add it anyway and fail every tmpfs mount). `sourcesByParent`: the C parent
 * opens each bind's source for the child (see planBindSources).
 */
export function planMounts(cfg: Config, bundle: string, rootfs: string, mountLabel?: string, sourcesByParent = false): PlanRecord[] {
  const out: PlanRecord[] = [['rootfs', rootfs]];
  if (mountLabel) {
    checkMountLabel(mountLabel);
    // the tmpfs mounts the C core makes itself: masked dirs, the v1 cgroup tmpfs
    out.push(['mount_label', mountLabel]);
  }
  out.push(['rootfs_propagation', ...rootfsPropagationSteps(cfg)]);
  (cfg.mounts ?? []).forEach((m, i) => {
    const field = `mounts[${i}]`;
    if (!isAbsolute(m.destination)) throw new TsrunError(`${field}.destination: must be an absolute path: ${m.destination}`);
    if (m.destination.split('/').includes('..')) throw new TsrunError(`${field}.destination: must not contain "..": ${m.destination}`);
    const o = parseMountOptions(m.options ?? []);
    const type = m.type ?? (o.flags & MS.BIND ? 'bind' : '');
    if (!type && !(o.flags & MS.BIND)) throw new TsrunError(`${field}.type: must be set for a mount that is not a bind mount`);
    let source = m.source ?? '';
    if (type === 'bind' || o.flags & MS.BIND) {
      if (!source) throw new TsrunError(`${field}.source: a bind mount needs a source`);
      // Bind sources are host paths; relative ones are taken from the bundle.
      if (!isAbsolute(source)) source = resolve(bundle, source);
    }
    checkProcMount(field, m.destination, type, source);
    const idmapped = o.idmap || !!m.uidMappings?.length || !!m.gidMappings?.length;
    if (idmapped && (!m.uidMappings?.length || !m.gidMappings?.length)) throw new TsrunError(`${field}: an idmapped mount needs both uidMappings and gidMappings`);
    if (idmapped && !(o.flags & MS.BIND)) throw new TsrunError(`${field}: idmapped mounts are only supported for bind mounts`);
    const bind = !!(o.flags & MS.BIND) || type === 'bind';
    let data = o.data.join(',');
    if (mountLabel) data = labelMountData(type, bind, data, mountLabel);
    // runc mounts a tmpfs, and a /dev that is not a bind, read-write and makes it read-only only
    // once the devices, /dev symlinks, the console and tmpcopyup are written in it (finalizeRootfs).
    const roLater = !bind && !!(o.flags & MS.RDONLY) && (type === 'tmpfs' || posix.normalize(m.destination).replace(/\/+$/, '') === '/dev');
    const flags = roLater ? o.flags & ~MS.RDONLY : o.flags;
    out.push(['mount', source, m.destination, type === 'bind' ? '' : type, flags, o.propagation, data, o.attrSet, o.attrClr, mappingText(m.uidMappings), mappingText(m.gidMappings)]);
    if (sourcesByParent && o.flags & MS.BIND && !idmapped) out.push(['source_by_parent', m.destination]);
    // runc labels an mqueue mount's root instead of passing context=
    if (mountLabel && type === 'mqueue' && !(o.flags & MS.BIND)) out.push(['relabel', m.destination, mountLabel]);
    if (o.copyUp) {
      if (type !== 'tmpfs') throw new TsrunError(`${field}.options: tmpcopyup is only for tmpfs mounts`);
      out.push(['tmpcopyup', m.destination]);
    }
    if (roLater) out.push(['remount_ro', m.destination]);
  });
  if (cfg.root?.readonly) out.push(['readonly_rootfs']);
  for (const p of cfg.linux?.maskedPaths ?? []) {
    if (!isAbsolute(p)) throw new TsrunError(`linux.maskedPaths: must be absolute: ${p}`);
    out.push(['masked', p]);
  }
  for (const p of cfg.linux?.readonlyPaths ?? []) {
    if (!isAbsolute(p)) throw new TsrunError(`linux.readonlyPaths: must be absolute: ${p}`);
    out.push(['readonly', p]);
  }
  return out;
}

/**
 * --no-pivot enters the rootfs with MS_MOVE + chroot, which leaves the runtime's proc and sysfs
 * mounts in the container's mount namespace, and while a fully visible one is there the kernel
 * lets the container mount a new one without its masked and read-only paths (from a user
 * namespace of its own). runc's msMoveRoot detaches them first; so does the C core for each
 * type listed here. Only in a mount namespace the container has: without one they are the host's.
 */
export function planNoPivot(hasMountNs: boolean): PlanRecord[] {
  const out: PlanRecord[] = [['nopivot']];
  if (hasMountNs) out.push(['nopivot_hide', 'proc'], ['nopivot_hide', 'sysfs']);
  return out;
}

/**
 * Whether the C parent opens the bind sources (runc's shouldSendMountSources): in a new user
 * namespace the container's root is an unprivileged host uid that a source under a directory
 * only host root may search would be refused to; the parent, host root, opens it for it in the
 * new mount namespace. It needs root in its own user namespace to enter that one.
 */
export function planBindSources(ns: Map<string, string>, rootless: boolean): boolean {
  return ns.get('user') === '' && ns.get('mount') === '' && !rootless;
}
