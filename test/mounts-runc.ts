// Mounts as runc 1.1.5 makes them where a plain config does not show it: a read-only /dev or
// tmpfs (filled first, made read-only after), readonlyPaths over a tree of mounts, and bind
// sources only host root may reach with a user namespace (opened before the container's root,
// an unprivileged host uid, could be refused them).
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
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
