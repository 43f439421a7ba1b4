// Times each runtime call tsrun, runc and crun get from their callers, in the same run, paired:
// every round runs the same steps for each runtime (in a rotating order), and a ratio is taken
// per round; the table shows the median time per runtime and the median of the per-round
// ratios. A call's time runs from the runtime's spawn to its reaped exit (bench/timecall.c).
// Also: created-state PSS and USS, the runtime's peak RSS per command, 100 sequential `run`s,
// 20 concurrent creates (wall time, sum of peak RSS), and what a Docker-size seccomp profile
// adds to create.
// usage: node bench/bench.mjs TMPDIR ROUNDS RUNTIME=PATH...   (run by bench/lifecycle.sh)
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { closeSync, cpSync, openSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const [tmp, roundsArg, ...rtArgs] = process.argv.slice(2);
const rounds = Number(roundsArg);
const runtimes = rtArgs.map((a) => ({ name: a.split('=')[0], bin: a.slice(a.indexOf('=') + 1) }));
const top = new URL('..', import.meta.url).pathname;
const native = require(join(top, 'build/Release/tsrun_native.node'));

const env = { PATH: process.env.PATH };
// tsrun-warm: the same binary through its warm server (docs/CLIENT-SERVER.md, on by default),
// kept for the whole run (the other runtimes' 100 runs outlast its default grace); tsrun: every
// call cold.
const envOf = (rt) => (rt.name === 'tsrun-warm' ? { ...env, TSRUN_SERVER_GRACE_MS: '600000' } : { ...env, TSRUN_SERVER: 'off' });
for (const rt of runtimes) mkdirSync(join(tmp, `root-${rt.name}`), { recursive: true });
// The warm server is started before this process becomes a subreaper: under one, a server
// does not stay (as under conmon or containerd's shim, whose calls stay cold until a caller
// outside one starts it).
for (const rt of runtimes.filter((r) => r.name === 'tsrun-warm')) {
  const sock = join(tmp, `root-${rt.name}`, '@server');
  spawnSync(rt.bin, ['--root', join(tmp, `root-${rt.name}`), 'list'], { env: envOf(rt), stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    let ok = false;
    try {
      ok = readdirSync(sock).some((n) => n.endsWith('.sock'));
    } catch {
      ok = false;
    }
    if (ok) break;
    spawnSync('sleep', ['0.05']);
  }
}
// Container processes are reparented to this process when the runtime exits: reap them here.
native.setChildSubreaper();
// Output goes to files, not pipes: a container keeps the stdio it inherits open, and a pipe
// would make the caller wait for the container's end.
const outFd = openSync(join(tmp, 'calls.out'), 'w');
const errFile = join(tmp, 'calls.err');
// Each call's time is taken by bench/timecall (built by lifecycle.sh into TMPDIR): from its
// posix_spawn of the runtime to the reaped exit, as a lean caller (conmon, containerd's shim)
// sees it. Node's spawnSync would add its own cost (SPAWN_FLOOR_MS below) to every call.
const timecall = join(tmp, 'timecall');
function timed(bin, args, env, errFd) {
  const r = spawnSync(timecall, [bin, ...args], { env, stdio: ['ignore', outFd, errFd, 'pipe'] });
  return { status: r.status, ms: Number(String(r.output[3]).trim()) };
}
function call(rt, args) {
  const errFd = openSync(errFile, 'w');
  const r = timed(rt.bin, ['--root', join(tmp, `root-${rt.name}`), ...args], envOf(rt), errFd);
  closeSync(errFd);
  if (r.status !== 0 || !(r.ms >= 0)) throw new Error(`${rt.name} ${args.join(' ')}: ${r.status} ${readFileSync(errFile, 'utf8')}`);
  return r.ms;
}
const median = (xs) => {
  const v = [...xs].sort((x, y) => x - y);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

// What Node's spawnSync adds to a call, which the times above leave out: /bin/true through it,
// less /bin/true through timecall (medians of 50).
const SPAWN_FLOOR_MS = (() => {
  const viaNode = [];
  const viaTimecall = [];
  for (let i = 0; i < 50; i++) {
    const t0 = process.hrtime.bigint();
    spawnSync('/bin/true', [], { env, stdio: ['ignore', outFd, 'ignore'] });
    viaNode.push(Number(process.hrtime.bigint() - t0) / 1e6);
    viaTimecall.push(timed('/bin/true', [], env, 'ignore').ms);
  }
  return { node: median(viaNode), timecall: median(viaTimecall) };
})();
const pidOf = (rt, id) => Number(readFileSync(join(tmp, `${rt.name}-${id}.pid`), 'utf8'));

function bundle(name, args, edit = () => {}) {
  const dir = join(tmp, name);
  cpSync(join(tmp, 'bundle'), dir, { recursive: true });
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  cfg.process.args = args;
  edit(cfg);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
  return dir;
}
const trueB = bundle('b-true', ['/bin/true']);
const sleepB = bundle('b-sleep', ['/bin/sleep', '1000']);
const { DOCKER_ALLOWED } = require(join(top, 'build/test/helpers/docker-profile.js'));
const seccompB = bundle('b-seccomp', ['/bin/true'], (c) => {
  c.linux.seccomp = { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], syscalls: [{ names: DOCKER_ALLOWED, action: 'SCMP_ACT_ALLOW' }] };
});

/** One round for one runtime: every measured call, in ms. */
function round(rt, i) {
  const m = {};
  const a = `a${i}`;
  m.create = call(rt, ['create', '--bundle', trueB, '--pid-file', join(tmp, `${rt.name}-${a}.pid`), a]);
  m.start = call(rt, ['start', a]);
  const t0 = process.hrtime.bigint();
  native.waitpidBlocking(pidOf(rt, a));
  const waited = Number(process.hrtime.bigint() - t0) / 1e6;
  m.delete = call(rt, ['delete', a]);
  m.lifecycle = m.create + m.start + waited + m.delete;

  const b = `b${i}`;
  call(rt, ['create', '--bundle', sleepB, '--pid-file', join(tmp, `${rt.name}-${b}.pid`), b]);
  call(rt, ['start', b]);
  m.state = call(rt, ['state', b]);
  // The first exec of a command into a container, then the same exec again, as a health probe
  // repeats it.
  m.exec = call(rt, ['exec', b, '/bin/true']);
  m['exec again'] = call(rt, ['exec', b, '/bin/true']);
  m.kill = call(rt, ['kill', b, 'KILL']);
  native.waitpidBlocking(pidOf(rt, b));
  call(rt, ['delete', b]);

  m.run = call(rt, ['run', '--bundle', trueB, `c${i}`]);

  const s = `s${i}`;
  m['create+seccomp'] = call(rt, ['create', '--bundle', seccompB, '--pid-file', join(tmp, `${rt.name}-${s}.pid`), s]);
  call(rt, ['delete', '--force', s]);
  try {
    native.waitpidBlocking(pidOf(rt, s));
  } catch {
    // reaped already
  }
  return m;
}


// warm-up: page cache, first-use costs
for (const rt of runtimes) round(rt, 'w');
const results = Object.fromEntries(runtimes.map((rt) => [rt.name, []]));
for (let i = 0; i < rounds; i++) {
  const order = runtimes.map((_, k) => runtimes[(k + i) % runtimes.length]);
  for (const rt of order) results[rt.name].push(round(rt, i));
}

// 100 sequential runs, back to back, per runtime.
const seq = {};
for (const rt of runtimes) {
  seq[rt.name] = 0;
  for (let k = 0; k < 100; k++) seq[rt.name] += call(rt, ['run', '--bundle', trueB, `q${k}`]);
}

// Created-state PSS and each command's peak RSS (GNU time's %M, KB).
const mem = {};
for (const rt of runtimes) {
  const rss = (args) => {
    const rssFile = join(tmp, 'rss');
    spawnSync('/usr/bin/time', ['-o', rssFile, '-f', '%M', rt.bin, '--root', join(tmp, `root-${rt.name}`), ...args], { env: envOf(rt), stdio: ['ignore', outFd, 'ignore'] });
    return Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) / 1024;
  };
  const id = 'mem';
  const create = rss(['create', '--bundle', sleepB, '--pid-file', join(tmp, `${rt.name}-${id}.pid`), id]);
  const pid = pidOf(rt, id);
  // PSS counts a share of the shared libraries' pages, which depends on how many processes of
  // the machine map them; USS (its private pages) does not.
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(rollup)[1]);
  const pss = kb('Pss') / 1024;
  const uss = (kb('Private_Clean') + kb('Private_Dirty')) / 1024;
  const start = rss(['start', id]);
  const state = rss(['state', id]);
  const kill = rss(['kill', id, 'KILL']);
  native.waitpidBlocking(pid);
  const del = rss(['delete', id]);
  mem[rt.name] = { pss, uss, rss: { create, start, state, kill, delete: del } };
}

