// dist/tsrun.js: runs the CLI (dist/tsrun-main.js) with a V8 code cache. Each call is a fresh
// Node process, and compiling the functions a create runs costs it about as much as the work
// they do. The cache is written after the first run of each command and used by the next ones;
// it lives in the state root, next to the seccomp cache, and is trusted only if this user owns
// it and nobody else can write it (the cache is code). V8 does not check what it deserializes
// (a damaged cache crashes it), so each file starts with a checksum of the rest, taken by the
// addon, which the loader loads for the command (src/native/addon.ts reuses it).
import { lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { parseArgs, str } from './cli/args.js';
import { globalFlags } from './cli/globals.js';
import { loadNative, type Native } from './native/addon.js';
import { defaultRoot } from './state/paths.js';
import { euid, runningInUserNs } from './util/rootless.js';

declare global {
  /** Set by this loader: what happened to the cache (main logs it with --debug), its writer, and the addon. */
  var tsrunBoot: { note: string; save?: () => void; native?: Native } | undefined;
}

/** Bytes of the checksum (16 hex digits) that starts a cache file. */
const SUM = 16;

const DIR = '@code-cache';
/** Commands worth a cache: the ones callers make often that Node serves. */
const CACHED = new Set(['create', 'run', 'exec', 'start', 'delete', 'kill', 'state', 'pause', 'resume', 'update', 'ps', 'events', 'list']);

/** Ours alone: owned by this euid, writable by nobody else, and not a symlink. */
function trusted(path: string, dir: boolean): boolean {
  try {
    const st = lstatSync(path);
    return (dir ? st.isDirectory() : st.isFile()) && st.uid === euid() && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/** The command's cache file; the command line is read with main's own parser and flags. */
function cacheFile(argv: string[], main: string): string | undefined {
  const g = parseArgs(argv, globalFlags, '');
  const command = g.args[0];
  if (!command || !CACHED.has(command)) return undefined;
  const root = defaultRoot(str(g, 'root'), euid(), runningInUserNs());
  const st = lstatSync(main);
  // A new bundle or another node makes another file: V8 would refuse the old cache anyway.
  const key = `${process.version}-${process.arch}-${st.size}-${Math.trunc(st.mtimeMs)}`;
  return join(root, DIR, `${command}-${key}.bin`);
}

/** The cache in a file, if its checksum holds; 'damaged' if not. */
function readCache(file: string, native: Native): Buffer | 'damaged' | undefined {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch {
    return undefined;
  }
  const data = raw.subarray(SUM);
  return raw.length > SUM && raw.toString('latin1', 0, SUM) === native.fnv1a64(data) ? data : 'damaged';
}

function run(): void {
  const main = join(__dirname, 'tsrun-main.js');
  const source = readFileSync(main, 'utf8');
  let file: string | undefined;
  try {
    file = cacheFile(process.argv.slice(2), main);
  } catch {
    file = undefined;
  }
  let native: Native | undefined;
  try {
    native = file ? loadNative() : undefined;
  } catch {
    file = undefined; // no addon: main reports that where it needs it
  }
  const cached = file && native && trusted(dirname(file), true) && trusted(file, false) ? readCache(file, native) : undefined;
  const data = cached instanceof Buffer ? cached : undefined;
  // The bundle is stored wrapped as a CommonJS function (scripts/bundle.mjs).
  const script = new Script(source, { filename: main, cachedData: data });
  const rejected = cached === 'damaged' || (data !== undefined && script.cachedDataRejected === true);
  const boot: NonNullable<typeof globalThis.tsrunBoot> = { note: !file ? 'none for this call' : !cached ? `miss ${file}` : rejected ? `rejected ${file}` : `hit ${file}`, native };
  if (file && native && (!cached || rejected)) boot.save = () => save(script, native, file);
  globalThis.tsrunBoot = boot;
  const mod = { exports: {} };
  (script.runInThisContext() as (...a: unknown[]) => void)(mod.exports, createRequire(main), mod, main, __dirname);
}

/** After the command: the functions it compiled go to the cache (temp file + rename). */
function save(script: Script, native: Native, file: string): void {
  const dir = dirname(file);
  try {
    // The root may not exist yet (a failed first call): the cache makes no root of its own.
    if (!trusted(join(dir, '..'), true)) return;
    mkdirSync(dir, { mode: 0o700, recursive: true });
    if (!trusted(dir, true)) return;
    const prefix = basename(file).split('-')[0]!;
    for (const n of readdirSync(dir)) if (n.startsWith(`${prefix}-`) && join(dir, n) !== file) rmSync(join(dir, n), { force: true });
    const data = script.createCachedData();
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, Buffer.concat([Buffer.from(native.fnv1a64(data), 'latin1'), data]), { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // a read-only or full root: the next call compiles again
  }
}

run();
