// Mounts as runc 1.1.5 makes them where a plain config does not show it: a read-only /dev or
// tmpfs (filled first, made read-only after), readonlyPaths over a tree of mounts, and bind
// sources only host root may reach with a user namespace (opened before the container's root,
// an unprivileged host uid, could be refused them).
import t from 'tap';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Harness, type Config } from './helpers/runtime.js';
import { mountAt, probe, readOf, statOf, type ProbeStat } from './helpers/probe.js';

const h = new Harness(t);
type Mount = NonNullable<Config['mounts']>[number];
const EROFS = { errno: 'EROFS' };
const writable = (s: ProbeStat): boolean => s.access === 'ok' && s.open === 'ok';

t.test('a read-only tmpfs /dev gets its devices and links first, as runc', async (t) => {
  // runc's mountPropagate mounts a tmpfs and /dev without MS_RDONLY and finalizeRootfs remounts
  // them read-only after the devices, the /dev symlinks and the console are made.
  const p = probe(h, t, {
    probeArgs: ['stat', '/dev', '/dev/null', '/dev/ptmx', '/dev/stdout', '/dev/shm'],
    edit: (c) => void c.mounts!.find((m) => m.destination === '/dev')!.options!.push('ro'),
  });
  t.match(statOf(p, '/dev'), { access: EROFS }, '/dev is read-only');
  t.match(statOf(p, '/dev/null'), { type: 'char', rdevMajor: 1, rdevMinor: 3 }, 'devices are made');
  t.match(statOf(p, '/dev/ptmx'), { type: 'symlink', link: 'pts/ptmx' }, '/dev/ptmx link');
  t.match(statOf(p, '/dev/stdout'), { type: 'symlink', link: '/proc/self/fd/1' }, 'stdio links');
  t.equal(mountAt(p, '/dev')?.options.split(',')[0], 'ro', '/dev mounted ro');
  t.ok(writable(statOf(p, '/dev/shm')), 'the mounts in it keep their flags: /dev/shm writable');
});

t.test('a read-only tmpfs with tmpcopyup is filled, then read-only', async (t) => {
  const mounts: Mount[] = [{ destination: '/ro-copy', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'tmpcopyup'] }];
  const p = probe(h, t, {
    probeArgs: ['stat', '/ro-copy', 'read', '/ro-copy/image.txt'],
    prepare: (rootfs) => {
      mkdirSync(join(rootfs, 'ro-copy'));
      writeFileSync(join(rootfs, 'ro-copy', 'image.txt'), 'from the image\n');
    },
    edit: (c) => void c.mounts!.push(...mounts),
  });
  t.equal(readOf(p, '/ro-copy/image.txt').content, 'from the image\n', 'the copy is there');
  t.match(statOf(p, '/ro-copy'), { access: EROFS }, 'and read-only');
  t.equal(mountAt(p, '/ro-copy')?.fstype, 'tmpfs');
});

t.test('readonlyPaths /dev: only /dev itself goes read-only, as runc', async (t) => {
  // runc's readonlyPath: a recursive bind of the path onto itself, remounted read-only at its top.
  const p = probe(h, t, {
    probeArgs: ['stat', '/dev', '/dev/shm'],
    edit: (c) => void c.linux!.readonlyPaths!.push('/dev'),
  });
  t.match(statOf(p, '/dev'), { access: EROFS, open: EROFS }, '/dev');
  t.ok(writable(statOf(p, '/dev/shm')), '/dev/shm stays writable');
  t.equal(mountAt(p, '/dev/shm')?.options.split(',')[0], 'rw');
});

t.test('user namespace: bind sources only host root may reach are bound', async (t) => {
  // runc (nsexec.c send_mountsources): the sources are opened by host root in the container's
  // mount namespace and passed to its init, so the mapped root (host uid 100000 here) need not
  // be able to search a 0700 root-owned directory on the way.
  const locked = h.path('locked');
  mkdirSync(join(locked, 'pub'), { recursive: true });
  writeFileSync(join(locked, 'pub', 'f.txt'), 'dir bound\n');
  writeFileSync(join(locked, 'file.txt'), 'file bound\n');
  chmodSync(join(locked, 'pub'), 0o755);
  chmodSync(join(locked, 'file.txt'), 0o644);
  chmodSync(locked, 0o700);
  const map = { containerID: 0, hostID: 100000, size: 65536 };
  const userns = (c: Config): void => {
    c.linux!.namespaces!.push({ type: 'user' });
    c.linux!.uidMappings = [map];
    c.linux!.gidMappings = [map];
    c.mounts = c.mounts!.filter((m) => m.destination !== '/sys/fs/cgroup');
  };
  // The mount points exist: the rootfs belongs to host root, and the mapped root may not make them.
  const points = (rootfs: string): void => {
    mkdirSync(join(rootfs, 'in'));
    writeFileSync(join(rootfs, 'one.txt'), '');
  };
  const p = probe(h, t, {
    probeArgs: ['read', '/in/f.txt', '/one.txt'],
    prepare: points,
    edit: (c) => {
      userns(c);
      c.mounts!.push({ destination: '/in', type: 'bind', source: join(locked, 'pub'), options: ['rbind', 'ro'] });
      c.mounts!.push({ destination: '/one.txt', type: 'bind', source: join(locked, 'file.txt'), options: ['bind'] });
    },
  });
  t.equal(readOf(p, '/in/f.txt').content, 'dir bound\n', 'a directory below it');
  t.equal(readOf(p, '/one.txt').content, 'file bound\n', 'a file in it');
  const id = h.id(t);
  const bundle = h.bundle({ args: ['true'], prepare: points, edit: (c) => {
    userns(c);
    c.mounts!.push({ destination: '/in', type: 'bind', source: join(locked, 'missing'), options: ['rbind'] });
  } });
  const r = h.tsrun(['run', '--bundle', bundle, id]);
  t.not(r.status, 0, 'a missing source fails');
  t.match(r.stderr, new RegExp(`bind source ${join(locked, 'missing')} for /in: No such file or directory`), 'naming it');
  t.equal(h.state(id), null, 'and leaves no container');
});
