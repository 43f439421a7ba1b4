// A JSON Schema draft-04 validator for the keywords the OCI schemas use, walking the schemas as
// data. Compiled to code, the same checks were 60% of the bundle, which every Node start parses,
// and their first run compiled most of it again. It reports the first error the way ajv does
// (allErrors off): same keyword order, same instancePath, message and params, and
// test/schema.ts holds it to that against ajv on fixtures and mutants.

export interface SchemaError {
  /** JSON pointer to the failing value ("" for the document). */
  instancePath: string;
  message: string;
  params: Record<string, unknown>;
}

type Schema = { [k: string]: unknown };
type Check = (v: SchemaValidator, s: Schema, base: string, d: unknown) => SchemaError | undefined;

const TYPE_OK: Record<string, (d: unknown) => boolean> = {
  string: (d) => typeof d === 'string',
  number: (d) => typeof d === 'number' && Number.isFinite(d),
  integer: (d) => typeof d === 'number' && Number.isInteger(d),
  boolean: (d) => typeof d === 'boolean',
  null: (d) => d === null,
  array: (d) => Array.isArray(d),
  object: (d) => typeof d === 'object' && d !== null && !Array.isArray(d),
};

function typeIn(types: string[], d: unknown): boolean {
  for (let i = 0; i < types.length; i++) if (TYPE_OK[types[i]!]!(d)) return true;
  return false;
}

/** RFC 6901 escaping of one path segment. */
const seg = (k: string | number): string => {
  const t = String(k);
  return t.includes('~') || t.includes('/') ? `/${t.replaceAll('~', '~0').replaceAll('/', '~1')}` : `/${t}`;
};

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => deepEqual((a as Schema)[k], (b as Schema)[k]));
}

const regexps = new Map<string, RegExp>();
function regexp(p: string): RegExp {
  let r = regexps.get(p);
  if (!r) regexps.set(p, (r = new RegExp(p, 'u')));
  return r;
}

// Keywords in ajv's order: the type-independent ones, then one group per data type, each run
// only when the data has that type. Within a group: validation keywords, then applicators.
const UNTYPED: [string, Check][] = [
  ['$ref', (v, s, base, d) => v.checkRef(s, base, d)],
  [
    'enum',
    (v, s, _b, d) => {
      const values = s.enum as unknown[];
      for (let i = 0; i < values.length; i++) if (deepEqual(values[i], d)) return undefined;
      return v.fail('must be equal to one of the allowed values', { allowedValues: s.enum });
    },
  ],
  [
    'anyOf',
    (v, s, base, d) => {
      const subs = s.anyOf as Schema[];
      let first: SchemaError | undefined;
      for (let i = 0; i < subs.length; i++) {
        const e = v.check(subs[i]!, base, d);
        if (!e) return undefined;
        first ??= e;
      }
      return first ?? v.fail('must match a schema in anyOf', {});
    },
  ],
  [
    'allOf',
    (v, s, base, d) => {
      const subs = s.allOf as Schema[];
      for (let i = 0; i < subs.length; i++) {
        const e = v.check(subs[i]!, base, d);
        if (e) return e;
      }
      return undefined;
    },
  ],
];

