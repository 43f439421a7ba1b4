// The process that made the call. A cold call is that process (the client execs Node); in the
// warm server it is the client, whose pid the worker sets for the call (src/server/worker.ts).
// What a call reads of its caller (its cgroups, bounding set, fds named by path) is read there.
import { stdio } from './stdio.js';

let peer: number | undefined;

/** The server's worker sets the client's pid for one call, and unsets it after. */
export function setCallerPid(pid: number | undefined): void {
  peer = pid;
}

/** The caller's pid for /proc: 'self' in a cold call. */
export function callerPid(): number | 'self' {
  return peer ?? 'self';
}

/**
 * A path that names one of the caller's own fds (/dev/stdin, /dev/fd/N, /proc/self/fd/N: a pipe
 * or <(...) given as --process) as the server can open it: the client's stdin it holds, or the
 * fd through /proc/CLIENT/fd. Any other path, and every path in a cold call, is unchanged.
 */
export function callerPath(path: string): string {
  if (peer === undefined) return path;
  if (path === '/dev/stdin' || /^\/(dev|proc\/self)\/fd\/0$/.test(path)) return `/proc/self/fd/${stdio.in}`;
  const m = /^\/(?:dev|proc\/self)\/fd\/(\d+)$/.exec(path) ?? (/^\/dev\/(stdout|stderr)$/.test(path) ? ['', path.endsWith('out') ? '1' : '2'] : null);
  return m ? `/proc/${peer}/fd/${m[1]}` : path;
}
