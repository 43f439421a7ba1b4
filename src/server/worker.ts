// A worker thread of the server runs calls one at a time (src/server/server.ts keeps a pool).
// A call sees the client's argv, environment, working directory and stdio, and its output goes
// straight to the client's fds. What modules keep from one call to the next are facts about the
// host (cgroup mounts, capabilities, the schema validator); everything a call sets (the log
// target, the environment, stdio) is set again by the next.
import { readFileSync, readlinkSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { loadNative } from '../native/addon.js';
import { stdio, writeErr, writeOut } from '../util/stdio.js';
import { setInitHost, type InitHost } from '../container/init-host.js';
import { setCallerPid } from '../util/caller.js';
import { ACCEPTED, CONFIRMED, EXIT, FOREGROUND, FORWARD, FORWARDING, RECV_TIMEOUT_MS, WAIT, WAITED } from './protocol.js';

/** `ready`: listening for calls (src/server/pool.ts); `streaming`: the call is `events`, which never ends (the main thread then watches the client go); `done`: the call is over. */
export type WorkerMessage = { type: 'ready' } | { type: 'streaming' } | { type: 'done' };

/** Anything else written to process.stdout/stderr (a Node warning) goes where the call's output goes. */
function redirectStreams(): void {
  (process.stdout as { write: unknown }).write = (chunk: string | Uint8Array): boolean => (writeOut(chunk), true);
  (process.stderr as { write: unknown }).write = (chunk: string | Uint8Array): boolean => (writeErr(chunk), true);
}

/** The call's process context: the client's environment, cwd and stdio. */
function adopt(env: string[], cwd: string, fds: number[]): void {
  for (const k of Object.keys(process.env)) delete process.env[k];
  for (const e of env) {
    const eq = e.indexOf('=');
    if (eq > 0) process.env[e.slice(0, eq)] = e.slice(eq + 1);
  }
  // path.resolve asks process.cwd(): relative paths of the call resolve against the caller's
  process.cwd = () => cwd;
  stdio.in = fds[1]!;
  stdio.out = fds[2]!;
  stdio.err = fds[3]!;
}

/**
 * After a call its fds are closed, and their numbers are soon another call's (another worker's
 * plan socket, say): whatever this worker writes later (a warning emitted on the next tick)
 * goes to the server's own stdio (/dev/null, or its unit's journal), never to a stale number.
 */
function release(): void {
  stdio.in = 0;
  stdio.out = 1;
  stdio.err = 2;
}

/**
 * Test-only: with TSRUN_TEST_SERVER_PAUSE_AT=<step> in the server's environment, the whole
 * server stops (SIGSTOP) at that step of each call: `request` before reading it (a hung
 * server), `accepted` after taking it (the client confirmed) and before running it. test/client-server.ts.
 * The signal goes to this thread's own id: sent to the process id, the kernel hands it to the
 * main thread, and this thread ran on until the main thread was scheduled to stop the group
 * (on a loaded host far enough to answer `A` and make the call before the server stopped).
 * Sent to this thread, it is taken on the return from kill(2), before the next step.
 */
function serverPause(step: string): void {
  if ((workerData as { pauseAt?: string } | null)?.pauseAt !== step) return;
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  process.kill(tid, 'SIGSTOP');
}

/** Namespaces a call's paths and pids are read in: the client's must be the server's. */
const NAMESPACES = ['mnt', 'pid', 'net', 'user', 'ipc', 'uts', 'cgroup'];

/** The server's own, read once: it never changes namespace (tsrun-init does the setns). */
let own: string[] | undefined;

function sameNamespaces(peer: number): boolean {
  try {
    own ??= NAMESPACES.map((n) => readlinkSync(`/proc/self/ns/${n}`));
    return NAMESPACES.every((n, i) => readlinkSync(`/proc/${peer}/ns/${n}`) === own![i]);
  } catch {
    return false;
  }
}

/** fd is open in the client and not close-on-exec: tsrun-init has it. */
function inherited(peer: number, fd: number): boolean {
  try {
    const flags = /^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/${peer}/fdinfo/${fd}`, 'utf8'))?.[1];
    return flags !== undefined && (parseInt(flags, 8) & 0o2000000) === 0;
  } catch {
    return false;
  }
}

function ints(type: number, values: number[]): Buffer {
  const b = Buffer.alloc(1 + 4 * values.length);
  b[0] = type;
  values.forEach((v, i) => b.writeInt32LE(v, 1 + 4 * i));
  return b;
}

/**
 * The tsrun-init the client started (create, run, exec) and the client as its parent: waits and
 * signal forwarding are asked of the client (csrc/common/wire.h). `handed` says whether launch
 * took the plan and sync fds (it closes them).
 */
function clientHost(sock: number, peer: number, init: number, plan: number, sync: number, handed: { fds: boolean }): InitHost {
  const native = loadNative();
  const answer = (out: Buffer, type: number): number => {
    const r = native.exchange(sock, out, 5);
    if (r[0] !== type) throw new Error('the client answered out of turn');
    return r.readInt32LE(1);
  };
  return {
    start(path, _env, preserveFds) {
      // A cold call's posix_spawn fails on a preserved fd the caller does not have: so does this one.
      // (the client's own fds are close-on-exec: not the caller's, and not tsrun-init's)
      for (let fd = 3; fd < 3 + preserveFds; fd++) {
        if (!inherited(peer, fd)) throw new Error(`spawn ${path}: fd ${fd}: Bad file descriptor`);
      }
      handed.fds = true;
      return { parent: init, plan, sync };
    },
    waitExit(_parent, timeoutMs) {
      const code = answer(ints(WAIT, [timeoutMs]), WAITED);
      return code < 0 ? undefined : code;
    },
    forwardTo(pid, signals) {
      answer(ints(FORWARD, [pid, signals.length, ...signals]), FORWARDING);
    },
    waitForwarding(_parent, target, signals) {
      return answer(ints(FOREGROUND, [target, signals.length, ...signals]), WAITED);
    },
  };
}

function post(m: WorkerMessage): void {
  parentPort!.postMessage(m);
}

async function handle(sock: number, peer: number, run: (argv: string[]) => Promise<number>): Promise<void> {
  const native = loadNative();
  let req: ReturnType<typeof native.recvRequest>;
  serverPause('request');
  try {
    req = native.recvRequest(sock, RECV_TIMEOUT_MS);
  } catch {
    post({ type: 'done' }); // closed unanswered: the client did not send a whole request
    return;
  }
  const handed = { fds: false };
  try {
    if (req.fds.length !== (req.init ? 6 : 4) || !sameNamespaces(peer)) return; // closed unanswered: the client runs it cold
    let cwd: string;
    try {
      cwd = readlinkSync(`/proc/self/fd/${req.fds[0]}`);
    } catch {
      return;
    }
    adopt(req.env, cwd, req.fds);
    setCallerPid(peer);
    if (req.init) setInitHost(clientHost(sock, peer, req.init, req.fds[4]!, req.fds[5]!, handed));
    // Nothing is done before the client confirms: one that gave up waiting for ACCEPTED has
    // closed instead, and reported the call as not taken.
    try {
      if (native.exchange(sock, Buffer.of(ACCEPTED), 1)[0] !== CONFIRMED) return;
    } catch {
      return;
    }
    // Only `events` needs the main thread during the call: a message wakes it, on the CPU the
    // call would use.
    if (req.argv.includes('events')) post({ type: 'streaming' });
    serverPause('accepted');
    const code = await run(req.argv.slice(1));
    const out = Buffer.alloc(5);
    out[0] = EXIT;
    out.writeInt32LE(code, 1);
    try {
      writeSync(sock, out);
    } catch {
      // the client is gone: the call is done all the same
    }
  } finally {
    setInitHost(undefined);
    setCallerPid(undefined);
    release();
    for (const fd of handed.fds ? req.fds.slice(0, 4) : req.fds) native.closeFd(fd);
    post({ type: 'done' });
  }
}

/** Serves each socket server.ts hands this worker, one at a time. */
export function serveCalls(run: (argv: string[]) => Promise<number>): void {
  // A worker warns when it closes an fd fs did not open in it ("closed but not opened in
  // unmanaged mode"): every fd of a call came from the client. Other warnings are printed.
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    if (!/not opened in unmanaged mode/.test(w.message)) writeErr(`${w.name}: ${w.message}\n`);
  });
  redirectStreams();
  parentPort!.on('message', (m: { sock: number; peer: number }) => void handle(m.sock, m.peer, run));
  post({ type: 'ready' });
}
