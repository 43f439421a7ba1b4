// What Podman and crun-style callers send that the spec text alone would not admit
// (runc and crun accept each): tmpcopyup, whole-st_mode device fileModes, a pids object without
// a limit, --cgroup-manager.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { containerEntries, Harness, TSRUN } from './helpers/runtime.js';
import { cgroupDirsNamed } from './helpers/host.js';

const h = new Harness(t);

t.test('tmpcopyup: the tmpfs starts with the image\'s files (Podman --read-only)', async (t) => {
  const id = h.id(t);
  const bundle = h.bundle({
    args: ['sh', '-c', 'cat /etc/passwd | head -1; grep " /etc " /proc/self/mountinfo; echo new > /etc/new && echo writable'],
    edit: (c) => {
      c.root!.readonly = true;
      c.mounts!.push({ destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['rw', 'nosuid', 'nodev', 'tmpcopyup'] });
    },
  });
  const r = h.tsrun(['run', '--bundle', bundle, id]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^root:/m, 'the copied passwd is there');
  t.match(r.stdout, / \/etc .* - tmpfs /, '/etc is the tmpfs');
  t.match(r.stdout, /writable/, 'writable on a read-only rootfs');
  t.notOk(existsSync(`${bundle}/rootfs/etc/new`), 'nothing reached the image');
  const bad = h.bundle({ edit: (c) => void c.mounts!.push({ destination: '/mnt', type: 'bind', source: '/tmp', options: ['rbind', 'tmpcopyup'] }) });
  const b = h.tsrun(['create', '--bundle', bad, h.id(t)]);
  t.not(b.status, 0, 'tmpcopyup on a bind is refused');
  t.match(b.stderr, /mounts\[\d+\]\.options: tmpcopyup/);
});

t.test('a device fileMode holding its file type bits is taken for its permission bits', async (t) => {
  // Podman sends 8630 (0o20666) for a char device; the schema says 0..511.
  const id = h.id(t);
  const bundle = h.bundle({
    args: ['sh', '-c', 'ls -l /dev/myzero'],
    edit: (c) => void (c.linux!.devices = [{ path: '/dev/myzero', type: 'c', major: 1, minor: 5, fileMode: 0o20640 }]),
  });
  const r = h.tsrun(['run', '--bundle', bundle, id]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^crw-r-----/, 'mode 0640 on a char device');
  const wrong = h.bundle({ edit: (c) => void (c.linux!.devices = [{ path: '/dev/x', type: 'c', major: 1, minor: 5, fileMode: 0o60640 }]) });
  const w = h.tsrun(['create', '--bundle', wrong, h.id(t)]);
  t.not(w.status, 0, 'block-device type bits on a char device are still refused');
  t.match(w.stderr, /linux\.devices\.0\.fileMode/);
});

t.test('a pids object without a limit sets none, at create and at update -r - (stdin)', async (t) => {
  // config-linux.md#pids: limit is OPTIONAL (the schema requires it); runc and crun take
  // "pids": {}, and runc's update reads it as "no change".
  const id = h.id(t);
  const bundle = h.bundle({ args: ['sleep', '100'], edit: (c) => void (c.linux!.resources = { ...c.linux!.resources, pids: {} }) });
  h.ok(['run', '-d', '--bundle', bundle, id]);
  const dir = cgroupDirsNamed([id]).find((d) => d.split('/').includes('pids'));
  const max = (): string => readFileSync(join(dir!, 'pids.max'), 'utf8').trim();
  t.ok(dir, 'the container has a pids cgroup');
  t.equal(max(), 'max', 'no limit at create');
  h.ok(['update', '--pids-limit', '40', id]);
  // Podman passes `update -r -` the resources on stdin: read once, whole
  const update = (json: string) => spawnSync(TSRUN, ['--root', h.root, 'update', '-r', '-', id], { input: json, encoding: 'utf8', env: { PATH: process.env.PATH } });
  const keep = update('{"pids": {}}');
  t.equal(keep.status, 0, keep.stderr);
  t.equal(max(), '40', 'update with no pids limit leaves the one set');
  const set = update('{"pids": {"limit": 50}}');
  t.equal(set.status, 0, set.stderr);
  t.equal(max(), '50', 'a limit on stdin is applied');
});

t.test('--cgroup-manager disabled makes no cgroup; systemd on a host without it is refused clearly', async (t) => {
  const id = h.id(t);
  const bundle = h.bundle({ args: ['sleep', '100'] });
  h.ok(['--cgroup-manager', 'disabled', 'run', '-d', '--bundle', bundle, id]);
  t.same(cgroupDirsNamed([id]), [], 'no cgroup dir named after the container');
  h.ok(['kill', '--all', id, 'KILL']);
  t.equal(h.waitStatus(id, 'stopped'), 'stopped', 'kill --all reaches pid 1 without a cgroup');
  h.ok(['delete', id]);
  const s = h.tsrun(['--cgroup-manager', 'systemd', 'create', '--bundle', bundle, h.id(t)]);
  t.not(s.status, 0);
  t.match(s.stderr, /systemd support for managing cgroups is not available: this host was not booted with systemd/);
  const x = h.tsrun(['--cgroup-manager', 'bogus', 'list']);
  t.not(x.status, 0);
  t.match(x.stderr, /invalid cgroup manager: bogus/);
  t.ok(containerEntries(h.root).length === 0, 'no state left');
});

t.test('--log FILE --log-format json: the error is a JSON line in the file', async (t) => {
  // containerd and conmon read the last error line of this file to report a failed create.
  const id = h.id(t);
  const log = h.path(`${id}.log.json`);
  const r = h.tsrun(['--log', log, '--log-format', 'json', 'create', '--bundle', h.bundle({ args: ['no-such-program'] }), id]);
  t.not(r.status, 0);
  const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string; time: string });
  const last = lines[lines.length - 1]!;
  t.equal(last.level, 'error');
  t.match(last.msg, /"no-such-program": executable file not found/, 'the message names the program');
  t.match(last.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'RFC 3339 time');
  t.match(r.stderr, /no-such-program/, 'and stderr says it too');
  const gone = h.tsrun(['--log', log, '--log-format', 'json', 'state', 'no-such-container']);
  t.not(gone.status, 0);
  t.match(readFileSync(log, 'utf8'), /does not exist/, 'Podman and containerd look for "does not exist"');
});
