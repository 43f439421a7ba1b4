// tsrun's config validator (src/spec/schema.ts walks the spec's JSON schemas as data) against
// ajv, the reference implementation of JSON Schema draft-04 it replaced: on the spec's good and
// bad fixtures, Podman's and containerd's configs and thousands of mutants, both must agree on
// valid or not and on the first error (path, message, allowed values). config.md says what a
// valid config is through these schemas (schema/config-schema.json).
import t, { type Test } from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { TOP } from './helpers/runtime.js';
import { Gen, mutate, rng, type Json } from './helpers/mutate.js';

interface FirstError {
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

const req = createRequire(join(TOP, 'package.json'));

/** The validator as tsrun bundles it (esbuild, like scripts/bundle.mjs), loaded into this process. */
function tsrunValidator(): { configError(d: unknown): FirstError | undefined; unsupportedKeywords(s: unknown, where: string): string[]; configSchemas: Record<string, unknown> } {
  const esbuild = req('esbuild') as typeof import('esbuild');
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-schema-'));
  try {
    const out = join(dir, 'validator.js');
    esbuild.buildSync({
      stdin: { contents: "export { configError } from './src/spec/load.ts'; export { unsupportedKeywords } from './src/spec/schema.ts'; export { configSchemas } from './src/spec/generated/config-schemas.js';", resolveDir: TOP, loader: 'ts' },
      bundle: true, platform: 'node', format: 'cjs', outfile: out, logLevel: 'error',
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** ajv (draft-04) compiled from schemas/ as the spec ships them, with defs.json's one malformed ref repaired. */
function ajvValidator(): (d: unknown) => FirstError | undefined {
  const Ajv = req('ajv-draft-04') as new (o: object) => { addSchema(s: unknown, k: string): void; getSchema(k: string): ((d: unknown) => boolean) & { errors?: FirstError[] | null } };
  const ajv = new Ajv({ allErrors: false, strict: false, validateFormats: false });
  const dir = join(TOP, 'schemas');
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.json'))) ajv.addSchema(JSON.parse(readFileSync(join(dir, f), 'utf8').replaceAll('"#definitions/', '"#/definitions/')), f);
  const v = ajv.getSchema('config-schema.json')!;
  return (d) => (v(d) ? undefined : v.errors![0]);
}

const mine = tsrunValidator();
const ajv = ajvValidator();

function same(t: Test, what: string, data: unknown): boolean {
  const a = ajv(data);
  const b = mine.configError(data);
  const view = (e: FirstError | undefined): string => (e ? `${e.instancePath} ${e.message} ${JSON.stringify(e.params.allowedValues ?? '')}` : 'valid');
  if (view(a) === view(b)) return true;
  t.equal(view(b), view(a), `${what}: tsrun's first error is ajv's`);
  return false;
}

const fixtures = (dir: string): [string, string][] =>
  readdirSync(join(TOP, 'test/fixtures', dir)).filter((f) => f.endsWith('.json')).map((f) => [`${dir}/${f}`, readFileSync(join(TOP, 'test/fixtures', dir, f), 'utf8')]);

t.test('every keyword the schemas use is implemented', async (t) => {
  const found = Object.entries(mine.configSchemas).flatMap(([f, s]) => mine.unsupportedKeywords(s, f));
  t.same(found, [], 'no keyword the validator would skip');
  t.same(mine.unsupportedKeywords({ properties: { oneOf: {} }, anyOf: [{ not: {} }] }, 'probe'), ['probe/anyOf/0/not'], 'and the check finds one (a property named oneOf is no keyword)');
});

t.test('the spec\'s fixtures and the clients\' configs', async (t) => {
  for (const [name, text] of [...fixtures('oci-good'), ...fixtures('clients')]) {
    const data = JSON.parse(text.replaceAll('@DIR@', '/tmp').replaceAll('@ID@', 'x')) as unknown;
    t.equal(mine.configError(data), undefined, `${name} is valid`);
  }
  for (const [name, text] of fixtures('oci-bad')) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      continue; // invalid-json.json: refused by the parser before any schema
    }
    t.not(mine.configError(data), undefined, `${name} is refused`);
    t.ok(same(t, name, data), `${name}: the same first error as ajv`);
  }
  for (const data of [null, [], 'x', 1, {}, { ociVersion: 1 }, { ociVersion: '1.0.0', process: { cwd: 5 } }]) t.ok(same(t, JSON.stringify(data), data), `${JSON.stringify(data)}: the same verdict`);
});

t.test('mutants agree with ajv', async (t) => {
  const seed = Number(process.env.TSRUN_FUZZ_SEED ?? 20261128);
  const g = new Gen(rng(seed), 'schema');
  const seeds = [...fixtures('oci-good'), ...fixtures('clients')].map(([, text]) => text.replaceAll('@DIR@', '/tmp').replaceAll('@ID@', 'x'));
  let n = 0;
  let invalid = 0;
  let differ = 0;
  for (let i = 0; i < 4000; i++) {
    const cfg = JSON.parse(g.pick(seeds)) as Json;
    for (let k = 1 + g.int(3); k > 0; k--) mutate(g, cfg);
    n++;
    if (mine.configError(cfg)) invalid++;
    if (!same(t, `mutant ${i} (seed ${seed})`, cfg)) differ++;
  }
  t.equal(differ, 0, `${n} mutants (${invalid} invalid): tsrun and ajv agree on every one`);
  t.ok(invalid > n / 10 && invalid < n, 'the mutants cover both valid and invalid configs');
});
