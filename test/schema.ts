// tsrun's config validator (src/spec/schema.ts walks the spec's JSON schemas as data) against
// ajv, the reference implementation of JSON Schema draft-04 it replaced: on the spec's good and
// bad fixtures, Podman's and containerd's configs and thousands of mutants, both must agree on
// valid or not and on the first error (path, message, allowed values). config.md says what a
// valid config is through these schemas (schema/config-schema.json). tsrun takes a few configs
// more (src/spec/relax.ts: what runc and crun take): ajv is compared on the same patched
// schemas, and each relaxation is shown apart, refused by the schemas as the spec ships them.
import t, { type Test } from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { TOP } from './helpers/runtime.js';
import { loadBundled } from './helpers/bundle-ts.js';
import { Gen, mutate, rng, type Json } from './helpers/mutate.js';

interface FirstError {
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

const req = createRequire(join(TOP, 'package.json'));

/** The validator as tsrun bundles it (esbuild, like scripts/bundle.mjs), loaded into this process. */
interface Relax {
  SCHEMA_PATCHES: { file: string; pointer: string; set?: unknown; why: string }[];
  patchSchemas(files: Record<string, unknown>): Record<string, unknown>;
  normalizeConfig(d: unknown): unknown;
}

function tsrunValidator(): Relax & { configError(d: unknown): FirstError | undefined; unsupportedKeywords(s: unknown, where: string): string[]; configSchemas: Record<string, unknown> } {
  return loadBundled("export { configError } from './src/spec/load.ts'; export { unsupportedKeywords } from './src/spec/schema.ts'; export { configSchemas } from './src/spec/generated/config-schemas.js'; export * from './src/spec/relax.ts';");
}

/** schemas/ as the spec ships them, with defs.json's one malformed ref repaired. */
function shippedSchemas(): Record<string, unknown> {
  const dir = join(TOP, 'schemas');
  return Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => [f, JSON.parse(readFileSync(join(dir, f), 'utf8').replaceAll('"#definitions/', '"#/definitions/')) as unknown]));
}

/** ajv (draft-04) compiled from `schemas`. */
function ajvValidator(schemas: Record<string, unknown>): (d: unknown) => FirstError | undefined {
  const Ajv = req('ajv-draft-04') as new (o: object) => { addSchema(s: unknown, k: string): void; getSchema(k: string): ((d: unknown) => boolean) & { errors?: FirstError[] | null } };
  const ajv = new Ajv({ allErrors: false, strict: false, validateFormats: false });
  for (const [f, s] of Object.entries(schemas)) ajv.addSchema(s, f);
  const v = ajv.getSchema('config-schema.json')!;
  return (d) => (v(d) ? undefined : v.errors![0]);
}

const mine = tsrunValidator();
/** The spec's schemas with tsrun's relaxations: what tsrun's validator must agree with. */
const ajv = ajvValidator(mine.patchSchemas(shippedSchemas()));
/** The spec's schemas alone. */
const spec = ajvValidator(shippedSchemas());

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

t.test('the validator walks the spec\'s schemas with exactly src/spec/relax.ts\'s patches', async (t) => {
  const relaxed = mine.patchSchemas(shippedSchemas());
  t.same(mine.configSchemas, Object.fromEntries(Object.keys(mine.configSchemas).map((f) => [f, relaxed[f]])), 'nothing else differs');
  t.ok(mine.SCHEMA_PATCHES.every((p) => p.why.length > 0), 'each patch says why');
});

/** A config that shows one relaxation: the spec's schemas refuse it, at `at`. */
type JsonObject = { [k: string]: Json };
const minimal = (): JsonObject => ({ ociVersion: '1.0.0', root: { path: 'rootfs' } });
const withLinux = (linux: Json): JsonObject => ({ ...minimal(), linux });
const RELAXED: Record<string, { config: Json; at: string }[]> = {
  'defs-linux.json#/definitions/RootfsPropagation/enum': ['rprivate', 'rshared', 'rslave', 'runbindable'].map((v) => ({ config: withLinux({ rootfsPropagation: v }), at: '/linux/rootfsPropagation' })),
  'config-linux.json#/linux/properties/resources/properties/pids/required': [{ config: withLinux({ resources: { pids: {} } }), at: '/linux/resources/pids' }],
};

t.test('each schema patch takes configs the spec\'s schemas refuse', async (t) => {
  t.same(mine.SCHEMA_PATCHES.map((p) => `${p.file}#${p.pointer}`).sort(), Object.keys(RELAXED).sort(), 'every patch has its examples here');
  for (const [where, cases] of Object.entries(RELAXED)) {
    for (const { config, at } of cases) {
      const name = `${where}: ${JSON.stringify(config)}`;
      t.equal(spec(config)?.instancePath, at, `${name}: refused by the spec's schemas`);
      t.equal(mine.configError(config), undefined, `${name}: taken by tsrun`);
    }
  }
});

t.test('what stays refused next to each relaxation', async (t) => {
  // The spec's MUSTs stand though runc or crun take them: config.md#posix-platform-hooks
  // ("timeout MUST be greater than zero"; crun takes 0, runc fails at the hook),
  // config-linux.md#seccomp ("names MUST contain at least one entry"; both take []).
  const refused: [string, Json, string][] = [
    ['an unknown propagation (runc refuses it)', withLinux({ rootfsPropagation: 'rbogus' }), '/linux/rootfsPropagation'],
    ['a pids limit of another type', withLinux({ resources: { pids: { limit: '10' } } }), '/linux/resources/pids/limit'],
    ['a hook timeout of 0', { ...minimal(), hooks: { prestart: [{ path: '/bin/true', timeout: 0 }] } }, '/hooks/prestart/0/timeout'],
    ['a seccomp rule without names', withLinux({ seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [], action: 'SCMP_ACT_ERRNO' }] } }), '/linux/seccomp/syscalls/0/names'],
  ];
  for (const [what, config, at] of refused) {
    t.equal(mine.configError(mine.normalizeConfig(config))?.instancePath, at, `${what}: refused at ${at}`);
    t.ok(same(t, what, config), `${what}: as ajv`);
  }
});

t.test('values rewritten to the one runc and crun read them as', async (t) => {
  const unset = withLinux({ rootfsPropagation: '' });
  t.equal(spec(unset)?.instancePath, '/linux/rootfsPropagation', 'rootfsPropagation "": refused by the spec\'s schemas');
  t.same(mine.normalizeConfig(unset), withLinux({}), 'taken for unset (runc\'s mountPropagationMapping has "" for 0)');
  const device = (type: string, fileMode: number): Json => withLinux({ devices: [{ path: '/dev/x', type, major: 1, minor: 5, fileMode }] });
  t.equal(spec(device('c', 0o20666))?.instancePath, '/linux/devices/0/fileMode', 'a whole st_mode (Podman): refused by the spec\'s schemas');
  const podman = mine.normalizeConfig(device('c', 0o20666));
  t.same(podman, device('c', 0o666), 'its permission bits kept');
  t.equal(mine.configError(podman), undefined, 'and taken');
  t.equal(mine.configError(mine.normalizeConfig(device('c', 0o60666)))?.instancePath, '/linux/devices/0/fileMode', 'block-device bits on a char device stay refused');
});
