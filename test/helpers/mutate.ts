// Seeded mutations of config.json values and of command lines, for test/fuzz.ts.

/** mulberry32: small, fast and reproducible from one 32-bit seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export class Gen {
  constructor(readonly r: () => number, readonly marker: string) {}

  int(n: number): number {
    return Math.floor(this.r() * n);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  /** Numbers at and past the edges of what configs hold (uint32, int64, floats). */
  number(): number {
    return this.pick([0, -1, 1, 7, 255, 256, 4095, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, -(2 ** 31) - 1, 2 ** 53 + 2, -(2 ** 63), 1e308, -1e308, 0.5, -0.25, 1e-300]);
  }

  /** Strings: huge, unicode, control characters, bogus paths and near-valid words. */
  string(): string {
    const m = this.marker;
    return this.pick([
      '',
      ' ',
      'x'.repeat(1 << 16),
      '/'.repeat(5000),
      `/${m}/`.repeat(800),
      'é中文😀',
      '\u202eevil',
      '\ud800',
      'a\nb',
      'a\u0000b',
      '\t',
      '/',
      '.',
      '..',
      '../../../../../../tmp',
      `/../../${m}-escape`,
      'relative/path',
      `/nonexistent-${m}/x`,
      '/proc/self/fd/0',
      '/dev/null',
      '/proc/sys/kernel/core_pattern',
      '/sys/fs/cgroup',
      `/${m}//./a/../b/`,
      'rbind',
      'ro,nosuid',
      'SCMP_ACT_KILL',
      'SCMP_ARCH_NOPE',
      'CAP_NOPE',
      'CAP_SYS_ADMIN',
      'RLIMIT_NOPE',
      'tmpfs',
      'bind',
      'proc',
      'network',
      'user',
      'nope',
      '0',
      '-1',
      '1e9',
      'true',
      '{}',
      '%s%n%x',
      '$(id)',
      `${m}=1`,
    ]);
  }

  scalar(): Json {
    switch (this.int(5)) {
      case 0:
        return this.number();
      case 1:
        return this.string();
      case 2:
        return this.r() < 0.5;
      case 3:
        return null;
      default:
        return this.int(2) ? [] : {};
    }
  }

  /** A value of a different JSON type than `v`. */
  otherType(v: Json): Json {
    for (;;) {
      const c = this.pick<Json>([0, this.number(), this.string(), true, null, [], {}, [this.scalar()], { [this.string().slice(0, 20)]: this.scalar() }]);
      if (kind(c) !== kind(v)) return c;
    }
  }
}

function kind(v: Json): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

type Slot = { parent: Json[] | { [k: string]: Json }; key: number | string; value: Json };

/** Every (parent, key) in the tree, the root's children first. */
function slots(v: Json, out: Slot[] = []): Slot[] {
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      out.push({ parent: v, key: i, value: x });
      slots(x, out);
    });
  } else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.push({ parent: v, key: k, value: x });
      slots(x, out);
    }
  }
  return out;
}

function containers(v: Json, out: (Json[] | { [k: string]: Json })[] = []): (Json[] | { [k: string]: Json })[] {
  if (Array.isArray(v)) {
    out.push(v);
    v.forEach((x) => containers(x, out));
  } else if (v && typeof v === 'object') {
    out.push(v);
    Object.values(v).forEach((x) => containers(x, out));
  }
  return out;
}

function set(s: Slot, v: Json): void {
  (s.parent as Record<string | number, Json>)[s.key] = v;
}

function remove(s: Slot): void {
  if (Array.isArray(s.parent)) s.parent.splice(s.key as number, 1);
  else delete s.parent[s.key as string];
}

/** Fields where a bad value matters most: picked half of the time so deep ones get reached. */
const HOT = ['process', 'process.args', 'process.user', 'process.user.uid', 'process.capabilities', 'process.rlimits', 'process.env', 'process.cwd', 'process.oomScoreAdj', 'mounts', 'root', 'root.path', 'hostname', 'linux', 'linux.namespaces', 'linux.resources', 'linux.resources.memory', 'linux.resources.pids', 'linux.resources.devices', 'linux.cgroupsPath', 'linux.seccomp', 'linux.seccomp.syscalls', 'linux.maskedPaths', 'linux.readonlyPaths', 'linux.sysctl', 'linux.uidMappings', 'linux.devices', 'annotations', 'hooks', 'ociVersion'];

function at(cfg: Json, path: string): Slot | undefined {
  let parent: Json = cfg;
  const keys = path.split('.');
  for (let i = 0; i < keys.length - 1; i++) {
    if (!parent || typeof parent !== 'object' || Array.isArray(parent)) return undefined;
    parent = parent[keys[i]!] ?? null;
  }
  if (!parent || typeof parent !== 'object' || Array.isArray(parent)) return undefined;
  const key = keys[keys.length - 1]!;
  return { parent, key, value: parent[key] ?? null };
}

