// Load and locking (docs/STATE-FORMAT.md "Locking"): many tsrun processes at once on one
// container, where exactly one may win each transition and the others get runc's errors, and
// 100 create/start/kill/delete cycles on distinct IDs, after which nothing is left: no
// process, zombie, cgroup, mount or state dir.
import t, { type Test } from 'tap';
import { closeSync, constants, existsSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Harness, type Result } from './helpers/runtime.js';
import { adoptedChildren, becomeSubreaper, flock, pool, reapZombies, tsrunAsync, type AsyncResult } from './helpers/parallel.js';
import { alive, cgroupDirsNamed, mountsUnder, readOr } from './helpers/host.js';
import { servers, startServer, WARM } from './helpers/server.js';

const h = new Harness(t);
// Every call goes through one warm server (docs/CLIENT-SERVER.md), started while this process
// is not yet a subreaper: under one a server does not stay.
startServer(h);
becomeSubreaper();
const N = 20;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let bundleDir: string | undefined;
const bundle = (): string => (bundleDir ??= h.bundle({ args: ['sleep', '1000'] }));

/** Exits 0 and the rest, with every failure's last stderr line. */
function tally(rs: AsyncResult[]): { ok: number; errors: string[] } {
  for (const r of rs) if (r.timedOut || r.signal) throw new Error(`a run hung or died by a signal: ${r.signal ?? 'timeout'}: ${r.stderr}`);
  return { ok: rs.filter((r) => r.status === 0).length, errors: rs.filter((r) => r.status !== 0).map((r) => lastLine(r)) };
}

/** The message of the last stderr line (logrus-style `time=... level=error msg="..."` off a terminal). */
function lastLine(r: Result): string {
  const line = r.stderr.trim().split('\n').pop() ?? '';
  const m = /\bmsg=("(?:[^"\\]|\\.)*")/.exec(line);
  return m ? (JSON.parse(m[1]!) as string) : line;
}

/** Every line matches one of `allowed` (reported one by one, only when one does not). */
function allMatch(t: Test, lines: string[], allowed: RegExp, what: string): void {
  const bad = lines.filter((l) => !allowed.test(l));
  t.same(bad, [], `${what}: every loser says ${allowed}`);
}

async function all(n: number, args: (i: number) => string[]): Promise<AsyncResult[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => tsrunAsync(h, args(i))));
}

/** Nothing of `ids` remains: state dir, cgroup, mount, live process; zombies reaped here. */
function checkClean(t: Test, ids: string[], pids: number[]): number {
  t.same(ids.filter((id) => existsSync(`${h.root}/${id}`)), [], 'no state dir left');
  t.same(cgroupDirsNamed(ids), [], 'no cgroup dir left');
  t.same(mountsUnder(h.tmp), [], 'no mount left under the test dir');
  t.same(pids.filter((p) => alive(p)), [], 'no container process alive');
  const zombies = reapZombies();
  // Reparented here, a killed container's pid 1 is ours to reap; anything else (a tsrun-init
  // parent nobody waited for) would be a leak of tsrun's.
  t.same(zombies.filter((z) => !pids.includes(z.pid)).map((z) => `${z.pid} ${z.comm}`), [], 'every zombie was a container pid 1 (no tsrun-init left unreaped)');
  t.same(adoptedChildren().filter((c) => !pids.includes(c.pid)), [], 'no other process of ours remains');
  return zombies.length;
}

t.test('the lock fd reaches no container process and is free between commands', async (t) => {
  // create holds the lock while it starts the container: a leaked fd would keep it held.
  const id = h.id(t);
  h.ok(['create', '--bundle', bundle(), id]);
  const pid = h.state(id)!.pid;
  const dir = join(h.root, id);
  const fds = readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return '';
    }
  });
  // (its O_PATH fd of exec.fifo, inside the dir, is how start releases it)
  t.same(fds.filter((l) => l === dir || l === h.root), [], 'no fd of the container is the state dir');
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    t.doesNotThrow(() => flock(fd, 'ex', true), 'nobody holds the lock after create returned');
    // held here, a start waits for it
    const start = tsrunAsync(h, ['start', id]);
    await sleep(1500);
    t.equal(h.state(id)?.status, 'created', 'start waits while another holds the lock');
    flock(fd, 'un');
    const r = await start;
    t.equal(r.status, 0, `then starts: ${r.stderr.trim()}`);
  } finally {
    closeSync(fd);
  }
  h.ok(['delete', '--force', id]);
  checkClean(t, [id], [pid]);
});

