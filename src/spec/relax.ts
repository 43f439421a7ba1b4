// Where tsrun takes a config.json the spec's JSON schemas (schemas/, runtime-spec v1.3.0) refuse:
// what runc and crun both accept and clients send, or what the spec's own text allows. Each
// relaxation is here and in docs/CONFORMANCE.md with its reason; every other rule of the schemas
// stands, and so does each one the spec makes a MUST (hook timeouts above 0, seccomp `names`
// not empty). test/schema.ts holds the validator to ajv on the spec's schemas with exactly these
// changes, and shows each one refused by the schemas as shipped.

type Schema = { [k: string]: unknown };

/** A change to one schema: the value at `pointer` (a JSON pointer into `file`) becomes `set`, or goes without it. */
export interface SchemaPatch {
  file: string;
  pointer: string;
  set?: unknown;
  why: string;
}

/**
 * Applied by scripts/gen-spec.mjs to the schemas the validator walks and the TypeScript types
 * are generated from, so both take the same configs.
 */
export const SCHEMA_PATCHES: readonly SchemaPatch[] = [
  {
    file: 'defs-linux.json',
    pointer: '/definitions/RootfsPropagation/enum',
    set: ['private', 'shared', 'slave', 'unbindable', 'rprivate', 'rshared', 'rslave', 'runbindable'],
    why: "runc (specconv's mountPropagationMapping) and crun take the recursive values, and containerd's CRI sends rslave and rshared for Kubernetes' HostToContainer and Bidirectional mounts",
  },
  {
    file: 'config-linux.json',
    pointer: '/linux/properties/resources/properties/pids/required',
    why: 'config-linux.md#pids makes limit OPTIONAL (the schema requires it); runc and crun take "pids": {}',
  },
];

/** `files` with the patches applied: the objects on each patched path are copied, the rest shared. */
export function patchSchemas(files: Record<string, Schema>): Record<string, Schema> {
  const out = { ...files };
  for (const p of SCHEMA_PATCHES) {
    const keys = p.pointer.split('/').slice(1);
    const last = keys.pop()!;
    let s = (out[p.file] = { ...out[p.file]! });
    for (const k of keys) {
      const next = s[k];
      if (!next || typeof next !== 'object') throw new Error(`schema patch: no ${p.file}#${p.pointer}`);
      s = s[k] = { ...(next as Schema) };
    }
    if (!(last in s)) throw new Error(`schema patch: no ${p.file}#${p.pointer}`);
    if ('set' in p) s[last] = p.set;
    else delete s[last];
  }
  return out;
}

const S_IFMT = 0o170000;
const TYPE_BITS: Record<string, number> = { c: 0o020000, u: 0o020000, b: 0o060000, p: 0o010000 };

/**
 * Values the schemas refuse that runc and crun read as another, valid one: rewritten to that one
 * before the config is checked. Returns `data`, changed in place.
 */
export function normalizeConfig(data: unknown): unknown {
  const linux = (data as { linux?: unknown } | null)?.linux as { rootfsPropagation?: unknown; devices?: unknown } | undefined;
  if (!linux || typeof linux !== 'object') return data;
  // runc's mountPropagationMapping has "" for "not set" (crun agrees): its default, rslave
  if (linux.rootfsPropagation === '') delete linux.rootfsPropagation;
  // Podman writes linux.devices[].fileMode as a whole st_mode (8630 = 0o20666 for a char device),
  // which the schema's 0..511 refuses; runc and crun keep the permission bits. So does tsrun,
  // but only when the extra bits are exactly the file type the entry names.
  if (Array.isArray(linux.devices)) {
    for (const d of linux.devices as { type?: unknown; fileMode?: unknown }[]) {
      if (typeof d?.fileMode !== 'number' || typeof d.type !== 'string' || d.fileMode <= 0o777) continue;
      if ((d.fileMode & S_IFMT) === TYPE_BITS[d.type] && (d.fileMode & ~(S_IFMT | 0o777)) === 0) d.fileMode &= 0o777;
    }
  }
  return data;
}
