// Saved exec plans (docs/STATE-FORMAT.md#exec-plans): an exec that TypeScript planned once is run
// again by the front end alone when everything it was decided from is the same. These tests
// tell the two paths apart with TSRUN_FRONT_NO_DELEGATE (the front end exits 125 where it would
// start Node) and TSRUN_FRONT_DELEGATE_ALL (Node serves every call).
import t from 'tap';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { Harness, TSRUN, type TestLike } from './helpers/runtime.js';
import { receiver } from './helpers/recvtty.js';

const h = new Harness(t);
const FRONT = { TSRUN_FRONT_NO_DELEGATE: '1' };
const NODE = { TSRUN_FRONT_DELEGATE_ALL: '1' };

function running(t: TestLike): string {
  const id = h.id(t);
  h.ok(['run', '-d', '--bundle', h.bundle({ args: ['sleep', '1000'] }), id]);
  return id;
}

function plans(id: string): string[] {
  const dir = join(h.root, id, 'exec-plans');
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** Log lines without their time, which differs between two calls. */
function untimed(stderr: string): string {
  return stderr.replace(/time="[^"]*"/g, 'time=T');
}

t.test('an exec planned once runs again without Node, with the same effects', async (t) => {
  const id = running(t);
  const cmd = ['sh', '-c', 'echo "out $X"; echo err >&2; exit 3'];
  const first = h.tsrun(['exec', '-e', 'X=1', '--pid-file', h.path('p1'), id, ...cmd]);
  t.equal(first.status, 3);
  t.equal(plans(id).length, 1, 'the first exec saved its plan');
  // Another pid file: its path is not part of the plan, as containerd names one per exec.
  const again = h.tsrun(['exec', '-e', 'X=1', '--pid-file', h.path('p2'), id, ...cmd], { env: FRONT });
  t.equal(again.status, 3, 'the front end ran it and returns the process\'s status');
  t.equal(again.stdout, 'out 1\n');
  t.equal(again.stderr, 'err\n');
  const pid = Number(readFileSync(h.path('p2'), 'utf8'));
  t.ok(pid > 0 && pid !== Number(readFileSync(h.path('p1'), 'utf8')), 'it wrote its own pid file');
  t.equal(plans(id).length, 1, 'nothing new is saved');
});

t.test('a plan is used only for the same inputs', async (t) => {
  const id = running(t);
  h.ok(['exec', id, 'echo', 'a']);
  t.equal(h.tsrun(['exec', id, 'echo', 'a'], { env: FRONT }).stdout, 'a\n', 'same command: served by the front end');
  t.equal(h.tsrun(['exec', id, 'echo', 'b'], { env: FRONT }).status, 125, 'another argument: left to Node');
  t.equal(h.tsrun(['exec', '-e', 'Y=1', id, 'echo', 'a'], { env: FRONT }).status, 125, 'another flag: left to Node');

  const file = h.path(`${id}-process.json`);
  const proc = { args: ['sh', '-c', 'echo $V'], env: ['V=one'], cwd: '/' };
  writeFileSync(file, JSON.stringify(proc));
  h.ok(['exec', '--process', file, id]);
  const copy = h.path(`${id}-copy.json`);
  writeFileSync(copy, JSON.stringify(proc));
  t.equal(h.tsrun(['exec', '--process', copy, id], { env: FRONT }).stdout, 'one\n', 'the same process in another file: served');
  // containerd's shim: a new process file and pid file for each exec of the same probe
  const shim = (n: number, env?: Record<string, string>) => {
    const f = h.path(`${id}-shim-${n}.json`);
    writeFileSync(f, JSON.stringify({ ...proc, args: ['sleep', '0'] }));
    return h.tsrun(['--log', h.path('shim-log.json'), '--log-format', 'json', 'exec', '--process', f, '--detach', '--pid-file', h.path(`shim-${n}.pid`), id], { env });
  };
  t.equal(shim(1).status, 0);
  t.equal(shim(2, FRONT).status, 0, 'the shim\'s next exec of it: served');
  t.ok(Number(readFileSync(h.path('shim-2.pid'), 'utf8')) > 0, 'with its pid file');
  writeFileSync(file, JSON.stringify({ ...proc, env: ['V=two'] }));
  t.equal(h.tsrun(['exec', '--process', file, id], { env: FRONT }).status, 125, 'the file changed: left to Node');
  t.equal(h.ok(['exec', '--process', file, id]).stdout, 'two\n', 'and Node runs the new process');

  // The caller's bounding set limits what the process may get: a narrower one is another key.
  const narrow = spawnSync('setpriv', ['--bounding-set', '-sys_admin', TSRUN, '--root', h.root, 'exec', id, 'echo', 'a'], { env: { PATH: process.env.PATH, ...FRONT }, encoding: 'utf8' });
  t.equal(narrow.status, 125, 'another bounding set: left to Node');
  // Which LSMs are on is read from the mounts the caller sees: another mount namespace is another key.
  const otherNs = spawnSync('unshare', ['-m', TSRUN, '--root', h.root, 'exec', id, 'echo', 'a'], { env: { PATH: process.env.PATH, ...FRONT }, encoding: 'utf8' });
  t.equal(otherNs.status, 125, 'another mount namespace: left to Node');

  // The saved config is part of the key: an edited one is a new container as far as plans go.
  const cfgFile = join(h.root, id, 'config.json');
  const cfg = readFileSync(cfgFile);
  writeFileSync(cfgFile, Buffer.concat([cfg, Buffer.from(' ')]));
  t.equal(h.tsrun(['exec', id, 'echo', 'a'], { env: FRONT }).status, 125, 'another saved config: left to Node');
  writeFileSync(cfgFile, cfg);
});

t.test('paused and stopped containers are left to Node, which refuses them', async (t) => {
  const id = running(t);
  h.ok(['exec', id, 'true']);
  h.ok(['pause', id]);
  t.equal(h.tsrun(['exec', id, 'true'], { env: FRONT }).status, 125, 'paused: not served');
  t.match(h.tsrun(['exec', id, 'true']).stderr, /cannot exec in a paused container/);
  h.ok(['resume', id]);
  h.ok(['kill', id, 'KILL']);
  h.waitStatus(id, 'stopped');
  t.equal(h.tsrun(['exec', id, 'true'], { env: FRONT }).status, 125, 'stopped: not served');
  t.match(h.tsrun(['exec', id, 'true']).stderr, /cannot exec in a stopped container/);
});

t.test('detached exec from a plan: pid file, cgroup, and nothing left waiting', async (t) => {
  const id = running(t);
  h.ok(['exec', '-d', '--pid-file', h.path('d1'), id, 'sleep', '100']);
  h.ok(['exec', '-d', '--pid-file', h.path('d2'), id, 'sleep', '100'], { env: FRONT });
  const pid = Number(readFileSync(h.path('d2'), 'utf8'));
  const procs = JSON.parse(h.ok(['ps', '--format', 'json', id]).stdout) as number[];
  t.ok(procs.includes(pid), 'the process is in the container\'s cgroup');
  t.equal(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), 'sleep\x00100\x00');
});

