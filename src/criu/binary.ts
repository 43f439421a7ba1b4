import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { TsrunError } from '../errors.js';
import { childProcess } from '../util/child-process.js';

/** The criu binary on PATH and its version as runc counts it (3.17.1 is 31701). */
export interface Criu {
  path: string;
  version: number;
}

/** runc 1.1 relies on the version RPC of CRIU 3.0 and needs nothing older. */
export const MIN_VERSION = 30000;

/** "Version: 3.17.1" (and "GitID: ..." for a build from git), as `criu --version` prints it. */
export function parseCriuVersion(text: string): number | undefined {
  const m = /^Version:\s*(\d+)\.(\d+)(?:\.(\d+))?/m.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * 10000 + Number(m[2]) * 100 + Number(m[3] ?? 0);
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

/** Finds criu and checks it is recent enough; the errors say what to install. */
export function findCriu(): Criu {
  const path = onPath('criu');
  if (!path) throw new TsrunError('checkpoint/restore needs CRIU: no criu on PATH (install the criu package)');
  let out: string;
  try {
    out = childProcess().execFileSync(path, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10000 });
  } catch (e) {
    throw new TsrunError(`CRIU version check failed: ${path} --version: ${(e as Error).message.split('\n')[0]}`);
  }
  const version = parseCriuVersion(out);
  if (version === undefined) throw new TsrunError(`CRIU version check failed: ${path} --version printed no version: ${JSON.stringify(out.trim().slice(0, 200))}`);
  if (version < MIN_VERSION) throw new TsrunError(`CRIU version ${version} must be ${MIN_VERSION} or higher (${path})`);
  return { path, version };
}

/** runc's wording when a feature needs a newer CRIU than the one found. */
export function requireVersion(c: Criu, min: number, what: string): void {
  if (c.version < min) throw new TsrunError(`${what} requires at least CRIU ${Math.floor(min / 10000)}.${Math.floor(min / 100) % 100} (found ${c.version})`);
}
