// The harness: a temp dir and state root per test file, bundles made from busybox + the probe,
// the tsrun CLI run as a real process, and a cleanup that always runs.
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ConfigSchema } from '../../src/spec/generated/config.js';
import { alive, cgroupDirsNamed, cgroupDirsWhere, mountsUnder } from './host.js';

export type Config = ConfigSchema;

// tap's process tracking (@tapjs/processinfo, through process-on-spawn) adds an --import of its
// own to NODE_OPTIONS of every process a test file spawns: each cold tsrun call's Node, and the
// server a test starts, then loads it, about 200 ms at every start. Callers run tsrun without it,
// and so do the tests: its spawn listeners are dropped (nothing here uses tap's coverage).
const spawnHooks = (globalThis as { [k: symbol]: { listeners?: unknown[] } | undefined })[Symbol.for('process-on-spawn@*:singletonId')];
if (spawnHooks?.listeners) spawnHooks.listeners.length = 0;

/** The repository: this file runs as build/test/helpers/runtime.js. */
export const TOP = resolve(__dirname, '..', '..', '..');
/** The command callers run: the client, which hands the call to the warm server or execs Node. */
export const TSRUN = join(TOP, 'build', 'Release', 'tsrun');
const MAKE_BUNDLE = join(TOP, 'scripts', 'make-bundle.sh');
/** The runtime under test: tsrun, or another one (TSRUN_TEST_RUNTIME=/usr/sbin/runc) to check the tests themselves. */
const RUNTIME = process.env.TSRUN_TEST_RUNTIME ? [process.env.TSRUN_TEST_RUNTIME] : [TSRUN];

/** The part of a tap Test the harness uses. */
export interface TestLike {
  teardown(fn: () => unknown): void;
}

export interface Result {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Extra fds the tsrun process inherits as its fds 3, 4, ... */
  fds?: number[];
  /** Extra environment for this call (e.g. TSRUN_TEST_FORCE_LSM, TSRUN_INIT). */
  env?: Record<string, string>;
}

export interface BundleOptions {
  /** process.args; default ["sh"] */
  args?: string[];
  /** Changes the config before it is written. */
  edit?: (c: Config, bundle: string) => void;
  /** Changes the bundle's private copy of the rootfs before the config is written. */
  prepare?: (rootfs: string) => void;
}

export interface State {
  ociVersion: string;
  id: string;
  pid: number;
  status: string;
  bundle: string;
  annotations?: Record<string, string>;
}

/** tsrun gets a clean environment: no NODE_EXTRA_CA_CERTS, no NODE_OPTIONS from tap, no LISTEN_FDS
 * (TSRUN_DEBUG, TSRUN_INIT, the init binary to use, and TSRUN_SERVER, TSRUN_SERVER_LAUNCH, which
 * route calls through the warm server, are passed on). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
  for (const k of ['TSRUN_DEBUG', 'TSRUN_INIT', 'TSRUN_SERVER', 'TSRUN_SERVER_LAUNCH']) if (process.env[k]) env[k] = process.env[k];
  return env;
}

export function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * One per test file: `const h = new Harness(t)` with the file's root tap object. Containers are
 * named t-<pid>-<n>; each subtest's containers are deleted (and checked) when that subtest
 * ends, and everything else when the file ends.
 */
export class Harness {
  readonly tmp: string;
  readonly root: string;
  private n = 0;
  private readonly allIds = new Set<string>();
  private readonly idsOf = new WeakMap<TestLike, string[]>();
  private base?: string;

  constructor(tap: TestLike) {
    sweepStale();
    // The pid in the name lets a later run tell a dead run's leftovers from a live one's.
    this.tmp = mkdtempSync(join(tmpdir(), `tsrun-test-${process.pid}-`));
    // A user-namespaced container's root (mapped to an unprivileged host uid) must reach its rootfs.
    chmodSync(this.tmp, 0o711);
    this.root = join(this.tmp, 'root');
    tap.teardown(() => this.finish());
  }

