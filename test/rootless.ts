// Rootless: tsrun run by an unprivileged user (runc's --rootless auto). The file creates a test
// user with /etc/subuid and /etc/subgid ranges and runs tsrun as that user through setpriv, with
// its own XDG_RUNTIME_DIR; the user, its ranges and its files are removed at the end, also when a
// test fails. Rootless Podman is test/e2e/rootless-podman.sh (run here when podman is installed).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { alive, cgroupDirsNamed } from './helpers/host.js';
import { containerEntries, Harness, TOP, type Config, type Result, type TestLike } from './helpers/runtime.js';

const USER = 'tsrun-rl';
const SUB_START = 1200000;
const SUB_COUNT = 65536;
const TSRUN = join(TOP, 'dist', 'tsrun.js');

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr || r.error}`);
  return r.stdout;
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Pids of every process owned by uid (zombies too unless told). */
function processesOfUid(uid: number, zombies = true): number[] {
  const out: number[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const status = readFileSync(`/proc/${n}/status`, 'utf8');
      const m = /^Uid:\s+(\d+)/m.exec(status);
      if (m && Number(m[1]) === uid && (zombies || !/^State:\s+Z/m.test(status))) out.push(Number(n));
    } catch {
      // gone
    }
  }
  return out;
}

function dropRanges(): void {
  for (const f of ['/etc/subuid', '/etc/subgid']) {
    if (!existsSync(f)) continue;
    const lines = readFileSync(f, 'utf8').split('\n').filter((l) => l && !l.startsWith(`${USER}:`));
    writeFileSync(f, lines.map((l) => `${l}\n`).join(''));
  }
}

/** Removes the test user and everything it owns here; safe when it does not exist. */
function removeUser(): void {
  const r = spawnSync('id', ['-u', USER], { encoding: 'utf8' });
  if (r.status === 0) {
    const uid = Number(r.stdout.trim());
    for (let i = 0; i < 3; i++) {
      const pids = processesOfUid(uid);
      if (!pids.length) break;
      for (const p of pids) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // gone
        }
      }
      sleep(200);
    }
    spawnSync('userdel', ['-r', USER], { encoding: 'utf8' });
  }
  dropRanges();
}

// ---- the test user -------------------------------------------------------------------------
removeUser(); // a killed earlier run's
// A fresh unique name for the home, which useradd -m then makes (owned by the user).
const home = mkdtempSync(join(tmpdir(), 'tsrun-rl-home-'));
t.teardown(() => {
  removeUser();
  rmSync(home, { recursive: true, force: true });
});
rmSync(home, { recursive: true, force: true });
sh('useradd', ['-m', '-d', home, '-s', '/bin/sh', USER]);
// Known ranges (useradd may add its own: replaced).
dropRanges();
for (const f of ['/etc/subuid', '/etc/subgid']) writeFileSync(f, `${USER}:${SUB_START}:${SUB_COUNT}\n`, { flag: 'a' });
const uid = Number(sh('id', ['-u', USER]).trim());
const gid = Number(sh('id', ['-g', USER]).trim());
const xdg = join(home, 'run');
mkdirSync(xdg, { mode: 0o700 });
chownSync(xdg, uid, gid);
const stateRoot = join(xdg, 'tsrun');

// The user runs the built checkout as it is (and its node_modules, wherever they are): every
// directory above them must be searchable by others. Made so for the test if not, then restored.
const searchable = new Set<string>();
for (const top of [TOP, realpathSync(join(TOP, 'node_modules'))]) for (let d = top; d !== '/'; d = dirname(d)) searchable.add(d);
for (const d of searchable) {
  const mode = statSync(d).mode;
  if (!(mode & 0o001)) {
    chmodSync(d, mode | 0o001);
    t.teardown(() => chmodSync(d, mode & 0o7777));
  }
}

const h = new Harness(t);

interface AsUserOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** cgroup.procs files root moves the process into before it becomes the user (a delegation). */
  cgroups?: string[];
  /** Run tsrun as root of a new user namespace of the user's (as rootless Podman does). */
  userNs?: boolean;
}

/** tsrun as the test user, default state root (no --root); output through files (a detached container keeps them). */
function tsrun(args: string[], o: AsUserOptions = {}): Result {
  const out = join(home, `out-${process.hrtime.bigint()}`);
  const outFd = openSync(out + '.1', 'w+');
  const errFd = openSync(out + '.2', 'w+');
  try {
    // (env -u: tap's process tracking puts a loader in NODE_OPTIONS that writes where the user cannot)
    const cmd = ['/usr/bin/setpriv', '--reuid', String(uid), '--regid', String(gid), '--init-groups', '/usr/bin/env', '-u', 'NODE_OPTIONS', ...(o.userNs ? ['/usr/bin/unshare', '--user', '--map-root-user'] : []), process.execPath, TSRUN, ...args];
    const enter = o.cgroups?.length ? ['/bin/sh', '-c', `for f in ${o.cgroups.join(' ')}; do echo $$ > "$f" || exit 1; done; exec "$0" "$@"`] : [];
    const r = spawnSync([...enter, ...cmd][0]!, [...enter, ...cmd].slice(1), {
      stdio: ['ignore', outFd, errFd],
      cwd: o.cwd ?? home,
      env: { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', HOME: home, USER, XDG_RUNTIME_DIR: xdg, ...o.env },
      timeout: 60_000,
      killSignal: 'SIGKILL',
    });
    if (r.error) throw r.error;
    return { status: r.status, signal: r.signal, stdout: readFileSync(out + '.1', 'utf8'), stderr: readFileSync(out + '.2', 'utf8') };
  } finally {
    closeSync(outFd);
    closeSync(errFd);
    rmSync(out + '.1', { force: true });
    rmSync(out + '.2', { force: true });
  }
}

function ok(args: string[], o: AsUserOptions = {}): Result {
  const r = tsrun(args, o);
  if (r.status !== 0) throw new Error(`tsrun ${args.join(' ')}: exit ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  return r;
}

