// The receiving end of --console-socket (build/recvtty, from conformance/recvtty.c).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TOP } from './runtime.js';

const RECVTTY = join(TOP, 'build', 'recvtty');

/** Starts recvtty on a new socket (and waits for it to exist); resolves with everything the container wrote to its terminal. */
export function receiver(sock: string, input?: string): { done: Promise<string> } {
  const p = spawn(RECVTTY, input === undefined ? [sock] : [sock, input], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<string>((res, rej) => {
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      rej(new Error(`recvtty timed out; got ${JSON.stringify(out)}`));
    }, 20000);
    // 'close', not 'exit': only then has all of recvtty's output been read.
    p.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) res(out);
      else rej(new Error(`recvtty exit ${code}`));
    });
  });
  for (let i = 0; i < 200 && !existsSync(sock); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  return { done };
}
