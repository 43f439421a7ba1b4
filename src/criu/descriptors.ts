import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsrunError } from '../errors.js';

// descriptors.json in the image dir, as runc writes it: what the container's fds 0-2 were
// ("pipe:[123]", "/dev/null", "/dev/pts/0"); restore hands the caller's fds in for the pipes.
const FILE = 'descriptors.json';

/**
 * What a process's fds 0-2 are, as runc's getPipeFds reads them ("" for one closed or not
 * readable). Read at create from pid 1 and at restore from the stdio criu is given, and kept in
 * state.json: by checkpoint time pid 1 may have moved its own (`exec >file`), and its restore
 * would then miss the caller's pipe.
 */
export function stdioOf(pid: number | 'self'): [string, string, string] {
  const link = (fd: number): string => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return '';
    }
  };
  return [link(0), link(1), link(2)];
}

export function saveDescriptors(imageDir: string, stdio: string[]): void {
  try {
    writeFileSync(join(imageDir, FILE), JSON.stringify(stdio), { mode: 0o600 });
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
