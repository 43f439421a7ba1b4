// Mounts, devices, masked and read-only paths, root.readonly, --no-pivot (config.md#mounts,
// config.md#root, config-linux.md#devices, #masked-paths, #readonly-paths, runtime-linux.md).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mountsUnder } from './helpers/host.js';
import { Harness, type Config } from './helpers/runtime.js';
import { mountAt, probe, readOf, statOf, type ProbeStat } from './helpers/probe.js';

const h = new Harness(t);
type Mount = NonNullable<Config['mounts']>[number];

function must(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error}`);
}

/** A tmpfs mounted on the host under the test's temp dir, unmounted when `t` ends. */
function hostTmpfs(t: { teardown(fn: () => unknown): void }, name: string, ...extra: string[]): string {
  const dir = h.path(name);
  mkdirSync(dir, { recursive: true });
  must('mount', ['-t', 'tmpfs', 'tmpfs', dir]);
  t.teardown(() => must('umount', ['-l', dir]));
  for (const flag of extra) must('mount', [flag, dir]);
  return dir;
}

const EROFS = { errno: 'EROFS' };
const writable = (s: ProbeStat): boolean => s.access === 'ok' && s.open === 'ok';

t.test('tmpfs, bind (dir and file), read-only bind', async (t) => {
  // config.md#mounts: destination, type, source, options (mount(2) flags and fs data); a
  // missing destination is created; bind mounts of a dir and of a file.
  const data = h.path('data');
  mkdirSync(data, { recursive: true });
  writeFileSync(join(data, 'hello.txt'), 'hello from the host\n');
  const file = h.path('single-file.txt');
  writeFileSync(file, 'one file\n');
  const mounts: Mount[] = [
    { destination: '/mnt/tmpfs', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'mode=1770', 'size=1m'] },
    { destination: '/mnt/dir', type: 'bind', source: data, options: ['rbind'] },
    { destination: '/etc/bound.txt', type: 'bind', source: file, options: ['bind'] },
    { destination: '/mnt/ro', type: 'bind', source: data, options: ['bind', 'ro'] },
  ];
  const p = probe(h, t, {
    probeArgs: ['stat', '/mnt/tmpfs', '/mnt/dir/hello.txt', '/mnt/ro/hello.txt', '/mnt/ro', 'read', '/mnt/dir/hello.txt', '/etc/bound.txt', '/mnt/ro/hello.txt'],
    edit: (c) => void c.mounts!.push(...mounts),
  });
  const tmpfs = mountAt(p, '/mnt/tmpfs');
  t.match(tmpfs, { fstype: 'tmpfs' }, 'tmpfs mounted');
  for (const o of ['nosuid', 'nodev', 'noexec']) t.ok(tmpfs?.options.split(',').includes(o), `tmpfs has ${o}`);
  t.ok(tmpfs?.superOptions?.split(',').includes('size=1024k'), `tmpfs size=1m (super options ${tmpfs?.superOptions})`);
  t.match(statOf(p, '/mnt/tmpfs'), { type: 'dir', mode: 0o1770 }, 'tmpfs mode=1770');

  t.equal(readOf(p, '/mnt/dir/hello.txt').content, 'hello from the host\n', 'bind dir');
  t.ok(writable(statOf(p, '/mnt/dir/hello.txt')), 'a rw bind is writable');
  t.equal(readOf(p, '/etc/bound.txt').content, 'one file\n', 'bind file');

  t.equal(readOf(p, '/mnt/ro/hello.txt').content, 'hello from the host\n', 'ro bind is readable');
  t.match(statOf(p, '/mnt/ro/hello.txt'), { access: EROFS, open: EROFS }, 'ro bind: file not writable');
  t.match(statOf(p, '/mnt/ro'), { access: EROFS, open: EROFS }, 'ro bind: dir not writable');
  t.equal(mountAt(p, '/mnt/ro')?.options.split(',')[0], 'ro', 'ro bind is mounted ro');
  t.equal(mountAt(p, '/mnt/dir')?.options.split(',')[0], 'rw', 'the rw bind of the same dir stays rw');
});

t.test('bind mount propagation', async (t) => {
  // config.md#mounts options rshared / rslave / rprivate: the propagation of the bind mount, as
  // /proc/self/mountinfo's optional fields show it (shared:N, master:N, none).
  const src = hostTmpfs(t, 'prop-src', '--make-shared');
  const p = probe(h, t, {
    edit: (c) =>
      void c.mounts!.push(
        { destination: '/mnt/shared', type: 'bind', source: src, options: ['rbind', 'rshared'] },
        { destination: '/mnt/slave', type: 'bind', source: src, options: ['rbind', 'rslave'] },
        { destination: '/mnt/private', type: 'bind', source: src, options: ['rbind', 'rprivate'] },
      ),
  });
  const opt = (m: string): string[] => mountAt(p, m)?.optional ?? ['(not mounted)'];
  t.ok(opt('/mnt/shared').some((o) => o.startsWith('shared:')), `rshared: ${opt('/mnt/shared')}`);
  t.ok(opt('/mnt/slave').some((o) => o.startsWith('master:')), `rslave has a master: ${opt('/mnt/slave')}`);
  t.notOk(opt('/mnt/slave').some((o) => o.startsWith('shared:')), 'rslave is not shared');
  t.same(opt('/mnt/private'), [], 'rprivate: no propagation');
});

t.test('rro makes the submounts read-only too (mount_setattr)', async (t) => {
  // config.md#mounts: rro "Recursive ro" (MOUNT_ATTR_RDONLY with AT_RECURSIVE).
  const top = hostTmpfs(t, 'rro-src');
  mkdirSync(join(top, 'sub'));
  must('mount', ['-t', 'tmpfs', 'tmpfs', join(top, 'sub')]);
  t.teardown(() => must('umount', ['-l', join(top, 'sub')]));
  const p = probe(h, t, {
    probeArgs: ['stat', '/mnt/rro', '/mnt/rro/sub'],
    edit: (c) => void c.mounts!.push({ destination: '/mnt/rro', type: 'bind', source: top, options: ['rbind', 'rro'] }),
  });
  t.match(statOf(p, '/mnt/rro'), { access: EROFS, open: EROFS }, 'top is read-only');
  t.match(statOf(p, '/mnt/rro/sub'), { access: EROFS, open: EROFS }, 'the submount is read-only');
  t.equal(mountAt(p, '/mnt/rro/sub')?.options.split(',')[0], 'ro', 'submount mounted ro');
});

t.test('default devices, configured devices and /dev symlinks', async (t) => {
  // config-linux.md#default-devices (null zero full random urandom tty, ptmx), config-linux.md#devices,
  // runtime-linux.md#dev-symbolic-links.
  const defaults: [string, number, number][] = [
    ['/dev/null', 1, 3], ['/dev/zero', 1, 5], ['/dev/full', 1, 7], ['/dev/random', 1, 8], ['/dev/urandom', 1, 9], ['/dev/tty', 5, 0],
  ];
  const links: [string, string][] = [['/dev/fd', '/proc/self/fd'], ['/dev/stdin', '/proc/self/fd/0'], ['/dev/stdout', '/proc/self/fd/1'], ['/dev/stderr', '/proc/self/fd/2']];
  const p = probe(h, t, {
    probeArgs: ['stat', ...defaults.map((d) => d[0]), ...links.map((l) => l[0]), '/dev/ptmx', '/dev/custom-null', '/dev/fifo0'],
    edit: (c) => {
      c.linux!.devices = [
        { path: '/dev/custom-null', type: 'c', major: 1, minor: 3, fileMode: 0o600, uid: 0, gid: 5 },
        { path: '/dev/fifo0', type: 'p', fileMode: 0o640, uid: 1000, gid: 1000 },
      ];
    },
  });
  for (const [path, major, minor] of defaults) t.match(statOf(p, path), { type: 'char', rdevMajor: major, rdevMinor: minor }, path);
  for (const [path, target] of links) t.match(statOf(p, path), { type: 'symlink', link: target }, `${path} -> ${target}`);
  const ptmx = statOf(p, '/dev/ptmx');
  t.ok((ptmx.type === 'symlink' && ptmx.link === 'pts/ptmx') || (ptmx.type === 'char' && ptmx.rdevMajor === 5 && ptmx.rdevMinor === 2), `/dev/ptmx is pts/ptmx: ${JSON.stringify(ptmx)}`);
  t.match(statOf(p, '/dev/custom-null'), { type: 'char', rdevMajor: 1, rdevMinor: 3, mode: 0o600, uid: 0, gid: 5 }, 'configured char device');
  t.match(statOf(p, '/dev/fifo0'), { type: 'fifo', mode: 0o640, uid: 1000, gid: 1000 }, 'configured fifo');
});

t.test('masked paths cannot be read', async (t) => {
  // config-linux.md#masked-paths: "mask over the provided paths inside the container so that
  // they cannot be read". A dir and a file of the rootfs, a default /proc one, a missing one.
  const kcore = existsSync('/proc/kcore');
  const p = probe(h, t, {
    probeArgs: ['read', '/masked-dir/secret.txt', '/masked-file.txt', '/visible.txt', 'stat', ...(kcore ? ['/proc/kcore'] : [])],
    prepare: (rootfs) => {
      mkdirSync(join(rootfs, 'masked-dir'));
      writeFileSync(join(rootfs, 'masked-dir', 'secret.txt'), 'secret\n');
      writeFileSync(join(rootfs, 'masked-file.txt'), 'secret\n');
      writeFileSync(join(rootfs, 'visible.txt'), 'visible\n');
    },
    edit: (c) => void c.linux!.maskedPaths!.push('/masked-dir', '/masked-file.txt', '/no/such/path'),
  });
  const hidden = (path: string): boolean => {
    const r = readOf(p, path);
    return r.content === '' || r.error !== undefined;
  };
  t.ok(hidden('/masked-dir/secret.txt'), `masked dir: ${JSON.stringify(readOf(p, '/masked-dir/secret.txt'))}`);
  t.ok(hidden('/masked-file.txt'), `masked file: ${JSON.stringify(readOf(p, '/masked-file.txt'))}`);
  // Unmasked, /proc/kcore is a huge regular file (and unreadable without CAP_SYS_RAWIO anyway).
  if (kcore) {
    const k = statOf(p, '/proc/kcore');
    t.ok(k.type !== 'file' || k.size === 0, `/proc/kcore (default maskedPaths) is empty or not a file: ${JSON.stringify(k)}`);
  }
  t.equal(readOf(p, '/visible.txt').content, 'visible\n', 'a path not listed is readable');
});

t.test('readonly paths are not writable', async (t) => {
  // config-linux.md#readonly-paths: "set the provided paths as readonly inside the container".
  const p = probe(h, t, {
    probeArgs: ['stat', '/ro-dir', '/ro-dir/f.txt', '/proc/sys/kernel/hostname', '/tmp'],
    prepare: (rootfs) => {
      mkdirSync(join(rootfs, 'ro-dir'));
      writeFileSync(join(rootfs, 'ro-dir', 'f.txt'), 'x\n');
    },
    edit: (c) => void c.linux!.readonlyPaths!.push('/ro-dir', '/no/such/path'),
  });
  t.match(statOf(p, '/ro-dir'), { access: EROFS, open: EROFS }, 'dir');
  t.match(statOf(p, '/ro-dir/f.txt'), { access: EROFS, open: EROFS }, 'file in it');
  t.match(statOf(p, '/proc/sys/kernel/hostname'), { access: EROFS, open: EROFS }, '/proc/sys (default readonlyPaths)');
  t.ok(writable(statOf(p, '/tmp')), 'a path not listed stays writable');
});

t.test('root.readonly', async (t) => {
  // config.md#root: readonly true makes the root filesystem read-only inside the container;
  // mounts on top of it (/dev tmpfs) keep their own mode.
  const p = probe(h, t, { probeArgs: ['stat', '/', '/tmp', '/dev'], edit: (c) => void (c.root!.readonly = true) });
  t.match(statOf(p, '/'), { access: EROFS, open: EROFS }, '/');
  t.match(statOf(p, '/tmp'), { access: EROFS, open: EROFS }, '/tmp (part of the rootfs)');
  t.equal(mountAt(p, '/')?.options.split(',')[0], 'ro', '/ mounted ro');
  t.ok(writable(statOf(p, '/dev')), '/dev (a tmpfs) stays writable');
});

t.test('--no-pivot', async (t) => {
  // runc's --no-pivot: the rootfs is entered with MS_MOVE + chroot instead of pivot_root; the
  // container must still see only its rootfs.
  const p = probe(h, t, { flags: ['--no-pivot'], probeArgs: ['stat', h.tmp, '/bin/probe'] });
  t.equal(p.cwd, '/');
  t.match(statOf(p, h.tmp), { error: { errno: 'ENOENT' } }, "the host's paths are not reachable");
  t.match(statOf(p, '/bin/probe'), { type: 'file' });
});

for (const userns of [false, true]) {
  t.test(`--no-pivot${userns ? ' in a user namespace' : ''}: no new proc or sysfs can be mounted past the masked paths`, async (t) => {
    // The kernel mounts a new proc or sysfs for a user namespace only while a fully visible one
    // is in the mount namespace (mount_too_revealing). MS_MOVE + chroot keeps the host's there,
    // so runc's msMoveRoot detaches them first (in a user namespace they are locked: it covers
    // them with a tmpfs). Under runc 1.1.5 --no-pivot, both mounts below fail "permission
    // denied" and the container's masked /proc/timer_list stays empty.
    // CAP_SETFCAP: since Linux 5.12 `unshare -r` (uid 0 mapped) needs it.
    const script = [
      'echo masked=$(wc -c < /proc/timer_list) firmware=$(ls /sys/firmware | wc -l) pid1=$(grep -c ^Pid: /proc/1/status)',
      'unshare -mrpfn sh -c \'mount -t proc none /proc 2>&1; echo proc=$?; echo inner=$(wc -c < /proc/timer_list); ' +
        'mount -t sysfs none /sys 2>&1; echo sysfs=$?; echo innerfw=$(ls /sys/firmware | wc -l)\'',
    ].join('; ');
    const map = { containerID: 0, hostID: 100000, size: 65536 };
    const bundle = h.bundle({
      args: ['sh', '-c', script],
      edit: (c) => {
        const caps = c.process!.capabilities!;
        for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...(caps[set] ?? []), 'CAP_SETFCAP'];
        if (!userns) return;
        c.linux!.namespaces!.push({ type: 'user' });
        c.linux!.uidMappings = [map];
        c.linux!.gidMappings = [map];
        // cgroup v1 cannot be mounted from a user namespace
        c.mounts = c.mounts!.filter((m) => m.destination !== '/sys/fs/cgroup');
      },
    });
    const r = h.tsrun(['run', '--no-pivot', '--bundle', bundle, h.id(t)]);
    t.equal(r.status, 0, r.stderr);
    const out = r.stdout;
    t.match(out, /^masked=0 firmware=0 pid1=1$/m, "the container's /proc works and its masked paths are masked");
    t.match(out, /permission denied[^]*^proc=[1-9]/m, 'mounting a new proc fails with EPERM');
    t.match(out, /^inner=0$/m, 'the masked path stays masked');
    t.match(out, /permission denied[^]*^sysfs=[1-9]/m, 'mounting a new sysfs fails with EPERM');
    t.match(out, /^innerfw=0$/m, '/sys/firmware stays masked');
    // The detach happened in the container's namespace only.
    t.ok(mountsUnder('/proc').includes('/proc') && mountsUnder('/sys').includes('/sys'), "the host's /proc and /sys are still mounted");
    t.ok(readFileSync('/proc/timer_list').length > 0, "the host's /proc/timer_list is readable");
  });
}
