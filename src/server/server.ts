// The warm server of one state root and one build (docs/CLIENT-SERVER.md). The C client
// (csrc/client/client.c) connects to <root>/@server/<build>.sock and sends its argv, environment,
// cwd and stdio; a worker thread runs the call with the same code a cold Node call runs
// (src/main.ts runCli) and answers the exit status. A worker runs one call at a time; calls
// wait for a free worker, and more are started while calls wait (src/server/pool.ts), so calls
// on different containers do not wait long for each other; the state locks order calls on one.
import { appendFileSync, chmodSync, existsSync, lstatSync, mkdirSync, openSync, writeSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { hierarchies } from '../cgroups/hierarchy.js';
import { loadNative } from '../native/addon.js';
import { euid } from '../util/rootless.js';
import { DEFAULT_GRACE_MS, NO_SERVER, PENDING, SERVER_DIR, WORKER_FLAG } from './protocol.js';
import { WorkerPool } from './pool.js';
import type { WorkerMessage } from './worker.js';

/** How long an `events` call whose client went away may take to end by itself before its worker is stopped. */
const STREAM_STOP_MS = 1000;

/**
 * Out of the caller's cgroup: a conmon or shim scope that goes away must neither take the
 * server with it nor be kept by it. A cgroup tsrun owns in each hierarchy; rootless, where none
 * can be made, the server stays where it was started.
 */
function leaveCallerCgroup(): void {
  for (const h of hierarchies()) {
    const dir = join(h.mountpoint, 'tsrun-server');
    try {
      mkdirSync(dir, { recursive: true });
      // a v1 cpuset takes no process before it has cpus and mems: its parent's
      if (h.controllers.includes('cpuset'))
        for (const f of ['cpuset.cpus', 'cpuset.mems']) if (!readFileSync(join(dir, f), 'utf8').trim()) writeFileSync(join(dir, f), readFileSync(join(h.mountpoint, f)));
      writeFileSync(join(dir, 'cgroup.procs'), String(process.pid));
    } catch {
      // not ours to write (rootless, a read-only hierarchy)
    }
  }
}

/** The server's dir: this uid's alone, not a symlink. */
function ownDir(root: string): string {
  const dir = join(root, SERVER_DIR);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== euid() || (st.mode & 0o077) !== 0) throw new Error(`${dir}: not a directory of uid ${euid()} with mode 0700`);
  return dir;
}

/** Containers in the root: entries that are not tsrun's own (@code-cache, @server). */
function holdsContainers(root: string): boolean {
  try {
    return readdirSync(root).some((n) => !n.startsWith('@') && !n.startsWith('.'));
  } catch {
    return false;
  }
}

export function serve(args: string[]): void {
  const [root, build] = args;
  if (!root || !build || !/^[0-9a-f]{16}$/.test(build)) process.exit(2);
  process.umask(0o022);
  const native = loadNative();
  const dir = ownDir(root);
  const lock = openSync(join(dir, `${build}.lock`), 'w', 0o600);
  try {
    native.flock(lock, 'ex', true);
  } catch {
    process.exit(0); // another client started this build's server first
  }
  // A systemd service (INVOCATION_ID) is in a cgroup of its own already. Otherwise the client
  // double-forked this process: a subreaper that adopted it (conmon, containerd's shim) would
  // hold it in its tree, so it serves only as a child of its pid namespace's init.
  if (!process.env.INVOCATION_ID) {
    if (process.ppid !== 1) process.exit(0);
    leaveCallerCgroup();
  }
  // The server's own failures (not a call's: those go to the caller's stderr) are kept here:
  // its stdio is /dev/null.
  process.on('uncaughtException', (e) => {
    try {
      appendFileSync(join(dir, `${build}.log`), `${new Date().toISOString()} pid ${process.pid}: ${e.stack ?? String(e)}\n`);
    } finally {
      process.exit(1);
    }
  });
  const sockPath = join(dir, `${build}.sock`);
  rmSync(sockPath, { force: true }); // a stale socket of a server that died
  const grace = Number(process.env.TSRUN_SERVER_GRACE_MS) || DEFAULT_GRACE_MS;
  const boot = join(__dirname, 'tsrun.js');
  let active = 0;
  let lastCall = Date.now();
  const pool = new WorkerPool(() => {
    const w = new Worker(boot, { argv: [WORKER_FLAG], stdout: true, stderr: true, workerData: { pauseAt: process.env.TSRUN_TEST_SERVER_PAUSE_AT } });
    w.on('error', () => undefined); // a call's own errors are its worker's; this one just ends
    return w;
  });

  const onConnection = (c: Socket): void => {
    const fd = (c as unknown as { _handle: { fd: number } })._handle.fd;
    let peer: number;
    try {
      const cred = native.peerCred(fd);
      if (cred.uid !== euid()) throw new Error('another uid');
      peer = cred.pid;
      // not hung: the client now waits longer for a worker that may still have to start
      writeSync(fd, Buffer.of(PENDING));
    } catch {
      c.destroy();
      return;
    }
    active++;
    c.on('error', () => undefined);
    const take = (w: Worker): void => {
      let done = false;
      let streaming = false;
      const finish = (reuse: boolean): void => {
        if (done) return;
        done = true;
        active--;
        lastCall = Date.now();
        c.destroy();
        w.off('message', onMessage);
        w.off('exit', onExit);
        w.off('error', onExit);
        pool.release(w, reuse);
      };
      const onMessage = (m: WorkerMessage): void => {
        if (m.type === 'done') return finish(true);
        if (m.type !== 'streaming') return;
        // `events` never ends: once its request is read, the socket is watched for the client
        // going away. No other call's socket is read here: the worker talks on it (wire.h).
        streaming = true;
        c.resume();
      };
      const onExit = (): void => finish(false);
      w.on('message', onMessage);
      w.on('exit', onExit);
      w.on('error', onExit);
      // A client gone mid-call leaves the call to finish (it may hold a half-done transition);
      // only `events`, which changes nothing and never ends, is stopped. Not at once: the client
      // of a one-shot `events --stats` exits as soon as it has X, which can reach this thread
      // before the worker's `done`, and a worker stopped in its last steps would keep the
      // call's fds (a state lock among them) open for good.
      c.on('close', () => {
        if (!done && streaming) setTimeout(() => done || void w.terminate(), STREAM_STOP_MS).unref();
      });
      w.postMessage({ sock: fd, peer });
    };
    pool.acquire(take, () => {
      active--;
      c.destroy();
    });
  };

  const server = createServer({ pauseOnConnect: true }, onConnection);
  server.on('error', () => process.exit(1));
  server.listen(sockPath, () => {
    chmodSync(sockPath, 0o600);
    const ino = statSync(sockPath).ino;
    pool.prime();
    // Stays while the root holds containers; then exits after the grace period, or at once when
    // its socket was removed or replaced (the root deleted, another server) or the server was
    // turned off for the root (<root>/@no-server).
    setInterval(() => {
      let mine = false;
      try {
        mine = statSync(sockPath).ino === ino;
      } catch {
        mine = false;
      }
      if (active > 0 || (mine && !existsSync(join(root, NO_SERVER)) && (Date.now() - lastCall < grace || holdsContainers(root)))) return;
      if (mine) rmSync(sockPath, { force: true });
      process.exit(0);
    }, Math.min(1000, grace)).unref();
  });
  // the listener keeps the loop alive; the interval above ends it
}
