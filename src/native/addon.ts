// The N-API addon (csrc/addon/native.cc): the few system calls Node lacks.
import { join } from 'node:path';
import { TsrunError } from '../errors.js';

export interface Native {
  flock(fd: number, op: 'sh' | 'ex' | 'un', nonblock?: boolean): void;
  socketpair(): [number, number];
  /** A blocking AF_UNIX stream connected to path (close-on-exec); reads and writes time out after timeoutMs (EAGAIN). */
  unixConnect(path: string, timeoutMs: number): number;
  /** posix_spawn with default signal dispositions; child fd i is fds[i]. Returns the pid. */
  spawn(path: string, argv: string[], env: string[], fds: number[]): number;
  /** Reaps pid; its exit status (128+signal when killed), undefined if still running at the timeout. */
  waitExit(pid: number, timeoutMs: number): number | undefined;
  /** From now on the listed signals this process gets go to target. */
  forwardSignals(target: number, signals: number[]): void;
  /** Reaps pid, sending the listed signals this process gets to target meanwhile; its exit status. */
  waitForwarding(pid: number, target: number, signals: number[]): number;
  /** FNV-1a (64 bits) of a Buffer or of a string's UTF-8 bytes, as 16 hex digits. */
  fnv1a64(data: string | Buffer): string;
  /** One client request on a connected socket (csrc/common/wire.h); its fds are close-on-exec. */
  recvRequest(fd: number, timeoutMs: number): { argv: string[]; env: string[]; fds: number[]; init: number };
  /** Writes out to a connected socket, then reads exactly inLen bytes (blocking; ECONNRESET at EOF). */
  exchange(fd: number, out: Buffer, inLen: number): Buffer;
  /** A new pty pair of /dev/ptmx, [master, slave], both close-on-exec; neither becomes the controlling terminal. */
  openPty(): [number, number];
  /** Sends data with fd attached (SCM_RIGHTS) in one message on a connected unix socket. */
  sendFd(sock: number, fd: number, data: string): void;
  /** close(2), without the warning fs.closeSync gives in a worker thread for an fd it did not open. */
  closeFd(fd: number): void;
  /** Waits up to ms for fd to be readable or hung up; false at the timeout. */
  pollIn(fd: number, ms: number): boolean;
  /** SO_PEERCRED of a connected unix socket. */
  peerCred(fd: number): { pid: number; uid: number; gid: number };
  /** Loads a cgroup v2 device program (src/cgroups/device-filter.ts) and attaches it to the cgroup dir. */
  attachDeviceProgram(dir: string, code: Buffer): void;
  /** _exit(2): ends the process without Node's teardown. */
  exitNow(code: number): never;
}

let native: Native | undefined = globalThis.tsrunBoot?.native;

/**
 * Ends the process: at once if the addon is loaded (see exitNow), else through Node's exit. A
 * call that succeeded first leaves the code it compiled to the code cache, if the loader asks
 * (src/boot.ts); a failed one may have run too little of it to be worth keeping.
 */
export function exitProcess(code: number): never {
  if (code === 0) globalThis.tsrunBoot?.save?.();
  if (native) native.exitNow(code);
  process.exit(code);
}

/**
 * The addon, loaded only by the commands that need it (and by the loader, src/boot.ts, which
 * hands it on). It sits beside tsrun-init in build/Release. process.dlopen rather than require:
 * the module resolver costs about 1 ms more.
 */
export function loadNative(): Native {
  if (!native) {
    const p = process.env.TSRUN_NATIVE ?? join(__dirname, '..', 'build', 'Release', 'tsrun_native.node');
    try {
      const m = { exports: {} };
      process.dlopen(m, p);
      native = m.exports as Native;
    } catch (e) {
      throw new TsrunError(`load ${p}: ${(e as Error).message}: run npm run build`);
    }
  }
  return native;
}
