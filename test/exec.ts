// exec into created and running containers, as conmon and containerd's shim call it
// (runc's exec; the process it runs follows config.md#process).
import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readlinkSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { Harness, TOP, TSRUN, type TestLike } from './helpers/runtime.js';
import { pauseAt } from './helpers/pause.js';

const h = new Harness(t);
const SLEEP = ['sleep', '1000'];

function running(t: TestLike): string {
  const id = h.id(t);
  h.ok(['run', '-d', '--bundle', h.bundle({ args: SLEEP }), id]);
  return id;
}

/** Host pids of the container's processes (`ps --format json`). */
function pids(id: string): number[] {
  return JSON.parse(h.ok(['ps', '--format', 'json', id]).stdout) as number[];
}

t.test('foreground exec returns the exit status and output', async (t) => {
  const id = running(t);
  const r = h.tsrun(['exec', id, 'sh', '-c', 'echo from-exec; exit 3']);
  t.equal(r.status, 3, 'exit status of the exec\'d process');
  t.equal(r.stdout, 'from-exec\n');
});

t.test('exec flags: -e, --cwd, -u uid:gid, -g', async (t) => {
  const id = running(t);
  const r = h.ok(['exec', '-e', 'FOO=bar', '--cwd', '/tmp', '-u', '1000:1001', '-g', '5', '-g', '7', id,
    'sh', '-c', 'echo $FOO; pwd; id -u; id -g; id -G']);
  t.same(r.stdout.trim().split('\n'), ['bar', '/tmp', '1000', '1001', '1001 5 7']);
});

t.test('exec --process takes a process.json', async (t) => {
  const id = running(t);
  const file = h.path(`${id}-process.json`);
  writeFileSync(file, JSON.stringify({ args: ['sh', '-c', 'echo $X; pwd; exit 4'], env: ['X=from-file', 'PATH=/bin'], cwd: '/dev', user: { uid: 0, gid: 0 } }));
  const r = h.tsrun(['exec', '--process', file, id]);
  t.equal(r.status, 4);
  t.equal(r.stdout, 'from-file\n/dev\n');
  writeFileSync(file, JSON.stringify({ args: ['true'], cwd: 7 }));
  const bad = h.tsrun(['exec', '--process', file, id]);
  t.not(bad.status, 0, 'a schema-invalid process.json is refused');
  t.match(bad.stderr, /process\.cwd/, 'the error names the field');
});

t.test('exec -d writes the pid file and the process joins the cgroup', async (t) => {
  const id = running(t);
  const pidFile = h.path(`${id}-exec.pid`);
  h.ok(['exec', '-d', '--pid-file', pidFile, id, 'sleep', '100']);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  t.ok(pid > 0, 'pid file holds a pid');
  t.ok(pids(id).includes(pid), 'the exec\'d process is in the container\'s cgroup');
  // Same namespaces as pid 1 (every type the container has).
  const init = h.state(id)!.pid;
  for (const ns of ['pid', 'mnt', 'net', 'ipc', 'uts']) {
    t.equal(execFileSync('readlink', [`/proc/${pid}/ns/${ns}`], { encoding: 'utf8' }), execFileSync('readlink', [`/proc/${init}/ns/${ns}`], { encoding: 'utf8' }), `${ns} namespace joined`);
  }
});

t.test('exec into stopped and paused containers', async (t) => {
  const id = running(t);
  h.ok(['pause', id]);
  const p = h.tsrun(['exec', id, 'true']);
  t.not(p.status, 0, 'exec into a paused container fails');
  t.match(p.stderr, /paused/);
  h.ok(['resume', id]);
  h.ok(['kill', id, 'KILL']);
  t.equal(h.waitStatus(id, 'stopped'), 'stopped');
  const s = h.tsrun(['exec', id, 'true']);
  t.not(s.status, 0, 'exec into a stopped container fails');
  t.match(s.stderr, /stopped/);
});

