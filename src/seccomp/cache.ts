// Compiled seccomp programs, kept in the state root. Podman and Docker give every container the
// same default profile, and loading koffi + libseccomp and compiling it costs tens of ms per
// create; with this cache a profile seen before costs a hash and a small file read.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CompiledSeccomp, Seccomp } from './compile.js';
import { loadNative } from '../native/addon.js';

/** '@' is not in the container ID alphabet: this dir can never be a container's. */
export const CACHE_DIR = '@seccomp-cache';
const FORMAT = 1;
const MAX_ENTRIES = 64;
const LIB_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/lib64', '/usr/lib64', '/lib', '/usr/lib'];

interface Entry {
  /** The key in full: the file name is only its hash, so an entry is used only on an exact match. */
  key: string;
  flags: number;
  program: string;
  listener?: { path: string; metadata?: string };
  skipped: string[];
}

/** The installed libseccomp's identity (path, size, mtime): a new library is a new key. */
function libIdentity(): string | undefined {
  for (const d of LIB_DIRS) {
    try {
      const st = statSync(join(d, 'libseccomp.so.2'));
      return `${d}:${st.size}:${st.mtimeMs}:${st.ino}`;
    } catch {
      // not in this dir
    }
  }
  return undefined;
}

/** Picks the file; the stored key decides. Hashed in the addon: in JavaScript the loop costs ms here. */
function fileName(key: string): string {
  return `${loadNative().fnv1a64(key)}.json`;
}

/**
 * compile(s), or the program a previous compile of the same section with the same libseccomp
 * produced. Only successful compiles are kept: a profile with an error is compiled (and fails)
 * every time. Without a root (or an unwritable one) it just compiles.
 */
export function compileCached(s: Seccomp, root: string | undefined, compile: (s: Seccomp) => CompiledSeccomp): CompiledSeccomp {
  const lib = root ? libIdentity() : undefined;
  if (!root || !lib) return compile(s);
  const dir = join(root, CACHE_DIR);
  const key = JSON.stringify({ FORMAT, lib, arch: process.arch, s });
  const file = join(dir, fileName(key));
  try {
    const e = JSON.parse(readFileSync(file, 'utf8')) as Entry;
    if (e.key === key) return { flags: e.flags, program: Buffer.from(e.program, 'base64'), listener: e.listener, skipped: e.skipped };
  } catch {
    // not cached yet (or unreadable): compile
  }
  const c = compile(s);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const names = readdirSync(dir);
    if (names.length >= MAX_ENTRIES) for (const n of names) rmSync(join(dir, n), { force: true });
    const entry: Entry = { key, flags: c.flags, program: c.program.toString('base64'), listener: c.listener, skipped: c.skipped };
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(entry), { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // a read-only or full root: the next create compiles again
  }
  return c;
}
