// What this kernel and this libseccomp support, for flag checks and `features`.
import { ACTIONS, ARCHES, archLibName, FLAG_NEW_LISTENER, FLAGS, OPERATORS, SECCOMP_SET_MODE_FILTER } from './constants.js';
import type { FeaturesSchema } from '../spec/generated/features.js';
import { libseccomp } from './libseccomp.js';

const EFAULT = 14;
const WAIT_KILLABLE = 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV';
let flagsCache: string[] | undefined;

/** The config flags the kernel accepts: seccomp(SET_MODE_FILTER, flag, NULL) fails with EFAULT
 * (it got past the flag check to the NULL program) for a known flag, EINVAL for an unknown one.
 * WAIT_KILLABLE_RECV is only valid with NEW_LISTENER, so it is probed with it. */
export function kernelFlags(): string[] {
  if (!flagsCache) {
    const lib = libseccomp();
    flagsCache = Object.entries(FLAGS)
      .filter(([k, v]) => lib.seccompSyscall(SECCOMP_SET_MODE_FILTER, k === WAIT_KILLABLE ? v | FLAG_NEW_LISTENER : v) === -EFAULT)
      .map(([k]) => k);
  }
  return flagsCache;
}

type SeccompFeatures = NonNullable<NonNullable<FeaturesSchema['linux']>['seccomp']>;
type Lists = Required<Omit<SeccompFeatures, 'enabled'>>;

/** features.md#linux seccomp: what a config may use here; disabled without libseccomp. */
export function seccompFeatures(): SeccompFeatures {
  try {
    return { enabled: true, ...lists() };
  } catch {
    return { enabled: false };
  }
}

function lists(): Lists {
  const lib = libseccomp();
  return {
    // Kernel support per action: seccomp(GET_ACTION_AVAIL, 0, &action) — libseccomp checks the
    // same when a rule is added; here every action libseccomp 2.5 knows is listed.
    actions: Object.keys(ACTIONS) as Lists['actions'],
    operators: Object.keys(OPERATORS) as Lists['operators'],
    archs: ARCHES.filter((a) => lib.archResolve(archLibName(a)) !== 0) as Lists['archs'],
    knownFlags: Object.keys(FLAGS) as Lists['knownFlags'],
    supportedFlags: kernelFlags() as Lists['supportedFlags'],
  };
}
