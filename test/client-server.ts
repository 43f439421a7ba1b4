// The warm server (src/server, docs/CLIENT-SERVER.md): the C client hands a call's argv,
// environment, cwd and stdio to the server of its state root and build, and returns the exit
// status it answers. These tests hold the served call to the cold one's output, status and
// files, and check the fault cases: a hung server, a server or a client SIGKILLed mid-call, a
// stale socket, two clients starting a server at once, a peer of another uid, the idle exit.
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, chmodSync, closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Harness, TSRUN, type Result } from './helpers/runtime.js';
import { becomeSubreaper, reapZombies } from './helpers/parallel.js';
import { cgroupMounts, readOr } from './helpers/host.js';
import { COLD, listening, served, servers as serversOf, sleep, socketOf as socketIn, startServer as startServerOf, stateOf, stopServers as stopServersOf, until, WARM } from './helpers/server.js';

const h = new Harness(t);
mkdirSync(h.root, { recursive: true });
/** The default: a call uses the server, and starts one when there is none. */
const ON = {};
const OFF = COLD;
const SLEEP = ['sleep', '1000'];
const servers = (): number[] => serversOf(h.root);
const socketOf = (): string | undefined => socketIn(h.root);
const startServer = (env: Record<string, string> = {}): number => startServerOf(h, env);
const stopServers = (): void => stopServersOf(h.root);
/** stderr without times. */
const msg = (r: Result): string => r.stderr.replace(/time="[^"]*"/g, 'time=T').replace(/"time":"[^"]*"/g, '"time":"T"');