t.test(`${N} concurrent starts of one created container: one wins`, async (t) => {
  const id = h.id(t);
  h.ok(['create', '--bundle', bundle(), id]);
  const pid = h.state(id)!.pid;
  const { ok, errors } = tally(await all(N, () => ['start', id]));
  t.equal(ok, 1, 'exactly one start succeeds');
  allMatch(t, errors, /cannot start an already running container|cannot start a container that has stopped/, 'start');
  t.equal(h.state(id)?.status, 'running');
  h.ok(['delete', '--force', id]);
  checkClean(t, [id], [pid]);
});

t.test(`${N} concurrent deletes of a stopped container: one wins`, async (t) => {
  const id = h.id(t);
  h.ok(['run', '-d', '--bundle', bundle(), id]);
  const pid = h.state(id)!.pid;
  h.ok(['kill', id, 'KILL']);
  h.waitStatus(id, 'stopped');
  const { ok, errors } = tally(await all(N, () => ['delete', id]));
  t.equal(ok, 1, 'exactly one delete succeeds');
  allMatch(t, errors, new RegExp(`container "${id}" does not exist`), 'delete');
  t.equal(h.state(id), null, 'the container is gone');
  checkClean(t, [id], [pid]);
});

t.test(`${N} concurrent delete --force of a running container: all succeed, as runc`, async (t) => {
  // runc exits 0 for a forced delete of a container that is not there: the losers find it gone.
  const id = h.id(t);
  h.ok(['run', '-d', '--bundle', bundle(), id]);
  const pid = h.state(id)!.pid;
  const { ok, errors } = tally(await all(N, () => ['delete', '--force', id]));
  t.equal(ok, N, `every forced delete exits 0 (${errors.join('; ')})`);
  t.equal(h.state(id), null, 'the container is gone');
  checkClean(t, [id], [pid]);
});

t.test(`${N} concurrent creates with one ID: one wins`, async (t) => {
  const id = h.id(t);
  const { ok, errors } = tally(await all(N, () => ['create', '--bundle', bundle(), id]));
  t.equal(ok, 1, 'exactly one create succeeds');
  allMatch(t, errors, new RegExp(`container with id exists: ${id}`), 'create');
  const s = h.state(id)!;
  t.equal(s.status, 'created', 'the winner\'s container is created');
  h.ok(['delete', '--force', id]);
  checkClean(t, [id], [s.pid]);
});

t.test(`${N} concurrent creates on distinct IDs, all taken by the one server: all created`, async (t) => {
  // A burst of a pod's containers: each call waits for a free worker of the server, and more are
  // started one at a time while calls wait (src/server/pool.ts); none may be lost or run cold.
  const ids = Array.from({ length: N }, () => h.id(t));
  const [server] = servers(h.root);
  const threads = (): number => Number(/Threads:\s+(\d+)/.exec(readOr(`/proc/${server}/status`))?.[1] ?? 0);
  const before = threads();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, threads())), 5);
  const rs = await Promise.all(ids.map((id) => tsrunAsync(h, ['create', '--bundle', bundle(), id], 120_000, h.root, WARM)));
  clearInterval(sampler);
  const { ok, errors } = tally(rs);
  t.equal(ok, N, `every create was served and succeeded ${errors.join('; ')}`);
  const states = ids.map((id) => h.state(id));
  t.same(ids.filter((_, i) => states[i]?.status !== 'created'), [], 'each container is created');
  t.comment(`the server's threads: ${before} before the burst, at most ${peak} during it`);
  for (const id of ids) h.ok(['delete', '--force', id]);
  checkClean(t, ids, states.map((s) => s?.pid ?? 0));
});

t.test('starts and forced deletes racing on a created container', async (t) => {
  const id = h.id(t);
  h.ok(['create', '--bundle', bundle(), id]);
  const pid = h.state(id)!.pid;
  const rs = await all(N, (i) => (i % 2 ? ['delete', '--force', id] : ['start', id]));
  tally(rs);
  const starts = rs.filter((_, i) => i % 2 === 0);
  const deletes = rs.filter((_, i) => i % 2 === 1);
  t.equal(deletes.filter((r) => r.status === 0).length, deletes.length, 'forced deletes all exit 0 (as runc)');
  t.ok(starts.filter((r) => r.status === 0).length <= 1, 'at most one start succeeds');
  allMatch(t, [...starts, ...deletes].filter((r) => r.status !== 0).map(lastLine), new RegExp(`container "${id}" does not exist|cannot start an already running container`), 'start/delete');
  t.equal(h.state(id), null, 'the container is gone');
  checkClean(t, [id], [pid]);
});

