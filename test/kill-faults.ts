// Faults: tsrun SIGKILLed at every step of create (each sync point with tsrun-init, each state
// write), during start, delete and exec; the state root on a full filesystem; a container whose
// init dies before start. The test-only pause steps (test/helpers/pause.ts) hold tsrun or
// tsrun-init at the step; tsrun is killed there and tsrun-init, as it would, carries on. After
// each: `list` and `delete --force` recover, nothing is left (state dir, cgroup, process, mount,
// open file), and a container running meanwhile is unaffected. The file ends with the counts.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Harness, TOP, type Config } from './helpers/runtime.js';
import { alive, cgroupDirsNamed, mountsUnder, processesOf } from './helpers/host.js';
import { pauseAt, type Paused } from './helpers/pause.js';

const h = new Harness(t);
let injected = 0;
let recovered = 0;
const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What container `id` (made from `bundle`) left behind, each as a sentence; [] when nothing. */
function leftovers(id: string, bundle: string): string[] {
  const out: string[] = [];
  if (existsSync(join(h.root, id))) out.push(`state dir ${join(h.root, id)}`);
  out.push(...cgroupDirsNamed([id]).map((d) => `cgroup ${d}`));
  const procs = [...new Set([...processesOf(id, bundle), ...processesOf(id, join(h.root, id))])].filter(alive);
  out.push(...procs.map((p) => `process ${p} (${spawnSync('cat', [`/proc/${p}/cmdline`], { encoding: 'utf8' }).stdout.replace(/\0/g, ' ')})`));
  out.push(...mountsUnder(bundle).map((m) => `mount ${m}`));
  return out;
}

/** Waits (up to 10 s) for a process to end; zombies count as ended. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 500 && alive(pid); i++) await delay(20);
  return !alive(pid);
}

/** SIGKILLs tsrun held at its step; a held tsrun-init is let go on, as it would go on. */
async function killThere(p: Paused): Promise<void> {
  p.tsrun.kill('SIGKILL');
  await p.exited;
  if (p.init) p.resume();
}

/** After a fault: list works, delete --force (and a second one) clean up, nothing is left, the bystander runs. */
function recover(t: Tap, what: string, id: string, bundle: string, bystander: string): void {
  injected++;
  const list = h.tsrun(['list']);
  t.equal(list.status, 0, `${what}: list works: ${list.stderr.trim()}`);
  const d = h.tsrun(['delete', '--force', id]);
  const left = leftovers(id, bundle);
  t.same(left, [], `${what}: delete --force left nothing (${d.status === 0 ? 'it exited 0' : d.stderr.trim()})`);
  const by = h.state(bystander);
  t.equal(by?.status, 'running', `${what}: the other container still runs`);
  if (list.status === 0 && left.length === 0 && by?.status === 'running') recovered++;
}

