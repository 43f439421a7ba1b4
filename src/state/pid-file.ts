import { renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** runc writes the pid file through a temp file and rename: readers never see it empty. */
export function writePidFile(file: string, pid: number): void {
  const path = resolve(file);
  const tmp = join(dirname(path), `.${basename(path)}`);
  writeFileSync(tmp, String(pid));
  renameSync(tmp, path);
}
