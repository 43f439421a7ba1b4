// config.md#posix-platform-hooks and runtime.md#lifecycle: hooks in order, in the namespaces the
// spec names, with the state on stdin; failures, timeouts and what they leave behind.
import t from 'tap';
import { existsSync, mkdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupDirsNamed } from './helpers/host.js';
import { Harness, type Config } from './helpers/runtime.js';

const h = new Harness(t);
type Tap = tap.Test;
type Hook = { path: string; args?: string[]; timeout?: number };

/** A hook that appends "NAME <mount ns> <state JSON>" to LOG (a path as the hook sees it). */
function logHook(name: string, log: string): Hook {
  return { path: '/bin/sh', args: ['sh', '-c', `printf '%s %s %s\\n' ${name} "$(readlink /proc/self/ns/mnt)" "$(cat)" >> ${log}`] };
}

interface Line {
  name: string;
  mnt: string;
  state: { status: string; pid?: number; id: string; bundle: string; annotations?: Record<string, string> };
}

function lines(file: string): Line[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => {
    const [name, mnt, ...rest] = l.split(' ');
    return { name: name!, mnt: mnt!, state: JSON.parse(rest.join(' ')) as Line['state'] };
  });
}

/** A bundle whose config gets `hooks`; `out` is a host dir bound at /out in the container. */
function hookBundle(hooks: Config['hooks'], args = ['true'], edit?: (c: Config) => void): { bundle: string; out: string } {
  const out = h.path(`out-${Math.random().toString(36).slice(2)}`);
  mkdirSync(out);
  const bundle = h.bundle({
    args,
    edit: (c) => {
      c.hooks = hooks;
      c.mounts!.push({ destination: '/out', type: 'bind', source: out, options: ['rbind', 'rw'] });
      edit?.(c);
    },
  });
  return { bundle, out };
}

function assertGone(t: Tap, id: string): void {
  t.notOk(existsSync(join(h.root, id)), 'no state dir');
  t.same(cgroupDirsNamed([id]), [], 'no cgroup dir');
}

