// A call's standard fds. Output goes through writeOut/writeErr with writeSync, not through
// process.stdout/stderr: those load Node's whole stream stack (about 3 ms of a cold call's
// start), and in the server the numbers are the client's fds (src/server/worker.ts).
import { writeSync } from 'node:fs';

/** The fds of the call: 0, 1 and 2, or the client's in the server. */
export const stdio = { in: 0, out: 1, err: 2 };

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Writes all of data to fd, waiting out EAGAIN (a caller's non-blocking pipe). */
export function writeAll(fd: number, data: string | Uint8Array): void {
  let buf = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  while (buf.length > 0) {
    try {
      buf = buf.subarray(writeSync(fd, buf));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EINTR') continue;
      if (code !== 'EAGAIN') throw e;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

/** Writes text to fd; false once nobody reads it (EPIPE) or the fd is unusable. */
function writeTo(fd: number, text: string | Uint8Array): boolean {
  try {
    writeAll(fd, text);
    return true;
  } catch {
    // A one-shot call goes on, as with Node's own stdout; a stream (events) stops at this.
    return false;
  }
}

/** Writes to the call's stdout; false when its reader is gone. */
export function writeOut(text: string | Uint8Array): boolean {
  return writeTo(stdio.out, text);
}

/** Writes to the call's stderr; false when its reader is gone. */
export function writeErr(text: string | Uint8Array): boolean {
  return writeTo(stdio.err, text);
}
