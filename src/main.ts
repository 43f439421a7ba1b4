import { parseArgs, str, bool, type FlagSpec, type Parsed } from './cli/args.js';
import { configureLog, debugEnabled, log } from './cli/log.js';
import { HelpRequested, TsrunError, UsageError } from './errors.js';
import { globalFlags, type Globals } from './cli/globals.js';
import { commandUsage, globalUsage } from './cli/usage.js';
import { SPEC_VERSION } from './spec/version.js';
import { defaultRoot } from './state/paths.js';
import { exitProcess } from './native/addon.js';
import { euid, rootlessCgroups, runningInUserNs } from './util/rootless.js';
import type * as WorkerThreads from 'node:worker_threads';
import { SERVER_FLAG, WORKER_FLAG } from './server/protocol.js';
import { ACTION_FLAG } from './criu/action-flag.js';
import { writeErr, writeOut } from './util/stdio.js';

declare const TSRUN_VERSION: string;

// Set by the server for its worker threads (src/server/server.ts); checked against
// node:worker_threads only then, as loading that module costs every cold call about 5 ms.
const inWorker = process.argv[2] === WORKER_FLAG && !(require('node:worker_threads') as typeof WorkerThreads).isMainThread;

export interface Command {
  flags: FlagSpec[];
  usage: string;
  run(argv: string[], g: Globals): Promise<number | void> | number | void;
}

// Each command's module is evaluated only when that command runs.
const commands: Record<string, () => Promise<Command>> = {
  create: async () => (await import('./cli/commands/create.js')).default,
  start: async () => (await import('./cli/commands/start.js')).default,
  state: async () => (await import('./cli/commands/state.js')).default,
  kill: async () => (await import('./cli/commands/kill.js')).default,
  delete: async () => (await import('./cli/commands/delete.js')).default,
  run: async () => (await import('./cli/commands/run.js')).default,
  list: async () => (await import('./cli/commands/list.js')).default,
  spec: async () => (await import('./cli/commands/spec.js')).default,
  features: async () => (await import('./cli/commands/features.js')).default,
  exec: async () => (await import('./cli/commands/exec.js')).default,
  pause: async () => (await import('./cli/commands/pause.js')).default,
  resume: async () => (await import('./cli/commands/resume.js')).default,
  ps: async () => (await import('./cli/commands/ps.js')).default,
  update: async () => (await import('./cli/commands/update.js')).default,
  events: async () => (await import('./cli/commands/events.js')).default,
  checkpoint: async () => (await import('./cli/commands/checkpoint.js')).default,
  restore: async () => (await import('./cli/commands/restore.js')).default,
};

async function main(argv: string[]): Promise<number> {
  let g: Parsed;
  try {
    g = parseArgs(argv, globalFlags, '');
  } catch (e) {
    if (e instanceof UsageError) writeOut(`Incorrect Usage. ${e.message}\n\n${globalUsage(Object.keys(commands))}`);
    throw e;
  }
  const format = str(g, 'log-format') ?? 'text';
  if (format !== 'text' && format !== 'json') throw new TsrunError(`invalid log-format: ${format}`);
  configureLog(str(g, 'log'), format, bool(g, 'debug'));
  if (inWorker) log('debug', `warm server: pid ${process.pid}`);
  if (globalThis.tsrunBoot) log('debug', `code cache: ${globalThis.tsrunBoot.note}`);
  if (bool(g, 'version')) {
    writeOut(`tsrun version ${TSRUN_VERSION}\nspec: ${SPEC_VERSION}\n`);
    return 0;
  }
  const [name, ...rest] = g.args;
  if (!name || bool(g, 'help') || name === 'help') {
    writeOut(globalUsage(Object.keys(commands)));
    return 0;
  }
  const load = commands[name];
  // urfave/cli's help command answers an unknown one, with status 3
  if (!load) throw new TsrunError(`No help topic for '${name}'`, 3);
  const cmd = await load();
  const manager = str(g, 'cgroup-manager') ?? (bool(g, 'systemd-cgroup') ? 'systemd' : 'cgroupfs');
  if (manager !== 'cgroupfs' && manager !== 'systemd' && manager !== 'disabled') throw new TsrunError(`invalid cgroup manager: ${manager} (cgroupfs, systemd or disabled)`);
  const globals: Globals = {
    root: defaultRoot(str(g, 'root'), euid(), runningInUserNs()),
    systemdCgroup: manager === 'systemd',
    cgroupManager: manager,
    rootless: str(g, 'rootless') ?? 'auto',
    rootlessCgroups: rootlessCgroups(str(g, 'rootless') ?? 'auto'),
    debug: bool(g, 'debug'),
  };
  try {
    return (await cmd.run(rest, globals)) ?? 0;
  } catch (e) {
    if (e instanceof HelpRequested) {
      writeOut(commandUsage(name, cmd));
      return 0;
    }
    if (e instanceof UsageError) writeOut(`Incorrect Usage${e.badFlag ? `: ${e.message}` : '.'}\n\n${commandUsage(name, cmd)}`);
    throw e;
  }
}

/** Runs one call and returns its exit status; errors are logged as runc words them. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (e) {
    const msg = e instanceof UsageError && e.command && !e.badFlag ? `tsrun: ${e.message}` : e instanceof Error ? e.message : String(e);
    log('error', msg);
    // An error tsrun did not word itself is a bug: its stack helps, with --debug.
    if ((debugEnabled() || process.env.TSRUN_DEBUG) && e instanceof Error) writeErr(`${e.stack}\n`);
    return e instanceof TsrunError ? e.exitCode : 1;
  }
}

if (inWorker) {
  // a worker of the warm server (src/server/worker.ts): it runs calls when asked
  void import('./server/worker.js').then((w) => w.serveCalls(runCli));
} else if (process.argv[2] === SERVER_FLAG) {
  void import('./server/server.js').then((s) => s.serve(process.argv.slice(3)));
} else if (process.argv[2] === ACTION_FLAG) {
  // criu's action script during a restore (src/criu/action.ts)
  void import('./criu/action.js').then((a) => exitProcess(a.runHookAction(process.argv[3] ?? '')));
} else {
  // Exit at once rather than letting the loop drain: nothing is pending once main settles, and
  // Node's full environment teardown is a measurable part of a short command. stdout and stderr
  // are synchronous on Linux for files, pipes and terminals, so no output is lost.
  void runCli(process.argv.slice(2)).then(exitProcess);
}