let n = 0;
/** A container ID; when `t` ends it is force-deleted (as the user) and checked: no state dir, no cgroup. */
function id(tt: TestLike): string {
  const name = `rl-${process.pid}-${++n}`;
  tt.teardown(() => {
    const leaks: string[] = [];
    if (existsSync(join(stateRoot, name))) {
      const r = tsrun(['delete', '--force', name]);
      if (r.status !== 0) leaks.push(`delete --force ${name}: ${r.stderr.trim()}`);
      if (existsSync(join(stateRoot, name))) leaks.push(`state dir ${join(stateRoot, name)} remains`);
    }
    leaks.push(...cgroupDirsNamed([name]).map((d) => `cgroup ${d} remains`));
    if (leaks.length) throw new Error(`cleanup: ${leaks.join('; ')}`);
  });
  return name;
}

/** runc's rootless template written by `tsrun spec --rootless` as the user, in a bundle dir it owns, around a shared busybox rootfs. */
const rootfs = join(h.bundle(), 'rootfs');
function bundle(edit: (c: Config) => void = () => undefined): string {
  const dir = mkdtempSync(join(home, 'bundle-'));
  chownSync(dir, uid, gid);
  ok(['spec', '--rootless'], { cwd: dir });
  const file = join(dir, 'config.json');
  const c = JSON.parse(readFileSync(file, 'utf8')) as Config;
  c.root = { path: rootfs, readonly: true };
  c.process!.terminal = false;
  edit(c);
  writeFileSync(file, JSON.stringify(c, null, 2));
  return dir;
}

t.test('nothing is installed as root for the user: the build is world-readable, nothing setuid', async (t) => {
  for (const f of [TSRUN, join(TOP, 'build', 'Release', 'tsrun-init'), join(TOP, 'build', 'Release', 'tsrun_native.node')]) {
    const mode = statSync(f).mode;
    t.equal(mode & 0o6000, 0, `${f}: neither setuid nor setgid`);
    t.equal(mode & 0o005, 0o005, `${f}: others may read and run it`);
  }
  t.match(ok(['--version']).stdout, /^tsrun version /, 'the user runs tsrun from the checkout');
});

