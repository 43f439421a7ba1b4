import { UsageError } from '../errors.js';

/** A flag as runc declares it: names (long first), whether it takes a value. */
export interface FlagSpec {
  names: string[];
  value: boolean;
  /** May be given more than once (`-e A -e B`): kept as a list. */
  multi?: boolean;
  hidden?: boolean;
  help?: string;
}

export interface Parsed {
  flags: Map<string, string | true | string[]>;
  args: string[];
  /** Where a value flag's (last) value is: argv[index], from offset on (`--name=value` or `--name value`). */
  valueAt: Map<string, { index: number; offset: number }>;
}

/**
 * Parses runc-style flags: `--name value`, `--name=value`, `-n value`, boolean `--name`,
 * `--name=false`. As in runc, flags end at the first positional argument (so `exec ID sh -c x`
 * keeps `-c` for the command) or at `--`.
 * The map is keyed by the flag's first (canonical) name.
 */
export function parseArgs(argv: string[], specs: FlagSpec[], command: string): Parsed {
  const byName = new Map<string, FlagSpec>();
  for (const s of specs) for (const n of s.names) byName.set(n, s);
  const flags = new Map<string, string | true | string[]>();
  const valueAt = new Map<string, { index: number; offset: number }>();
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a.length < 2 || a[0] !== '-') {
      args.push(...argv.slice(i));
      break;
    }
    const eq = a.indexOf('=');
    const name = a.replace(/^--?/, '').slice(0, eq < 0 ? undefined : eq - (a.startsWith('--') ? 2 : 1));
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`flag provided but not defined: -${name}`, command);
    const key = spec.names[0]!;
    if (spec.value) {
      let v: string | undefined;
      if (eq >= 0) v = a.slice(eq + 1);
      else v = argv[++i];
      if (v === undefined) throw new UsageError(`flag needs an argument: -${name}`, command);
      valueAt.set(key, { index: i, offset: eq >= 0 ? eq + 1 : 0 });
      if (spec.multi) {
        const prev = flags.get(key);
        flags.set(key, [...(Array.isArray(prev) ? prev : []), v]);
      } else {
        flags.set(key, v);
      }
    } else if (eq >= 0) {
      const v = a.slice(eq + 1);
      if (v === 'true' || v === '1') flags.set(key, true);
      else if (v === 'false' || v === '0') flags.delete(key);
      else throw new UsageError(`invalid boolean value "${v}" for -${name}`, command);
    } else {
      flags.set(key, true);
    }
  }
  return { flags, args, valueAt };
}

/** argv with the values of these flags cut out (what an exec plan's key holds: exec-plans.ts). */
export function withoutValues(argv: string[], p: Parsed, names: string[]): string[] {
  const out = [...argv];
  for (const n of names) {
    const at = p.valueAt.get(n);
    if (at) out[at.index] = out[at.index]!.slice(0, at.offset);
  }
  return out;
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function list(p: Parsed, name: string): string[] {
  const v = p.flags.get(name);
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

export function bool(p: Parsed, name: string): boolean {
  return p.flags.get(name) === true;
}

export function exactArgs(p: Parsed, n: number, command: string): void {
  if (p.args.length !== n) throw new UsageError(`"${command}" requires exactly ${n} argument(s)`, command);
}

export function minArgs(p: Parsed, n: number, command: string): void {
  if (p.args.length < n) throw new UsageError(`"${command}" requires a minimum of ${n} argument(s)`, command);
}
