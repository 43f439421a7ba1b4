// Escapes through symlinks during setup (CVE-2021-30465, CVE-2025-31133/52565/52881 class) and
// the default masked/read-only /proc paths, tried from a hostile bundle, from a second party
// racing the setup (a test-only pause step makes the race exact: test/helpers/pause.ts), and from
// inside the container. Each attack must leave the host untouched: a canary dir or file keeps
// its contents and gets no mount, and the container either fails cleanly or has the mount inside
// its rootfs. The file ends with the counts (attacks tried / refused) for the README.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Harness, type Config } from './helpers/runtime.js';
import { cgroupDirsNamed, mountsUnder } from './helpers/host.js';
import { pauseAt } from './helpers/pause.js';
import { probe, readOf, statOf } from './helpers/probe.js';
import { receiver } from './helpers/recvtty.js';

type Mount = NonNullable<Config['mounts']>[number];

const h = new Harness(t);
let tried = 0;
let refused = 0;

/** A host dir with one file in it: what an escape would reach. */
function canary(name: string): { dir: string; file: string; intact(): boolean } {
  const dir = h.path(name);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'canary.txt');
  writeFileSync(file, `${name} untouched\n`);
  const intact = (): boolean =>
    JSON.stringify(readdirSync(dir)) === JSON.stringify(['canary.txt']) && readFileSync(file, 'utf8') === `${name} untouched\n` && mountsUnder(dir).length === 0;
  return { dir, file, intact };
}

/** Counts one attack; it is refused when the host is untouched and `held` (the container's side) holds. */
function attack(t: { ok(v: unknown, m: string): unknown }, what: string, hostIntact: boolean, held: boolean): void {
  tried++;
  t.ok(hostIntact, `${what}: the host is untouched`);
  t.ok(held, `${what}: the container failed cleanly or kept the mount inside its rootfs`);
  if (hostIntact && held) refused++;
}

/** Mount points of a container's pid 1, as it sees them. */
function containerMounts(pid: number): string[] {
  return readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ')[4]!.replace(/\\040/g, ' '));
}

/** create failed and left nothing: no state entry, no cgroup. */
function leftNothing(id: string): boolean {
  return h.state(id) === null && cgroupDirsNamed([id]).length === 0;
}

/** A host dir holding data.txt, and a bundle binding it read-only at /mnt/vol (a dir of the
 * rootfs) after a tmpfs at /mnt/other: the target of the destination-swap races. */
function roVolBundle(name: string, args: string[]): { src: string; bundle: string; rootfs: string; intact(): boolean } {
  const src = h.path(name);
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'data.txt'), 'read-only data\n');
  const bundle = h.bundle({
    args,
    prepare: (r) => void mkdirSync(join(r, 'mnt', 'vol'), { recursive: true }),
    edit: (cfg) =>
      void cfg.mounts!.push(
        { destination: '/mnt/other', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
        { destination: '/mnt/vol', type: 'bind', source: src, options: ['rbind', 'ro'] },
      ),
  });
  return { src, bundle, rootfs: join(bundle, 'rootfs'), intact: () => readFileSync(join(src, 'data.txt'), 'utf8') === 'read-only data\n' };
}

const dropNs = (c: Config, type: string): void => void (c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== type));

/** A bundle's prepare step: symlinks at these paths of the rootfs (parents made) to host paths. */
const symlinksTo = (links: [at: string, target: string][]) => (rootfs: string): void => {
  for (const [at, target] of links) {
    mkdirSync(dirname(join(rootfs, at)), { recursive: true });
    symlinkSync(target, join(rootfs, at));
  }
};

t.test('a mount destination that is a symlink to a host dir (no mount namespace: mounts are made in the host\'s)', async (t) => {
  const c = canary('dest-canary');
  const id = h.id(t);
  const bundle = h.bundle({
    args: ['sleep', '1000'],
    prepare: symlinksTo([['mnt/evil', c.dir]]),
    edit: (cfg) => {
      dropNs(cfg, 'mount');
      cfg.mounts = [{ destination: '/mnt/evil', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }];
    },
  });
  const rootfs = join(bundle, 'rootfs');
  h.ok(['create', '--bundle', bundle, id]);
  const inside = mountsUnder(join(rootfs, c.dir));
  attack(t, 'tmpfs on /mnt/evil -> host dir', c.intact(), inside.length === 1);
  h.ok(['delete', '--force', id]);
  t.same(mountsUnder(rootfs), [], 'delete unmounted it');
});