// 20 concurrent creates on distinct IDs (a node starting a pod's containers): the wall time
// until all have returned, and the sum of their peak RSS (GNU time's %M: each call's process
// with what it waited for; the warm server's own growth is reported apart).
const BURST = 20;
const burst = {};
for (const rt of runtimes) {
  const before = serverRss();
  const t0 = process.hrtime.bigint();
  const rssKb = await Promise.all(
    Array.from({ length: BURST }, (_, k) => new Promise((res) => {
      const file = join(tmp, `burst-${rt.name}-${k}.rss`);
      const p = spawn('/usr/bin/time', ['-o', file, '-f', '%M', rt.bin, '--root', join(tmp, `root-${rt.name}`), 'create', '--bundle', sleepB, `z${k}`], { env: envOf(rt), stdio: ['ignore', outFd, 'ignore'] });
      p.on('exit', (code) => res(code === 0 ? Number(readFileSync(file, 'utf8').trim().split('\n').pop()) : NaN));
    })),
  );
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const growth = serverRss() - before;
  for (let k = 0; k < BURST; k++) {
    try {
      call(rt, ['delete', '--force', `z${k}`]);
    } catch {
      // counted as a failed create above
    }
  }
  burst[rt.name] = { wall, rss: rssKb.reduce((a, b) => a + b, 0) / 1024, failed: rssKb.filter((x) => Number.isNaN(x)).length, growth };
}

