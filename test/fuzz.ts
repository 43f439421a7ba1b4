// Bad input, property-based: seeded mutations of valid config.json files (the runtime-spec's
// good fixtures, Podman- and containerd-shaped configs) and of command lines. Every run must
// end with exit 0 or a clean error (one error line, no stack, no JS internals), never a signal
// or a hang, and leave nothing behind (state dir, cgroup, mount, process). The corpus in
// test/fixtures/fuzz-corpus (cases that once found a bug) is replayed first, every run.
// TSRUN_FUZZ_SEED, TSRUN_FUZZ_CASES and TSRUN_FUZZ_SECONDS change the seed and the bounds.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { containerEntries, Harness, TOP } from './helpers/runtime.js';
import { becomeSubreaper, pool, reapZombies, tsrunAsync, type AsyncResult } from './helpers/parallel.js';
import { cgroupDirsWhere, mountsUnder, processesOf } from './helpers/host.js';
import { commandLine, Gen, mutate, rng, type Json } from './helpers/mutate.js';

const SEED = Number(process.env.TSRUN_FUZZ_SEED ?? 20261128);
// A count, not a time, bounds a run: the same seed then runs the same cases on a loaded host as
// on a quiet one (100 take about 50 s on the test host); the time bound only stops a hang.
const MAX_CASES = Number(process.env.TSRUN_FUZZ_CASES ?? 100);
const SECONDS = Number(process.env.TSRUN_FUZZ_SECONDS ?? 180);
const FIXTURES = join(TOP, 'test', 'fixtures');
const CORPUS = join(FIXTURES, 'fuzz-corpus');

const h = new Harness(t);
becomeSubreaper();
const marker = `fz${process.pid}`;

interface Seed {
  name: string;
  text: string;
}

/** The seeds as JSON text with @DIR@ (the case's bundle) and @ID@ placeholders. */
function seeds(): Seed[] {
  const out: Seed[] = [];
  for (const dir of ['oci-good', 'clients']) {
    for (const f of readdirSync(join(FIXTURES, dir)).filter((n) => n.endsWith('.json'))) {
      const cfg = JSON.parse(readFileSync(join(FIXTURES, dir, f), 'utf8')) as { [k: string]: Json };
      out.push({ name: `${dir}/${f}`, text: JSON.stringify(normalize(cfg)) });
    }
  }
  return out;
}

/**
 * What makes a seed runnable here without changing its shape: the rootfs is the case's copy
 * of the harness's busybox, the process is `true` without a terminal, and cgroup parents are
 * named for this run (removed at the end).
 */