t.test('spec --rootless is runc\'s rootless template, with the caller\'s uid and gid', async (t) => {
  const dir = mkdtempSync(join(home, 'spec-'));
  chownSync(dir, uid, gid);
  ok(['spec', '--rootless'], { cwd: dir });
  const ours = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Config;
  t.same(ours.linux?.uidMappings, [{ containerID: 0, hostID: uid, size: 1 }], 'uid mapping: container root is the caller');
  t.same(ours.linux?.gidMappings, [{ containerID: 0, hostID: gid, size: 1 }], 'gid mapping: container root group is the caller\'s');
  t.notOk(ours.linux?.namespaces?.some((ns) => ns.type === 'network'), 'no network namespace');
  t.ok(ours.linux?.namespaces?.some((ns) => ns.type === 'user'), 'a user namespace');
  t.same(ours.mounts?.find((m) => m.destination === '/sys'), { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }, '/sys is an rbind of the host\'s');
  const runc = spawnSync('setpriv', ['--reuid', String(uid), '--regid', String(gid), '--init-groups', 'runc', 'spec', '--rootless', '-b', dir], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home } });
  if (runc.error || runc.status !== 0) {
    t.comment('runc is not installed: no side-by-side comparison');
    return;
  }
  rmSync(join(dir, 'config.json'));
  const r2 = spawnSync('setpriv', ['--reuid', String(uid), '--regid', String(gid), '--init-groups', 'runc', 'spec', '--rootless'], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home } });
  t.equal(r2.status, 0, 'runc spec --rootless as the user');
  const theirs = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Config;
  // The runtime's own name and the spec version it implements differ by design.
  for (const c of [ours, theirs]) {
    delete (c as { hostname?: string }).hostname;
    delete (c as { ociVersion?: string }).ociVersion;
  }
  for (const key of new Set([...Object.keys(ours), ...Object.keys(theirs)])) {
    t.same((ours as unknown as Record<string, unknown>)[key], (theirs as unknown as Record<string, unknown>)[key], `${key} is runc's`);
  }
});

t.test('run: the container\'s root is the caller; state under $XDG_RUNTIME_DIR/tsrun; devices bound; no cgroup', async (t) => {
  const name = id(t);
  const dir = bundle((c) => {
    c.process!.args = ['sh', '-c', 'id -u; cat /proc/self/uid_map; grep -c " /dev/null " /proc/self/mountinfo; stat -c %t:%T /dev/null'];
  });
  const r = tsrun(['--debug', 'run', name], { cwd: dir });
  t.equal(r.status, 0, `exit 0 (${r.stderr.trim().split('\n').filter((l) => !l.includes('level=debug')).join(' ')})`);
  const lines = r.stdout.trim().split('\n').map((l) => l.trim());
  t.equal(lines[0], '0', 'uid 0 in the container');
  t.same(lines[1]?.split(/\s+/), ['0', String(uid), '1'], 'uid_map: 0 -> the caller, size 1');
  t.equal(lines[2], '1', '/dev/null is a mount: the host node bound, not mknod (refused in a user namespace)');
  t.equal(lines[3], '1:3', '/dev/null is the host\'s 1:3');
  t.ok(existsSync(stateRoot), `the state root is ${stateRoot}`);
  t.notOk(existsSync(join(stateRoot, name)), 'run removed the container\'s state');
  t.match(r.stderr, /rootless: no cgroup in \/sys\/fs\/cgroup\/\S+: EACCES/, 'cgroups the user may not write are skipped, with a debug line');
  t.same(cgroupDirsNamed([name]), [], 'no cgroup made');
});