  /** A fresh container ID, deleted (force) and checked when `t` ends. */
  id(t: TestLike): string {
    const id = `t-${process.pid}-${++this.n}`;
    this.allIds.add(id);
    let ids = this.idsOf.get(t);
    if (!ids) {
      const list: string[] = [];
      this.idsOf.set(t, list);
      t.teardown(() => this.cleanup(list));
      ids = list;
    }
    ids.push(id);
    return id;
  }

  /** A path under the file's temp dir (removed at the end). */
  path(name: string): string {
    return join(this.tmp, name);
  }

  /** Runs `build/Release/tsrun --root <root> ...args` (or TSRUN_TEST_RUNTIME); output is captured through files, so a
   * container started by it (which inherits them) never holds up the call. */
  tsrun(args: string[], o: RunOptions = {}): Result {
    const k = ++this.n;
    const out = join(this.tmp, `io-${k}.out`);
    const err = join(this.tmp, `io-${k}.err`);
    const outFd = openSync(out, 'w+');
    const errFd = openSync(err, 'w+');
    try {
      const r = spawnSync(RUNTIME[0], [...RUNTIME.slice(1), '--root', this.root, ...args], {
        stdio: ['ignore', outFd, errFd, ...(o.fds ?? [])],
        env: { ...cleanEnv(), ...o.env },
        cwd: this.tmp,
        timeout: 60_000,
        killSignal: 'SIGKILL',
      });
      if (r.error) throw r.error;
      return { status: r.status, signal: r.signal, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
    } finally {
      closeSync(outFd);
      closeSync(errFd);
    }
  }

  /** tsrun that must succeed: throws with its stderr otherwise. */
  ok(args: string[], o: RunOptions = {}): Result {
    const r = this.tsrun(args, o);
    if (r.status !== 0) throw new Error(`tsrun ${args.join(' ')}: exit ${r.status ?? r.signal}: ${r.stderr.trim()}`);
    return r;
  }

  /** The parsed `state`, or null when tsrun says the container does not exist. */
  state(id: string): State | null {
    const r = this.tsrun(['state', id]);
    if (r.status !== 0) {
      if (r.stderr.includes('does not exist')) return null;
      throw new Error(`tsrun state ${id}: exit ${r.status}: ${r.stderr.trim()}`);
    }
    return JSON.parse(r.stdout) as State;
  }

  /** Polls `state` until the status is `want` (or 10 s pass); returns the last status seen. */
  waitStatus(id: string, want: string): string {
    let last = '';
    for (let i = 0; i < 200; i++) {
      last = this.state(id)?.status ?? 'missing';
      if (last === want) break;
      sleep(50);
    }
    return last;
  }

  /** The shared base bundle: made once per file by scripts/make-bundle.sh. */
  private baseBundle(): string {
    if (!this.base) {
      const dir = join(this.tmp, 'base');
      const r = spawnSync('bash', [MAKE_BUNDLE, dir], { env: cleanEnv(), encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`make-bundle.sh: exit ${r.status}: ${r.stderr}`);
      if (!existsSync(join(dir, 'rootfs', 'bin', 'probe'))) throw new Error('the bundle has no /bin/probe: run conformance/build-probe.sh');
      this.base = dir;
    }
    return this.base;
  }

  /** A new bundle dir with its own copy of the rootfs and a config edited by `o`. */
  bundle(o: BundleOptions = {}): string {
    const base = this.baseBundle();
    const dir = join(this.tmp, `bundle-${++this.n}`);
    const cp = spawnSync('cp', ['-a', base, dir], { encoding: 'utf8' });
    if (cp.status !== 0) throw new Error(`cp -a ${base} ${dir}: ${cp.stderr}`);
    o.prepare?.(join(dir, 'rootfs'));
    const file = join(dir, 'config.json');
    const cfg = JSON.parse(readFileSync(file, 'utf8')) as Config;
    if (o.args) cfg.process!.args = o.args;
    o.edit?.(cfg, dir);
    writeFileSync(file, JSON.stringify(cfg, null, 2));
    return dir;
  }

  /** Deletes the containers, then checks they left no state dir and no cgroup; throws if they did. */
  private cleanup(ids: string[]): void {
    const leaks: string[] = [];
    for (const id of ids) {
      if (!existsSync(join(this.root, id))) continue;
      const r = this.tsrun(['delete', '--force', id]);
      if (r.status !== 0) leaks.push(`delete --force ${id} failed: ${r.stderr.trim()}`);
      if (existsSync(join(this.root, id))) {
        leaks.push(`state dir ${join(this.root, id)} remains`);
        rmSync(join(this.root, id), { recursive: true, force: true });
      }
    }
    leaks.push(...removeCgroupLeaks(ids));
    if (leaks.length) throw new Error(`cleanup: ${leaks.join('; ')}`);
  }

  /** End of the file: every container, every mount under the temp dir, the temp dir itself. */
  private finish(): void {
    const leaks = clearTempDir(this.tmp, this.allIds);
    if (leaks.length) throw new Error(`cleanup: ${leaks.join('; ')}`);
  }
}

/** The container entries of a state root: tsrun's caches there ("@seccomp-cache") are not containers. */
export function containerEntries(root: string): string[] {
  return readdirSync(root).filter((n) => !n.startsWith('@'));
}

/**
 * Force-deletes every container of a harness temp dir's state root, removes the cgroup dirs of
 * those and of `ids`, unmounts what is mounted under the dir and removes it. Returns what had
 * to be cleaned up besides the delete (each a leak) or could not be.
 */
function clearTempDir(tmp: string, ids: Iterable<string> = []): string[] {
  const leaks: string[] = [];
  const root = join(tmp, 'root');
  let left: string[] = [];
  try {
    left = containerEntries(root);
  } catch {
    // no container was ever created
  }
  for (const id of left) {
    const r = spawnSync(RUNTIME[0]!, [...RUNTIME.slice(1), '--root', root, 'delete', '--force', id], { env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) leaks.push(`delete --force ${id} failed: ${(r.stderr ?? '').trim()}`);
  }
  leaks.push(...removeCgroupLeaks(new Set([...ids, ...left])));
  for (const m of mountsUnder(tmp)) spawnSync('umount', ['-l', m]);
  const still = mountsUnder(tmp);
  // Never recurse into something still mounted: it may be a bind of a host dir.
  if (still.length) leaks.push(`cannot unmount ${still.join(', ')}; ${tmp} kept`);
  else rmSync(tmp, { recursive: true, force: true });
  return leaks;
}

/**
 * What test processes killed before their cleanup ran left behind (tap ends a timed-out file
 * with SIGKILL): temp dirs and cgroups named after a pid that no longer runs.
 */
function sweepStale(): void {
  const deadPid = (name: string, re: RegExp): boolean => {
    const m = re.exec(name);
    return !!m && !alive(Number(m[1]));
  };
  for (const name of readdirSync(tmpdir())) {
    if (deadPid(name, /^tsrun-test-(\d+)-/)) clearTempDir(join(tmpdir(), name));
  }
  removeCgroupDirs(cgroupDirsWhere((n) => deadPid(n, /^t-(\d+)-\d+$/)));
}

/** Removes cgroup dirs named after `ids` (killing what is in them) and reports each as a leak. */
function removeCgroupLeaks(ids: Iterable<string>): string[] {
  const dirs = cgroupDirsNamed(ids);
  removeCgroupDirs(dirs);
  return dirs.map((d) => `cgroup dir ${d} remained`);
}

/** Kills what is in the cgroup dirs and removes them with every sub-cgroup a container or a test
 * made in them, deepest first (rmdir of a cgroup that still has children is EBUSY forever). */
function removeCgroupDirs(dirs: string[]): void {
  const tree: string[] = [];
  const walk = (d: string): void => {
    try {
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    } catch {
      // gone meanwhile
    }
    tree.push(d);
  };
  for (const d of dirs) walk(d);
  for (const d of tree) {
    try {
      for (const pid of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  // Children come before their parent in `tree`; a parent listed twice (nested names) is harmless.
  for (const d of tree) {
    for (let i = 0; i < 100 && existsSync(d); i++) {
      try {
        rmdirSync(d);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EBUSY') break;
        sleep(10);
      }
    }
  }
}
