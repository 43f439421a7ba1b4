import { TsrunError } from '../errors.js';

/**
 * linux.resources.devices[].access, read as runc 1.1.5 reads it (its devices emulator takes the
 * set of r, w and m in the string): order and repeats don't matter and other letters are
 * ignored ("rwa" is "rw", as Docker's and Kubernetes' device rules reach runc); a string with
 * none of r, w, m is refused (runc fails such a rule too). Unset or empty is "rwm": the spec
 * makes access OPTIONAL (runc refuses it, crun takes rwm). The result is in "rwm" order.
 */
export function deviceAccess(access: string | undefined, field: string): string {
  if (!access) return 'rwm';
  const set = ['r', 'w', 'm'].filter((c) => access.includes(c)).join('');
  if (!set) throw new TsrunError(`${field}: must name r, w or m: "${access}"`);
  return set;
}
