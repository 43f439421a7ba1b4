// tsrun run as many processes at once (load and fuzz tests), and this test process as the
// subreaper of the containers they start, so orphans and zombies can be counted here.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TOP, TSRUN, type Harness, type Result } from './runtime.js';


export interface AsyncResult extends Result {
  /** True when the run outlived its timeout and was SIGKILLed. */
  timedOut: boolean;
}

let seq = 0;

/**
 * `tsrun --root <root> ...args` (the harness's root by default; the client callers run, so
 * through the root's server when one runs) without waiting for it; output goes through files, as in
 * Harness.tsrun, so a container inheriting them never delays the result.
 */
export function tsrunAsync(h: Harness, args: string[], timeoutMs = 120_000, root = h.root, env: Record<string, string> = {}): Promise<AsyncResult> {
  const k = ++seq;
  const out = h.path(`par-${process.pid}-${k}.out`);
  const err = h.path(`par-${process.pid}-${k}.err`);
  const outFd = openSync(out, 'w+');
  const errFd = openSync(err, 'w+');
  const p = spawn(TSRUN, ['--root', root, ...args], {
    stdio: ['ignore', outFd, errFd],
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...env },
    cwd: h.tmp,
  });
  // spawn has duplicated them into the child by the time it returns
  closeSync(outFd);
  closeSync(errFd);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    p.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((res) => {
    const done = (status: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(timer);
      res({ status, signal, timedOut, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') });
    };
    p.on('exit', done);
    p.on('error', (e) => {
      clearTimeout(timer);
      res({ status: null, signal: null, timedOut, stdout: '', stderr: String(e) });
    });
  });
}

/** Runs `jobs` with at most `limit` at a time; results in the jobs' order. */
export async function pool<T>(limit: number, jobs: (() => Promise<T>)[]): Promise<T[]> {
  const results = new Array<T>(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

interface Native {
  flock(fd: number, op: 'sh' | 'ex' | 'un', nonblock?: boolean): void;
  setChildSubreaper(): void;
  waitpidBlocking(pid: number): { code?: number; signal?: number };
}

const native = (): Native => require(join(TOP, 'build', 'Release', 'tsrun_native.node')) as Native;

/** flock(2) from the addon, for tests that hold a container's lock themselves. */
export function flock(fd: number, op: 'sh' | 'ex' | 'un', nonblock = false): void {
  native().flock(fd, op, nonblock);
}

/**
 * Makes this process the subreaper of everything it starts: a container's pid 1 outlives the
 * tsrun that created it and is reparented here (as under conmon or containerd's shim) instead
 * of to the host's pid 1, which does not reap here.
 */
export function becomeSubreaper(): void {
  native().setChildSubreaper();
}

export interface Child {
  pid: number;
  state: string;
  comm: string;
}

/** This process's children that Node did not start (reparented orphans), with their state. */
export function adoptedChildren(): Child[] {
  const out: Child[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    const close = stat.lastIndexOf(')');
    const rest = stat.slice(close + 2).split(' ');
    if (Number(rest[1]) !== process.pid) continue;
    out.push({ pid: Number(name), state: rest[0]!, comm: stat.slice(stat.indexOf('(') + 1, close) });
  }
  return out;
}

/**
 * Reaps the zombies among this process's children. Call it only when no tsrun run is in
 * flight: Node reaps its own children, and waiting on one of those would race with it.
 */
export function reapZombies(): Child[] {
  const zombies = adoptedChildren().filter((c) => c.state === 'Z');
  for (const z of zombies) native().waitpidBlocking(z.pid);
  return zombies;
}