t.test(`${N} concurrent pause, resume, kill and update: transitions alternate`, async (t) => {
  const id = h.id(t);
  h.ok(['run', '-d', '--bundle', bundle(), id]);
  const pid = h.state(id)!.pid;
  const ops = (i: number): string[] => [['pause', id], ['resume', id], ['kill', id, 'WINCH'], ['update', '--pids-limit', String(100 + i), id]][i % 4]!;
  const rs = await all(N, ops);
  tally(rs);
  const of = (k: number): AsyncResult[] => rs.filter((_, i) => i % 4 === k);
  const paused = of(0).filter((r) => r.status === 0).length;
  const resumed = of(1).filter((r) => r.status === 0).length;
  allMatch(t, of(0).filter((r) => r.status !== 0).map(lastLine), /container not running/, 'pause');
  allMatch(t, of(1).filter((r) => r.status !== 0).map(lastLine), /container not paused/, 'resume');
  t.same(of(2).concat(of(3)).filter((r) => r.status !== 0).map(lastLine), [], 'kill and update always succeed on a live container');
  // Serialized by the lock, each successful pause needs a running container and each resume a
  // paused one: they alternate from "running", so the counts differ by at most one.
  const status = h.state(id)!.status;
  t.ok(paused - resumed === 0 || paused - resumed === 1, `pauses (${paused}) and resumes (${resumed}) alternate`);
  t.equal(status, paused > resumed ? 'paused' : 'running', 'the final status follows the last transition');
  t.comment(`${paused} pauses and ${resumed} resumes won out of ${N / 4 + 1} each`);
  h.ok(['delete', '--force', id]);
  checkClean(t, [id], [pid]);
});

t.test('delete --force of a paused container kills and removes it', async (t) => {
  // Frozen tasks do not die of SIGKILL until thawed: delete must thaw them.
  const id = h.id(t);
  h.ok(['run', '-d', '--bundle', bundle(), id]);
  const pid = h.state(id)!.pid;
  h.ok(['pause', id]);
  t.equal(h.state(id)?.status, 'paused');
  const d = h.tsrun(['delete', '--force', id]);
  t.equal(d.status, 0, `delete --force: ${d.stderr.trim()}`);
  checkClean(t, [id], [pid]);
});

t.test('100 create/start/kill/delete cycles on distinct IDs, 10 at a time', async (t) => {
  const CYCLES = Number(process.env.TSRUN_LOAD_CYCLES ?? 100);
  const ids = Array.from({ length: CYCLES }, () => h.id(t));
  const pids: number[] = [];
  const failures: string[] = [];
  let ops = 0;
  const started = Date.now();
  const step = async (id: string, args: string[]): Promise<AsyncResult> => {
    ops++;
    const r = await tsrunAsync(h, args);
    if (process.env.TSRUN_LOAD_TRACE) process.stderr.write(`${((Date.now() - started) / 1000).toFixed(1)} ${args.join(' ')} -> ${r.status}\n`);
    if (r.status !== 0) throw new Error(`${args[0]} ${id}: exit ${r.status ?? r.signal}: ${lastLine(r)}`);
    return r;
  };
  const cycle = async (id: string): Promise<void> => {
    try {
      const pidFile = h.path(`${id}.pid`);
      await step(id, ['create', '--bundle', bundle(), '--pid-file', pidFile, id]);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      pids.push(pid);
      await step(id, ['start', id]);
      await step(id, ['kill', id, 'KILL']);
      // Reparented here, pid 1 turns into our zombie when it dies: then `delete` sees it stopped.
      for (let i = 0; alive(pid); i++) {
        if (i > 500) throw new Error(`${id}: pid ${pid} still alive after SIGKILL`);
        await sleep(20);
      }
      await step(id, ['delete', id]);
    } catch (e) {
      failures.push((e as Error).message);
    }
  };
  await pool(10, ids.map((id) => () => cycle(id)));
  const secs = (Date.now() - started) / 1000;
  t.same(failures, [], 'every cycle succeeded');
  t.equal(pids.length, CYCLES, 'every container got a pid');
  const zombies = checkClean(t, ids, pids);
  t.same(readdirSync(h.root).filter((n) => ids.includes(n)), [], 'list has none of them');
  t.comment(`${CYCLES} cycles, ${ops} tsrun operations in ${secs.toFixed(1)} s (10 at a time); ${zombies} reparented container inits reaped, 0 leaks`);
});
