// The V8 code cache the loader keeps in the state root (src/boot.ts): written after the first
// successful call of a command, used by the next, and never trusted unless it is root's alone.
// It is the cold path's (a call through the warm server compiles nothing): every call here is cold.
import t, { type Test } from 'tap';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Harness } from './helpers/runtime.js';
import { COLD } from './helpers/server.js';

const h = new Harness(t);
/** A second, untouched root for the failure case. */
const fresh = new Harness(t);
const dir = join(h.root, '@code-cache');
const createFile = (): string | undefined => (existsSync(dir) ? readdirSync(dir).find((n) => n.startsWith('create-') && n.endsWith('.bin')) : undefined);

/** create with --debug (the loader's note is a debug line), then delete; returns the note. */
function create(t: Test): string {
  const id = h.id(t);
  const r = h.tsrun(['--debug', 'create', '--bundle', h.bundle({ args: ['true'] }), id], { env: COLD });
  t.equal(r.status, 0, `create: ${r.stderr.slice(-300)}`);
  h.ok(['delete', '--force', id], { env: COLD });
  return /code cache: (\w+)/.exec(r.stderr)?.[1] ?? 'no note';
}

t.test('the first create writes the cache, the next ones use it', async (t) => {
  t.equal(create(t), 'miss', 'a new root has no cache');
  const name = createFile();
  t.ok(name, 'create left its cache in <root>/@code-cache');
  const file = join(dir, name!);
  t.equal(statSync(dir).mode & 0o777, 0o700, 'the cache dir is root\'s alone');
  t.equal(statSync(file).mode & 0o777, 0o600, 'and so is the file');
  t.ok(statSync(file).size > 10_000, 'the cache holds the compiled functions');
  t.equal(create(t), 'hit', 'the second create loads it');

  // V8 checks what it loads: a damaged cache is refused, the call still works, and it is rewritten.
  const good = readFileSync(file);
  writeFileSync(file, Buffer.from(good.map((b, i) => (i > 64 ? b ^ 0x5a : b))));
  t.equal(create(t), 'rejected', 'a damaged cache is refused');
  t.equal(create(t), 'hit', 'and replaced by a good one');

  // The cache is code: one another user could have written is not loaded.
  chmodSync(file, 0o666);
  t.equal(create(t), 'miss', 'a world-writable cache file is not read');
  t.equal(statSync(join(dir, createFile()!)).mode & 0o777, 0o600, 'it is replaced by one only root can write');

  const elsewhere = h.path('planted-cache');
  renameSync(dir, elsewhere);
  symlinkSync(elsewhere, dir);
  const planted = readdirSync(elsewhere).map((n) => `${n}:${statSync(join(elsewhere, n)).mtimeMs}`);
  t.equal(create(t), 'miss', 'a cache dir that is a symlink is not used');
  t.same(readdirSync(elsewhere).map((n) => `${n}:${statSync(join(elsewhere, n)).mtimeMs}`), planted, 'nor written through');
});

t.test('a failed call leaves no cache', async (t) => {
  mkdirSync(fresh.root, { mode: 0o711 });
  const id = fresh.id(t);
  const r = fresh.tsrun(['create', '--bundle', fresh.bundle({ args: ['true'], edit: (c) => void (c.process!.cwd = 5 as unknown as string) }), id], { env: COLD });
  t.not(r.status, 0, 'create with a schema-invalid config fails');
  t.notOk(existsSync(join(fresh.root, '@code-cache')), 'and writes no cache: it ran too little of the code to be worth keeping');
});
