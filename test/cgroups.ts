// cgroups on this host's v1 (hybrid) hierarchies: config-linux.md#control-groups and runc's
// update, events and ps. Limits are written here but this host does not enforce all of them,
// so these tests read the files back; test/cgroup2/tier.sh shows enforcement on cgroup v2.
import t from 'tap';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { Harness, TSRUN } from './helpers/runtime.js';
import { cgroupDirsNamed } from './helpers/host.js';
import { COLD, WARM, startServer } from './helpers/server.js';

const h = new Harness(t);

function cgFile(id: string, controller: string, file: string): string {
  const dir = cgroupDirsNamed([id]).find((d) => d.split('/')[4] === controller || d.split('/')[4]?.split(',').includes(controller));
  if (!dir) throw new Error(`no ${controller} cgroup for ${id}`);
  return readFileSync(`${dir}/${file}`, 'utf8').trim();
}

t.test('resources at create, then update -r and flags (v1)', async (t) => {
  const id = h.id(t);
  const bundle = h.bundle({
    args: ['sleep', '1000'],
    edit: (c) => void (c.linux!.resources = { ...c.linux!.resources, memory: { limit: 67108864 }, pids: { limit: 40 }, cpu: { shares: 512, quota: 20000, period: 100000 } }),
  });
  h.ok(['run', '-d', '--bundle', bundle, id]);
  t.equal(cgFile(id, 'memory', 'memory.limit_in_bytes'), '67108864');
  t.equal(cgFile(id, 'pids', 'pids.max'), '40');
  t.equal(cgFile(id, 'cpu', 'cpu.shares'), '512');
  t.equal(cgFile(id, 'cpu', 'cpu.cfs_quota_us'), '20000');
  const res = h.path(`${id}-res.json`);
  // What Podman passes to `update --resources`.
  execFileSync('sh', ['-c', `echo '{"memory":{"limit":134217728},"cpu":{"quota":50000,"period":100000}}' > ${res}`]);
  h.ok(['update', '--resources', res, id]);
  t.equal(cgFile(id, 'memory', 'memory.limit_in_bytes'), '134217728', 'update -r memory');
  t.equal(cgFile(id, 'cpu', 'cpu.cfs_quota_us'), '50000', 'update -r cpu quota');
  h.ok(['update', '--pids-limit', '77', '--memory', '96m', '--cpu-share', '256', id]);
  t.equal(cgFile(id, 'pids', 'pids.max'), '77');
  t.equal(cgFile(id, 'memory', 'memory.limit_in_bytes'), String(96 * 1024 * 1024));
  t.equal(cgFile(id, 'cpu', 'cpu.shares'), '256');
  const bad = h.tsrun(['update', '--memory', 'lots', id]);
  t.not(bad.status, 0);
  t.match(bad.stderr, /--memory: not a size/);
});