/** One mutation of `cfg` in place; returns what it did. */
export function mutate(g: Gen, cfg: Json): string {
  const all = slots(cfg);
  let s: Slot | undefined = g.r() < 0.5 ? at(cfg, g.pick(HOT)) : undefined;
  if (!s) s = all.length ? g.pick(all) : undefined;
  if (!s) return 'nothing';
  const where = `${String(s.key)}`;
  // Most of the time keep the type, so that the mutant passes the schema and reaches deeper code.
  if (g.r() < 0.6) {
    const v = s.value;
    if (typeof v === 'number') {
      set(s, g.r() < 0.5 ? g.number() : g.pick([v + 1, v - 1, -v, v * 65536, v + 0.5]));
      return `number ${where}`;
    }
    if (typeof v === 'string') {
      set(s, g.r() < 0.5 ? g.string() : g.pick([v + '\u0000', v.toUpperCase(), `${v}/..`, `${v}${'a'.repeat(5000)}`, v.slice(1), `../${v}`]));
      return `string ${where}`;
    }
    if (typeof v === 'boolean') {
      set(s, !v);
      return `flip ${where}`;
    }
    if (Array.isArray(v) && v.length) {
      if (g.r() < 0.5) v.splice(g.int(v.length), 1);
      else v.push(JSON.parse(JSON.stringify(g.pick(v))) as Json);
      return `resize ${where}`;
    }
  }
  switch (g.int(9)) {
    case 0:
      remove(s);
      return `delete ${where}`;
    case 1:
      set(s, g.otherType(s.value));
      return `retype ${where}`;
    case 2:
      set(s, g.number());
      return `number ${where}`;
    case 3:
      set(s, g.string());
      return `string ${where}`;
    case 4: {
      // duplicate an array entry (two identical mounts, namespaces, rlimits...)
      const arrays = containers(cfg).filter((c): c is Json[] => Array.isArray(c) && c.length > 0);
      if (!arrays.length) return 'nothing';
      const a = g.pick(arrays);
      a.push(JSON.parse(JSON.stringify(g.pick(a))) as Json);
      return 'duplicate entry';
    }
    case 5: {
      const objs = containers(cfg).filter((c): c is { [k: string]: Json } => !Array.isArray(c));
      g.pick(objs)[`${g.marker}Unknown`] = g.scalar();
      return 'unknown field';
    }
    case 6:
      if (Array.isArray(s.value)) {
        s.value.push(g.scalar());
        return `append to ${where}`;
      }
      set(s, [s.value, g.scalar()]);
      return `wrap ${where}`;
    case 7:
      if (typeof s.value === 'number') {
        set(s, g.pick([s.value + 1, -s.value, s.value * 65536, s.value + 0.5]));
        return `nudge ${where}`;
      }
      set(s, g.number());
      return `number ${where}`;
    default:
      if (typeof s.value === 'string') {
        set(s, g.pick([s.value + '\u0000', s.value.toUpperCase(), s.value + '/..', `${s.value}${'a'.repeat(5000)}`, s.value.slice(1)]));
        return `edit string ${where}`;
      }
      set(s, g.string());
      return `string ${where}`;
  }
}

// No `spec`: it writes config.json wherever --bundle points.
const COMMANDS = ['create', 'start', 'state', 'kill', 'delete', 'run', 'list', 'features', 'exec', 'pause', 'resume', 'ps', 'update', 'events', 'nope', '', '--', '-'];
const FLAGS = ['--force', '-f', '--all', '-a', '--preserve-fds', '--format', '--stats', '--interval', '--memory', '--pids-limit', '--cpu-quota', '-d', '--detach', '--tty', '-t', '--cwd', '--env', '-e', '--user', '-u', '--nope', '-z', '--log-format', '--help', '--cgroup-manager', '-', '--'];
/** Flags naming a file tsrun reads or writes: given paths inside the case's dir only. */
const PATH_FLAGS = ['--bundle', '-b', '--pid-file', '--console-socket', '--resources', '-r', '--process', '-p'];
const SIGNALS = ['KILL', 'SIGKILL', '9', '0', '-1', '65', '999999999999', 'SIGFOO', 'sigterm', 'TERM', 'RTMIN+3', '', ' ', 'SIG', '1.5', 'USR1'];

/**
 * A command line for a container `id` (made by the caller) or for nothing. Never one that is
 * meant to run until stopped (events without --stats, a foreground run of a long process).
 */
export function commandLine(g: Gen, id: string, bundle: string): string[] {
  const argv: string[] = [];
  const cmd = g.pick(COMMANDS);
  if (cmd) argv.push(cmd);
  const n = g.int(4);
  for (let i = 0; i < n; i++) {
    if (g.r() < 0.4) {
      argv.push(g.pick(PATH_FLAGS));
      if (g.r() < 0.9) argv.push(g.pick([bundle, `${bundle}/config.json`, `${bundle}/${g.marker}-new`, `${bundle}/nonexistent/x`, `${bundle}/rootfs`]));
      continue;
    }
    argv.push(g.pick(FLAGS));
    if (g.r() < 0.6) argv.push(g.pick([g.string().slice(0, 200), String(g.number()), 'json', 'table', '1s', '-1', id]));
  }
  const args = g.int(3);
  for (let i = 0; i < args; i++) argv.push(g.pick([id, `${g.marker}-none`, g.string().slice(0, 300), ...SIGNALS]));
  if (cmd === 'kill' && g.r() < 0.7) argv.push(g.pick(SIGNALS));
  // A stream that is right to run forever, or a foreground container that waits on its stdin.
  if (argv[0] === 'events' && !argv.includes('--stats')) argv.push('--stats');
  if (argv[0] === 'run' || argv[0] === 'exec') argv.splice(1, 0, '-d');
  return argv;
}
