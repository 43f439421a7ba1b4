// config-linux.md#seccomp: the profile compiled with libseccomp and loaded before execve.
// Containers run busybox sh or build/seccomp-helper (conformance/seccomp-helper.c), copied into
// the bundle: "syscall NR..." prints NR=errno, "agent ..." is a seccomp notify listener.
import t from 'tap';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOCKER_ALLOWED } from './helpers/docker-profile.js';
import { cgroupDirsNamed } from './helpers/host.js';
import { COLD, startServer, WARM } from './helpers/server.js';
import { Harness, TOP, type Config } from './helpers/runtime.js';

const h = new Harness(t);
const HELPER = join(TOP, 'build', 'seccomp-helper');
type Seccomp = NonNullable<NonNullable<Config['linux']>['seccomp']>;

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** `tsrun run` of args with this profile; the result of the run. */
function runWith(tt: Tap, seccomp: Seccomp, args: string[], edit?: (c: Config) => void) {
  const bundle = h.bundle({
    args,
    prepare: (rootfs) => copyFileSync(HELPER, join(rootfs, 'bin', 'seccomp-helper')),
    edit: (c) => {
      c.linux!.seccomp = seccomp;
      edit?.(c);
    },
  });
  return h.tsrun(['run', '--bundle', bundle, h.id(tt)]);
}
type Tap = tap.Test;

t.before(() => {
  if (!existsSync(HELPER)) throw new Error('build/seccomp-helper missing: run conformance/build-probe.sh');
});

t.test('SCMP_ACT_ERRNO with errnoRet', async (t) => {
  // config-linux.md#seccomp: syscalls[].action SCMP_ACT_ERRNO returns errnoRet (default EPERM).
  const r = runWith(t, {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 18 },
      { names: ['rmdir'], action: 'SCMP_ACT_ERRNO' },
    ],
  }, ['sh', '-c', 'mkdir /tmp/a; rmdir /tmp; echo done']);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stderr, /can't create directory '\/tmp\/a': Invalid cross-device link/, 'errnoRet 18 = EXDEV');
  t.match(r.stderr, /Operation not permitted/, 'no errnoRet = EPERM');
  t.match(r.stdout, /done/);
});

t.test('argument filters', async (t) => {
  // config-linux.md#seccomp: syscalls[].args index/value/op. Two conditions on one argument are
  // ORed (each its own rule, as runc does); conditions on different arguments are ANDed.
  const r = runWith(t, {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      { names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 10, op: 'SCMP_CMP_EQ' }, { index: 1, value: 12, op: 'SCMP_CMP_EQ' }] },
      { names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 0xf0, valueTwo: 0x10, op: 'SCMP_CMP_MASKED_EQ' }, { index: 0, value: 1, op: 'SCMP_CMP_GE' }] },
    ],
  }, ['sh', '-c', 'trap "" USR1 USR2 PIPE HUP; for s in USR1 USR2 0 HUP; do kill -$s $$ 2>/dev/null; echo "$s=$?"; done']);
  t.equal(r.status, 0, r.stderr);
  // SIGUSR1 = 10, SIGUSR2 = 12: blocked; 0: allowed; SIGHUP = 1: 1 & 0xf0 != 0x10, allowed.
  t.match(r.stdout, /USR1=1\nUSR2=1\n0=0\nHUP=0/);
});

t.test('SCMP_CMP_MASKED_EQ matches (arg & value) == valueTwo', async (t) => {
  // config-linux.md#seccomp: op SCMP_CMP_MASKED_EQ. SIGTERM = 15 = 0x0f: 0x0f & 0x0c == 0x0c.
  const r = runWith(t, {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 0x0c, valueTwo: 0x0c, op: 'SCMP_CMP_MASKED_EQ' }] }],
  }, ['sh', '-c', 'trap "" TERM INT; kill -TERM $$ 2>/dev/null; echo "TERM=$?"; kill -INT $$; echo "INT=$?"']);
  t.match(r.stdout, /TERM=1\nINT=0/, r.stderr);
});

