import { closeSync, existsSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { TsrunError } from '../errors.js';
import { initHost } from './init-host.js';
import { initEnv } from '../util/test-pause.js';
import { writeAll } from '../util/stdio.js';

/** tsrun-init sits beside the addon in build/Release; TSRUN_INIT overrides it for tests. */
export function initBinary(): string {
  const p = process.env.TSRUN_INIT ?? join(__dirname, '..', 'build', 'Release', 'tsrun-init');
  if (!existsSync(p)) throw new TsrunError(`tsrun-init not found at ${p}: run npm run build`);
  return p;
}

export interface Launched {
  /** The container's pid 1 (or the exec'd process) as this pid namespace sees it. */
  pid: number;
  /** tsrun-init's parent process: reaped already, unless the launch keeps it (foreground run). */
  parent: number;
}

/** How long a parent that should be exiting is waited for before it is let go. */
const REAP_MS = 5000;

/**
 * Starts tsrun-init with the plan (encodePlan's bytes) and waits until the container is set up ("ready") or fails.
 * fds 3..3+preserveFds-1 of this process are handed on as the container's preserved fds.
 * `onPid` runs as soon as the pid is known, so a failure later can still kill the process.
 * `onPlace` (plan record `cgroup_sync`) runs next, while the C parent waits before the id maps and
 * the release: the runtime puts the child in its cgroup itself (a systemd unit), then `continue`.
 * `onHooks` runs at the `hooks` sync step (plan record `hooks_sync`): the child waits before
 * pivot_root until it returns (`continue`); if it throws, create fails with its error.
 * Synchronous on purpose: the protocol is a handful of lines, and blocking reads need none of
 * Node's stream machinery, whose loading would cost more than the exchange itself.
 */
export function launch(plan: Buffer, preserveFds: number, onPid: (pid: number) => void, keepParent: boolean, onHooks?: () => void, onPlace?: (pid: number) => void): Launched {
  const host = initHost();
  const path = initBinary();
  let planSock: number;
  let sync: number;
  let parent: number;
  try {
    const env = Object.entries(initEnv()).map(([k, v]) => `${k}=${v}`);
    ({ parent, plan: planSock, sync } = host.start(path, env, preserveFds));
  } catch (e) {
    throw new TsrunError(`start tsrun-init: ${(e as Error).message}`);
  }
  try {
    writeAll(planSock, plan);
  } catch {
    // EPIPE: tsrun-init exited before reading it all; its exit is reported below.
  }
  closeSync(planSock);

  let pid = 0;
  try {
    for (const line of lines(sync)) {
      if (line.startsWith('pid ')) {
        pid = Number(line.slice(4));
        onPid(pid);
        if (onPlace) {
          onPlace(pid);
          writeAll(sync, Buffer.from('continue\n'));
        }
      } else if (line === 'hooks') {
        if (!onHooks) throw new TsrunError('tsrun-init stopped for hooks the plan does not have');
        onHooks();
        writeAll(sync, Buffer.from('continue\n'));
      } else if (line === 'ready') {
        closeSync(sync);
        // The C parent exits right after releasing the child; reap it before returning: an
        // orphan would be left a zombie under a subreaper such as conmon, or under a pid 1 that
        // does not reap. A parent stuck past REAP_MS is let go.
        if (!keepParent) host.waitExit(parent, REAP_MS);
        return { pid, parent };
      } else if (line.startsWith('error ')) {
        throw new TsrunError(line.slice(6));
      }
    }
    const code = host.waitExit(parent, REAP_MS);
    throw new TsrunError(`container init exited before it was ready (status ${code ?? 'unknown'})`);
  } catch (e) {
    try {
      closeSync(sync);
    } catch {
      // closed at ready
    }
    host.waitExit(parent, REAP_MS);
    throw e;
  }
}

/** The lines tsrun-init writes on the sync socket, read with blocking reads until EOF. */
function* lines(fd: number): Generator<string> {
  const chunk = Buffer.alloc(4096);
  let pending = Buffer.alloc(0);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, chunk, 0, chunk.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EINTR') continue;
      return;
    }
    if (n === 0) return;
    pending = Buffer.concat([pending, chunk.subarray(0, n)]);
    let nl: number;
    while ((nl = pending.indexOf(10)) >= 0) {
      yield pending.toString('utf8', 0, nl);
      pending = pending.subarray(nl + 1);
    }
  }
}