t.test('a bind destination that is a symlink to a host dir, with a mount namespace', async (t) => {
  const c = canary('bind-canary');
  const src = h.path('bind-src');
  mkdirSync(src, { recursive: true });
  const id = h.id(t);
  const bundle = h.bundle({
    args: ['sleep', '1000'],
    prepare: symlinksTo([['mnt/evil', c.dir]]),
    edit: (cfg) => void cfg.mounts!.push({ destination: '/mnt/evil', type: 'bind', source: src, options: ['rbind'] }),
  });
  h.ok(['create', '--bundle', bundle, id]);
  const pid = h.state(id)!.pid;
  // The symlink is followed inside the rootfs: the bind is at <rootfs>/<host dir's path>.
  attack(t, 'bind on /mnt/evil -> host dir', c.intact(), containerMounts(pid).includes(c.dir));
});

t.test('/proc and /sys as symlinks out of the rootfs are refused, as runc does', async (t) => {
  for (const dir of ['proc', 'sys']) {
    const c = canary(`${dir}-canary`);
    const id = h.id(t);
    const bundle = h.bundle({
      args: ['true'],
      prepare: (r) => {
        rmSync(join(r, dir), { recursive: true, force: true });
        symlinkSync(c.dir, join(r, dir));
      },
    });
    const r = h.tsrun(['create', '--bundle', bundle, id]);
    t.not(r.status, 0, `create fails with /${dir} a symlink`);
    const type = dir === 'proc' ? 'proc' : 'sysfs';
    t.match(r.stderr, new RegExp(`filesystem \\\\?"${type}\\\\?" must be mounted on ordinary directory`), r.stderr.trim());
    attack(t, `/${dir} -> host dir`, c.intact(), leftNothing(id));
  }
});