for (const action of ['SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_TRAP'] as const) {
  t.test(`${action} ends the process with SIGSYS`, async (t) => {
    // config-linux.md#seccomp: KILL/KILL_PROCESS kill, TRAP sends SIGSYS (whose default kills too).
    const r = runWith(t, { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action }] }, ['sh', '-c', '(mkdir /tmp/k); echo "status=$?"']);
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, /status=159/, 'the subshell died of SIGSYS (128+31)');
  });
}

t.test('SCMP_ACT_LOG allows the syscall', async (t) => {
  // config-linux.md#seccomp: SCMP_ACT_LOG logs and allows.
  const r = runWith(t, { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG'], syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_LOG' }] }, ['sh', '-c', 'mkdir /tmp/l && echo made']);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /made/);
});

t.test('a Docker-size profile: default errno, ENOSYS stub for newer syscalls', async (t) => {
  // config-linux.md#seccomp defaultAction/defaultErrnoRet, and runc's stub: a syscall newer than
  // every syscall the profile names gets ENOSYS (so libc falls back), an older unnamed one the
  // default errno. 169 = reboot (unnamed, old): EPERM; 435 = clone3 (unnamed, older than openat2
  // 437 which is named): EPERM; 462 = mseal (newer than anything libseccomp 2.5 knows): ENOSYS;
  // 39 = getpid: allowed.
  const started = Date.now();
  const r = runWith(t, {
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [{ names: DOCKER_ALLOWED, action: 'SCMP_ACT_ALLOW' }],
  }, ['/bin/seccomp-helper', 'syscall', '169', '435', '462', '39']);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout.trim(), '169=1 435=1 462=38 39=0');
  t.comment(`run with a ${DOCKER_ALLOWED.length}-name profile: ${Date.now() - started} ms`);
  t.notMatch(r.stderr, /error/, 'names libseccomp does not know (cachestat...) are skipped');
});

t.test('defaultErrnoRet', async (t) => {
  // config-linux.md#seccomp: defaultErrnoRet is the errno of the default SCMP_ACT_ERRNO action.
  const r = runWith(t, { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 5, syscalls: [{ names: DOCKER_ALLOWED, action: 'SCMP_ACT_ALLOW' }] }, ['/bin/seccomp-helper', 'syscall', '169']);
  t.equal(r.stdout.trim(), '169=5', r.stderr);
});

t.test('bad profiles are errors that name the field', async (t) => {
  // config-linux.md#seccomp: "When the action doesn't support an errno, the runtime MUST print
  // an error and fail"; runtime.md#errors for unknown values.
  const cases: [Seccomp, RegExp][] = [
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_KILL', errnoRet: 3 }] }, /syscalls\[0\].*errnoRet/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 3 }, /defaultErrnoRet/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_BOGUS' as 'SCMP_ACT_KILL' }] }, /syscalls.*action/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }, /listenerPath/],
  ];
  for (const [seccomp, message] of cases) {
    const r = runWith(t, seccomp, ['true']);
    t.not(r.status, 0, `fails: ${JSON.stringify(seccomp)}`);
    t.match(r.stderr, message);
  }
});

/** A seccomp agent (seccomp-helper agent) answering notifications with ERRNO; it writes the
 * message of its Nth connection to OUT (N = 1) or OUT.N. */
