import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { TsrunError } from '../errors.js';
import type { Config } from '../spec/load.js';
import type { PlanRecord } from './encode.js';

/** Which Linux security modules are active on this host. */
export interface LsmState {
  apparmor: boolean;
  selinux: boolean;
}

/**
 * TSRUN_TEST_FORCE_LSM=apparmor,selinux makes tsrun treat those LSMs as enabled. It exists for
 * tests only: on a host without them it lets a test drive the label writes of the C core (which
 * then fail, naming the /proc attr file and the errno) and see the mount options. Never set it
 * in production: a label the kernel cannot apply fails the container.
 */
const FORCE_ENV = 'TSRUN_TEST_FORCE_LSM';

let cached: LsmState | undefined;

/** runc's apparmor.IsEnabled: the securityfs dir exists and the module says "Y". */
function apparmorEnabled(): boolean {
  if (!existsSync('/sys/kernel/security/apparmor')) return false;
  try {
    return readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').startsWith('Y');
  } catch {
    return false;
  }
}

/** go-selinux's GetEnabled, simplified: a selinuxfs is mounted and its `enforce` is readable. */
function selinuxEnabled(): boolean {
  let mountinfo: string;
  try {
    mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return false;
  }
  for (const line of mountinfo.split('\n')) {
    // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS
    const [left, right] = line.split(' - ');
    if (!left || !right || !right.startsWith('selinuxfs ')) continue;
    const mnt = left.split(' ')[4]!.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    try {
      accessSync(`${mnt}/enforce`, constants.R_OK);
      return true;
    } catch {
      // not this one
    }
  }
  return false;
}

export function lsmState(): LsmState {
  // The host's facts are read once (a server's worker keeps them between calls); the forcing
  // variable is the call's own.
  cached ??= { apparmor: apparmorEnabled(), selinux: selinuxEnabled() };
  const forced = (process.env[FORCE_ENV] ?? '').split(',');
  return { apparmor: forced.includes('apparmor') || cached.apparmor, selinux: forced.includes('selinux') || cached.selinux };
}

type Process = NonNullable<Config['process']>;

/**
 * process.apparmorProfile and process.selinuxLabel as `apparmor` / `selinux` records, handled as
 * runc does: a profile is always applied (runc's ApplyProfile does not look whether AppArmor is
 * enabled, so on a host without it the write fails and so does the container); an SELinux label
 * on a host without SELinux is refused before anything starts.
 */
export function planLsmProcess(p: Pick<Process, 'apparmorProfile' | 'selinuxLabel'>, lsm: LsmState, debug: (m: string) => void): PlanRecord[] {
  const out: PlanRecord[] = [];
  if (p.apparmorProfile) {
    if (!lsm.apparmor) debug(`process.apparmorProfile "${p.apparmorProfile}": AppArmor is not enabled on this host; applying it anyway, as runc does`);
    out.push(['apparmor', p.apparmorProfile]);
  }
  if (p.selinuxLabel) {
    if (!lsm.selinux) throw new TsrunError('process.selinuxLabel: selinux label is specified in config, but selinux is disabled or not supported');
    out.push(['selinux', p.selinuxLabel]);
  }
  return out;
}

/** Mount types that take no `context=`: runc mounts proc and sysfs unlabelled, gives mqueue a
 * file label instead, and cgroup mounts carry their own data (the v1 tmpfs gets `mount_label`). */
const UNLABELLED = new Set(['proc', 'sysfs', 'mqueue', 'cgroup', 'cgroup2']);

/** go-selinux's FormatMountLabel: `context="LABEL"` appended to the data. */
function withContext(data: string, label: string): string {
  const opt = `context="${label}"`;
  return data ? `${data},${opt}` : opt;
}

/** The data of a mount with linux.mountLabel applied (only called when SELinux is enabled). */
export function labelMountData(type: string, bind: boolean, data: string, label: string): string {
  return bind || UNLABELLED.has(type) ? data : withContext(data, label);
}

/** The quotes keep an MCS label's commas (s0:c1,c2) inside the option; a quote in it would not. */
export function checkMountLabel(label: string): void {
  if (/["\n]/.test(label)) throw new TsrunError(`linux.mountLabel: must not contain quotes or newlines: ${JSON.stringify(label)}`);
}