/** tsrun with its own --root and environment; output through files (a container started keeps its stdio). */
function tsrunWith(root: string, args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stderr: string } {
  const err = h.path(`with-${process.hrtime.bigint()}.err`);
  const fd = openSync(err, 'w+');
  try {
    const r = spawnSync(process.execPath, [join(TOP, 'dist', 'tsrun.js'), '--root', root, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', fd], cwd: h.tmp, timeout: 60_000 });
    return { status: r.status, stderr: readFileSync(err, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

interface Tap {
  equal(a: unknown, b: unknown, m: string): unknown;
  same(a: unknown, b: unknown, m: string): unknown;
  ok(a: unknown, m: string): unknown;
}

// Runs through the whole file; every fault must leave it alone.
const bystander = h.id(t);
h.ok(['run', '-d', '--bundle', h.bundle({ args: ['sleep', '1000'] }), bystander]);

// Every step of create in order: tsrun's own (create:*) and tsrun-init's (parent: plan, pid,
// release; child: child, mount:<dest>, pivot, masked, ready). A createRuntime hook makes the
// hooks sync step exist.
const CREATE_STEPS = [
  'create:state-dir', 'create:cgroups', 'create:saved', 'plan', 'pid', 'create:pid', 'release', 'child',
  'mount:/proc', 'create:hooks', 'pivot', 'masked', 'ready', 'create:launched', 'create:config', 'create:done',
];

t.test('tsrun SIGKILLed at each step of create', async (t) => {
  for (const step of CREATE_STEPS) {
    const id = h.id(t);
    const bundle = h.bundle({ args: ['sleep', '1000'], edit: (c: Config) => void (c.hooks = { createRuntime: [{ path: '/bin/true' }] }) });
    const p = await pauseAt(h, id, ['create', '--bundle', bundle, id], step);
    await killThere(p);
    // tsrun-init ends by itself when tsrun is gone before `ready`; after it, it waits as created.
    if (p.init && !['ready'].includes(step)) t.ok(await gone(p.pid), `${step}: tsrun-init ${p.pid} ended with tsrun`);
    recover(t, `create killed at ${step}`, id, bundle, bystander);
  }
});

t.test('tsrun SIGKILLed during start', async (t) => {
  for (const step of ['start:opened', 'fifo', 'start:read']) {
    const id = h.id(t);
    const bundle = h.bundle({ args: ['sleep', '1000'] });
    // tsrun-init's own steps take the variable from create.
    const c = tsrunWith(h.root, ['create', '--bundle', bundle, id], { TSRUN_TEST_PAUSE_AT: step });
    t.equal(c.status, 0, `create: ${c.stderr}`);
    const p = await pauseAt(h, id, ['start', id], step);
    await killThere(p);
    await delay(200);
    const status = h.state(id)?.status;
    t.comment(`start killed at ${step}: then ${status}`);
    if (status === 'stopped') {
      // the start byte found no reader: the process ended; start says what runc says
      const again = h.tsrun(['start', id]);
      t.equal(again.status, 1, 'start again exits 1');
      t.match(again.stderr, /cannot start a container that has stopped/);
    }
    recover(t, `start killed at ${step}`, id, bundle, bystander);
  }
});

t.test('tsrun SIGKILLed during delete', async (t) => {
  for (const step of ['delete:killed', 'delete:cgroups']) {
    const id = h.id(t);
    const bundle = h.bundle({ args: ['sleep', '1000'] });
    h.ok(['run', '-d', '--bundle', bundle, id]);
    const p = await pauseAt(h, id, ['delete', '--force', id], step);
    await killThere(p);
    t.equal(h.state(id)?.status, 'stopped', `${step}: the entry says stopped`);
    const d = h.tsrun(['delete', id]);
    t.equal(d.status, 0, `${step}: a plain delete finishes the job: ${d.stderr.trim()}`);
    recover(t, `delete killed at ${step}`, id, bundle, bystander);
  }
});

t.test('tsrun SIGKILLed during exec', async (t) => {
  for (const step of ['plan', 'pid', 'release', 'child', 'ready', 'exec:launched']) {
    const id = h.id(t);
    const bundle = h.bundle({ args: ['sleep', '1000'] });
    h.ok(['run', '-d', '--bundle', bundle, id]);
    const p = await pauseAt(h, id, ['exec', '-d', id, 'sleep', '999'], step);
    await killThere(p);
    if (p.init) t.ok(await gone(p.pid), `${step}: the exec's tsrun-init ended with tsrun`);
    t.equal(h.state(id)?.status, 'running', `exec killed at ${step}: the container still runs`);
    t.equal(h.tsrun(['exec', id, 'true']).status, 0, 'and takes another exec');
    recover(t, `exec killed at ${step}`, id, bundle, bystander);
  }
});

t.test('the state root on a full filesystem', async (t) => {
  const root = h.path('small-root');
  mkdirSync(root, { recursive: true });
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', root], { encoding: 'utf8' });
  t.equal(m.status, 0, `mount a small tmpfs: ${m.stderr}`);
  const run = (args: string[]): { status: number | null; stderr: string } => tsrunWith(root, args);
  const before = `t-${process.pid}-full-a`;
  const after = `t-${process.pid}-full-b`;
  t.teardown(() => {
    run(['delete', '--force', before]);
    run(['delete', '--force', after]);
    spawnSync('umount', ['-l', root]);
  });
  const bundleA = h.bundle({ args: ['sleep', '1000'] });
  t.equal(run(['create', '--bundle', bundleA, before]).status, 0, 'a container created before the filesystem fills');
  // Fill it: dd stops at ENOSPC.
  spawnSync('dd', ['if=/dev/zero', `of=${join(root, 'filler')}`, 'bs=4k'], { encoding: 'utf8' });
  for (let i = 0; i < 64; i++) writeFileSync(join(root, `f${i}`), ''); // and what inodes were left
  injected++;
  const bundleB = h.bundle({ args: ['sleep', '1000'] });
  const r = run(['create', '--bundle', bundleB, after]);
  t.equal(r.status, 1, 'create on a full filesystem exits 1');
  t.match(r.stderr, /save state .*state\.json: ENOSPC: no space left on device/, `a clear error naming the file: ${r.stderr.trim()}`);
  t.notOk(existsSync(join(root, after)), 'no state dir left');
  t.same(cgroupDirsNamed([after]), [], 'no cgroup left');
  t.same(leftovers(after, bundleB).filter((l) => !l.startsWith('state dir')), [], 'no process or mount left');
  const st = run(['state', before]);
  t.equal(st.status, 0, 'the earlier container still answers state');
  t.equal(run(['start', before]).status, 0, 'and starts');
  t.equal(run(['kill', before, 'KILL']).status, 0, 'and is killed');
  await delay(300);
  const d = run(['delete', '--force', before]);
  t.equal(d.status, 0, `and deleted: ${d.stderr}`);
  t.notOk(existsSync(join(root, before)), 'its entry is gone');
  t.same(cgroupDirsNamed([before]), [], 'its cgroups are gone');
  if (r.status === 1 && !existsSync(join(root, after)) && d.status === 0) recovered++;
});

t.test('a container init that dies before start', async (t) => {
  const id = h.id(t);
  const bundle = h.bundle({ args: ['sleep', '1000'] });
  h.ok(['create', '--bundle', bundle, id]);
  const pid = h.state(id)!.pid;
  process.kill(pid, 'SIGKILL');
  injected++;
  t.ok(await gone(pid), 'the init is gone');
  t.equal(h.state(id)?.status, 'stopped', 'state: stopped');
  const s = h.tsrun(['start', id]);
  t.equal(s.status, 1, 'start exits 1');
  t.match(s.stderr, /cannot start a container that has stopped/, 'with runc\'s text');
  const d = h.tsrun(['delete', id]);
  t.equal(d.status, 0, `a plain delete works: ${d.stderr}`);
  const left = leftovers(id, bundle);
  t.same(left, [], 'nothing left');
  if (s.status === 1 && d.status === 0 && !left.length) recovered++;
});

t.test('figures', async (t) => {
  t.comment(`faults: ${injected} injected, ${recovered} recovered`);
  t.equal(recovered, injected, 'every fault was recovered from');
});