function startAgent(t: Tap, name: string, errno: number): { sock: string; out: string; exited: Promise<number | null> } {
  const sock = h.path(`${name}.sock`);
  const out = h.path(`${name}.json`);
  const agent = spawn(HELPER, ['agent', sock, out, String(errno)], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<number | null>((res) => agent.on('exit', (c) => res(c)));
  t.teardown(() => void agent.kill('SIGKILL'));
  for (let i = 0; i < 200 && !existsSync(sock); i++) sleep(10);
  return { sock, out, exited };
}

type AgentMessage = { ociVersion: string; fds: string[]; pid: number; metadata: string; state: { id: string; status: string; pid: number; bundle: string; annotations?: Record<string, string> } };

t.test('SCMP_ACT_NOTIFY: the agent gets the fd and the container process state', async (t) => {
  // config-linux.md#seccomp listenerPath/listenerMetadata, #containerprocessstate: one message
  // with the JSON and seccompFd in SCM_RIGHTS; the agent answers the notified syscall.
  const { sock, out, exited } = startAgent(t, 'agent', 18);
  const r = runWith(t, {
    defaultAction: 'SCMP_ACT_ALLOW',
    listenerPath: sock,
    listenerMetadata: 'meta data',
    syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
  }, ['sh', '-c', 'mkdir /tmp/n; echo "mkdir=$?"'], (c) => void (c.annotations = { a: 'b' }));
  t.equal(r.status, 0, r.stderr);
  t.match(r.stderr, /Invalid cross-device link/, 'the agent answered EXDEV');
  t.equal(await exited, 0, 'the agent saw the filter go away');
  const msg = JSON.parse(readFileSync(out, 'utf8')) as AgentMessage;
  t.same(msg.fds, ['seccompFd']);
  t.equal(msg.metadata, 'meta data');
  t.ok(msg.pid > 1, 'pid as the runtime sees it');
  t.equal(msg.state.pid, msg.pid);
  // runc sends the state while the container is being created (process_linux.go, procSeccomp)
  t.match(msg.state, { status: 'creating', annotations: { a: 'b' } });
  t.match(readFileSync(`${out}.log`, 'utf8'), /nr 83|nr 258/, 'mkdir or mkdirat was notified');
});

t.test('exec into a container with a notify listener: the exec is filtered and its fd goes to the agent', async (t) => {
  // config-linux.md#seccomp: the profile binds the exec'd process too, and runc sends the agent a
  // new connection for it (process_linux.go, setnsProcess): pid = the exec'd process, state =
  // the container's (status running, its pid 1). One exec runs cold, one through the warm server.
  const { sock, out, exited } = startAgent(t, 'exec-agent', 18);
  const bundle = h.bundle({
    args: ['sleep', '1000'],
    edit: (c) => {
      c.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: sock, syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }] };
    },
  });
  const id = h.id(t);
  startServer(h);
  h.ok(['run', '-d', '--bundle', bundle, id]);
  const pid1 = h.state(id)!.pid;
  for (const [n, who, env] of [[2, 'cold', COLD], [3, 'warm', WARM]] as const) {
    const r = h.tsrun(['exec', id, 'sh', '-c', 'mkdir /tmp/e; echo "mkdir=$?"; grep ^Seccomp: /proc/self/status'], { env });
    t.equal(r.status, 0, r.stderr);
    t.match(r.stderr, /Invalid cross-device link/, `${who}: the agent answered EXDEV`);
    t.match(r.stdout, /mkdir=1\nSeccomp:\s+2/, `${who}: the exec runs under the filter`);
    const msg = JSON.parse(readFileSync(`${out}.${n}`, 'utf8')) as AgentMessage;
    t.same(msg.fds, ['seccompFd'], `${who}: fds`);
    t.ok(msg.pid > 1 && msg.pid !== pid1, `${who}: pid of the exec'd process`);
    t.match(msg.state, { id, status: 'running', pid: pid1, bundle }, `${who}: the container's state`);
  }
  h.ok(['kill', id, 'KILL']);
  t.equal(h.waitStatus(id, 'stopped'), 'stopped');
  h.ok(['delete', id]);
  t.equal(await exited, 0, 'the agent saw every filter go away');
});

