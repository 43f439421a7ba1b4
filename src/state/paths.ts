import { join } from 'node:path';
import { TsrunError } from '../errors.js';

// runc's rule: letters, digits, _ + - . and not "." or "..": an ID is always one path element.
const ID_RE = /^[\w+.-]+$/;

/** Whether a name can be a container's ID (and so a state dir's name). */
export function isValidId(id: string): boolean {
  return ID_RE.test(id) && id !== '.' && id !== '..';
}

export function checkId(id: string): void {
  if (!isValidId(id)) throw new TsrunError(`invalid container id format: ${id}`);
}

export function containerDir(root: string, id: string): string {
  return join(root, id);
}

export const STATE_FILE = 'state.json';
export const FIFO_FILE = 'exec.fifo';
export const CONFIG_FILE = 'config.json';

/**
 * The state root when --root is not given. The whole rule lives here (the C client only knows /run/tsrun, for root in the initial user namespace):
 *   --root if given; else, when XDG_RUNTIME_DIR is set and non-empty and either euid != 0, or
 *   euid == 0 inside a user namespace (not the initial one) with USER unset or not "root",
 *   "$XDG_RUNTIME_DIR/tsrun"; else /run/tsrun.
 * The user-namespace clause is runc's: rootless Podman runs the runtime as root of its own user
 * namespace, without --root, and expects the state under the user's runtime dir.
 */
export function defaultRoot(flag: string | undefined, euid: number, inUserNs: boolean, env: NodeJS.ProcessEnv = process.env): string {
  if (flag !== undefined) return flag;
  const xdg = env.XDG_RUNTIME_DIR;
  const honorXdg = euid !== 0 || (inUserNs && env.USER !== 'root');
  if (xdg && honorXdg) return `${xdg}/tsrun`;
  return '/run/tsrun';
}