t.test('many short execs leave no process or zombie behind', async (t) => {
  const id = running(t);
  const init = h.state(id)!.pid;
  // Only tsrun-init processes of this container count: other tests run containers at the same
  // time. An exec's tsrun-init has joined the container's uts namespace; one that is a zombie
  // (no namespaces left to read) counts when its parent is this test or the container's pid 1.
  const uts = readlinkSync(`/proc/${init}/ns/uts`);
  const ours = (pid: string, ppid: string): boolean => {
    try {
      return readlinkSync(`/proc/${pid}/ns/uts`) === uts;
    } catch {
      return ppid === String(process.pid) || ppid === String(init);
    }
  };
  const inits = (): string[] =>
    execFileSync('ps', ['-eo', 'pid,ppid,stat,comm'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /tsrun-init/.test(l) && ours(l.split(/\s+/)[0]!, l.split(/\s+/)[1]!));
  const before = new Set(inits());
  for (let i = 0; i < 12; i++) {
    const r = h.tsrun(['exec', id, 'true']);
    if (r.status !== 0) t.fail(`exec ${i}: ${r.stderr}`);
  }
  for (let i = 0; i < 3; i++) h.ok(['exec', '-d', id, 'true']);
  let left: number[] = [];
  for (let i = 0; i < 50; i++) {
    left = pids(id);
    if (left.length === 1) break;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
  t.same(left, [init], 'only pid 1 remains in the container');
  const stray = inits().filter((l) => !before.has(l));
  t.same(stray, [], 'no tsrun-init process (or zombie) remains');
});

t.test('exec never hands the runtime\'s fds to the process', async (t) => {
  // containerd's shim gives the runtime its own socket as fd 3.
  const id = running(t);
  const extra = openSync(join(TOP, 'package.json'), 'r');
  try {
    const r = h.ok(['exec', id, 'sh', '-c', 'ls /proc/self/fd'], { fds: [extra] });
    t.same(r.stdout.trim().split('\n').map(Number).filter((n) => n !== 3), [0, 1, 2], 'only stdio (3 is ls\'s own directory fd)');
    t.notMatch(execFileSync('sh', ['-c', `ls -l /proc/${h.state(id)!.pid}/fd`], { encoding: 'utf8' }), /package\.json/, 'pid 1 holds no runtime fd either');
  } finally {
    closeSync(extra);
  }
});

t.test('the runtime binary cannot be reached from inside the container while exec joins (CVE-2019-5736 class)', async (t) => {
  // A container process keeps trying to open every /proc/PID/exe it can see for writing and to
  // read where it points, while the host runs execs; tsrun-init is non-dumpable until execve.
  const init = join(TOP, 'build', 'Release', 'tsrun-init');
  const before = createHash('sha256').update(readFileSync(init)).digest('hex');
  const id = h.id(t);
  const attack = 'while :; do for e in /proc/[0-9]*/exe; do l=$(readlink $e 2>/dev/null); case "$l" in *tsrun*) echo "SAW $e $l";; esac; (: >> $e) 2>/dev/null && echo "WROTE $e"; done; done';
  const bundle = h.bundle({ args: ['sh', '-c', `${attack} > /report 2>&1`] });
  h.ok(['run', '-d', '--bundle', bundle, id]);
  for (let i = 0; i < 10; i++) h.tsrun(['exec', id, 'true']);
  const report = readFileSync(join(bundle, 'rootfs', 'report'), 'utf8');
  t.notMatch(report, /WROTE/, 'no /proc/PID/exe was writable');
  t.notMatch(report, /SAW/, 'no /proc/PID/exe showed the runtime');
  t.equal(createHash('sha256').update(readFileSync(init)).digest('hex'), before, 'tsrun-init is unchanged');
});

t.test('a non-root user can reopen its stdio, and /dev/null is never chowned', async (t) => {
  const id = h.id(t);
  const nullOwner = statSync('/dev/null').uid;
  // Reopening /proc/self/fd/1 checks the file's permissions against the container's user.
  const bundle = h.bundle({ args: ['sh', '-c', ': >> /proc/self/fd/1 && echo reopened; id -u'], edit: (c) => { c.process!.user = { uid: 1000, gid: 1000 }; } });
  const r = h.tsrun(['run', '--bundle', bundle, id]);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'reopened\n1000\n');
  t.equal(statSync('/dev/null').uid, nullOwner, '/dev/null keeps its owner');
});

t.test('an exec\'d process gets the container\'s seccomp profile', async (t) => {
  // config-linux.md#seccomp applies to the container's processes, exec'd ones included.
  const id = h.id(t);
  const bundle = h.bundle({
    args: SLEEP,
    edit: (c) => {
      c.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
    },
  });
  h.ok(['run', '-d', '--bundle', bundle, id]);
  const r = h.tsrun(['exec', id, 'mkdir', '/tmp/blocked']);
  t.not(r.status, 0, 'mkdir is refused in the exec\'d process');
  t.match(r.stderr, /Operation not permitted/, 'with the profile\'s errno (EPERM)');
  t.equal(h.tsrun(['exec', id, 'true']).status, 0, 'other syscalls are allowed');
});

t.test('exec joins a user namespace (and a time namespace) with the rest', async (t) => {
  // The exec'd process enters every namespace of the container, user first, so that it is the
  // container's root and its mounts and clocks are the container's.
  const id = h.id(t);
  const map = { containerID: 0, hostID: 100000, size: 65536 };
  const bundle = h.bundle({
    args: SLEEP,
    prepare: (rootfs) => void execFileSync('chown', ['-R', '-h', '100000:100000', rootfs]),
    edit: (c) => {
      c.linux!.namespaces!.push({ type: 'user' }, { type: 'time' });
      c.linux!.uidMappings = [map];
      c.linux!.gidMappings = [map];
      c.linux!.timeOffsets = { boottime: { secs: 1000000, nanosecs: 0 } };
      c.mounts = c.mounts!.filter((m) => m.destination !== '/sys/fs/cgroup');
    },
  });
  h.ok(['run', '-d', '--bundle', bundle, id]);
  const r = h.ok(['exec', id, 'sh', '-c', 'id -u; cat /proc/self/uid_map; cut -d. -f1 /proc/uptime; readlink /proc/self/ns/user; readlink /proc/self/ns/time']);
  const [uid, uidMap, uptime, userNs, timeNs] = r.stdout.trim().split('\n');
  t.equal(uid, '0', 'root inside');
  t.same(uidMap!.trim().split(/\s+/), ['0', '100000', '65536'], 'the container\'s uid_map');
  t.ok(Number(uptime) >= 1000000, 'the container\'s boottime offset');
  const init = h.state(id)!.pid;
  t.equal(userNs, execFileSync('readlink', [`/proc/${init}/ns/user`], { encoding: 'utf8' }).trim(), 'same user namespace as pid 1');
  t.equal(timeNs, execFileSync('readlink', [`/proc/${init}/ns/time`], { encoding: 'utf8' }).trim(), 'same time namespace as pid 1');
});

/**
 * A foreground run or exec stands in for the container's process: a signal the caller sends it
 * (Podman's stop of an attached exec, a person's ^C) reaches the process, and the runtime exits
 * with the status the process chose. The processes trap the signal to exit with their own code.
 */
async function signalForeground(t: Test, args: string[], sig: NodeJS.Signals, want: number): Promise<void> {
  const out = h.path(`fg-${Date.now()}-${Math.random().toString(36).slice(2)}.out`);
  const fd = openSync(out, 'w');
  const p = spawn(TSRUN, ['--root', h.root, ...args], { stdio: ['ignore', fd, 'inherit'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  closeSync(fd);
  const exited = new Promise<number | null>((res) => p.on('exit', (code) => res(code)));
  const deadline = Date.now() + 20_000;
  while (!readFileSync(out, 'utf8').includes('ready') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.match(readFileSync(out, 'utf8'), 'ready', 'the process is running with its trap set');
  p.kill(sig);
  const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
  t.equal(await exited, want, `${sig} to the runtime reached the process, whose status it returns`);
  clearTimeout(timer);
}

const TRAP = (sig: string, code: number): string[] => ['sh', '-c', `trap "exit ${code}" ${sig}; echo ready; while :; do sleep 0.05; done`];

t.test('signals to a foreground exec reach the exec\'d process', async (t) => {
  const id = running(t);
  await signalForeground(t, ['exec', id, ...TRAP('TERM', 42)], 'SIGTERM', 42);
  await signalForeground(t, ['exec', id, ...TRAP('USR1', 43)], 'SIGUSR1', 43);
});

/**
 * Holds `args` at the test-only step `step` while the process (a trap for `sig` that exits
 * `code`) runs and has touched /tmp/ready in container `id`, signals tsrun, lets it go on, and
 * checks the process got the signal and tsrun returned its status.
 */
async function signalWhileHeld(t: Test, id: string, args: string[], step: string, sig: NodeJS.Signals, code: number): Promise<void> {
  const p = await pauseAt(h, id, args, step);
  const ready = `/proc/${h.state(id)?.pid ?? 0}/root/tmp/ready`;
  for (let i = 0; i < 500 && !existsSync(ready); i++) await new Promise((r) => setTimeout(r, 20));
  t.ok(existsSync(ready), 'the process has set its trap');
  p.tsrun.kill(sig);
  p.resume();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<{ status: number }>((res) => (timer = setTimeout(() => res({ status: -1 }), 20_000)));
  const { status } = await Promise.race([p.exited, late]);
  clearTimeout(timer);
  if (status === -1) p.tsrun.kill('SIGKILL');
  t.equal(status, code, `the process got ${sig}, and tsrun returns its status`);
}

const HELD_TRAP = (sig: string, code: number): string[] => ['sh', '-c', `trap "exit ${code}" ${sig}; touch /tmp/ready; while :; do sleep 0.05; done`];

t.test('a signal that comes before tsrun waits (pid file, exec plan) still reaches the process', async (t) => {
  // tsrun is held right after the launch (the test-only step exec:launched); the signal stays
  // pending until it goes on, and must then be forwarded, not end tsrun.
  const id = running(t);
  await signalWhileHeld(t, id, ['exec', id, ...HELD_TRAP('TERM', 42)], 'exec:launched', 'SIGTERM', 42);
});

t.test('signals to a foreground run reach the container\'s pid 1', async (t) => {
  // A pid 1 gets only the signals it has a handler for: the trap is that handler.
  const id = h.id(t);
  await signalForeground(t, ['run', '--bundle', h.bundle({ args: TRAP('INT', 44) }), id], 'SIGINT', 44);
  t.equal(h.state(id), null, 'run deleted the container after it exited');
});

t.test('a signal that comes after start, before run waits, reaches the container', async (t) => {
  // runc sets up its signal handling before the process starts. tsrun is held after start
  // (the test-only step run:started) while the process runs with its trap set.
  const id = h.id(t);
  await signalWhileHeld(t, id, ['run', '--bundle', h.bundle({ args: HELD_TRAP('INT', 44) }), id], 'run:started', 'SIGINT', 44);
});

t.test('a failed exec exits 255 with "exec failed: ...", as runc; the process\'s own status passes through', async (t) => {
  // runc 1.1.5 exec.go: fatalWithCode(fmt.Errorf("exec failed: %w", err), 255) for every error
  // after its argument check, so a caller tells a runtime failure from the command's status.
  const id = running(t);
  const cases: [string, string[], RegExp][] = [
    ['missing container', ['exec', 'no-such-container', 'true'], /exec failed: container \\"no-such-container\\" does not exist/],
    ['missing command', ['exec', id, 'no-such-command'], /exec failed: .*executable file not found in \$PATH/],
    ['no command', ['exec', id], /exec failed: /],
    ['unreadable process file', ['exec', '--process', h.path('none.json'), id], /exec failed: read process .*none\.json/],
    ['pid file in a missing dir', ['exec', '--pid-file', h.path('no/such/dir/pid'), id, 'true'], /exec failed: .*no\/such\/dir/],
    ['-e without =', ['exec', '-e', 'JUST_A_NAME', id, 'true'], /exec failed: process\.env\[\d+\]: not NAME=VALUE/],
  ];
  for (const [what, args, words] of cases) {
    const r = h.tsrun(args);
    t.equal(r.status, 255, `${what}: exit 255`);
    t.match(r.stderr, words, `${what}: ${r.stderr.trim()}`);
  }
  t.equal(h.tsrun(['exec', id, 'sh', '-c', 'exit 254']).status, 254, 'the process\'s status is returned as is');
  h.ok(['pause', id]);
  const paused = h.tsrun(['exec', id, 'true']);
  t.equal(paused.status, 255);
  t.match(paused.stderr, /exec failed: cannot exec in a paused container \(use --ignore-paused to override\)/, 'runc\'s words for a paused container');
  h.ok(['resume', id]);
  // Usage errors are runc's ordinary ones: exit 1.
  t.equal(h.tsrun(['exec']).status, 1, 'no container ID: exit 1');
  t.equal(h.tsrun(['exec', '--preserve-fds', 'x', id, 'true']).status, 1, 'a flag value Go would refuse: exit 1');
  t.equal(h.tsrun(['exec', '-g', 'abc', id, 'true']).status, 1, '-g abc: exit 1');
});

t.test('exec: HOME from the container\'s /etc/passwd for the exec\'d user (runc)', async (t) => {
  const id = running(t);
  const home = (...flags: string[]): string => h.ok(['exec', ...flags, id, 'sh', '-c', 'env | grep ^HOME=']).stdout.trim();
  t.equal(home('-u', '1000'), 'HOME=/home/user', 'uid 1000: its passwd entry');
  t.equal(home('-u', '65534'), 'HOME=/nonexistent', 'nobody: its entry, as it is');
  t.equal(home('-u', '4242'), 'HOME=/', 'no entry: /');
  t.equal(home(), 'HOME=/root', 'root');
  t.equal(home('-u', '1000', '-e', 'HOME=/x'), 'HOME=/x', 'a HOME given with -e stays');
});
