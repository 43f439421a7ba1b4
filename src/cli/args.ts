import { HelpRequested, UsageError } from '../errors.js';

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
}

/** urfave/cli gives every command `--help, -h`. */
const HELP: FlagSpec = { names: ['help', 'h'], value: false };

/** Commands whose arguments after the ID are a command line of their own (runc's SkipArgReorder). */
const KEEP_ORDER = new Set(['exec', 'ps']);

/** Go's strconv.ParseBool, which a boolean `--name=value` goes through. */
const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

function flagName(a: string): string {
  const eq = a.indexOf('=');
  return a.slice(a.startsWith('--') ? 2 : 1, eq < 0 ? undefined : eq);
}

/**
 * The order runc's command parser reads a command's arguments in (urfave/cli 1.22.9's
 * reorderArgs, which Debian's runc 1.1.5 is built with): every argument naming one of the
 * command's flags moves to the front, with the argument after it when that is not a flag
 * itself; the rest keep their order, and `--` ends the moving. As indexes into argv.
 */
function runcOrder(argv: string[], byName: Map<string, FlagSpec>): number[] {
  const isFlag = (a: string): boolean => a !== '-' && a !== '--' && a.startsWith('-') && byName.has(flagName(a));
  const front: number[] = [];
  const rest: number[] = [];
  let valueNext = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (valueNext && !isFlag(a)) {
      valueNext = false;
      front.push(i);
    } else if (a === '--') {
      return [...front, i, ...rest, ...argv.slice(i + 1).map((_, k) => i + 1 + k)];
    } else if (isFlag(a)) {
      front.push(i);
      valueNext = !a.includes('=');
    } else {
      rest.push(i);
    }
  }
  return [...front, ...rest];
}

/**
 * Parses runc-style flags as Go's flag package does: `--name value`, `--name=value`,
 * `-n value`, boolean `--name`, `--name=false`; flags end at the first positional argument or
 * at `--`. A command's flags may follow its arguments (runc's argument reordering, above) except
 * exec's and ps's, so `exec ID sh -c x` keeps `-c` for the command; the global flags (command
 * "") must come first. The map is keyed by the flag's first (canonical) name. `--help` or `-h`
 * of a command throws HelpRequested once the flags parse.
 */
export function parseArgs(argv: string[], specs: FlagSpec[], command: string): Parsed {
  const byName = new Map<string, FlagSpec>();
  for (const s of command ? [...specs, HELP] : specs) for (const n of s.names) byName.set(n, s);
  const order = command && !KEEP_ORDER.has(command) ? runcOrder(argv, byName) : argv.map((_, i) => i);
  const flags = new Map<string, string | true | string[]>();
  const args: string[] = [];
  for (let k = 0; k < order.length; k++) {
    const a = argv[order[k]!]!;
    if (a === '--') {
      args.push(...order.slice(k + 1).map((i) => argv[i]!));
      break;
    }
    if (a.length < 2 || a[0] !== '-') {
      args.push(...order.slice(k).map((i) => argv[i]!));
      break;
    }
    const eq = a.indexOf('=');
    const name = flagName(a);
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`flag provided but not defined: -${name}`, command, true);
    const key = spec.names[0]!;
    if (spec.value) {
      let v: string | undefined;
      if (eq >= 0) v = a.slice(eq + 1);
      else if (k + 1 < order.length) v = argv[order[++k]!];
      if (v === undefined) throw new UsageError(`flag needs an argument: -${name}`, command, true);
      if (spec.multi) {
        const prev = flags.get(key);
        flags.set(key, [...(Array.isArray(prev) ? prev : []), v]);
      } else {
        flags.set(key, v);
      }
    } else if (eq >= 0) {
      const v = a.slice(eq + 1);
      if (TRUE.has(v)) flags.set(key, true);
      else if (FALSE.has(v)) flags.delete(key);
      else throw new UsageError(`invalid boolean value "${v}" for -${name}: parse error`, command, true);
    } else {
      flags.set(key, true);
    }
  }
  if (command && flags.has('help')) throw new HelpRequested();
  return { flags, args };
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

export function maxArgs(p: Parsed, n: number, command: string): void {
  if (p.args.length > n) throw new UsageError(`"${command}" requires a maximum of ${n} argument(s)`, command);
}