const GROUPS: { type: string; keywords: [string, Check][] }[] = [
  {
    type: 'number',
    keywords: [
      ['maximum', (v, s, _b, d) => ((d as number) <= (s.maximum as number) ? undefined : v.fail(`must be <= ${String(s.maximum)}`, { comparison: '<=', limit: s.maximum }))],
      ['minimum', (v, s, _b, d) => ((d as number) >= (s.minimum as number) ? undefined : v.fail(`must be >= ${String(s.minimum)}`, { comparison: '>=', limit: s.minimum }))],
    ],
  },
  {
    type: 'string',
    keywords: [
      ['pattern', (v, s, _b, d) => (regexp(s.pattern as string).test(d as string) ? undefined : v.fail(`must match pattern "${String(s.pattern)}"`, { pattern: s.pattern }))],
      // Formats are not checked (ajv's validateFormats: false, as before).
      ['format', () => undefined],
    ],
  },
  {
    type: 'array',
    keywords: [
      ['minItems', (v, s, _b, d) => ((d as unknown[]).length >= (s.minItems as number) ? undefined : v.fail(`must NOT have fewer than ${String(s.minItems)} items`, { limit: s.minItems }))],
      [
        'items',
        (v, s, base, d) => {
          const arr = d as unknown[];
          const items = s.items as Schema | Schema[];
          for (let i = 0; i < arr.length; i++) {
            const sub = Array.isArray(items) ? items[i] : items;
            if (!sub) break;
            const e = v.checkAt(i, sub, base, arr[i]);
            if (e) return e;
          }
          return undefined;
        },
      ],
    ],
  },
  {
    type: 'object',
    keywords: [
      [
        'required',
        (v, s, _b, d) => {
          const required = s.required as string[];
          for (let i = 0; i < required.length; i++) {
            const k = required[i]!;
            if ((d as Schema)[k] === undefined) return v.fail(`must have required property '${k}'`, { missingProperty: k });
          }
          return undefined;
        },
      ],
      [
        'additionalProperties',
        (v, s, base, d) => {
          const p = planOf(s);
          // for-in, not Object.keys: no array per object (JSON.parse's objects have no inherited keys)
          for (const k in d as Schema) {
            if (p.propKeys.includes(k) || matchesAny(p.patterns, k)) continue;
            if (s.additionalProperties === false) return v.fail('must NOT have additional properties', { additionalProperty: k });
            if (typeof s.additionalProperties === 'object') {
              const e = v.checkAt(k, s.additionalProperties as Schema, base, (d as Schema)[k]);
              if (e) return e;
            }
          }
          return undefined;
        },
      ],
      [
        'properties',
        (v, s, base, d) => {
          const props = s.properties as Record<string, Schema>;
          const keys = planOf(s).propKeys;
          for (let i = 0; i < keys.length; i++) {
            const value = (d as Schema)[keys[i]!];
            if (value === undefined) continue;
            const e = v.checkAt(keys[i]!, props[keys[i]!]!, base, value);
            if (e) return e;
          }
          return undefined;
        },
      ],
      [
        'patternProperties',
        (v, s, base, d) => {
          const p = planOf(s);
          for (let i = 0; i < p.patterns.length; i++) {
            for (const k in d as Schema) {
              if (!p.patterns[i]!.test(k)) continue;
              const e = v.checkAt(k, p.patternSchemas[i]!, base, (d as Schema)[k]);
              if (e) return e;
            }
          }
          return undefined;
        },
      ],
    ],
  },
];

const KNOWN = new Set(['type', ...UNTYPED.map(([k]) => k), ...GROUPS.flatMap((g) => g.keywords.map(([k]) => k))]);
const UNSUPPORTED = ['not', 'oneOf', 'const', 'if', 'multipleOf', 'exclusiveMaximum', 'exclusiveMinimum', 'maxLength', 'minLength', 'maxItems', 'uniqueItems', 'additionalItems', 'contains', 'maxProperties', 'minProperties', 'propertyNames', 'dependencies'];

/** What check() does with one schema object, worked out once: validation runs it per value. */
interface Plan {
  /** A $ref with no other rule beside it is followed alone, as in ajv. */
  refOnly: boolean;
  /** Types checked before any keyword (undefined: none, or checked where their group runs). */
  earlyTypes?: string[];
  untyped: Check[];
  groups: { type: string; checks: Check[]; typeError: boolean }[];
  /** Names of `properties`, and `patternProperties` as regexps with their schemas. */
  propKeys: string[];
  patterns: RegExp[];
  patternSchemas: Schema[];
}

function matchesAny(patterns: RegExp[], k: string): boolean {
  for (let i = 0; i < patterns.length; i++) if (patterns[i]!.test(k)) return true;
  return false;
}

const plans = new WeakMap<Schema, Plan>();

function planOf(s: Schema): Plan {
  let p = plans.get(s);
  if (p) return p;
  const types = s.type === undefined ? [] : Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
  // The type is checked first, unless it is a single type whose own keywords are present: then
  // it fails where that group would run (ajv's order, which decides the first error).
  const deferred = types.length === 1 && GROUPS.some((g) => g.type === types[0] && g.keywords.some(([k]) => k in s));
  p = {
    refOnly: typeof s.$ref === 'string' && !Object.keys(s).some((k) => k !== '$ref' && KNOWN.has(k)),
    earlyTypes: types.length && !deferred ? types : undefined,
    untyped: UNTYPED.filter(([k]) => k in s).map(([, c]) => c),
    groups: GROUPS.filter((g) => g.keywords.some(([k]) => k in s)).map((g) => ({ type: g.type, checks: g.keywords.filter(([k]) => k in s).map(([, c]) => c), typeError: deferred && types[0] === g.type })),
    propKeys: Object.keys((s.properties as Schema | undefined) ?? {}),
    patterns: Object.keys((s.patternProperties as Schema | undefined) ?? {}).map(regexp),
    patternSchemas: Object.values((s.patternProperties as Record<string, Schema> | undefined) ?? {}),
  };
  plans.set(s, p);
  return p;
}