t.test('preserved fds reach the process from a plan', async (t) => {
  const id = running(t);
  const file = h.path('preserved');
  writeFileSync(file, 'kept\n');
  const fd = openSync(file, 'r');
  try {
    const args = ['exec', '--preserve-fds', '1', id, 'cat', '/proc/self/fd/3'];
    t.equal(h.ok(args, { fds: [fd] }).stdout, 'kept\n', 'through Node');
    t.equal(h.ok(args, { fds: [fd], env: FRONT }).stdout, 'kept\n', 'through the front end');
    t.equal(h.tsrun(args, { env: FRONT }).status, 125, 'without that fd open, Node words the error');
    // containerd's shim hands the runtime its own fds: without --preserve-fds none reaches the process.
    const ls = ['exec', id, 'ls', '/proc/self/fd'];
    h.ok(ls, { fds: [fd] });
    const fdsSeen = h.ok(ls, { fds: [fd], env: FRONT }).stdout.trim().split('\n').map(Number);
    t.same(fdsSeen.filter((n) => n !== 3), [0, 1, 2], 'only stdio through the front end (3 is ls\'s own directory fd)');
    // Node opens /dev/null in place of a closed stdio fd when it starts; the front end leaves that case to it.
    const closed = spawnSync('sh', ['-c', `exec "$0" "$@" <&-`, TSRUN, '--root', h.root, 'exec', id, 'echo', 'x'], { env: { PATH: process.env.PATH, ...FRONT }, encoding: 'utf8' });
    h.ok(['exec', id, 'echo', 'x']);
    const closedAgain = spawnSync('sh', ['-c', `exec "$0" "$@" <&-`, TSRUN, '--root', h.root, 'exec', id, 'echo', 'x'], { env: { PATH: process.env.PATH, ...FRONT }, encoding: 'utf8' });
    t.equal(closed.status, 125, 'not planned yet: Node');
    t.equal(closedAgain.status, 125, 'planned, but stdin closed: Node');
  } finally {
    closeSync(fd);
  }
});