/** tsrun in the background; resolves with its result. */
function background(args: string[], env: Record<string, string>): { child: ChildProcess; done: Promise<Result> } {
  const out = h.path(`bg-${Date.now()}-${Math.random()}.out`);
  const err = `${out}.err`;
  const o = openSync(out, 'w+');
  const e = openSync(err, 'w+');
  const child = spawn(TSRUN, ['--root', h.root, ...args], { stdio: ['ignore', o, e], env: { PATH: process.env.PATH, ...env }, cwd: h.tmp });
  closeSync(o);
  closeSync(e);
  const done = new Promise<Result>((res) => child.on('exit', (status, signal) => res({ status, signal, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') })));
  return { child, done };
}

t.teardown(stopServers);

/** `state` run cold: a server stopped at each call (TSRUN_TEST_SERVER_PAUSE_AT) would hold it. */
function coldState(id: string): { status: string } | null {
  const r = h.tsrun(['state', id], { env: OFF });
  return r.status === 0 ? (JSON.parse(r.stdout) as { status: string }) : null;
}

/** A running container, and a `pause` of it that a server took and then stopped at (SIGSTOP). */
function pauseHeld(t: Parameters<Harness['id']>[0]): { id: string; server: number; call: ReturnType<typeof background> } {
  const id = h.id(t);
  h.ok(['create', '--bundle', h.bundle({ args: SLEEP }), id]);
  h.ok(['start', id]);
  const server = startServer({ TSRUN_TEST_SERVER_PAUSE_AT: 'accepted' });
  const call = background(['pause', id], ON);
  until('the server stopped', () => stateOf(server) === 'T');
  return { id, server, call };
}

t.test('a call through the server has the cold call\'s output, status, errors and files', async (t) => {
  startServer();
  const id = h.id(t);
  h.ok(['create', '--bundle', h.bundle({ args: SLEEP }), id]);
  h.ok(['start', id]);
  const cases: [string, string[]][] = [
    ['list', ['list']],
    ['list json', ['list', '--format', 'json']],
    ['ps json', ['ps', '--format', 'json', id]],
    ['pause of a missing container', ['pause', 'nope']],
    ['json log to stderr', ['--log-format', 'json', 'resume', 'nope']],
    ['usage error', ['pause']],
    ['unknown command', ['frobnicate']],
    ['help', ['pause', '--help']],
  ];
  for (const [what, args] of cases) {
    t.ok(served(h.tsrun(['--debug', ...args], { env: ON })), `${what}: served by the server`);
    const warm = h.tsrun(args, { env: ON });
    const cold = h.tsrun(args, { env: OFF });
    t.equal(warm.status, cold.status, `${what}: same exit status`);
    t.equal(warm.stdout, cold.stdout, `${what}: same stdout`);
    t.equal(msg(warm), msg(cold), `${what}: same stderr`);
  }
  // --log relative to the caller's cwd (conmon passes absolute paths, a person may not)
  const warm = h.tsrun(['--log', 'warm.log', '--log-format', 'json', 'pause', 'nope'], { env: ON });
  t.equal(warm.status, 1);
  t.match(readFileSync(h.path('warm.log'), 'utf8'), /"msg":"container \\"nope\\" does not exist"/, 'the log file is in the caller\'s cwd');
  // pause and resume through it change the container
  h.ok(['pause', id], { env: ON });
  t.equal(h.state(id)?.status, 'paused');
  h.ok(['resume', id], { env: ON });
  t.equal(h.state(id)?.status, 'running');
  // update -r - reads the caller's stdin
  const upd = spawnSync(TSRUN, ['--root', h.root, 'update', '-r', '-', id], { input: '{"pids":{"limit":77}}', env: { PATH: process.env.PATH, ...ON }, cwd: h.tmp, encoding: 'utf8' });
  t.equal(upd.status, 0, `update -r - through the server: ${upd.stderr}`);
  const cg = readFileSync(`/proc/${h.state(id)!.pid}/cgroup`, 'utf8').match(/^\d+:pids:(.*)$/m)?.[1];
  if (cg) t.equal(readFileSync(join('/sys/fs/cgroup/pids', cg, 'pids.max'), 'utf8').trim(), '77', 'the limit from stdin is applied');
});

t.test('the socket is this uid\'s alone, and a peer of another uid is refused', async (t) => {
  startServer();
  const sock = socketOf()!;
  t.equal(statSync(join(h.root, '@server')).mode & 0o777, 0o700, 'the server dir is 0700');
  t.equal(statSync(sock).mode & 0o777, 0o600, 'the socket is 0600');
  // Opened up for this test only: SO_PEERCRED still refuses the peer.
  chmodSync(join(h.root, '@server'), 0o711);
  chmodSync(sock, 0o666);
  try {
    const probe = `const s=require('net').connect(${JSON.stringify(sock)});s.on('connect',()=>s.write(Buffer.alloc(16)));s.on('data',d=>{process.stdout.write('data '+d.toString('hex'));});s.on('close',()=>process.stdout.write(' closed'));s.on('error',e=>process.stdout.write('error '+e.code));`;
    const r = spawnSync(process.execPath, ['-e', probe], { uid: 65534, gid: 65534, encoding: 'utf8', timeout: 10_000 });
    t.match(r.stdout, /^(error (EPIPE|ECONNRESET))? closed$/, `closed without an answer (${r.stdout})`);
  } finally {
    chmodSync(join(h.root, '@server'), 0o700);
    chmodSync(sock, 0o600);
  }
});

t.test('a hung server: the client gives up after its timeout, says so, and the call is never made', async (t) => {
  const id = h.id(t);
  h.ok(['create', '--bundle', h.bundle({ args: SLEEP }), id]);
  h.ok(['start', id]);
  // Stopped before its main thread sees the connection: no answer at all within the timeout.
  let server = startServer();
  process.kill(server, 'SIGSTOP');
  // kill(2) returns before the stop: the main thread, woken to take the signal, may first
  // accept a connection made at once
  until('the server stopped', () => stateOf(server) === 'T');
  const t0 = Date.now();
  const hung = h.tsrun(['pause', id], { env: { ...ON, TSRUN_SERVER_TIMEOUT_MS: '1000' } });
  t.equal(hung.status, 1, 'exit 1');
  t.match(hung.stderr, /the server at .*\.sock did not take the call within 1000 ms \(TSRUN_SERVER=off runs without it\)/);
  t.ok(Date.now() - t0 < 5000, 'a stopped server: the client gives up after the timeout');
  process.kill(server, 'SIGCONT');
  sleep(1000);
  t.equal(coldState(id)?.status, 'running', 'the call was not made once the server went on');
  // Its main thread answers ("pending"), the worker never takes the call: six times longer.
  server = startServer({ TSRUN_TEST_SERVER_PAUSE_AT: 'request' });
  try {
    const r = h.tsrun(['pause', id], { env: { ...ON, TSRUN_SERVER_TIMEOUT_MS: '1000' } });
    t.equal(r.status, 1, 'exit 1');
    t.match(r.stderr, /the server at .*\.sock did not take the call within 7000 ms \(TSRUN_SERVER=off runs without it\)/);
    until('the server stopped', () => stateOf(server) === 'T');
    process.kill(server, 'SIGCONT');
    sleep(1000);
    t.equal(coldState(id)?.status, 'running', 'the call the client gave up on was not made once the server went on');
  } finally {
    // a failure above must not leave a stopped server for the next tests' calls
    stopServers();
  }
});

t.test('the server makes no call its client has not confirmed: a client stopped before it reads A, then killed, leaves the call not made', async (t) => {
  // docs/CLIENT-SERVER.md step 4: a client that gave up waiting for A closes without C, so a
  // late A (written as the client's wait ran out) never turns into a call it reported as not
  // taken. Here the client cannot read A at all: stopped, then killed.
  const id = h.id(t);
  h.ok(['create', '--bundle', h.bundle({ args: SLEEP }), id]);
  h.ok(['start', id]);
  const server = startServer({ TSRUN_TEST_SERVER_PAUSE_AT: 'request' });
  try {
    const call = background(['pause', id], { ...ON, TSRUN_SERVER_TIMEOUT_MS: '60000' });
    const client = call.child.pid!;
    until('the server stopped', () => stateOf(server) === 'T');
    // the request is sent before the client waits for the answers
    until('the client waiting', () => /poll/.test(readOr(`/proc/${client}/wchan`)));
    process.kill(client, 'SIGSTOP');
    until('the client stopped', () => stateOf(client) === 'T');
    process.kill(server, 'SIGCONT');
    sleep(1500);
    t.equal(coldState(id)?.status, 'running', 'not made while the client has not confirmed');
    process.kill(client, 'SIGKILL');
    t.equal((await call.done).signal, 'SIGKILL');
    sleep(500);
    t.equal(coldState(id)?.status, 'running', 'not made once the client is gone');
  } finally {
    stopServers();
  }
  startServer();
  const r = h.tsrun(['--debug', 'pause', id], { env: ON });
  t.equal(r.status, 0, r.stderr);
  t.ok(served(r), 'the next call is served');
  t.equal(coldState(id)?.status, 'paused');
  h.ok(['resume', id], { env: ON });
});

t.test('the server SIGKILLed after taking a call: the client fails cleanly, the call is not made, the stale socket is replaced', async (t) => {
  const { id, server, call } = pauseHeld(t);
  process.kill(server, 'SIGKILL');
  const r = await call.done;
  t.equal(r.status, 1, 'exit 1');
  t.match(r.stderr, /the server at .*\.sock ended during the call: no exit status/);
  t.equal(coldState(id)?.status, 'running', 'not paused: the call never ran');
  t.ok(socketOf(), 'the dead server\'s socket is still there');
  // the next call finds no one listening: it runs cold and starts a new server
  const cold = h.tsrun(['--debug', 'pause', id], { env: ON });
  t.equal(cold.status, 0, cold.stderr);
  t.notOk(served(cold), 'cold');
  until('a new server', () => servers().length === 1 && servers()[0] !== server);
  until('a served call', () => served(h.tsrun(['--debug', 'list'], { env: ON })));
  h.ok(['resume', id], { env: ON });
  t.equal(h.state(id)?.status, 'running');
});

t.test('a client SIGKILLed mid-call: the server finishes the call once, and serves the next', async (t) => {
  const { id, server, call } = pauseHeld(t);
  call.child.kill('SIGKILL');
  const r = await call.done;
  t.equal(r.signal, 'SIGKILL');
  process.kill(server, 'SIGCONT');
  until('paused', () => coldState(id)?.status === 'paused');
  t.pass('the call was made');
  stopServers();
  startServer();
  const resumed = h.tsrun(['--debug', 'resume', id], { env: ON });
  t.equal(resumed.status, 0, resumed.stderr);
  t.ok(served(resumed), 'served');
  t.equal(h.state(id)?.status, 'running');
});

const freezerV1 = cgroupMounts().find((m) => existsSync(join(m, 'freezer.state')) || m.endsWith('/freezer'));
t.test('a server told to stop at a step (TSRUN_TEST_SERVER_PAUSE_AT) goes no further while its main thread runs late', { skip: !freezerV1 && 'no cgroup v1 freezer: one thread cannot be frozen alone' }, async (t) => {
  // The fault checks above rely on it. The worker that takes the call stops the server; a
  // SIGSTOP sent to the process is taken by its main thread, and the worker ran on until that
  // thread was scheduled: on a loaded host it answered "accepted" and made the call first.
  // Here the main thread cannot run at all (a v1 freezer cgroup of its own, threads being
  // movable one by one there) from the moment it has handed the call to the worker.
  const freezer = freezerV1!;
  const id = h.id(t);
  h.ok(['create', '--bundle', h.bundle({ args: SLEEP }), id]);
  h.ok(['start', id]);
  const server = startServer({ TSRUN_TEST_SERVER_PAUSE_AT: 'accepted' });
  const mainCg = join(freezer, `tsrun-test-main-${process.pid}`);
  const restCg = join(freezer, `tsrun-test-threads-${process.pid}`);
  const tasks = (): number[] => readdirSync(`/proc/${server}/task`).map(Number);
  const setState = (dir: string, state: string): void => {
    writeFileSync(join(dir, 'freezer.state'), state);
    until(`${dir} ${state}`, () => readOr(join(dir, 'freezer.state')).trim() === state);
  };
  const ended = (pid: number): boolean => ['Z', undefined].includes(stateOf(pid));
  let call: ReturnType<typeof background> | undefined;
  try {
    for (const d of [mainCg, restCg]) mkdirSync(d);
    // Its first worker must have started: one frozen halfway through its start can hold a lock
    // of the whole process that the main thread then waits on for ever (seen once under load).
    let seen = '';
    let since = Date.now();
    until('a server at rest', () => {
      const now = tasks().map((x) => `${x}:${stateOf(x)}`).join(' ');
      if (now !== seen || !now.split(' ').every((x) => x.endsWith(':S'))) [seen, since] = [now, Date.now()];
      return Date.now() - since > 1000;
    }, 60_000);
    setState(restCg, 'FROZEN');
    // every thread but the main one: the idle worker cannot take the call yet
    const before = tasks();
    for (const tid of before) if (tid !== server) writeFileSync(join(restCg, 'tasks'), String(tid));
    call = background(['pause', id], { ...ON, TSRUN_SERVER_TIMEOUT_MS: '60000' });
    // Handed over: the main thread started the next idle worker (onConnection's last step but
    // posting the call, in the same turn) and is back waiting for events.
    try {
      until('the call handed to the worker', () => tasks().some((x) => !before.includes(x)) && /epoll|ep_poll/.test(readOr(`/proc/${server}/task/${server}/wchan`)), 60_000);
    } catch (e) {
      const where = tasks().map((x) => `${x}:${stateOf(x)}:${readOr(`/proc/${server}/task/${x}/wchan`)}`).join(' ');
      throw new Error(`${(e as Error).message} (threads before: ${before.join(' ')}; now: ${where})`);
    }
    writeFileSync(join(mainCg, 'tasks'), String(server));
    setState(mainCg, 'FROZEN');
    setState(restCg, 'THAWED');
    const client = call.child.pid!;
    // the worker may still have to finish starting: a loaded host took seconds
    until('the worker stopped, or the call done', () => ended(client) || tasks().some((x) => stateOf(x) === 'T'), 60_000);
    t.notOk(ended(client), 'the client still waits for the call');
    t.equal(coldState(id)?.status, 'running', 'the call was not made');
    setState(mainCg, 'THAWED');
    until('the server stopped', () => stateOf(server) === 'T');
    sleep(300);
    t.equal(coldState(id)?.status, 'running', 'still not made once the whole server stopped');
  } finally {
    for (const d of [mainCg, restCg]) if (existsSync(d)) writeFileSync(join(d, 'freezer.state'), 'THAWED');
    stopServers();
    for (const d of [mainCg, restCg]) if (existsSync(d)) until(`${d} removed`, () => { try { rmdirSync(d); return true; } catch { return false; } });
  }
  const r = await call.done;
  t.match(r.stderr, /the server at .*\.sock ended during the call: no exit status/, 'the client: the server ended during the call');
});

t.test('two clients starting a server at once: one server stays', async (t) => {
  stopServers();
  const calls = [0, 1, 2, 3].map(() => background(['list'], ON));
  const results = await Promise.all(calls.map((c) => c.done));
  t.same(results.map((r) => r.status), [0, 0, 0, 0], 'every call succeeded');
  sleep(3000);
  t.equal(servers().length, 1, 'one server');
  t.ok(served(h.tsrun(['--debug', 'list'], { env: ON })), 'and it serves');
});

t.test('the server stays while its root holds a container, then exits after its grace period', async (t) => {
  const id = h.id(t);
  h.ok(['create', '--bundle', h.bundle({ args: SLEEP }), id]);
  const server = startServer({ TSRUN_SERVER_GRACE_MS: '300' });
  sleep(2000);
  t.same(servers(), [server], 'still there with a container');
  h.ok(['delete', '--force', id]);
  until('the server gone', () => servers().length === 0, 10_000);
  t.notOk(socketOf(), 'its socket removed');
});

t.test('the server is on by default; TSRUN_SERVER=off and a file <root>/@no-server make every call cold', async (t) => {
  stopServers();
  // docs/CLIENT-SERVER.md "Lifetime": a call that finds no server starts one
  t.notOk(served(h.ok(['--debug', 'list'])), 'the first call is cold');
  until('a server started by a call without TSRUN_SERVER', () => servers().length === 1 && listening(socketOf()));
  until('a served call', () => served(h.tsrun(['--debug', 'list'])));
  t.notOk(served(h.ok(['--debug', 'list'], { env: OFF })), 'TSRUN_SERVER=off: cold with a server running');
  stopServers();
  for (let i = 0; i < 2; i++) t.notOk(served(h.ok(['--debug', 'list'], { env: OFF })), 'TSRUN_SERVER=off: cold');
  sleep(500);
  t.same(servers(), [], 'TSRUN_SERVER=off starts none');
  // the documented setting: a file in the root
  const server = startServer();
  const off = join(h.root, '@no-server');
  writeFileSync(off, '');
  try {
    t.notOk(served(h.ok(['--debug', 'list'])), '@no-server: cold with a server running');
    until('the running server gone', () => !servers().includes(server), 5000);
    for (let i = 0; i < 2; i++) t.notOk(served(h.ok(['--debug', 'list'])), '@no-server: cold');
    sleep(500);
    t.same(servers(), [], '@no-server: none started');
    t.notOk(socketOf(), 'the server removed its socket');
  } finally {
    rmSync(off);
  }
});

t.test('a server exits once its state root is removed', async (t) => {
  const other = new Harness(t);
  const server = startServerOf(other);
  rmSync(other.root, { recursive: true });
  until('the server gone', () => stateOf(server) === undefined || stateOf(server) === 'Z', 5000);
  t.same(serversOf(other.root), [], 'no server of the removed root');
});

t.test('hooks without env run through the server with the caller\'s environment and cwd (runc: the runtime\'s own)', async (t) => {
  // runc 1.1.5 configs.Command.Run: exec.Cmd{Env: nil} inherits the runtime's environment, and
  // no Dir: the runtime's cwd (poststop at delete: the caller's). The server has its own
  // environment and cwd (/); a call through it must not show them.
  startServer({ SERVER_ONLY: 'x' });
  const log = h.path('hook-env.log');
  const hook = (name: string): { path: string; args: string[] } => ({ path: '/bin/sh', args: ['sh', '-c', `echo "${name}|$(pwd)|$CALLER_ONLY|$SERVER_ONLY" >> ${log}`] });
  const id = h.id(t);
  const bundle = h.bundle({ args: ['true'], edit: (c) => { c.hooks = { createRuntime: [hook('createRuntime')], poststart: [hook('poststart')], poststop: [hook('poststop')] }; } });
  const env = { ...WARM, CALLER_ONLY: 'c' };
  h.ok(['create', '--bundle', bundle, id], { env });
  h.ok(['start', id], { env });
  t.equal(h.waitStatus(id, 'stopped'), 'stopped');
  h.ok(['delete', id], { env });
  t.same(readFileSync(log, 'utf8').trim().split('\n'), [`createRuntime|${bundle}|c|`, `poststart|${bundle}|c|`, `poststop|${h.tmp}|c|`]);
});

t.test('a slow hook of one container does not hold up calls for other containers', async (t) => {
  // The issue's requirement (P12): a worker runs one call at a time, and a new one is started
  // while all are busy (docs/CLIENT-SERVER.md "Inside the server"), so a createRuntime hook
  // sleeping 5 s holds only its own call (and, by the state lock, calls on that container).
  startServer();
  const began = h.path('slow-began');
  const ended = h.path('slow-ended');
  const slow = h.id(t);
  const bundle = h.bundle({ args: SLEEP, edit: (c) => { c.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `touch ${began}; sleep 5; touch ${ended}`] }] }; } });
  const held = background(['create', '--bundle', bundle, slow], WARM);
  until('the slow hook running', () => existsSync(began));
  const t0 = Date.now();
  const other = h.id(t);
  h.ok(['create', '--bundle', h.bundle({ args: SLEEP }), other], { env: WARM });
  h.ok(['start', other], { env: WARM });
  t.equal(h.tsrun(['state', other], { env: WARM }).status, 0);
  h.ok(['kill', other, 'KILL'], { env: WARM });
  h.ok(['delete', '--force', other], { env: WARM });
  const ms = Date.now() - t0;
  t.notOk(existsSync(ended), `create, start, state, kill and delete of another container done while the hook still sleeps (${ms} ms)`);
  const r = await held.done;
  t.equal(r.status, 0, `the slow create succeeds: ${r.stderr}`);
  t.equal(h.state(slow)?.status, 'created');
});