t.test('mounts over /proc or inside it are refused but for the lxcfs files, as runc\'s checkProcMount', async (t) => {
  // A volume over /proc/sys would make the kernel's settings writable; one over /proc/self/attr
  // defeats LSM labels (CVE-2019-16884).
  const data = h.path('proc-src');
  mkdirSync(data, { recursive: true });
  const meminfo = h.path('meminfo');
  writeFileSync(meminfo, 'MemTotal: 42 kB\n');
  const cases: [Mount, RegExp][] = [
    [{ destination: '/proc/sys', type: 'bind', source: data, options: ['rbind'] }, /\/proc\/sys\\?" cannot be mounted because it is inside \/proc/],
    [{ destination: '/proc/self/attr', type: 'tmpfs', source: 'tmpfs' }, /cannot be mounted because it is inside \/proc/],
    [{ destination: '/proc/./sys/', type: 'bind', source: data, options: ['rbind'] }, /cannot be mounted because it is inside \/proc/],
    [{ destination: '/proc', type: 'tmpfs', source: 'tmpfs' }, /"?\/proc\\?" cannot be mounted because it is not of type proc/],
  ];
  for (const [m, want] of cases) {
    const id = h.id(t);
    const r = h.tsrun(['create', '--bundle', h.bundle({ args: ['true'], edit: (c) => void c.mounts!.push(m) }), id]);
    t.not(r.status, 0, `${m.type} on ${m.destination} is refused`);
    t.match(r.stderr, want, r.stderr.trim());
    attack(t, `${m.type} on ${m.destination}`, true, r.status !== 0 && leftNothing(id));
  }
  const p = probe(h, t, { probeArgs: ['read', '/proc/meminfo'], edit: (c) => void c.mounts!.push({ destination: '/proc/meminfo', type: 'bind', source: meminfo, options: ['bind'] }) });
  t.equal(readOf(p, '/proc/meminfo').content, 'MemTotal: 42 kB\n', 'a bind on /proc/meminfo (lxcfs) is allowed');
});

t.test('device nodes whose path leads out of the rootfs through a symlink', async (t) => {
  // config-linux.md#devices: a parent dir that is a symlink to a host dir, and a device path
  // that is itself a symlink to a host file.
  const c = canary('dev-canary');
  const id = h.id(t);
  const bundle = h.bundle({
    args: ['sleep', '1000'],
    prepare: symlinksTo([['opt/evil', c.dir], ['opt/node', c.file]]),
    edit: (cfg) => void (cfg.linux!.devices = [
      { path: '/opt/evil/null0', type: 'c', major: 1, minor: 3 },
      { path: '/opt/node', type: 'c', major: 1, minor: 5 },
    ]),
  });
  const rootfs = join(bundle, 'rootfs');
  h.ok(['create', '--bundle', bundle, id]);
  const isChar = (p: string): boolean => {
    try {
      return lstatSync(p).isCharacterDevice();
    } catch {
      return false;
    }
  };
  attack(t, 'device under /opt/evil -> host dir', c.intact(), isChar(join(rootfs, c.dir, 'null0')));
  attack(t, 'device at /opt/node -> host file', c.intact(), isChar(join(rootfs, 'opt', 'node')));
});

t.test('in a user namespace, a device record naming a host file is not bound into the container', async (t) => {
  // config-linux.md#devices: where mknod is refused (a user namespace) the host's node at the
  // same path is bound; a record whose path is a host file, or leads to one through "..", must
  // not bring that file in.
  const c = canary('userns-dev-canary');
  const map = { containerID: 0, hostID: 100000, size: 65536 };
  for (const path of [c.file, `/dev/..${c.file}`]) {
    const id = h.id(t);
    const bundle = h.bundle({
      args: ['true'],
      prepare: (rootfs) => void execFileSync('chown', ['-R', '-h', '100000:100000', rootfs]),
      edit: (cfg) => {
        cfg.linux!.namespaces!.push({ type: 'user' });
        cfg.linux!.uidMappings = [map];
        cfg.linux!.gidMappings = [map];
        cfg.mounts = cfg.mounts!.filter((m) => m.destination !== '/sys/fs/cgroup');
        cfg.linux!.devices = [{ path, type: 'c', major: 1, minor: 3 }];
      },
    });
    const r = h.tsrun(['create', '--bundle', bundle, id]);
    t.not(r.status, 0, `create with a device at ${path} fails`);
    t.match(r.stderr, /is not the device c 1:3: it cannot be bound/, r.stderr.trim());
    attack(t, `userns device record at ${path}`, c.intact(), r.status !== 0 && leftNothing(id));
  }
});

t.test('a mount destination swapped for a symlink after it was resolved (CVE-2021-30465)', async (t) => {
  // A second party sharing the rootfs (a container with it as a volume) renames the directory
  // away and puts a symlink in its place between the check and the mount. The read-only bind
  // must stay read-only wherever the mount ends up, and nothing must land outside.
  const c = canary('race-canary');
  for (const target of ['/mnt/other', c.dir]) {
    const id = h.id(t);
    const { bundle, rootfs, intact } = roVolBundle(`ro-src-${id}`, ['sleep', '1000']);
    const p = await pauseAt(h, id, ['create', '--bundle', bundle, id], 'mount:/mnt/vol');
    renameSync(join(rootfs, 'mnt', 'vol'), join(rootfs, 'mnt', 'vol.old'));
    symlinkSync(target, join(rootfs, 'mnt', 'vol'));
    p.resume();
    const { status, stderr } = await p.exited;
    let held = status !== 0 && leftNothing(id);
    if (status === 0) {
      const pid = h.state(id)!.pid;
      let write = 'ok';
      try {
        writeFileSync(`/proc/${pid}/root/mnt/vol.old/data.txt`, 'overwritten\n');
      } catch (e) {
        write = (e as NodeJS.ErrnoException).code ?? 'error';
      }
      t.equal(write, 'EROFS', 'the bind is read-only where it landed');
      held = write === 'EROFS' && containerMounts(pid).includes('/mnt/vol.old');
    } else {
      t.comment(`create refused: ${stderr.trim()}`);
    }
    attack(t, `ro bind, /mnt/vol swapped for a symlink to ${target}`, c.intact() && intact(), held);
  }
});

t.test('a second container swapping the mount destination in a loop while containers are created', async (t) => {
  // CVE-2021-30465 as reported: container B has A's rootfs dir as a volume and flips /mnt/vol
  // between the directory and a symlink to a tmpfs mount point while A is created again and
  // again with a read-only bind there. Each A must fail cleanly or get its bind read-only:
  // its process tries to write through both names, and the source must stay unchanged.
  const { bundle: a, rootfs, intact } = roVolBundle('loop-src', ['sh', '-c', 'echo x > /mnt/vol/data.txt; echo x > /mnt/tmp/data.txt; true']);
  const b = h.id(t);
  const flip = 'cd /vol; while :; do mv vol tmp; ln -s /mnt/other vol; rm vol; mv tmp vol; done 2>/dev/null';
  h.ok(['run', '-d', '--bundle', h.bundle({ args: ['sh', '-c', flip], edit: (cfg) => void cfg.mounts!.push({ destination: '/vol', type: 'bind', source: join(rootfs, 'mnt'), options: ['rbind'] }) }), b]);
  let ok = 0;
  let failed = 0;
  for (let i = 0; i < 10; i++) {
    const id = h.id(t);
    const r = h.tsrun(['run', '--bundle', a, id]);
    if (r.status === 0) ok++;
    else failed++;
    attack(t, `create ${i + 1} against the flipping container`, intact(), r.status === 0 || leftNothing(id));
  }
  t.comment(`second-container race: ${ok} created, ${failed} refused`);
  h.ok(['delete', '--force', b]);
});

t.test('/dev/null as a symlink when masking (CVE-2025-31133): bundled, and swapped in during setup', async (t) => {
  // The masked file would become a bind of whatever /dev/null points to: here a host file bound
  // read-write into the container, standing for a procfs file such as core_pattern.
  const c = canary('null-canary');
  const mask = (cfg: Config): void => void cfg.linux!.maskedPaths!.push('/masked.txt');
  const canaryMount = { destination: '/canary.txt', type: 'bind', source: c.file, options: ['bind'] };
  const prepare = (r: string): void => writeFileSync(join(r, 'masked.txt'), 'secret\n');

  // Bundled: /dev comes from a host dir (so no node is made there) holding null -> /canary.txt.
  const devdir = h.path('devdir');
  mkdirSync(devdir, { recursive: true });
  symlinkSync('/canary.txt', join(devdir, 'null'));
  const id = h.id(t);
  const bundle = h.bundle({
    args: ['true'],
    prepare,
    edit: (cfg) => {
      cfg.mounts = cfg.mounts!.filter((m) => !m.destination.startsWith('/dev'));
      cfg.mounts.push({ destination: '/dev', type: 'bind', source: devdir, options: ['rbind'] }, canaryMount);
      mask(cfg);
    },
  });
  const r = h.tsrun(['create', '--bundle', bundle, id]);
  t.not(r.status, 0, 'create fails');
  t.match(r.stderr, /\/dev\/null is not the null device/, r.stderr.trim());
  attack(t, 'bundled /dev/null -> a writable file', c.intact(), leftNothing(id));

  // Raced: the container's /dev/null replaced (through /proc/PID/root) just before masking.
  const id2 = h.id(t);
  const bundle2 = h.bundle({ args: ['true'], prepare, edit: (cfg) => void (cfg.mounts!.push(canaryMount), mask(cfg)) });
  const p = await pauseAt(h, id2, ['create', '--bundle', bundle2, id2], 'masked');
  unlinkSync(`/proc/${p.pid}/root/dev/null`);
  symlinkSync('/canary.txt', `/proc/${p.pid}/root/dev/null`);
  p.resume();
  const e = await p.exited;
  t.not(e.status, 0, 'create fails');
  t.match(e.stderr, /\/dev\/null is not the null device/, e.stderr.trim());
  attack(t, '/dev/null swapped for a symlink before masking', c.intact(), leftNothing(id2));
});

t.test('/dev/console as a symlink to a host file, and swapped during setup (CVE-2025-52565)', async (t) => {
  // process.terminal with --console-socket: the pty is bound on /dev/console itself.
  const c = canary('console-canary');
  const noDevTmpfs = (cfg: Config): void => {
    cfg.process!.terminal = true;
    cfg.mounts = cfg.mounts!.filter((m) => m.destination !== '/dev');
  };
  const id = h.id(t);
  const sock = h.path(`${id}.sock`);
  const rx = receiver(sock);
  const bundle = h.bundle({
    args: ['sh', '-c', 'ls -l /dev/console'],
    prepare: (r) => {
      mkdirSync(join(r, 'dev', 'pts'), { recursive: true });
      symlinksTo([['dev/console', c.file]])(r);
    },
    edit: noDevTmpfs,
  });
  h.ok(['create', '--console-socket', sock, '--bundle', bundle, id]);
  h.ok(['start', id]);
  const out = await rx.done;
  t.match(out, /^c.* \/dev\/console/m, `/dev/console is the pty, not a symlink: ${out.trim()}`);
  attack(t, 'bundled /dev/console -> host file', c.intact(), /^c/m.test(out));

  // Raced: renamed away and replaced by a symlink after it was checked, before the bind.
  const id2 = h.id(t);
  const sock2 = h.path(`${id2}.sock`);
  const rx2 = receiver(sock2);
  const bundle2 = h.bundle({
    args: ['sleep', '1000'],
    prepare: (r) => {
      mkdirSync(join(r, 'dev', 'pts'), { recursive: true });
    },
    edit: noDevTmpfs,
  });
  const rootfs = join(bundle2, 'rootfs');
  const p = await pauseAt(h, id2, ['create', '--console-socket', sock2, '--bundle', bundle2, id2], 'console');
  renameSync(join(rootfs, 'dev', 'console'), join(rootfs, 'dev', 'console.old'));
  symlinkSync(c.file, join(rootfs, 'dev', 'console'));
  p.resume();
  const e = await p.exited;
  t.equal(e.status, 0, `create: ${e.stderr.trim()}`);
  const pid = h.state(id2)?.pid ?? 0;
  attack(t, '/dev/console swapped for a symlink before the bind', c.intact(), pid > 0 && containerMounts(pid).includes('/dev/console.old'));
  h.ok(['delete', '--force', id2]);
  await rx2.done.catch(() => undefined);
});

t.test('a /dev/pts/ptmx that is not devpts\'s is refused', async (t) => {
  // Without a devpts mount, a node the image put at /dev/pts/ptmx would be opened as the pty
  // multiplexer whatever device it names (here /dev/null's 1:3).
  const id = h.id(t);
  const sock = h.path(`${id}.sock`);
  const rx = receiver(sock);
  const bundle = h.bundle({
    args: ['true'],
    prepare: (r) => {
      mkdirSync(join(r, 'dev', 'pts'), { recursive: true });
      execFileSync('mknod', [join(r, 'dev', 'pts', 'ptmx'), 'c', '1', '3']);
    },
    edit: (cfg) => {
      cfg.process!.terminal = true;
      cfg.mounts = cfg.mounts!.filter((m) => !m.destination.startsWith('/dev'));
    },
  });
  const r = h.tsrun(['create', '--console-socket', sock, '--bundle', bundle, id]);
  t.not(r.status, 0, 'create fails');
  t.match(r.stderr, /not on a devpts filesystem/, r.stderr.trim());
  attack(t, 'a ptmx node of the image', true, leftNothing(id));
  await rx.done.catch(() => undefined);
});

t.test('from inside: /proc/sys and /proc/sysrq-trigger are read-only, /proc/kcore and co. read empty', async (t) => {
  // config-linux.md#masked-paths and #readonly-paths with `tsrun spec`'s defaults (runc's).
  const exists = (p: string): boolean => {
    try {
      lstatSync(p);
      return true;
    } catch {
      return false;
    }
  };
  const ro = ['/proc/sys/kernel/core_pattern', '/proc/sys/kernel/modprobe', '/proc/sys/vm/drop_caches', '/proc/sysrq-trigger'].filter(exists);
  const masked = ['/proc/kcore', '/proc/keys', '/proc/timer_list'].filter(exists);
  const p = probe(h, t, { probeArgs: ['stat', ...ro, '/sys/firmware', 'read', ...masked] });
  for (const path of ro) {
    const s = statOf(p, path);
    const held = typeof s.open === 'object' && s.open?.errno === 'EROFS';
    tried++;
    t.ok(held, `${path} cannot be opened for writing: ${JSON.stringify(s)}`);
    if (held) refused++;
  }
  for (const path of masked) {
    const r = readOf(p, path);
    const held = r.content === '' || r.error !== undefined;
    tried++;
    t.ok(held, `${path} reads nothing: ${JSON.stringify(r).slice(0, 200)}`);
    if (held) refused++;
  }
  const fw = statOf(p, '/sys/firmware');
  t.ok(fw.type === 'dir', '/sys/firmware is there (masked by an empty tmpfs)');
});

t.test('figures', async (t) => {
  t.comment(`attacks: ${tried} tried, ${refused} refused`);
  t.equal(refused, tried, 'every attack was refused');
});