t.test('a --process on a pipe or a FIFO is read once, by whoever runs the exec', async (t) => {
  // Shells and some shims hand the process JSON on a pipe (`-p /dev/fd/3`, `-p <(...)`) or a
  // FIFO, which only one reader can empty: runc reads it once. The front end must leave such a
  // file whole for Node (it read it for the plan's key, and Node found it empty), and the same
  // exec again, with a plan saved, must still work.
  const id = running(t);
  const json = JSON.stringify({ args: ['echo', 'from a pipe'], cwd: '/' });
  const fifo = h.path(`${id}.fifo`);
  t.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
  // $1 tsrun, $2 its root, $3 the container, $4 the JSON, $5 the FIFO; `timeout` ends a tsrun that waits for a writer gone
  const shell = (script: string, env: Record<string, string> = {}) =>
    spawnSync('bash', ['-c', script, 'bash', TSRUN, h.root, id, json, fifo], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 60_000 });
  const ways: [string, string][] = [
    ['-p /dev/fd/3 on a pipe', 'printf %s "$4" | timeout 20 "$1" --root "$2" exec -p /dev/fd/3 "$3" 3<&0 </dev/null'],
    ['-p <(...)', 'timeout 20 "$1" --root "$2" exec -p <(printf %s "$4") "$3"'],
    ['-p /dev/stdin on a pipe', 'printf %s "$4" | timeout 20 "$1" --root "$2" exec --process=/dev/stdin "$3"'],
    ['-p FIFO', 'printf %s "$4" >"$5" & timeout 20 "$1" --root "$2" exec -p "$5" "$3"; s=$?; kill $! 2>/dev/null; exit $s'],
  ];
  for (const round of ['first exec', 'same exec again']) {
    for (const [what, script] of ways) {
      const r = shell(script);
      t.equal(r.status, 0, `${round}, ${what}: exit 0 (${r.stderr.trim()})`);
      t.equal(r.stdout, 'from a pipe\n', `${round}, ${what}: the process ran`);
    }
  }
  t.ok(plans(id).length > 0, 'Node saved the plan');
  const file = h.path(`${id}-process.json`);
  writeFileSync(file, json);
  t.equal(h.tsrun(['exec', '-p', file, id], { env: FRONT }).stdout, 'from a pipe\n', 'which the front end runs for the same process in a regular file');
  t.equal(shell(ways[0]![1], FRONT).status, 125, 'but a pipe it leaves to Node');
});

