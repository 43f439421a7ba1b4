import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsrunError } from '../errors.js';

// A container's terminal across checkpoint and restore, on CRIU's command line: checkpoint
// records which pty pid 1's stdio is, restore hands criu a new pty's slave in its place
// (--inherit-fd fd[N]:KEY), whose master goes to --console-socket. runc gets the same from
// CRIU's RPC (orphan_pts_master); the command line has no such option.
const FILE = 'tsrun-tty.json';

/** Unix98 pty slaves (UNIX98_PTY_SLAVE_MAJOR and the 7 majors after it). */
const PTS_MAJORS = [136, 143];

/**
 * CRIU's name for an external tty, as its get_tty_driver prints it: tty[rdev:dev] in hex, each
 * the 32 bits its image keeps of the slave's st_rdev and st_dev.
 */
export function ttyKey(rdev: bigint, dev: bigint): string {
  return `tty[${(rdev & 0xffffffffn).toString(16)}:${(dev & 0xffffffffn).toString(16)}]`;
}

/** The key of the pty slave that is one of pid's fds 0-2, the first one; undefined if none is. */
export function ptyKeyOf(pid: number): string | undefined {
  for (const fd of [0, 1, 2]) {
    let st;
    try {
      st = statSync(`/proc/${pid}/fd/${fd}`, { bigint: true });
    } catch {
      continue;
    }
    // glibc's dev_t: major in bits 8-19 and 32-43
    const major = Number(((st.rdev >> 8n) & 0xfffn) | ((st.rdev >> 32n) & ~0xfffn));
    if (st.isCharacterDevice() && major >= PTS_MAJORS[0]! && major <= PTS_MAJORS[1]!) return ttyKey(st.rdev, st.dev);
  }
  return undefined;
}

export function saveTtyKey(imageDir: string, key: string): void {
  try {
    writeFileSync(join(imageDir, FILE), JSON.stringify({ key }), { mode: 0o600 });
  } catch (e) {
    throw new TsrunError(`write ${join(imageDir, FILE)}: ${(e as Error).message}`);
  }
}

/** The key checkpoint recorded; a clear error if it recorded none. */
export function loadTtyKey(imageDir: string): string {
  const file = join(imageDir, FILE);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new TsrunError(`read ${file}: ${(e as Error).message} (the checkpoint recorded no terminal: process.terminal needs one made by tsrun checkpoint --shell-job)`);
  }
  const key = (data as { key?: unknown } | null)?.key;
  if (typeof key !== 'string' || !/^tty\[[0-9a-f]+:[0-9a-f]+\]$/.test(key)) throw new TsrunError(`${file}: no tty key`);
  return key;
}