t.test('all six hooks run in order, in their namespaces, with the state on stdin', async (t) => {
  // config.md#posix-platform-hooks (Summary table): prestart, createRuntime, poststart, poststop
  // in the runtime namespace; createContainer, startContainer in the container's. runtime.md#state.
  const dir = h.path('order');
  mkdirSync(dir);
  const log = join(dir, 'log');
  const { bundle } = hookBundle({
    prestart: [logHook('prestart', log)],
    createRuntime: [logHook('createRuntime', log)],
    createContainer: [logHook('createContainer', log)],
    // runs after pivot_root: the path resolves in the container, the log is its bind of `dir`
    startContainer: [logHook('startContainer', '/out/log')],
    poststart: [logHook('poststart', log)],
    poststop: [logHook('poststop', log)],
  }, ['sleep', '1000'], (c) => {
    c.mounts!.find((m) => m.destination === '/out')!.source = dir;
    c.annotations = { k: 'v' };
  });
  const id = h.id(t);
  h.ok(['create', '--bundle', bundle, id]);
  const pid = h.state(id)!.pid;
  h.ok(['start', id]);
  h.ok(['kill', id, 'KILL']);
  t.equal(h.waitStatus(id, 'stopped'), 'stopped');
  h.ok(['delete', id]);
  const got = lines(log);
  t.same(got.map((l) => l.name), ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'], 'listed order');
  const hostMnt = readlinkSync('/proc/self/ns/mnt');
  for (const l of got) {
    const inContainer = l.name === 'createContainer' || l.name === 'startContainer';
    t.equal(l.mnt === hostMnt, !inContainer, `${l.name} runs in the ${inContainer ? 'container' : 'runtime'} mount namespace`);
    t.match(l.state, { id, bundle, annotations: { k: 'v' } }, `${l.name}: state on stdin`);
    if (l.name !== 'poststop') t.equal(l.state.pid, pid, `${l.name}: pid as the runtime sees it`);
  }
  const status = Object.fromEntries(got.map((l) => [l.name, l.state.status]));
  t.same(status, { prestart: 'created', createRuntime: 'creating', createContainer: 'creating', startContainer: 'created', poststart: 'running', poststop: 'stopped' });
});

for (const phase of ['prestart', 'createRuntime', 'createContainer'] as const) {
  t.test(`a failing ${phase} hook fails create and leaves nothing behind`, async (t) => {
    // runtime.md#lifecycle steps 3-5: generate an error, stop the container, continue at step 12
    // (destroy, then the poststop hooks).
    const dir = h.path(`fail-${phase}`);
    mkdirSync(dir);
    const { bundle } = hookBundle({ [phase]: [{ path: '/bin/sh', args: ['sh', '-c', 'echo broken >&2; exit 3'] }], poststop: [logHook('poststop', join(dir, 'log'))] });
    const id = h.id(t);
    const r = h.tsrun(['create', '--bundle', bundle, id]);
    t.not(r.status, 0, 'create fails');
    t.match(r.stderr, new RegExp(`${phase}.*(status 3|exited)`), 'the error names the hook');
    assertGone(t, id);
    t.same(lines(join(dir, 'log')).map((l) => l.name), ['poststop'], 'poststop hooks ran');
  });
}

for (const phase of ['createRuntime', 'createContainer'] as const) {
  t.test(`a ${phase} hook that outlives its timeout is killed and fails create`, async (t) => {
    // config.md#posix-platform-hooks: timeout is the number of seconds before aborting the hook.
    const { bundle } = hookBundle({ [phase]: [{ path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 }] });
    const id = h.id(t);
    const started = Date.now();
    const r = h.tsrun(['create', '--bundle', bundle, id]);
    t.not(r.status, 0);
    t.match(r.stderr, /timed out after 1 s/);
    t.ok(Date.now() - started < 15000, 'did not wait for the hook to end');
    assertGone(t, id);
  });
}

t.test('a failing startContainer hook fails start; the user process never runs', async (t) => {
  // runtime.md#lifecycle step 7: generate an error, stop the container, continue at step 12.
  const { bundle, out } = hookBundle({ startContainer: [{ path: '/bin/false' }] }, ['sh', '-c', 'touch /out/ran']);
  const id = h.id(t);
  h.ok(['create', '--bundle', bundle, id]);
  const r = h.tsrun(['start', id]);
  t.not(r.status, 0, 'start fails');
  t.match(r.stderr, /startContainer/);
  t.notOk(existsSync(join(out, 'ran')), 'the process did not run');
  assertGone(t, id);
});

for (const noNewPrivileges of [true, false]) {
  t.test(`startContainer hooks run under the seccomp filter (noNewPrivileges ${noNewPrivileges})`, async (t) => {
    // runc (standard_init_linux.go) loads the filter, then runs the startContainer hooks: a
    // syscall the profile denies fails in the hook as in the process. config.md#startcontainer-hooks
    // puts them in the container, before the user-specified program.
    const hook = 'mkdir /tmp/from-hook 2>>/out/hook.err; echo "mkdir=$?" >> /out/hook.out; grep ^Seccomp: /proc/self/status >> /out/hook.out';
    const { bundle, out } = hookBundle({ startContainer: [{ path: '/bin/sh', args: ['sh', '-c', hook] }] }, ['true'], (c) => {
      c.process!.noNewPrivileges = noNewPrivileges;
      c.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] };
    });
    const id = h.id(t);
    h.ok(['create', '--bundle', bundle, id]);
    h.ok(['start', id]);
    t.equal(h.waitStatus(id, 'stopped'), 'stopped');
    t.match(readFileSync(join(out, 'hook.out'), 'utf8'), /^mkdir=1\nSeccomp:\s+2$/m, 'mkdir failed in the hook, which has the filter');
    t.match(readFileSync(join(out, 'hook.err'), 'utf8'), /Operation not permitted/);
  });
}

t.test('poststart: a failure fails start (spec 1.1+), is a warning for a 1.0 config', async (t) => {
  // runtime.md#lifecycle step 9 (1.1+: error, stop, step 12); runtime-spec 1.0.2 config.md:
  // "the runtime MUST log a warning, but the remaining hooks and lifecycle continue".
  for (const version of ['1.3.0', '1.0.2-dev']) {
    const dir = h.path(`poststart-${version}`);
    mkdirSync(dir);
    const { bundle } = hookBundle({ poststart: [{ path: '/bin/false' }, logHook('poststart2', join(dir, 'log'))] }, ['sleep', '1000'], (c) => void (c.ociVersion = version));
    const id = h.id(t);
    h.ok(['create', '--bundle', bundle, id]);
    const r = h.tsrun(['start', id]);
    if (version === '1.3.0') {
      t.not(r.status, 0, `${version}: start fails`);
      assertGone(t, id);
      t.same(lines(join(dir, 'log')), [], 'later poststart hooks do not run');
    } else {
      t.equal(r.status, 0, `${version}: start succeeds`);
      t.match(r.stderr, /warning.*poststart hook 0/);
      t.same(lines(join(dir, 'log')).map((l) => l.name), ['poststart2'], 'the remaining hooks run');
    }
  }
});

t.test('a failing poststop hook is a warning; the rest still run', async (t) => {
  // runtime.md#lifecycle step 13.
  const dir = h.path('poststop');
  mkdirSync(dir);
  const { bundle } = hookBundle({ poststop: [{ path: '/bin/false' }, logHook('poststop2', join(dir, 'log'))] });
  const id = h.id(t);
  h.ok(['create', '--bundle', bundle, id]);
  const r = h.tsrun(['delete', '--force', id]);
  t.equal(r.status, 0, 'delete succeeds');
  t.match(r.stderr, /warning.*poststop hook 0/);
  t.same(lines(join(dir, 'log')).map((l) => l.name), ['poststop2']);
  assertGone(t, id);
});