function normalize(cfg: { [k: string]: Json }): { [k: string]: Json } {
  cfg.root = { ...((cfg.root as object) ?? {}), path: 'rootfs' };
  const p = cfg.process as { [k: string]: Json } | undefined;
  if (p) {
    p.terminal = false;
    p.args = ['true'];
  }
  const linux = cfg.linux as { [k: string]: Json } | undefined;
  if (linux && typeof linux.cgroupsPath === 'string') linux.cgroupsPath = linux.cgroupsPath.replace(/^\/(\w+)\//, `/${marker}-$1/`);
  // hooks naming programs that do not exist here would end every mutant the same way
  delete cfg.hooks;
  return cfg;
}

/** Why a tsrun run is not a clean outcome, or undefined when it is. */
function unclean(r: AsyncResult): string | undefined {
  if (r.timedOut) return 'hung (killed after the timeout)';
  if (r.signal) return `died of ${r.signal}`;
  if (r.status === 0) return undefined;
  // 255 is runc's status for a failed exec ("exec failed: ..."), checked below like any error
  const execFailed = r.status === 255 && /level=error msg="exec failed: /.test(r.stderr);
  if (r.status === null || (r.status > 125 && !execFailed)) return `exit status ${r.status}`;
  if (/^\s+at .*[(:]\d+/m.test(r.stderr)) return 'a stack trace on stderr';
  const errors = r.stderr.split('\n').filter((l) => /level=error/.test(l));
  // no command at all: the global help
  if (!errors.length && /^USAGE:/m.test(r.stdout)) return undefined;
  if (errors.length !== 1) return `${errors.length} error lines`;
  const m = /\bmsg=("(?:[^"\\]|\\.)*")/.exec(errors[0]!);
  const msg = m ? (JSON.parse(m[1]!) as string) : '';
  if (process.env.TSRUN_FUZZ_LOG) appendFileSync(process.env.TSRUN_FUZZ_LOG, `${msg.slice(0, 400)}\n`);
  if (/TypeError|ReferenceError|RangeError|SyntaxError|is not a function|Cannot read prop|is not iterable|undefined|\[object Object\]|NaN|Maximum call stack/.test(msg)) return `an internal error: ${msg.slice(0, 300)}`;
  // The plan is tsrun's own contract with tsrun-init: a config error must be caught before it.
  // Node's own text for a failed call ("ENOENT: no such file or directory, open '...'"): no context.
  if (/^E[A-Z]+: /.test(msg)) return `a bare system error: ${msg.slice(0, 300)}`;
  if (/^plan:|^record /.test(msg)) return `a launch-plan error instead of a config error: ${msg.slice(0, 300)}`;
  if (msg.trim().length < 8) return `an error saying nothing: ${JSON.stringify(msg)}`;
  return undefined;
}

interface Outcome {
  problems: string[];
  created: boolean;
}

let caseNo = 0;
const baseRootfs = (): string => join(h.bundle(), 'rootfs');
let rootfs: string | undefined;

/** A bundle dir for one case: a rootfs copy, the files Podman-shaped mounts bind, config.json. */
function prepareCase(configText: string): { dir: string; id: string } {
  const k = ++caseNo;
  const id = `${marker}-${k}`;
  const dir = h.path(`fz-${k}`);
  mkdirSync(join(dir, 'userdata', 'shm'), { recursive: true });
  for (const f of ['hostname', 'resolv.conf', 'hosts', '.containerenv']) writeFileSync(join(dir, 'userdata', f), '');
  const cp = spawnSync('cp', ['-a', (rootfs ??= baseRootfs()), join(dir, 'rootfs')]);
  if (cp.status !== 0) throw new Error(`cp rootfs: ${cp.stderr}`);
  writeFileSync(join(dir, 'config.json'), configText.replaceAll('@DIR@', dir).replaceAll('@ID@', id));
  return { dir, id };
}

/** Force-deletes what is left in the case's root, then reports anything still there. */
async function leftovers(dir: string, root: string): Promise<string[]> {
  const problems: string[] = [];
  let ids: string[] = [];
  try {
    ids = containerEntries(root);
  } catch {
    // nothing was ever created
  }
  for (const id of ids) {
    let cgroups: string[] = [];
    try {
      cgroups = (JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8')) as { cgroupDirs?: string[] }).cgroupDirs ?? [];
    } catch {
      // no state.json yet
    }
    const d = await tsrunAsync(h, ['delete', '--force', id], 60_000, root);
    if (d.status !== 0) problems.push(`delete --force ${id}: ${unclean(d) ?? d.stderr.trim().slice(0, 300)}`);
    if (existsSync(join(root, id))) problems.push(`state dir ${id} left`);
    const kept = cgroups.filter((c) => existsSync(c));
    if (kept.length) problems.push(`cgroups left: ${kept.join(' ')}`);
    for (const p of processesOf(id, dir)) problems.push(`process ${p} left`);
  }
  const mounts = mountsUnder(dir);
  if (mounts.length) {
    problems.push(`mounts left: ${mounts.join(' ')}`);
    for (const m of mounts) spawnSync('umount', ['-l', m]);
  }
  return problems;
}

/** create, then start and delete if it worked: each step clean, nothing left after. */
async function runConfig(text: string): Promise<Outcome> {
  const { dir, id } = prepareCase(text);
  const root = join(dir, 'root');
  const problems: string[] = [];
  const c = await tsrunAsync(h, ['create', '--bundle', dir, id], 60_000, root);
  const bad = unclean(c);
  if (bad) problems.push(`create: ${bad}`);
  if (c.status === 0) {
    const s = await tsrunAsync(h, ['start', id], 60_000, root);
    const sb = unclean(s);
    if (sb) problems.push(`start: ${sb}`);
  }
  problems.push(...(await leftovers(dir, root)));
  return { problems, created: c.status === 0 };
}

/** A command line, half of the time against a container that exists (created, unmutated). */
async function runCommand(argv: string[], withContainer: boolean, id: string, dir: string): Promise<Outcome> {
  const root = join(dir, 'root');
  const problems: string[] = [];
  if (withContainer) {
    const c = await tsrunAsync(h, ['create', '--bundle', dir, id], 60_000, root);
    if (c.status !== 0) problems.push(`setup create failed: ${c.stderr.trim().slice(0, 300)}`);
  }
  const r = await tsrunAsync(h, argv, 30_000, root);
  const bad = unclean(r);
  if (bad) problems.push(`tsrun ${JSON.stringify(argv).slice(0, 400)}: ${bad}`);
  problems.push(...(await leftovers(dir, root)));
  return { problems, created: r.status === 0 };
}

interface Failure {
  label: string;
  problems: string[];
  saved: string;
}

const failures: Failure[] = [];
const failDir = join(TOP, 'build', 'fuzz-failures');

function record(label: string, o: Outcome, body: string): void {
  if (!o.problems.length) return;
  mkdirSync(failDir, { recursive: true });
  const saved = join(failDir, `${SEED}-${failures.length}.json`);
  writeFileSync(saved, body);
  failures.push({ label, problems: o.problems, saved });
}

/** Every cgroup dir now, to find the ones a run made and left (other tests' t-PID-N excluded). */
function cgroupSnapshot(): Set<string> {
  return new Set(cgroupDirsWhere(() => true));
}

/**
 * Removes the cgroup dirs made since `before` under this run's marker; returns the leaks among
 * them. A case's own dir (named after its ID) left behind is a leak; the parents a cgroupsPath
 * named stay after delete, as with runc, and are removed here.
 */
function sweepCgroups(before: Set<string>): string[] {
  const fresh = [...cgroupSnapshot()].filter((d) => !before.has(d) && d.includes(marker)).sort((a, b) => b.length - a.length);
  const leaked = fresh.filter((d) => new RegExp(`${marker}-\\d`).test(d.slice(d.lastIndexOf('/'))));
  for (const d of fresh) {
    try {
      rmdirSync(d);
    } catch {
      // still holds a process or a child: reported if it is a case's own
    }
  }
  return leaked;
}

t.test('the corpus: cases that once found a bug', async (t) => {
  const before = cgroupSnapshot();
  const files = existsSync(CORPUS) ? readdirSync(CORPUS).filter((f) => f.endsWith('.json')).sort() : [];
  for (const f of files) {
    const body = readFileSync(join(CORPUS, f), 'utf8');
    const o = f.startsWith('cli-') ? await commandCase(JSON.parse(body) as CommandCase) : await runConfig(body);
    t.same(o.problems, [], `${f}: clean`);
  }
  t.same(sweepCgroups(before), [], 'no cgroup dir left by a corpus case');
  t.comment(`${files.length} corpus cases replayed`);
});

interface CommandCase {
  argv: string[];
  withContainer: boolean;
}

/** A command line against a case made from the Podman-shaped config (normalized: its cgroup parent is this run's). */
async function commandCase(c: CommandCase): Promise<Outcome> {
  const podman = JSON.parse(readFileSync(join(FIXTURES, 'clients', 'podman.json'), 'utf8')) as { [k: string]: Json };
  const { dir, id } = prepareCase(JSON.stringify(normalize(podman)));
  const argv = c.argv.map((a) => a.replaceAll('@DIR@', dir).replaceAll('@ID@', id));
  return runCommand(argv, c.withContainer, id, dir);
}

t.test(`seeded fuzz (seed ${SEED}, at most ${MAX_CASES} cases or ${SECONDS} s)`, async (t) => {
  t.comment(`TSRUN_FUZZ_SEED=${SEED} reproduces this run`);
  const g = new Gen(rng(SEED), marker);
  const all = seeds();
  const before = cgroupSnapshot();
  const deadline = Date.now() + SECONDS * 1000;
  let ran = 0;
  let created = 0;
  let cli = 0;
  // Cases are drawn up front, so a seed gives the same cases whatever the timing.
  const cases = Array.from({ length: MAX_CASES }, (_, i) => {
    if (i % 5 === 4) {
      const withContainer = g.r() < 0.5;
      return { kind: 'cli' as const, argv: commandLine(g, '@ID@', '@DIR@'), withContainer };
    }
    // the client-shaped seeds get past validation: they are drawn half of the time
    const seed = g.r() < 0.5 ? g.pick(all.filter((s) => s.name.startsWith('clients/'))) : g.pick(all);
    let text = seed.text;
    let what: string[] = [];
    if (g.r() < 0.1) {
      // text-level damage: truncated, a duplicate key, a BOM, trailing garbage
      const cut = g.int(text.length);
      text = g.pick([text.slice(0, cut), text.replace('{', '{"ociVersion":"9.9.9",'), `\ufeff${text}`, `${text} {}`, text.replace(/"/, "'")]);
      what = ['text damage'];
    } else {
      const cfg = JSON.parse(text) as Json;
      const n = 1 + g.int(3);
      for (let j = 0; j < n; j++) what.push(mutate(g, cfg));
      text = JSON.stringify(cfg);
    }
    return { kind: 'config' as const, label: `${seed.name}: ${what.join(', ')}`, text };
  });
  await pool(
    3,
    cases.map((c) => async () => {
      if (Date.now() > deadline) return;
      ran++;
      if (c.kind === 'cli') {
        cli++;
        const o = await commandCase(c);
        record(`argv ${JSON.stringify(c.argv).slice(0, 300)}`, o, JSON.stringify({ argv: c.argv, withContainer: c.withContainer }));
      } else {
        const o = await runConfig(c.text);
        if (o.created) created++;
        record(c.label, o, c.text);
      }
    }),
  );
  const zombies = reapZombies();
  t.same(sweepCgroups(before), [], 'no cgroup dir left by any case');
  for (const f of failures) t.fail(`${f.label}: ${f.problems.join('; ')} (config: ${f.saved})`);
  t.equal(failures.length, 0, 'every case ended cleanly');
  t.comment(`${ran} cases run (${ran - cli} configs, ${created} of them created; ${cli} command lines); ${failures.length} failed; ${zombies.length} container inits reaped`);
});