t.test('SCMP_ACT_NOTIFY on write is refused at create and leaves nothing behind', async (t) => {
  // runc (libcontainer/seccomp, InitSeccomp): "SCMP_ACT_NOTIFY cannot be used for the write
  // syscall": the runtime writes after the filter is loaded.
  const bundle = h.bundle({
    edit: (c) => {
      c.linux!.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        listenerPath: h.path('no-agent.sock'),
        syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }, { names: ['read', 'write'], action: 'SCMP_ACT_NOTIFY' }],
      };
    },
  });
  const id = h.id(t);
  const r = h.tsrun(['create', '--bundle', bundle, id]);
  t.not(r.status, 0, 'create fails');
  t.match(r.stderr, /SCMP_ACT_NOTIFY cannot be used for the write syscall/, "runc's sentence");
  t.match(r.stderr, /linux\.seccomp\.syscalls\[1\]: /, 'naming the field (runc does not)');
  t.notOk(existsSync(join(h.root, id)), 'no state dir');
  t.same(cgroupDirsNamed([id]), [], 'no cgroup');
});

t.test('compiled programs are cached in the state root and the cache is what runs', async (t) => {
  // The cache is keyed by the seccomp section and the installed libseccomp; a hit skips the
  // compile. Shown by swapping two entries: the container then runs the other profile's program.
  const cacheDir = join(h.root, '@seccomp-cache');
  rmSync(cacheDir, { recursive: true, force: true });
  const denyGetpid: Seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ERRNO', errnoRet: 7 }] };
  const denyGetppid: Seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_ERRNO', errnoRet: 9 }] };
  // 39 = getpid, 110 = getppid
  const first = runWith(t, denyGetpid, ['/bin/seccomp-helper', 'syscall', '39', '110']);
  t.equal(first.stdout.trim(), '39=7 110=0', first.stderr);
  const entries = (): string[] => readdirSync(cacheDir).filter((f) => f.endsWith('.json')).sort();
  t.equal(entries().length, 1, 'one entry after one profile');
  const again = runWith(t, denyGetpid, ['/bin/seccomp-helper', 'syscall', '39', '110']);
  t.equal(again.stdout.trim(), '39=7 110=0', 'a cached program behaves as the compiled one');
  t.equal(entries().length, 1, 'the same profile reuses its entry');
  const aKey = entries()[0]!;
  runWith(t, denyGetppid, ['/bin/seccomp-helper', 'syscall', '39', '110']);
  const bKey = entries().find((k) => k !== aKey)!;
  t.ok(bKey, 'a second profile has its own entry');
  // An entry is used only for its own key: B's entry under A's file name is not A's program.
  const aEntry = readFileSync(join(cacheDir, aKey), 'utf8');
  copyFileSync(join(cacheDir, bKey), join(cacheDir, aKey));
  const misfiled = runWith(t, denyGetpid, ['/bin/seccomp-helper', 'syscall', '39', '110']);
  t.equal(misfiled.stdout.trim(), '39=7 110=0', 'an entry whose key is not the profile is ignored');
  // A's key with B's program: the container runs what the cache holds, so a hit skips the compile.
  const a = JSON.parse(aEntry) as { key: string; program: string };
  a.program = (JSON.parse(readFileSync(join(cacheDir, bKey), 'utf8')) as { program: string }).program;
  writeFileSync(join(cacheDir, aKey), JSON.stringify(a));
  const swapped = runWith(t, denyGetpid, ['/bin/seccomp-helper', 'syscall', '39', '110']);
  t.equal(swapped.stdout.trim(), '39=0 110=9', 'the program comes from the cache entry, not a new compile');
  // A profile that fails to compile leaves no entry; the cache dir is not a container.
  const bad = runWith(t, { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_BOGUS' as 'SCMP_ACT_ALLOW' }] }, ['/bin/true']);
  t.not(bad.status, 0);
  t.equal(entries().length, 2, 'no entry for a profile with an error');
  const list = h.ok(['list', '-q']);
  t.notMatch(list.stdout, /seccomp-cache/, 'list does not show the cache');
  rmSync(cacheDir, { recursive: true, force: true });
});