t.test('create, state, start, exec, kill, delete', async (t) => {
  const name = id(t);
  const dir = bundle((c) => {
    c.process!.args = ['sleep', '1000'];
  });
  ok(['create', name], { cwd: dir });
  const st = JSON.parse(ok(['state', name]).stdout) as { status: string; pid: number };
  t.equal(st.status, 'created', 'created');
  t.equal(Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${st.pid}/status`, 'utf8'))?.[1]), uid, 'pid 1 runs as the caller on the host');
  ok(['start', name]);
  t.equal((JSON.parse(ok(['state', name]).stdout) as { status: string }).status, 'running', 'running');
  t.match(ok(['list']).stdout, new RegExp(`${name}\\s+${st.pid}\\s+running\\s+\\S+\\s+\\S+\\s+${USER}\\b`), 'list shows the user as the owner');
  const e = ok(['exec', name, 'sh', '-c', 'echo in; cat /proc/1/cmdline | tr "\\0" " "; echo; id -G']);
  t.same(e.stdout.trim().split('\n').map((l) => l.trim()), ['in', 'sleep 1000', '0'], 'exec runs in the container, no additional groups (setgroups is denied)');
  ok(['kill', name, 'KILL']);
  let status = '';
  for (let i = 0; i < 200 && status !== 'stopped'; i++) {
    status = (JSON.parse(ok(['state', name]).stdout) as { status: string }).status;
    if (status !== 'stopped') sleep(50);
  }
  t.equal(status, 'stopped', 'stopped after KILL');
  ok(['delete', name]);
  t.notOk(existsSync(join(stateRoot, name)), 'delete removed the state dir');
  t.notOk(alive(st.pid), 'no process left');
});

t.test('the default state root: $XDG_RUNTIME_DIR/tsrun for euid != 0, or for root of a user namespace not named root', async (t) => {
  const name = id(t);
  ok(['create', name], { cwd: bundle((c) => (c.process!.args = ['sleep', '1000'])) });
  const listed = (o: AsUserOptions): boolean => tsrun(['list', '-q'], o).stdout.split('\n').includes(name);
  t.ok(listed({}), 'euid != 0, XDG_RUNTIME_DIR set: the container is listed from $XDG_RUNTIME_DIR/tsrun');
  t.ok(listed({ userNs: true }), 'euid 0 in a user namespace, USER not root: the same root');
  t.ok(listed({ userNs: true, env: { USER: '' } }), 'euid 0 in a user namespace, USER empty: the same root');
  t.notOk(listed({ userNs: true, env: { USER: 'root' } }), 'euid 0 in a user namespace, USER=root: /run/tsrun');
  t.notOk(listed({ env: { XDG_RUNTIME_DIR: '' } }), 'XDG_RUNTIME_DIR empty: /run/tsrun');
  t.ok(tsrun(['--root', stateRoot, 'list', '-q'], { env: { XDG_RUNTIME_DIR: '' } }).stdout.split('\n').includes(name), '--root wins');
  const asRoot = spawnSync(process.execPath, [TSRUN, 'list', '-q'], { encoding: 'utf8', env: { PATH: process.env.PATH, XDG_RUNTIME_DIR: xdg } });
  t.notOk(asRoot.stdout.split('\n').includes(name), 'root in the initial user namespace ignores XDG_RUNTIME_DIR');
  ok(['delete', '--force', name]);
});

t.test('sysfs as runc: mounted with a network namespace of the user\'s, EPERM without one (the template binds /sys)', async (t) => {
  const sysfs = (netns: boolean) => (c: Config): void => {
    c.mounts = c.mounts!.map((m) => (m.destination === '/sys' ? { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] } : m));
    if (netns) c.linux!.namespaces!.push({ type: 'network' });
    c.process!.args = ['sh', '-c', 'grep " /sys " /proc/self/mountinfo'];
  };
  const withNet = id(t);
  let r = tsrun(['run', withNet], { cwd: bundle(sysfs(true)) });
  t.equal(r.status, 0, `runs: ${r.stderr.trim()}`);
  t.match(r.stdout, / \/sys .* - sysfs /, '/sys is a sysfs of its own');
  const without = id(t);
  r = tsrun(['run', without], { cwd: bundle(sysfs(false)) });
  t.not(r.status, 0, 'no network namespace: the kernel refuses sysfs');
  t.match(r.stderr, /mount sysfs on \/sys.*Operation not permitted/, `named: ${r.stderr.trim()}`);
  t.notOk(existsSync(join(stateRoot, without)), 'no state dir left');
});

const subRange = (c: Config): void => {
  c.linux!.uidMappings = [{ containerID: 0, hostID: uid, size: 1 }, { containerID: 1, hostID: SUB_START, size: SUB_COUNT }];
  c.linux!.gidMappings = [{ containerID: 0, hostID: gid, size: 1 }, { containerID: 1, hostID: SUB_START, size: SUB_COUNT }];
};

t.test('several ranges are mapped through newuidmap/newgidmap', async (t) => {
  const name = id(t);
  const dir = bundle((c) => {
    subRange(c);
    c.process!.user = { uid: 1000, gid: 1000, additionalGids: [1001] };
    c.process!.args = ['sleep', '1000'];
  });
  ok(['create', name], { cwd: dir });
  const pid = (JSON.parse(ok(['state', name]).stdout) as { pid: number }).pid;
  ok(['start', name]);
  const maps = (f: string): string[][] => readFileSync(`/proc/${pid}/${f}`, 'utf8').trim().split('\n').map((l) => l.trim().split(/\s+/));
  t.same(maps('uid_map'), [['0', String(uid), '1'], ['1', String(SUB_START), String(SUB_COUNT)]], 'uid_map has both ranges');
  t.same(maps('gid_map'), [['0', String(gid), '1'], ['1', String(SUB_START), String(SUB_COUNT)]], 'gid_map has both ranges');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  // Waiting on the exec fifo is over: the process is the user's (sleep), as container uid 1000.
  t.match(status, new RegExp(`^Uid:\\s+${SUB_START + 999}\\s`, 'm'), 'container uid 1000 is host uid SUB_START+999');
  t.match(status, new RegExp(`^Groups:\\s+${SUB_START + 1000}\\s*$`, 'm'), 'additional gid 1001 applied (setgroups allowed with the helpers)');
  ok(['kill', name, 'KILL']);
  ok(['delete', '--force', name]);
});

t.test('without newuidmap in PATH, several ranges fail clearly and leave nothing', async (t) => {
  const name = id(t);
  const dir = bundle(subRange);
  const r = tsrun(['run', name], { cwd: dir, env: { PATH: '/nonexistent' } });
  t.not(r.status, 0, 'non-zero exit');
  t.match(r.stderr, /uid_map.*(Operation not permitted|permission denied)/i, `the error names uid_map and EPERM: ${r.stderr.trim()}`);
  t.notOk(existsSync(join(stateRoot, name)), 'no state dir left');
});

t.test('a rootless config without a user namespace is refused (runc\'s words)', async (t) => {
  const name = id(t);
  const dir = bundle((c) => {
    c.linux!.namespaces = c.linux!.namespaces!.filter((ns) => ns.type !== 'user');
    delete c.linux!.uidMappings;
    delete c.linux!.gidMappings;
  });
  const r = tsrun(['run', name], { cwd: dir });
  t.not(r.status, 0, 'non-zero exit');
  t.match(r.stderr, /rootless container requires user namespaces/, 'runc\'s error');
  t.notOk(existsSync(join(stateRoot, name)), 'no state dir left');
});

t.test('cgroups without permission: skipped unless limits or a cgroupsPath were asked for', async (t) => {
  const withLimit = id(t);
  let r = tsrun(['run', withLimit], { cwd: bundle((c) => (c.linux!.resources = { memory: { limit: 64 * 1024 * 1024 } })) });
  t.not(r.status, 0, 'a memory limit that cannot be applied fails the create');
  t.match(r.stderr, /linux\.resources\.memory\.limit: cannot set memory limit: container could not join or create cgroup/, `runc's reason: ${r.stderr.trim()}`);
  t.notOk(existsSync(join(stateRoot, withLimit)), 'no state dir left');

  const withPath = id(t);
  r = tsrun(['run', withPath], { cwd: bundle((c) => (c.linux!.cgroupsPath = `/${withPath}`)) });
  t.not(r.status, 0, 'an explicit cgroupsPath that cannot be made fails (as runc)');
  t.match(r.stderr, /create cgroup .*EACCES/, `permission error named: ${r.stderr.trim()}`);
  t.notOk(existsSync(join(stateRoot, withPath)), 'no state dir left');

  const forced = id(t);
  r = tsrun(['--rootless', 'false', 'run', forced], { cwd: bundle() });
  t.not(r.status, 0, '--rootless false: a cgroup permission error is an error');
  t.match(r.stderr, /EACCES/, 'the permission error is reported');
  t.same(cgroupDirsNamed([withLimit, withPath, forced]), [], 'no cgroup left');
});

t.test('delegated cgroups are used: limits applied, the process joins', async (t) => {
  // Root delegates one subtree per hierarchy to the user (chown of the dir and its
  // cgroup.procs/tasks, as a systemd delegation would): an explicit cgroupsPath under it.
  const name = id(t);
  const base = `tsrun-rl-${process.pid}`;
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => / - cgroup2? /.test(l)).map((l) => l.split(' ')[4]!);
  const delegated: string[] = [];
  t.teardown(() => {
    for (const d of delegated) {
      try {
        for (const sub of readdirSync(d, { withFileTypes: true })) if (sub.isDirectory()) spawnSync('rmdir', [join(d, sub.name)]);
      } catch {
        // already gone
      }
      spawnSync('rmdir', [d]);
    }
  });
  for (const m of [...new Set(mounts)]) {
    const d = join(m, base);
    mkdirSync(d);
    delegated.push(d);
    for (const f of ['cpuset.cpus', 'cpuset.mems']) {
      if (existsSync(join(d, f))) writeFileSync(join(d, f), readFileSync(join(m, f), 'utf8').trim());
    }
    for (const f of ['', 'cgroup.procs', 'tasks', 'cgroup.subtree_control']) if (existsSync(join(d, f))) chownSync(join(d, f), uid, gid);
  }
  const dir = bundle((c) => {
    c.linux!.cgroupsPath = `/${base}/${name}`;
    c.linux!.resources = { memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 50 } };
    c.process!.args = ['sleep', '1000'];
  });
  // On cgroup v2 a move needs write access to the common ancestor's cgroup.procs: the user's
  // processes start inside its delegated v2 subtree, as a systemd delegation puts them.
  const v2procs = delegated.filter((d) => existsSync(join(d, 'cgroup.subtree_control'))).map((d) => join(d, 'cgroup.procs'));
  const r = tsrun(['create', name], { cwd: dir, cgroups: v2procs });
  t.equal(r.status, 0, `create with delegated cgroups: ${r.stderr.trim()}`);
  if (r.status !== 0) return;
  const pid = (JSON.parse(ok(['state', name]).stdout) as { pid: number }).pid;
  const memDir = delegated.find((d) => d.includes('/memory/'));
  if (memDir) {
    t.equal(readFileSync(join(memDir, name, 'memory.limit_in_bytes'), 'utf8').trim(), String(64 * 1024 * 1024), 'memory limit written');
    t.ok(readFileSync(join(memDir, name, 'cgroup.procs'), 'utf8').split('\n').includes(String(pid)), 'pid 1 joined the memory cgroup');
  }
  const pidsDir = delegated.find((d) => d.includes('/pids/'));
  if (pidsDir) t.equal(readFileSync(join(pidsDir, name, 'pids.max'), 'utf8').trim(), '50', 'pids limit written');
  ok(['delete', '--force', name], { cgroups: v2procs });
  t.same(delegated.filter((d) => existsSync(join(d, name))), [], 'delete removed the container\'s cgroups');
});

