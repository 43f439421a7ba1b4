import { childProcess } from '../util/child-process.js';
import { readFileSync } from 'node:fs';
import { TsrunError } from '../errors.js';

/**
 * A container without its own mount namespace leaves its mounts (proc, dev, ...) in the
 * runtime's namespace under the rootfs; delete takes them away, deepest first.
 */
export function unmountUnder(rootfs: string): void {
  const prefix = rootfs.replace(/\/+$/, '') + '/';
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m)
    .map((m) => m.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m.startsWith(prefix) || m === rootfs)
    .sort((a, b) => b.length - a.length);
  if (!points.length) return;
  try {
    childProcess().execFileSync('umount', ['-l', ...new Set(points)], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    throw new TsrunError(`unmount the container's mounts under ${rootfs}: ${(e as Error).message}`);
  }
}
