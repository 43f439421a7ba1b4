import { compileCached } from '../seccomp/cache.js';
import { compileSeccomp } from '../seccomp/compile.js';
import { SPEC_VERSION } from '../spec/version.js';
import type { Config } from '../spec/load.js';
import type { PlanRecord } from './encode.js';

/**
 * The `seccomp` (and `seccomp_listener`) records; koffi and libseccomp are loaded only when there
 * is seccomp and the state root's cache does not have the program yet.
 */
export function planSeccomp(cfg: Config, debug: (m: string) => void, cacheRoot?: string): PlanRecord[] {
  const s = cfg.linux?.seccomp;
  if (!s) return [];
  const c = compileCached(s, cacheRoot, compileSeccomp);
  // A debug line, as runc: Docker's and Podman's profiles name calls newer than many libseccomps.
  if (c.skipped.length) debug(`linux.seccomp: syscalls unknown to libseccomp skipped: ${c.skipped.join(', ')}`);
  const out: PlanRecord[] = [['seccomp', c.flags, c.program.toString('hex')]];
  if (c.listener) {
    // config-linux.md#containerprocessstate; the C core appends "pid" and "state" and the brace.
    const head = JSON.stringify({ ociVersion: SPEC_VERSION, fds: ['seccompFd'], metadata: c.listener.metadata ?? '' }).slice(0, -1) + ',';
    out.push(['seccomp_listener', c.listener.path, head]);
  }
  return out;
}
