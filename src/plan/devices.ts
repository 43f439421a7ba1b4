import { TsrunError } from '../errors.js';
import type { Config } from '../spec/load.js';
import type { PlanRecord } from './encode.js';

/** config-linux.md#default-devices: always supplied, char devices, mode 0666 as runc. */
const DEFAULT_DEVICES: [string, number, number][] = [
  ['/dev/null', 1, 3], ['/dev/zero', 1, 5], ['/dev/full', 1, 7],
  ['/dev/tty', 5, 0], ['/dev/urandom', 1, 9], ['/dev/random', 1, 8],
];

/**
 * Device nodes and the /dev symlinks. In a new user namespace mknod is refused, so the host's
 * nodes are bind-mounted instead (bind=1). When /dev comes bind-mounted from the host, nothing
 * is made there.
 */
export function planDevices(cfg: Config, newUserNs: boolean): PlanRecord[] {
  const devBound = (cfg.mounts ?? []).some((m) => m.destination.replace(/\/+$/, '') === '/dev' && (m.options ?? []).some((o) => o === 'bind' || o === 'rbind'));
  const out: PlanRecord[] = [];
  const seen = new Set<string>();
  const bind = newUserNs ? 1 : 0;
  (cfg.linux?.devices ?? []).forEach((d, i) => {
    const field = `linux.devices[${i}]`;
    if (!d.path.startsWith('/')) throw new TsrunError(`${field}.path: must be absolute: ${d.path}`);
    if (!['c', 'b', 'u', 'p'].includes(d.type)) throw new TsrunError(`${field}.type: must be one of c, b, u, p: "${d.type}"`);
    if (d.type !== 'p' && (d.major === undefined || d.minor === undefined)) throw new TsrunError(`${field}: major and minor are required for type "${d.type}"`);
    const mode = d.fileMode ?? 0o666;
    if (mode > 0o7777) throw new TsrunError(`${field}.fileMode: must hold permission bits only: ${mode}`);
    seen.add(d.path);
    out.push(['device', d.path, d.type, d.major ?? 0, d.minor ?? 0, mode, d.uid ?? 0, d.gid ?? 0, bind]);
  });
  if (!devBound) {
    for (const [path, major, minor] of DEFAULT_DEVICES) {
      if (!seen.has(path)) out.push(['device', path, 'c', major, minor, 0o666, 0, 0, bind]);
    }
    out.push(['symlink', '/proc/self/fd', '/dev/fd'], ['symlink', '/proc/self/fd/0', '/dev/stdin'], ['symlink', '/proc/self/fd/1', '/dev/stdout'], ['symlink', '/proc/self/fd/2', '/dev/stderr']);
    if ((cfg.mounts ?? []).some((m) => m.destination === '/dev/pts' && m.type === 'devpts')) out.push(['symlink', 'pts/ptmx', '/dev/ptmx']);
  }
  return out;
}
