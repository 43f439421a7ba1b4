// Cgroup cases runc 1.1.5 handles that a plain create/delete does not reach: a cgroupsPath that
// exists already (frozen, or holding processes), sub-cgroups made in the container's cgroup,
// `exec --cgroup`, and cfs period/quota changes the kernel takes only in one order. v1 here
// (this host's controllers are real v1 ones); test/cgroup2/tier.sh has the v2 side.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Harness } from './helpers/runtime.js';
import { alive, cgroupDirsNamed, cgroupMounts } from './helpers/host.js';
import { COLD, startServer, WARM } from './helpers/server.js';

const h = new Harness(t);

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Host cgroup dirs of `rel` (a path below each hierarchy's root), one per hierarchy. */
function dirsOf(rel: string): string[] {
  return cgroupMounts().map((m) => join(m, rel));
}

/** mkdir of a cgroup; a new v1 cpuset one gets its parent's cpus and mems so tasks may join. */
function mkCgroup(dir: string): void {
  if (existsSync(dir)) return;
  mkCgroup(join(dir, '..'));
  mkdirSync(dir);
  for (const f of ['cpuset.cpus', 'cpuset.mems']) {
    const file = join(dir, f);
    if (existsSync(file) && readFileSync(file, 'utf8').trim() === '') writeFileSync(file, readFileSync(join(dir, '..', f), 'utf8'));
  }
}

/** Thaws, kills what runs in it and removes a cgroup dir with everything below it. */
function rmCgroup(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rmCgroup(join(dir, e.name));
  try {
    writeFileSync(join(dir, 'freezer.state'), 'THAWED');
  } catch {
    // not the freezer hierarchy
  }
  for (const p of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
    try {
      process.kill(Number(p), 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (let i = 0; i < 200 && existsSync(dir); i++) {
    try {
      rmdirSync(dir);
    } catch {
      sleep(10);
    }
  }
}

/** A cgroup name of this test run outside the containers' ids (which cleanup checks for leaks). */
function hostCgroup(t: Test, tag: string): string {
  const name = `tsrun-test-${tag}-${process.pid}`;
  t.teardown(() => dirsOf(name).forEach(rmCgroup));
  return name;
}

function procs(dir: string): number[] {
  return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
}

t.test('a frozen cgroup named by cgroupsPath is refused at once, and left as it was', async (t) => {
  // runc (libcontainer/factory_linux.go): "container's cgroup unexpectedly frozen"; joining it
  // would stop pid 1 before it reports ready, and create would wait for ever.
  const name = hostCgroup(t, 'frozen');
  const freezer = cgroupMounts().find((m) => existsSync(join(m, 'freezer.state')) || m.endsWith('/freezer'))!;
  mkdirSync(join(freezer, name));
  writeFileSync(join(freezer, name, 'freezer.state'), 'FROZEN');
  for (const [what, path] of [['the cgroup itself', `/${name}`], ['a cgroup to be made in it', `/${name}/inner`]]) {
    const id = h.id(t);
    const bundle = h.bundle({ edit: (c) => void (c.linux!.cgroupsPath = path) });
    const started = Date.now();
    const r = h.tsrun(['create', '--bundle', bundle, id]);
    t.not(r.status, 0, `${what}: create fails`);
    t.ok(Date.now() - started < 10000, `${what}: without waiting (${Date.now() - started} ms)`);
    t.match(r.stderr, /linux\.cgroupsPath: container's cgroup unexpectedly frozen: \/sys\/fs\/cgroup\/freezer\//, `${what}: runc's words and the path`);
    t.equal(h.state(id), null, `${what}: no container`);
    t.same(dirsOf(name).filter((d) => existsSync(d)), [join(freezer, name)], `${what}: no cgroup made, the frozen one kept`);
    t.equal(readFileSync(join(freezer, name, 'freezer.state'), 'utf8').trim(), 'FROZEN', `${what}: still frozen`);
  }
});

t.test('a cgroupsPath that holds processes: runc\'s warning, and the container runs', async (t) => {
  // runc 1.1 (factory_linux.go): a warning, not an error ("won't be supported in runc 1.2").
  const name = hostCgroup(t, 'busy');
  const other = spawn('sleep', ['1000'], { stdio: 'ignore', detached: true });
  other.unref();
  t.teardown(() => void other.kill('SIGKILL'));
  for (const d of dirsOf(name)) {
    mkCgroup(d);
    writeFileSync(join(d, 'cgroup.procs'), String(other.pid));
  }
  const id = h.id(t);
  const r = h.tsrun(['run', '-d', '--bundle', h.bundle({ args: ['sleep', '1000'], edit: (c) => void (c.linux!.cgroupsPath = `/${name}`) }), id]);
  t.equal(r.status, 0, `run succeeds: ${r.stderr}`);
  t.match(r.stderr, /level=warning msg="container's cgroup is not empty: 1 process\(es\) found"/);
  t.equal(h.state(id)?.status, 'running');
  // Not runc's: it kills pid 1 only, then fails to remove the cgroup and leaves both behind.
  h.ok(['delete', '--force', id]);
  t.notOk(alive(other.pid!), 'delete kills every process of the cgroup, the one that was there before too');
  t.same(dirsOf(name).filter((d) => existsSync(d)), [], 'and removes the cgroup');
});

for (const [side, env] of [['through the server', WARM], ['cold', COLD]] as const) {
  t.test(`delete --force with sub-cgroups made in the container's cgroup (${side})`, async (t) => {
    if (env === WARM) startServer(h);
    // runc's RemovePath removes sub-cgroups depth-first; its ps and signalAllProcesses read the
    // pids of the whole subtree (GetAllPids). Without a pid namespace, a process moved into a
    // sub-cgroup does not die with pid 1: delete must find it there too.
    const id = h.id(t);
    const bundle = h.bundle({
      args: ['sh', '-c', 'sleep 1000 & wait'],
      edit: (c) => void (c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'pid')),
    });
    h.ok(['run', '-d', '--bundle', bundle, id]);
    const dirs = cgroupDirsNamed([id]);
    const pid1 = h.state(id)!.pid;
    let child = 0;
    for (let i = 0; i < 200 && !child; i++, sleep(20)) child = procs(dirs[0]!).find((p) => p !== pid1) ?? 0;
    t.ok(child, 'the container\'s sleep runs');
    for (const d of dirs) {
      mkCgroup(join(d, 'sub', 'deeper'));
      mkCgroup(join(d, 'empty'));
      writeFileSync(join(d, 'sub', 'deeper', 'cgroup.procs'), String(child));
    }
    const ps = JSON.parse(h.ok(['ps', '--format', 'json', id]).stdout) as number[];
    t.same(ps.sort(), [pid1, child].sort(), 'ps lists the process in the sub-cgroup');
    const r = h.tsrun(['delete', '--force', id], { env });
    t.equal(r.status, 0, `delete --force succeeds: ${r.stderr}`);
    t.notOk(alive(child), 'the process in the sub-cgroup is killed');
    t.same(cgroupDirsNamed([id]), [], 'no cgroup dir is left');
  });
}

t.test('exec --cgroup puts the process in a sub-cgroup of the container', async (t) => {
  // runc 1.1 exec.go: --cgroup [<controller>[,<controller>]:]<path>, an existing sub-cgroup.
  const id = h.id(t);
  h.ok(['run', '-d', '--bundle', h.bundle({ args: ['sleep', '1000'] }), id]);
  const dirs = cgroupDirsNamed([id]);
  for (const d of dirs) mkCgroup(join(d, 'sub'));
  const memory = dirs.find((d) => d.includes('/memory/'))!;
  mkCgroup(join(memory, 'only-mem'));
  /** The container process's cgroup per hierarchy line of /proc/self/cgroup ("4:memory" → path). */
  const cgroupsOf = (out: string): Map<string, string> =>
    new Map(out.trim().split('\n').map((l) => [l.slice(0, l.lastIndexOf(':')), l.slice(l.lastIndexOf(':') + 1)]));
  startServer(h);
  for (const env of [COLD, WARM]) {
    const all = cgroupsOf(h.ok(['exec', '--cgroup', 'sub', id, 'cat', '/proc/self/cgroup'], { env }).stdout);
    t.ok(all.size > 3 && [...all.values()].every((p) => p.endsWith(`/${id}/sub`)), `every hierarchy: ${[...all.values()].join(' ')} (${Object.keys(env)[0]})`);
  }
  const one = cgroupsOf(h.ok(['exec', '--cgroup', 'memory:only-mem', id, 'cat', '/proc/self/cgroup']).stdout);
  for (const [k, p] of one) t.ok(p.endsWith(k.endsWith(':memory') ? `/${id}/only-mem` : `/${id}`), `memory:only-mem: ${k} in ${p}`);
  const two = cgroupsOf(h.ok(['exec', '--cgroup', 'memory,pids:sub', '--cgroup', 'cpu:sub', id, 'cat', '/proc/self/cgroup']).stdout);
  for (const [k, p] of two) t.ok(p.endsWith(/:(memory|pids|cpu)$/.test(k) ? `/${id}/sub` : `/${id}`), `memory,pids:sub cpu:sub: ${k} in ${p}`);
  const bad: [string[], RegExp][] = [
    [['a:b:c'], /invalid --cgroup argument: a:b:c/],
    [['sub', 'memory:sub'], /invalid --cgroup argument: sub \(missing <controller>: prefix\)/],
    [['../escape'], /--cgroup: \.\.\/escape is not a sub cgroup path/],
    [['nosuch:sub'], /--cgroup: unknown controller nosuch/],
    [['missing'], /--cgroup: sub-cgroup \/sys\/fs\/cgroup\/\S+\/missing does not exist/],
  ];
  for (const [args, re] of bad) {
    const r = h.tsrun(['exec', ...args.flatMap((a) => ['--cgroup', a]), id, 'true']);
    t.not(r.status, 0, `${args.join(' ')}: refused`);
    t.match(r.stderr, re, `${args.join(' ')}: says why`);
  }
  t.same(procs(join(memory, 'sub')), [], 'no exec\'d process is left in a sub-cgroup');
});

t.test('update lowers cfs period and quota under a parent that caps the ratio', async (t) => {
  // The kernel refuses a cfs_period_us that the current quota no longer fits (quota/period above
  // the parent's): runc writes the period, and on EINVAL the quota first and the period again.
  const parent = hostCgroup(t, 'cpu');
  const cpu = dirsOf(parent).find((d) => /\/cpu(,cpuacct)?\//.test(d))!;
  mkdirSync(cpu);
  writeFileSync(join(cpu, 'cpu.cfs_period_us'), '100000');
  writeFileSync(join(cpu, 'cpu.cfs_quota_us'), '50000');
  const id = h.id(t);
  const bundle = h.bundle({
    args: ['sleep', '1000'],
    edit: (c) => {
      c.linux!.cgroupsPath = `/${parent}/${id}`;
      c.linux!.resources = { ...c.linux!.resources, cpu: { quota: 50000, period: 100000 } };
    },
  });
  h.ok(['run', '-d', '--bundle', bundle, id]);
  t.teardown(() => void h.tsrun(['delete', '--force', id]));
  const read = (): string => ['cpu.cfs_quota_us', 'cpu.cfs_period_us'].map((f) => readFileSync(join(cpu, id, f), 'utf8').trim()).join('/');
  const flags = h.tsrun(['update', '--cpu-period', '50000', '--cpu-quota', '25000', id]);
  t.equal(flags.status, 0, `flags: ${flags.stderr}`);
  t.equal(read(), '25000/50000', 'flags: both written');
  const res = h.path(`${id}-res.json`);
  writeFileSync(res, JSON.stringify({ cpu: { quota: 10000, period: 20000 } }));
  const file = h.tsrun(['update', '-r', res, id]);
  t.equal(file.status, 0, `-r: ${file.stderr}`);
  t.equal(read(), '10000/20000', '-r: both written');
  const over = h.tsrun(['update', '--cpu-quota', '15000', id]);
  t.not(over.status, 0, 'a quota above what the parent allows is still refused');
  t.match(over.stderr, /linux\.resources\.cpu\.quota: write \\"15000\\" to \S+cpu\.cfs_quota_us: EINVAL/);
  t.equal(read(), '10000/20000', 'and nothing changed');
});
