// The per-container lock of docs/STATE-FORMAT.md "Locking": commands that change a container
// hold flock(LOCK_EX) on its state dir until they return; readers take no lock.
import { closeSync, constants, fstatSync, openSync, statSync } from 'node:fs';
import { NotFoundError, TsrunError } from '../errors.js';
import { checkId, containerDir } from './paths.js';
import { loadNative } from '../native/addon.js';

/** Locks held by this process, by dir: a command that calls another (run, start → delete) locks once. */
const held = new Map<string, { fd: number; depth: number }>();

/**
 * Takes the container's lock (blocking) and returns its release. Fails with runc's "does not
 * exist" when the dir is gone, or was removed and made again while we waited: the lock we got
 * is then on a dir nobody will use again.
 */
export function lockContainer(root: string, id: string): () => void {
  checkId(id);
  const dir = containerDir(root, id);
  const mine = held.get(dir);
  if (mine) {
    mine.depth++;
    return () => void mine.depth--;
  }
  let fd: number;
  try {
    // libuv opens every fd O_CLOEXEC: the lock never reaches tsrun-init or a container.
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new NotFoundError(id);
    throw new TsrunError(`open state dir ${dir}: ${(e as Error).message}`);
  }
  try {
    loadNative().flock(fd, 'ex');
    if (!sameDir(fd, dir)) throw new NotFoundError(id);
  } catch (e) {
    closeSync(fd);
    if (e instanceof TsrunError) throw e;
    throw new TsrunError(`lock state dir ${dir}: ${(e as Error).message}`);
  }
  const entry = { fd, depth: 1 };
  held.set(dir, entry);
  return () => {
    if (--entry.depth > 0) return;
    held.delete(dir);
    closeSync(fd); // closing the last fd of the open file releases the flock
  };
}

/** Runs `fn` holding the container's lock. */
export function withContainerLock<T>(root: string, id: string, fn: () => T): T {
  const release = lockContainer(root, id);
  try {
    return fn();
  } finally {
    release();
  }
}

/** The fd of this process that holds the container's lock (create checks it is no preserved fd). */
export function lockFd(root: string, id: string): number | undefined {
  return held.get(containerDir(root, id))?.fd;
}

function sameDir(fd: number, dir: string): boolean {
  const a = fstatSync(fd);
  let b;
  try {
    b = statSync(dir);
  } catch {
    return false;
  }
  return a.dev === b.dev && a.ino === b.ino;
}