const noPodman = spawnSync('podman', ['--version']).status !== 0 || spawnSync('conmon', ['--version']).status !== 0;
const podmanSkip = process.env.TSRUN_SKIP_ROOTLESS_PODMAN === '1' ? 'TSRUN_SKIP_ROOTLESS_PODMAN=1' : noPodman ? 'podman or conmon is not installed (test/e2e/setup.sh)' : false;
t.test('rootless Podman (test/e2e/rootless-podman.sh)', { timeout: 900_000, skip: podmanSkip }, async (t) => {
  const r = spawnSync('bash', [join(TOP, 'test', 'e2e', 'rootless-podman.sh')], { encoding: 'utf8', env: { ...process.env, RUNTIMES: 'tsrun' }, timeout: 800_000 });
  const lines = r.stdout.split('\n');
  for (const l of lines.filter((x) => /^(not )?ok - /.test(x))) t.ok(l.startsWith('ok'), l.replace(/^(not )?ok - /, 'podman: '));
  t.equal(r.status, 0, `rootless-podman.sh exit 0${r.status ? `: ${r.stderr.slice(-2000)}${lines.filter((l) => l.startsWith('    #')).join('\n')}` : ''}`);
  t.ok(lines.some((l) => /^rootless-podman: \d+ passed, 0 failed$/.test(l)), 'summary line: nothing failed');
});

t.test('nothing left by the user', async (t) => {
  // '@' entries are the root's caches (seccomp programs, compiled code), no container's.
  t.same(existsSync(stateRoot) ? containerEntries(stateRoot) : [], [], 'no container state left in the root');
  // Zombies excepted: this machine's pid 1 does not reap the orphans (a container's pid 1
  // after its tsrun-init parent exited); a real caller is a subreaper and reaps them.
  t.same(processesOfUid(uid, false), [], 'no process of the user left');
});