t.test('create, run and exec through the server: the client starts tsrun-init, so the container descends from the caller', async (t) => {
  const LAUNCH = { ...ON, TSRUN_SERVER_LAUNCH: '1' };
  startServer();
  // as conmon and containerd's shim: the container's pid 1 must be reparented here
  becomeSubreaper();
  const id = h.id(t);
  const created = h.tsrun(['--debug', 'create', '--bundle', h.bundle({ args: SLEEP }), '--pid-file', 'c.pid', id], { env: LAUNCH });
  t.equal(created.status, 0, created.stderr);
  t.ok(served(created), 'served');
  const pid = Number(readFileSync(h.path('c.pid'), 'utf8'));
  t.equal(pid, h.state(id)?.pid, 'the pid file relative to the caller\'s cwd');
  const ppid = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  t.equal(ppid, process.pid, 'pid 1 of the container was reparented to the caller');
  t.notOk(servers().includes(ppid), 'not to the server');
  h.ok(['start', id], { env: LAUNCH });
  // foreground exec: output, exit status
  const ex = h.tsrun(['--debug', 'exec', id, 'sh', '-c', 'echo out; echo err >&2; exit 7'], { env: LAUNCH });
  t.ok(served(ex), 'exec served');
  t.equal(ex.status, 7, 'exec: the process\'s exit status');
  t.equal(ex.stdout, 'out\n');
  t.match(ex.stderr, /^err$/m);
  // a preserved fd of the caller's reaches the process (runc's --preserve-fds)
  const extra = openSync(h.path('fd3.out'), 'w+');
  try {
    const pres = h.tsrun(['exec', '--preserve-fds', '1', id, 'sh', '-c', 'echo via3 >&3'], { env: LAUNCH, fds: [extra] });
    t.equal(pres.status, 0, pres.stderr);
  } finally {
    closeSync(extra);
  }
  t.equal(readFileSync(h.path('fd3.out'), 'utf8'), 'via3\n', 'the preserved fd is the caller\'s');
  // one it does not have fails as a spawn of it fails, naming the fd
  const missing = h.tsrun(['exec', '--preserve-fds', '2', id, 'true'], { env: LAUNCH });
  t.equal(missing.status, 255);
  t.match(missing.stderr, /exec failed: start tsrun-init: spawn \S+tsrun-init: fd 3: Bad file descriptor/);
  // foreground run: a signal to the client goes to the container's process
  const bundle = h.bundle({ args: ['sh', '-c', 'trap "exit 42" TERM; echo ready; while :; do sleep 0.1; done'] });
  const rid = h.id(t);
  const run = background(['run', '--bundle', bundle, rid], LAUNCH);
  until('the container running', () => h.state(rid)?.status === 'running');
  sleep(300);
  run.child.kill('SIGTERM');
  const r = await run.done;
  t.equal(r.status, 42, `run: the trap's exit status (${r.stderr})`);
  t.equal(r.stdout, 'ready\n');
  until('the run container deleted', () => h.state(rid) === null);
  h.ok(['delete', '--force', id], { env: LAUNCH });
  reapZombies();
});

t.test('under a subreaper (conmon, containerd\'s shim) a client starts no server: calls stay cold', async (t) => {
  // docs/CLIENT-SERVER.md "Lifetime": a server adopted by the caller's subreaper would live in
  // its tree (and cgroup); the double-forked server serves only as a child of its pid
  // namespace's init, and otherwise exits at once, a zombie of the subreaper.
  stopServers();
  becomeSubreaper();
  reapZombies();
  for (let i = 0; i < 2; i++) t.notOk(served(h.ok(['--debug', 'list'])), 'cold');
  sleep(1500);
  t.same(servers(), [], 'no server');
  const zombies = reapZombies();
  t.ok(zombies.some((z) => z.comm === 'tsrun-server'), `the server that found itself adopted exited (${zombies.map((z) => z.comm).join(', ')})`);
});