/** RSS of the warm servers of this run's roots (MB), summed. */
function serverRss() {
  let kb = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (!cmd.includes('--tsrun-server') || !cmd.includes(tmp)) continue;
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${name}/status`, 'utf8'))[1]);
    } catch {
      // gone
    }
  }
  return kb / 1024;
}

const metrics = ['lifecycle', 'create', 'start', 'state', 'kill', 'delete', 'run', 'exec', 'exec again', 'create+seccomp'];
const names = runtimes.map((r) => r.name);
// Each tsrun variant against each other runtime (runc, crun).
const mine = names.filter((n) => n.startsWith('tsrun'));
const others = names.filter((n) => !n.startsWith('tsrun'));
const pairs = mine.flatMap((m) => others.map((o) => [m, o]));
if (mine.length === 2) pairs.unshift([mine[0], mine[1]]);
const base = mine[0];
const pad = (s, n) => String(s).padStart(n);
const lines = [];
lines.push(`| call | ${names.map((n) => `${n} ms`).join(' | ')} | ${pairs.map(([a, b]) => `${a}/${b}`).join(' | ')} |`);
lines.push(`|---|${names.map(() => '---:').join('|')}|${pairs.map(() => '---:').join('|')}|`);
for (const k of metrics) {
  const med = names.map((n) => median(results[n].map((m) => m[k])));
  const ratios = pairs.map(([a, o]) => median(results[a].map((m, i) => m[k] / results[o][i][k])));
  lines.push(`| ${k} | ${med.map((x) => pad(x.toFixed(1), 6)).join(' | ')} | ${ratios.map((r) => pad(r.toFixed(2), 5)).join(' | ')} |`);
}
lines.push(`| 100 × run (total) | ${names.map((n) => pad(seq[n].toFixed(0), 6)).join(' | ')} | ${pairs.map(([a, o]) => pad((seq[a] / seq[o]).toFixed(2), 5)).join(' | ')} |`);
lines.push(`| created-state PSS MB | ${names.map((n) => pad(mem[n].pss.toFixed(2), 6)).join(' | ')} | ${pairs.map(([a, o]) => pad((mem[a].pss / mem[o].pss).toFixed(2), 5)).join(' | ')} |`);
lines.push(`| created-state USS MB | ${names.map((n) => pad(mem[n].uss.toFixed(2), 6)).join(' | ')} | ${pairs.map(([a, o]) => pad((mem[a].uss / mem[o].uss).toFixed(2), 5)).join(' | ')} |`);
for (const c of ['create', 'start', 'state', 'kill', 'delete']) {
  lines.push(`| peak RSS ${c} MB | ${names.map((n) => pad(mem[n].rss[c].toFixed(1), 6)).join(' | ')} | ${pairs.map(([a, o]) => pad((mem[a].rss[c] / mem[o].rss[c]).toFixed(2), 5)).join(' | ')} |`);
}
lines.push(`| ${BURST} concurrent creates, wall ms | ${names.map((n) => pad(burst[n].wall.toFixed(0), 6)).join(' | ')} | ${pairs.map(([a, o]) => pad((burst[a].wall / burst[o].wall).toFixed(2), 5)).join(' | ')} |`);
lines.push(`| ${BURST} concurrent creates, sum of peak RSS MB | ${names.map((n) => pad(burst[n].rss.toFixed(1), 6)).join(' | ')} | ${pairs.map(([a, o]) => pad((burst[a].rss / burst[o].rss).toFixed(2), 5)).join(' | ')} |`);
for (const n of names) if (burst[n].failed) lines.push(`| ${n}: concurrent creates that failed | ${burst[n].failed} |`);
const server = serverRss();
if (server) lines.push(`| tsrun-warm server RSS after the run MB | ${server.toFixed(1)} |`);
if (burst['tsrun-warm']) lines.push(`| tsrun-warm server RSS growth over the ${BURST} concurrent creates MB | ${burst['tsrun-warm'].growth.toFixed(1)} |`);
const seccompCost = names.map((n) => `${n} ${(median(results[n].map((m) => m['create+seccomp'] - m.create))).toFixed(1)} ms`);
lines.push('');
lines.push(`${rounds} rounds; times are medians, ratios the median of per-round ratios (below 1: ${base} is faster).`);
lines.push(`Call times are from the runtime's spawn to its reaped exit (bench/timecall: posix_spawn, wait4; /bin/true takes ${SPAWN_FLOOR_MS.timecall.toFixed(1)} ms there). Node's spawnSync would add ${(SPAWN_FLOOR_MS.node - SPAWN_FLOOR_MS.timecall).toFixed(1)} ms to each call of every runtime (/bin/true: ${SPAWN_FLOOR_MS.node.toFixed(1)} ms); the concurrent creates' wall time includes it.`);
lines.push(`Docker-size seccomp profile (${DOCKER_ALLOWED.length} syscalls, 3 arches) adds to create: ${seccompCost.join(', ')} (median of per-round differences).`);
console.log(lines.join('\n'));
