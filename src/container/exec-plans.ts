// Saved exec plans: the front end runs an exec again without Node when everything the plan was
// decided from is the same, byte for byte (docs/STATE-FORMAT.md#exec-plans). A probe that runs
// the same command every few seconds then costs a C program, not a Node start. TypeScript still
// makes every decision: it writes a plan only after tsrun-init took it, and the front end
// replays one only for the same inputs.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadNative } from '../native/addon.js';
import { containerDir } from '../state/paths.js';
import { log } from '../cli/log.js';
import { initBinary } from './launch.js';
import { euid, runningInUserNs } from '../util/rootless.js';
import { runtimeBoundingSet } from '../plan/capabilities.js';

export const EXEC_PLANS_DIR = 'exec-plans';
/** A container keeps the plans of its last this many different execs. */
const MAX_PLANS = 16;

/** What an exec's plan is decided from, besides this build and this boot. */
export interface ExecInputs {
  /** state.json and the saved config.json, as read. */
  state: Buffer;
  config: Buffer;
  /** The --process file, as read. */
  process?: Buffer;
  /** exec's arguments (after `exec`), with the values of --pid-file and --process cut out. */
  argv: string[];
  /** The caller's cwd, when the plan holds a path resolved against it (a relative --console-socket). */
  cwd?: string;
}

function stamp(path: string): string {
  const st = statSync(path, { bigint: true });
  return `${st.size} ${st.mtimeNs}`;
}

/**
 * The key text (docs/STATE-FORMAT.md#exec-plans; csrc/front/exec_plan.c builds the same bytes).
 * Host facts a plan depends on are constant for a boot (cap_last_cap), for the caller's mount
 * namespace (which LSMs are mounted), or named here (the caller's bounding set).
 */
export function execPlanKey(i: ExecInputs): Buffer {
  const parts: (string | Buffer)[] = [
    'tsrun exec plan 1\n',
    `bundle ${stamp(join(__dirname, 'tsrun-main.js'))}\n`,
    `init ${stamp(initBinary())}\n`,
    `boot ${readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim()}\n`,
    // which LSMs are on is read from the mounts the caller sees (lsm.ts)
    `mntns ${statSync('/proc/self/ns/mnt').ino}\n`,
    // as /proc/self/status shows it; read once per process (capabilities.ts)
    `capbnd ${runtimeBoundingSet().toString(16).padStart(16, '0')}\n`,
  ];
  const field = (name: string, data: Buffer | undefined): void => {
    if (data) parts.push(`${name} ${data.length}\n`, data, '\n');
    else parts.push(`${name} -\n`);
  };
  field('state', i.state);
  field('config', i.config);
  field('process', i.process);
  field('cwd', i.cwd === undefined ? undefined : Buffer.from(i.cwd));
  parts.push(`argv ${i.argv.length}\n`);
  for (const a of i.argv) {
    const b = Buffer.from(a);
    parts.push(`${b.length}\n`, b, '\n');
  }
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)));
}

/**
 * Whether the front end could ever use a plan saved now: it serves root in the initial user
 * namespace only, and test-only variables change what a plan is (TSRUN_TEST_FORCE_LSM, TSRUN_INIT...).
 */
function usable(): boolean {
  if (euid() !== 0 || runningInUserNs()) return false;
  return !Object.keys(process.env).some((k) => k.startsWith('TSRUN_') && !k.startsWith('TSRUN_FRONT_'));
}

/** Makes room for one more plan: a container that outlives upgrades would otherwise keep only plans no build can use. */
function evictOldest(dir: string): void {
  const names = readdirSync(dir);
  if (names.length < MAX_PLANS) return;
  let oldest = '';
  let oldestMs = Infinity;
  for (let i = 0; i < names.length; i++) {
    const ms = statSync(join(dir, names[i]!)).mtimeMs;
    if (ms < oldestMs) [oldest, oldestMs] = [names[i]!, ms];
  }
  rmSync(join(dir, oldest), { force: true });
}

/**
 * Keeps a plan tsrun-init has taken, as `<container dir>/exec-plans/<FNV-1a of the key>`.
 * Never fails the exec: the plan is only a shortcut for the next one.
 */
export function saveExecPlan(root: string, id: string, key: Buffer, o: { detach: boolean; preserveFds: number }, plan: Buffer): void {
  if (!usable()) return;
  const dir = join(containerDir(root, id), EXEC_PLANS_DIR);
  const file = join(dir, loadNative().fnv1a64(key));
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    try {
      // Not recursive: a container deleted meanwhile must not get its dir back.
      mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    evictOldest(dir);
    const tail = `detach ${o.detach ? 1 : 0}\npreserve-fds ${o.preserveFds}\nplan ${plan.length}\n`;
    writeFileSync(tmp, Buffer.concat([key, Buffer.from(tail), plan]), { mode: 0o600, flag: 'wx' });
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    log('debug', `exec plan not saved: ${(e as Error).message}`);
  }
}
