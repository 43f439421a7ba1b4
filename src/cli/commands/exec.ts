import { readFileSync } from 'node:fs';
import { callerPath } from '../../util/caller.js';
import type { Command } from '../../main.js';
import { waitForeground } from '../../container/foreground.js';
import { parseArgs, str, bool, list, minArgs, type Parsed } from '../args.js';
import { execProcess, validateProcess, type Process } from '../../container/exec.js';
import { TsrunError, UsageError } from '../../errors.js';
import type { Globals } from '../globals.js';
import { preserveFdsOf } from './create.js';

const flags = [
  { names: ['console-socket'], value: true, help: 'path to an AF_UNIX socket which will receive the console pty master' },
  { names: ['cwd'], value: true, help: 'current working directory in the container' },
  { names: ['env', 'e'], value: true, multi: true, help: 'set environment variables' },
  { names: ['tty', 't'], value: false, help: 'allocate a pseudo-TTY' },
  { names: ['user', 'u'], value: true, help: 'UID (format: <uid>[:<gid>])' },
  { names: ['additional-gids', 'g'], value: true, multi: true, help: 'additional gids' },
  { names: ['process', 'p'], value: true, help: 'path to the process.json' },
  { names: ['detach', 'd'], value: false, help: 'detach from the container\'s process' },
  { names: ['pid-file'], value: true, help: 'specify the file to write the process id to' },
  { names: ['process-label'], value: true, help: 'set the asm process label for the process commonly used with selinux' },
  { names: ['apparmor'], value: true, help: 'set the apparmor profile for the process' },
  { names: ['no-new-privs'], value: false, help: 'set the no new privileges value for the process' },
  { names: ['cap', 'c'], value: true, multi: true, help: 'add a capability to the bounding set for the process' },
  { names: ['preserve-fds'], value: true, help: 'pass N additional file descriptors to the container' },
  { names: ['cgroup'], value: true, multi: true, help: 'run the process in an (existing) sub-cgroup(s). Format is [<controller>:]<cgroup>.' },
  { names: ['ignore-paused'], value: false, help: 'allow exec in a paused container' },
];


/** runc builds the exec'd process from the container's own process, changed by the flags. */
function processFromFlags(p: Parsed, base: Process | undefined): Process {
  if (p.args.length < 2) throw new TsrunError('exec: the command to run is missing (give it after the container ID, or use --process)');
  const proc: Process = { ...(base ?? { cwd: '/' }), args: p.args.slice(1), terminal: bool(p, 'tty') };
  delete proc.consoleSize;
  proc.env = [...(base?.env ?? []), ...list(p, 'env')];
  const cwd = str(p, 'cwd');
  if (cwd) proc.cwd = cwd;
  const user = str(p, 'user');
  if (user) {
    const m = /^(\d+)(?::(\d+))?$/.exec(user);
    if (!m) throw new TsrunError(`--user: expected <uid>[:<gid>] with numeric ids: "${user}"`);
    proc.user = { ...proc.user, uid: Number(m[1]), gid: m[2] === undefined ? proc.user?.gid ?? 0 : Number(m[2]) };
  }
  const gids = list(p, 'additional-gids');
  if (gids.length) proc.user = { ...proc.user, additionalGids: gids.map(Number) };
  if (bool(p, 'no-new-privs')) proc.noNewPrivileges = true;
  const caps = list(p, 'cap');
  if (caps.length) {
    const c = { ...proc.capabilities };
    for (const set of ['bounding', 'effective', 'permitted', 'ambient'] as const) c[set] = [...new Set([...(c[set] ?? []), ...caps])];
    proc.capabilities = c;
  }
  const aa = str(p, 'apparmor');
  if (aa) proc.apparmorProfile = aa;
  const label = str(p, 'process-label');
  if (label) proc.selinuxLabel = label;
  return proc;
}

/** Everything exec does once its arguments are read. */
function execFromArgs(p: Parsed, preserveFds: number, g: Globals): number {
  const id = p.args[0]!;
  const file = str(p, 'process');
  let proc: Process | ((base: Process | undefined) => Process);
  if (file) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(callerPath(file), 'utf8'));
    } catch (e) {
      throw new TsrunError(`read process ${file}: ${(e as Error).message}`);
    }
    // as runc: with --process the other process flags (--apparmor, --process-label...) are unused
    proc = validateProcess(raw);
  } else {
    proc = (base) => processFromFlags(p, base);
  }
  const detach = bool(p, 'detach');
  const launched = execProcess({
    root: g.root,
    id,
    process: proc,
    consoleSocket: str(p, 'console-socket'),
    pidFile: str(p, 'pid-file'),
    preserveFds,
    detach,
    ignorePaused: bool(p, 'ignore-paused'),
    subCgroups: list(p, 'cgroup'),
  });
  if (detach) return 0;
  return waitForeground(launched);
}

/**
 * As runc: once its arguments are read, an exec that fails exits 255 with "exec failed: ...",
 * a status the exec'd process's own (returned as is) can't be confused with.
 */
const EXEC_FAILED = 255;

const command: Command = {
  flags,
  usage: '[command options] <container-id> <command> [command options]  || -p process.json <container-id>',
  run(argv, g) {
    const p = parseArgs(argv, flags, 'exec');
    // Values Go's flag package would have refused: usage errors, exit 1.
    const preserveFds = preserveFdsOf(str(p, 'preserve-fds'));
    const gids = list(p, 'additional-gids');
    if (gids.some((gid) => !/^\d+$/.test(gid))) throw new UsageError(`invalid value "${gids.join(',')}" for flag -additional-gids: must be numeric`, 'exec', true);
    minArgs(p, 1, 'exec');
    try {
      return execFromArgs(p, preserveFds, g);
    } catch (e) {
      throw new TsrunError(`exec failed: ${e instanceof Error ? e.message : String(e)}`, EXEC_FAILED);
    }
  },
};
export default command;