t.test('events --stats and ps', async (t) => {
  const id = h.id(t);
  h.ok(['run', '-d', '--bundle', h.bundle({ args: ['sh', '-c', 'sleep 1000 & sleep 1000 & wait'] }), id]);
  let pids: number[] = [];
  for (let i = 0; i < 100 && pids.length < 3; i++) {
    pids = JSON.parse(h.ok(['ps', '--format', 'json', id]).stdout) as number[];
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
  t.equal(pids.length, 3, 'ps --format json: sh and two sleeps');
  t.ok(pids.includes(h.state(id)!.pid), 'pid 1 is listed');
  const ev = JSON.parse(h.ok(['events', '--stats', id]).stdout) as { type: string; id: string; data: { pids: { current: number }; memory: { usage: { usage: number } }; cpu: { usage: { total: number } } } };
  t.equal(ev.type, 'stats');
  t.equal(ev.id, id);
  t.equal(ev.data.pids.current, 3, 'sh and two sleeps');
  t.ok(ev.data.memory.usage.usage > 0, 'memory usage');
  t.ok(ev.data.cpu.usage.total > 0, 'cpu usage');
  const table = h.ok(['ps', id]).stdout.split('\n');
  t.match(table[0], /PID/, 'ps(1) header');
  t.equal(table.filter((l) => / sleep 1000$/.test(l)).length, 2, 'the two sleeps');
  t.equal(table.filter(Boolean).length, 4, 'the header and the container\'s three processes only');
});

t.test('events stops once nobody reads it, with the status runc dies with (SIGPIPE: 141), warm and cold', async (t) => {
  startServer(h);
  const id = h.id(t);
  h.ok(['run', '-d', '--bundle', h.bundle({ args: ['sleep', '1000'] }), id]);
  for (const [mode, env] of [
    ['warm', WARM],
    ['cold', COLD],
  ] as const) {
    const r = spawnSync('bash', ['--norc', '-c', '"$0" --root "$1" events --interval 100ms "$2" | head -1; echo "status ${PIPESTATUS[0]}"', TSRUN, h.root, id], {
      env: { PATH: process.env.PATH, ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
    t.match(r.stdout, /^\{"type":"stats","id":/, `${mode}: the first stats line reached head`);
    t.match(r.stdout, /\nstatus 141\n$/, `${mode}: then events ended at its next write: ${JSON.stringify(r.stdout.slice(-40))} ${r.stderr.slice(-200)}`);
  }
});

t.test('bad resources name the field and leave nothing', async (t) => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['negative memory limit', { memory: { limit: -5 } }, /linux\.resources\.memory\.limit/],
    ['device rule with a bad type', { devices: [{ allow: true, type: 'x', access: 'rwm' }] }, /linux\.resources\.devices\[0\]\.type/],
    ['device rule with a negative major other than -1', { devices: [{ allow: true, type: 'c', major: -5, minor: 1, access: 'rwm' }] }, /linux\.resources\.devices\[0\]\.major/],
    // runc 1.1.5 refuses it too: v1 would silently keep the access ("cannot punch hole in existing wildcard rule")
    ['a deny inside an allowed wildcard', { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 11, access: 'w' }] }, /linux\.resources\.devices\[2\]: deny c 1:11 w would punch a hole in the allowed wildcard c 1:\* rwm/],
    ['unified map on a v1 host', { unified: { 'memory.high': '1000000' } }, /linux\.resources\.unified/],
    ['bad unified key', { unified: { '../x': '1' } }, /linux\.resources\.unified/],
  ];
  for (const [name, res, re] of cases) {
    const id = h.id(t);
    const r = h.tsrun(['create', '--bundle', h.bundle({ edit: (c) => void (c.linux!.resources = res) }), id]);
    t.not(r.status, 0, name);
    t.match(r.stderr, re, `${name}: names the field`);
    t.equal(h.state(id), null, `${name}: no container`);
    t.same(cgroupDirsNamed([id]), [], `${name}: no cgroup`);
  }
});

t.test('device rule access as runc 1.1.5 reads it: the set of r, w, m in it (v1 devices.list)', async (t) => {
  // runc's devices emulator keeps the r, w and m of an access string and drops other letters
  // and repeats: "rwa" allows read and write. Docker's --device-cgroup-rule lets "rrw" through.
  const id = h.id(t);
  const bundle = h.bundle({
    args: ['sleep', '1000'],
    edit: (c) => void c.linux!.resources!.devices!.push(
      { allow: true, type: 'c', major: 1, minor: 11, access: 'rwa' },
      { allow: true, type: 'c', major: 1, minor: 12, access: 'mrr' },
    ),
  });
  h.ok(['create', '--bundle', bundle, id]);
  const list = cgFile(id, 'devices', 'devices.list').split('\n');
  t.ok(list.includes('c 1:11 rw'), `"rwa" is rw: ${list.join(', ')}`);
  t.ok(list.includes('c 1:12 rm'), '"mrr" is rm');
});

t.test('no cgroupsPath: the cgroup goes where runc 1.1.5 puts it, below the caller\'s own cgroup', async (t) => {
  // runc's specconv makes Name=<id>, Parent="" of an empty cgroupsPath: a relative path, which
  // its cgroupfs driver takes from the runtime's own cgroup in each v1 hierarchy (fs/paths.go,
  // not pid 1's: on a systemd host that is /init.scope, which holds a process), from the parent
  // of its own cgroup on pure v2 (fs2/defaultpath.go), and from the root of a hybrid host's
  // controller-less v2 tree. tsrun runs here from a cgroup of its own in every hierarchy.
  const id = h.id(t);
  const caller = h.id(t); // named like a container, so a killed run's leftover is swept
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => / - cgroup2? /.test(l));
  const want = new Map<string, string>(); // the /proc/PID/cgroup key (controllers, or "" for v2) -> its path
  const made: string[] = [];
  const procs: string[] = [];
  for (const line of mounts) {
    const [fstype, , opts] = line.split(' - ')[1]!.split(' ');
    const mountpoint = line.split(' ')[4]!;
    if (fstype === 'cgroup2') {
      if (mountpoint !== '/sys/fs/cgroup') { want.set('', `/${id}`); continue; } // hybrid: from its root
      made.push(`${mountpoint}/${caller}`, `${mountpoint}/${caller}/leaf`);
      procs.push(`${mountpoint}/${caller}/leaf/cgroup.procs`);
      want.set('', `/${caller}/${id}`);
      continue;
    }
    const key = opts!.split(',').filter((o) => !['rw', 'ro', 'relatime', 'noatime', 'nosuid', 'nodev', 'noexec', 'clone_children', 'xattr', 'noprefix', 'cpuset_v2_mode'].includes(o) && !o.startsWith('release_agent=')).sort().join(',');
    if (want.has(key)) continue; // the same hierarchy mounted twice
    made.push(`${mountpoint}/${caller}`);
    procs.push(`${mountpoint}/${caller}/cgroup.procs`);
    want.set(key, `/${caller}/${id}`);
  }
  const bundle = h.bundle({ args: ['sleep', '1000'], edit: (c) => void (c.linux!.resources = { ...c.linux!.resources, memory: { limit: 67108864 } }) });
  try {
    for (const d of made) {
      mkdirSync(d);
      // a new v1 cpuset cgroup has no cpus or mems, and nothing joins it until it has
      for (const f of ['cpuset.cpus', 'cpuset.mems']) if (existsSync(`${d}/${f}`)) writeFileSync(`${d}/${f}`, readFileSync(`${dirname(d)}/${f}`));
    }
    const err = h.path(`${id}.err`);
    const fd = openSync(err, 'w');
    const r = spawnSync('sh', ['-c', 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 99; shift; done; shift; exec "$@"', 'sh', ...procs, '--', TSRUN, '--root', h.root, 'create', '--bundle', bundle, id], { stdio: ['ignore', 'ignore', fd], env: { PATH: process.env.PATH } });
    closeSync(fd);
    t.equal(r.status, 0, `create from the caller's cgroups: ${readFileSync(err, 'utf8')}`);
    const pid = h.state(id)!.pid;
    const got = new Map<string, string>();
    for (const l of readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n')) {
      const [, ctrls, path] = /^\d+:([^:]*):(.*)$/.exec(l)!;
      got.set(ctrls!.split(',').sort().join(','), path!);
    }
    t.same(Object.fromEntries(got), Object.fromEntries(want), 'pid 1\'s cgroups: the caller\'s own, then the ID');
    t.equal(cgFile(id, 'memory', 'memory.limit_in_bytes'), '67108864', 'the memory limit is applied there');
    h.ok(['delete', '--force', id]);
    t.same(cgroupDirsNamed([id]), [], 'delete removes them');
  } finally {
    h.tsrun(['delete', '--force', id]);
    for (const d of made.reverse()) if (existsSync(d)) rmdirSync(d);
  }
});