t.test('a signal to a foreground exec from a plan reaches the process', async (t) => {
  const id = running(t);
  const args = ['--root', h.root, 'exec', id, 'sh', '-c', 'trap "exit 42" TERM; echo ready; while :; do sleep 0.1; done'];
  for (const env of [{}, FRONT]) {
    const out = h.path(`sig-${Object.keys(env).length}.out`);
    const fd = openSync(out, 'w');
    const p = spawn(TSRUN, args, { stdio: ['ignore', fd, 'inherit'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
    closeSync(fd);
    const exited = new Promise<number | null>((res) => p.on('exit', (code) => res(code)));
    const deadline = Date.now() + 20_000;
    while (!readFileSync(out, 'utf8').includes('ready') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    t.equal(await exited, 42, `${Object.keys(env).length ? 'front end' : 'Node'}: the process's status`);
    clearTimeout(timer);
  }
});

t.test('an error from the C core is worded as Node words it, and kills nothing else', async (t) => {
  const id = running(t);
  h.ok(['exec', id, 'mkdir', '/tmp/gone']);
  const args = ['exec', '--cwd', '/tmp/gone', id, 'true'];
  h.ok(args);
  t.equal(plans(id).length, 2);
  h.ok(['exec', id, 'rmdir', '/tmp/gone']);
  const front = h.tsrun(args, { env: FRONT });
  const node = h.tsrun(args, { env: NODE });
  t.equal(front.status, 255, 'the front end fails with runc\'s exec status');
  t.match(front.stderr, /msg="exec failed: .*gone/, 'naming the path, under runc\'s "exec failed"');
  t.equal(front.status, node.status, 'with Node\'s status');
  t.equal(untimed(front.stderr), untimed(node.stderr), 'and Node\'s words');
  t.same(JSON.parse(h.ok(['ps', '--format', 'json', id]).stdout), [h.state(id)!.pid], 'only pid 1 is left');
});

t.test('a plan is used only if it is ours alone and whole', async (t) => {
  const id = running(t);
  h.ok(['exec', id, 'echo', 'x']);
  const [name] = plans(id);
  const dir = join(h.root, id, 'exec-plans');
  const file = join(dir, name!);
  const served = (): boolean => h.tsrun(['exec', id, 'echo', 'x'], { env: FRONT }).status === 0;
  t.ok(served(), 'as saved: served');

  chmodSync(file, 0o620);
  t.notOk(served(), 'group-writable: not used');
  chmodSync(file, 0o600);
  chmodSync(dir, 0o777);
  t.notOk(served(), 'its dir world-writable: not used');
  chmodSync(dir, 0o700);

  const good = readFileSync(file);
  writeFileSync(file, Buffer.concat([good, Buffer.from('x')]));
  t.notOk(served(), 'a plan longer than it says: not used');
  const damaged = Buffer.from(good);
  damaged[40] = damaged[40]! ^ 1;
  writeFileSync(file, damaged);
  t.notOk(served(), 'a key that differs: not used');
  writeFileSync(file, good);

  const real = `${dir}.real`;
  renameSync(dir, real);
  symlinkSync(real, dir);
  t.notOk(served(), 'a symlinked dir: not used');
  rmSync(dir);
  renameSync(real, dir);
  t.ok(served(), 'restored: served again');
});

t.test('no plan is saved under a test-only variable, and the last 16 are kept', async (t) => {
  const id = running(t);
  h.ok(['exec', id, 'true'], { env: { TSRUN_TEST_FORCE_LSM: '' } });
  t.equal(plans(id).length, 0, 'TSRUN_TEST_* changes plans: none saved');
  for (let i = 0; i < 18; i++) h.ok(['exec', id, 'echo', String(i)]);
  t.equal(plans(id).length, 16, 'sixteen kept');
  t.equal(h.tsrun(['exec', id, 'echo', '17'], { env: FRONT }).stdout, '17\n', 'the newest is served');
  t.equal(h.tsrun(['exec', id, 'echo', '2'], { env: FRONT }).stdout, '2\n', 'and the sixteenth newest');
  t.equal(h.tsrun(['exec', id, 'echo', '1'], { env: FRONT }).status, 125, 'the older ones are gone');
  t.equal(h.tsrun(['exec', id, 'echo', '0'], { env: FRONT }).status, 125);
});

t.test('delete removes the plans with the state dir, through either path', async (t) => {
  for (const env of [FRONT, NODE]) {
    const id = running(t);
    h.ok(['exec', id, 'true']);
    t.equal(plans(id).length, 1);
    h.ok(['delete', '-f', id], { env });
    t.notOk(existsSync(join(h.root, id)), `${env === FRONT ? 'front end' : 'Node'}: state dir gone`);
  }
});

t.test('a plan never outlives its container: a new one with the same ID starts without plans', async (t) => {
  const id = running(t);
  h.ok(['exec', id, 'true']);
  h.ok(['delete', '-f', id]);
  h.ok(['run', '-d', '--bundle', h.bundle({ args: ['sleep', '1000'] }), id]);
  t.equal(h.tsrun(['exec', id, 'true'], { env: FRONT }).status, 125, 'left to Node');
});

t.test('a relative --console-socket is resolved in the caller\'s cwd, so the cwd is part of the key', async (t) => {
  const id = running(t);
  const exec = (dir: string, env: Record<string, string>) => {
    mkdirSync(dir, { recursive: true });
    rmSync(join(dir, 'c.sock'), { force: true });
    const rx = env === FRONT && dir.endsWith('cwd-b') ? undefined : receiver(join(dir, 'c.sock'));
    const r = spawnSync(TSRUN, ['--root', h.root, 'exec', '-t', '-d', '--console-socket', 'c.sock', id, 'echo', 'tty'], { cwd: dir, env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
    return { status: r.status, stderr: r.stderr, out: r.status === 0 && rx ? rx.done : Promise.resolve('') };
  };
  const first = exec(h.path('cwd-a'), {});
  t.equal(first.status, 0);
  t.match(await first.out, /tty/, 'the pty reached the socket in the first cwd');
  t.equal(exec(h.path('cwd-b'), FRONT).status, 125, 'the same arguments from another cwd: left to Node');
  const again = exec(h.path('cwd-a'), FRONT);
  t.equal(again.status, 0, `from the first cwd again: served ${again.stderr}`);
  t.match(await again.out, /tty/, 'and the pty reached that cwd\'s socket');
});
