import { spawn, type StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex, Writable } from 'node:stream';
import { TsrunError } from '../errors.js';
import { encodePlan, type PlanRecord } from '../plan/encode.js';
import { initEnv } from '../util/test-pause.js';

/** tsrun-init sits beside the addon in build/Release; TSRUN_INIT overrides it for tests. */
export function initBinary(): string {
  const p = process.env.TSRUN_INIT ?? join(__dirname, '..', 'build', 'Release', 'tsrun-init');
  if (!existsSync(p)) throw new TsrunError(`tsrun-init not found at ${p}: run npm run build`);
  return p;
}

export interface Launched {
  /** The container's pid 1 as this pid namespace sees it. */
  pid: number;
  /** Resolves with the C parent's exit status (foreground run waits on it). */
  exited: Promise<number>;
}

/**
 * Starts tsrun-init with the plan and waits until the container is set up ("ready") or fails.
 * fds 3..3+preserveFds-1 of this process are handed on as the container's preserved fds.
 * `onPid` runs as soon as the pid is known, so a failure later can still kill the process.
 * `onHooks` runs at the `hooks` sync step (plan record `hooks_sync`): the child waits before
 * pivot_root until it returns (`continue`); if it throws, create fails with its error.
 */
export function launch(records: PlanRecord[], preserveFds: number, onPid: (pid: number) => void, keepParent: boolean, onHooks?: () => void): Promise<Launched> {
  const planFd = 3 + preserveFds;
  const stdio: StdioOptions = ['inherit', 'inherit', 'inherit'];
  for (let fd = 3; fd < planFd; fd++) stdio.push(fd);
  stdio.push('pipe', 'pipe');
  const child = spawn(initBinary(), [String(planFd), String(planFd + 1)], { stdio, env: initEnv() });
  const exited = new Promise<number>((res) => child.on('exit', (code, sig) => res(code ?? 128 + (sig ? 15 : 0))));
  const plan = child.stdio[planFd] as Writable;
  // Node's 'pipe' stdio is a socketpair: the one reply (`continue`) goes back on it.
  const sync = child.stdio[planFd + 1] as Duplex;
  plan.on('error', () => undefined);
  plan.end(encodePlan(records));

  return new Promise<Launched>((res, rej) => {
    let buf = '';
    let pid = 0;
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      sync.destroy();
      const settle = (): void => (err ? rej(err) : res({ pid, exited }));
      if (keepParent && !err) return settle();
      // The C parent exits right after releasing the child (or after reporting an error); reap
      // it before returning: an orphan would be left a zombie under a subreaper such as conmon,
      // or under a pid 1 that does not reap. A parent stuck past 5 s is let go.
      const timer = setTimeout(() => {
        child.unref();
        settle();
      }, 5000);
      void exited.then(() => {
        clearTimeout(timer);
        settle();
      });
    };
    child.on('error', (e) => finish(new TsrunError(`start tsrun-init: ${e.message}`)));
    sync.setEncoding('utf8');
    sync.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('pid ')) {
          pid = Number(line.slice(4));
          onPid(pid);
        } else if (line === 'hooks') {
          try {
            if (!onHooks) throw new TsrunError('tsrun-init stopped for hooks the plan does not have');
            onHooks();
            sync.write('continue\n');
          } catch (e) {
            finish(e as Error);
          }
        } else if (line === 'ready') {
          finish();
        } else if (line.startsWith('error ')) {
          finish(new TsrunError(line.slice(6)));
        }
      }
    });
    sync.on('error', () => undefined);
    sync.on('close', () => {
      void exited.then((code) => finish(new TsrunError(`container init exited before it was ready (status ${code})`)));
    });
  });
}