t.test('hook fields are checked', async (t) => {
  // config.md#posix-platform-hooks: path MUST be absolute; timeout MUST be greater than zero.
  for (const [hook, message] of [[{ path: 'sh' }, /hooks.createRuntime\[0\].path/], [{ path: '/bin/true', timeout: 0 }, /hooks.createRuntime(\[0\]|\.0)\.timeout/]] as const) {
    const { bundle } = hookBundle({ createRuntime: [hook] });
    const id = h.id(t);
    const r = h.tsrun(['create', '--bundle', bundle, id]);
    t.not(r.status, 0);
    t.match(r.stderr, message);
    assertGone(t, id);
  }
});

t.test('hooks start where runc starts them, with the environment runc gives them', async (t) => {
  // runc 1.1.5 configs.Command.Run: exec.Cmd{Env: hook.env} (a nil env is the runtime's own, an
  // empty one is empty), no Dir: the runtime's cwd, which runc's create moves to the bundle. Its
  // init runs createContainer in the rootfs and startContainer in process.cwd, with the
  // container's environment. poststart: runc 1.1 runs them at the end of create, in the bundle.
  const dir = h.path('hook-env');
  mkdirSync(dir);
  // sh's own variables aside, tsrun's settings the harness passes on (TSRUN_SERVER ...), and tap's: its processinfo (NODE_OPTIONS --import) adds them to
  // every process a Node under it spawns, tsrun's hooks included. One of those holds the list of
  // test files, one per line: variables are read by name (awk's ENVIRON), not by line.
  const line = (name: string, log: string): string =>
    `echo "${name}|$(pwd)|$(awk 'BEGIN { for (k in ENVIRON) if (k !~ /^(PWD|SHLVL|_|NODE_OPTIONS|_TAPJS_.*|TSRUN_.*)$/) print k "=" ENVIRON[k] }' | sort | tr '\\n' ' ')" >> ${log}`;
  const hook = (name: string, log: string, env?: string[]): Hook & { env?: string[] } => ({ path: '/bin/sh', args: ['sh', '-c', line(name, log)], ...(env ? { env } : {}) });
  for (const env of [undefined, ['HOOKVAR=1']]) {
    const log = join(dir, env ? 'own' : 'inherited');
    const inContainer = env ? '/out/own' : '/out/inherited';
    const { bundle } = hookBundle({
      prestart: [hook('prestart', log, env)],
      createRuntime: [hook('createRuntime', log, env)],
      createContainer: [hook('createContainer', log, env)],
      startContainer: [hook('startContainer', inContainer, env)],
      poststart: [hook('poststart', log, env)],
      poststop: [hook('poststop', log, env)],
    }, ['true'], (c) => {
      c.mounts!.find((m) => m.destination === '/out')!.source = dir;
      c.process!.cwd = '/tmp';
      c.process!.env = ['PATH=/bin:/usr/bin', 'PROCVAR=2'];
    });
    const id = h.id(t);
    const caller = { CALLERVAR: '3' };
    h.ok(['create', '--bundle', bundle, id], { env: caller });
    h.ok(['start', id], { env: caller });
    t.equal(h.waitStatus(id, 'stopped'), 'stopped');
    h.ok(['delete', id], { env: caller });
    const got = new Map(readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split('|') as [string, string, string]).map(([n, cwd, e]) => [n, { cwd, env: e.trim() }]));
    const runtimeEnv = env ? 'HOOKVAR=1' : `CALLERVAR=3 PATH=${process.env.PATH}`;
    const what = env ? 'hook env' : 'no hook env';
    t.same(got.get('prestart'), { cwd: bundle, env: runtimeEnv }, `${what}: prestart`);
    t.same(got.get('createRuntime'), { cwd: bundle, env: runtimeEnv }, `${what}: createRuntime`);
    t.same(got.get('createContainer'), { cwd: join(bundle, 'rootfs'), env: env ? 'HOOKVAR=1' : 'PATH=/bin:/usr/bin PROCVAR=2' }, `${what}: createContainer`);
    t.same(got.get('startContainer'), { cwd: '/tmp', env: env ? 'HOOKVAR=1 PATH=/sbin:/usr/sbin:/bin:/usr/bin' : 'HOME=/root PATH=/bin:/usr/bin PROCVAR=2' }, `${what}: startContainer (HOME from the image's /etc/passwd; busybox sh sets a PATH when there is none)`);
    t.same(got.get('poststart'), { cwd: bundle, env: runtimeEnv }, `${what}: poststart`);
    t.same(got.get('poststop'), { cwd: h.tmp, env: runtimeEnv }, `${what}: poststop, in the caller's cwd`);
  }
});