export class SchemaValidator {
  /** `files`: every schema by the file name its $refs use. */
  constructor(private readonly files: Record<string, Schema>) {}

  /** The first error of `data` against the schema in `file`, or undefined when it is valid. */
  validate(file: string, data: unknown): SchemaError | undefined {
    this.segs.length = 0;
    return this.check(this.schemaFile(file), file, data);
  }

  /**
   * Where the value being checked is: its path is made into a string only for an error. Per
   * element, `path + segment` would be most of what a validation allocates, and enough to bring
   * a garbage collection into a create.
   */
  private readonly segs: (string | number)[] = [];

  fail(message: string, params: Record<string, unknown>): SchemaError {
    let instancePath = '';
    for (let i = 0; i < this.segs.length; i++) instancePath += seg(this.segs[i]!);
    return { instancePath, message, params };
  }

  /** check() of the member `at` of the current value. */
  checkAt(at: string | number, s: Schema, base: string, d: unknown): SchemaError | undefined {
    this.segs.push(at);
    const e = this.check(s, base, d);
    this.segs.pop();
    return e;
  }

  check(s: Schema, base: string, d: unknown): SchemaError | undefined {
    const p = planOf(s);
    if (p.refOnly) return this.checkRef(s, base, d);
    if (p.earlyTypes && !typeIn(p.earlyTypes, d)) return this.fail(`must be ${p.earlyTypes.join(',')}`, { type: p.earlyTypes.join(',') });
    // Indexed loops: this code runs once or twice per process, in V8's interpreter, where for-of
    // and destructuring allocate an iterator and a result object at every step.
    for (let i = 0; i < p.untyped.length; i++) {
      const e = p.untyped[i]!(this, s, base, d);
      if (e) return e;
    }
    for (let i = 0; i < p.groups.length; i++) {
      const g = p.groups[i]!;
      if (!TYPE_OK[g.type]!(d)) {
        if (g.typeError) return this.fail(`must be ${g.type}`, { type: g.type });
        continue;
      }
      for (let j = 0; j < g.checks.length; j++) {
        const e = g.checks[j]!(this, s, base, d);
        if (e) return e;
      }
    }
    return undefined;
  }

  checkRef(s: Schema, base: string, d: unknown): SchemaError | undefined {
    let r = this.refs.get(s);
    if (!r) this.refs.set(s, (r = this.resolve(s.$ref as string, base)));
    return this.check(r.schema, r.file, d);
  }

  /** Where each `$ref` leads, by the schema object holding it: an object is in one file, so its base is fixed. */
  private readonly refs = new WeakMap<Schema, { schema: Schema; file: string }>();

  private resolve(ref: string, base: string): { schema: Schema; file: string } {
    const hash = ref.indexOf('#');
    const file = hash > 0 ? ref.slice(0, hash) : hash < 0 ? ref : base;
    let s: unknown = this.schemaFile(file);
    const pointer = hash >= 0 ? ref.slice(hash + 1) : '';
    for (const part of pointer.split('/').filter(Boolean)) {
      s = (s as Schema | undefined)?.[part.replaceAll('~1', '/').replaceAll('~0', '~')];
    }
    if (!s || typeof s !== 'object') throw new Error(`schema: unresolved $ref ${ref} in ${base}`);
    return { schema: s as Schema, file };
  }

  private schemaFile(name: string): Schema {
    const s = this.files[name];
    if (!s) throw new Error(`schema: no schema file ${name}`);
    return s;
  }
}

/** Where a schema uses a keyword this validator does not implement and would skip (test/schema.ts wants none). */
export function unsupportedKeywords(s: unknown, where: string): string[] {
  if (!s || typeof s !== 'object') return [];
  if (Array.isArray(s)) return s.flatMap((x, i) => unsupportedKeywords(x, `${where}/${i}`));
  const named = where.endsWith('/properties') || where.endsWith('/definitions') || where.endsWith('/patternProperties');
  return Object.entries(s as Schema).flatMap(([k, v]) => [...(UNSUPPORTED.includes(k) && !named ? [`${where}/${k}`] : []), ...unsupportedKeywords(v, `${where}/${k}`)]);
}
