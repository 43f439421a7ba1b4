import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsrunError } from '../errors.js';

// descriptors.json in the image dir, as runc writes it: what the container's fds 0-2 were
// ("pipe:[123]", "/dev/null", "/dev/pts/0"); restore hands the caller's fds in for the pipes.
const FILE = 'descriptors.json';

export function saveDescriptors(imageDir: string, pid: number): void {
  const fds = [0, 1, 2].map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return ''; // closed
    }
  });
  try {
    writeFileSync(join(imageDir, FILE), JSON.stringify(fds), { mode: 0o600 });
  } catch (e) {
    throw new TsrunError(`write ${join(imageDir, FILE)}: ${(e as Error).message}`);
  }
}

/** The stdio entries that were pipes, keyed as CRIU's --inherit-fd wants them. */
export function loadPipeDescriptors(imageDir: string): { fd: number; key: string }[] {
  const file = join(imageDir, FILE);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new TsrunError(`read ${file}: ${(e as Error).message} (not a checkpoint made by checkpoint?)`);
  }
  if (!Array.isArray(data) || !data.every((d) => typeof d === 'string')) throw new TsrunError(`${file}: not a list of descriptors`);
  return (data as string[]).flatMap((key, fd) => (key.startsWith('pipe:') ? [{ fd, key }] : []));
}
