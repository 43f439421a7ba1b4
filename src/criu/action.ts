import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCreateHooks, type Hooks } from '../hooks/run.js';
import type { StateInfo } from '../hooks/state.js';
import { TsrunError } from '../errors.js';
import { ACTION_FLAG } from './action-flag.js';
import { writeErr } from '../util/stdio.js';

// The prestart and createRuntime hooks of a restore. runc runs them from CRIU's
// "setup-namespaces" notification (criuNotifications): the restored tree's namespaces exist and
// none of its tasks runs yet. The criu command line gives the same notifications to an
// --action-script, a program it runs with the action in CRTOOLS_SCRIPT_ACTION and the root
// task's pid in CRTOOLS_INIT_PID; tsrun's is a shell script that starts this code (and Node)
// only for that action.

const REQUEST = 'criu-action.json';
const SCRIPT = 'criu-action.sh';
const ERROR = 'criu-action.err';

interface Request {
  hooks: Hooks;
  info: StateInfo;
  cwd: string;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Writes the request and the script into the container's state dir and returns the script's
 * path for --action-script, or undefined when the config has none of these hooks.
 */
export function prepareHookAction(dir: string, hooks: Hooks | undefined, info: StateInfo, cwd: string): string | undefined {
  if (!hooks?.prestart?.length && !hooks?.createRuntime?.length) return undefined;
  const req: Request = { hooks: { prestart: hooks.prestart, createRuntime: hooks.createRuntime }, info, cwd };
  const script = join(dir, SCRIPT);
  try {
    writeFileSync(join(dir, REQUEST), JSON.stringify(req), { mode: 0o600 });
    writeFileSync(script, [
      '#!/bin/sh',
      '# tsrun restore: criu runs this at each step of the restore (--action-script)',
      '[ "$CRTOOLS_SCRIPT_ACTION" = setup-namespaces ] || exit 0',
      'unset NODE_EXTRA_CA_CERTS',
      // the loader (dist/tsrun.js, src/boot.ts) beside this bundle runs it
      `exec ${quote(process.execPath)} ${quote(join(__dirname, 'tsrun.js'))} ${ACTION_FLAG} ${quote(join(dir, REQUEST))}`,
      '',
    ].join('\n'), { mode: 0o700 });
  } catch (e) {
    throw new TsrunError(`write ${script}: ${(e as Error).message}`);
  }
  return script;
}

/**
 * After criu: removes the action's files from the state dir and returns the hook's error, if the
 * action wrote one, for the restore to report.
 */
export function endHookAction(dir: string): string | undefined {
  let err: string | undefined;
  try {
    err = readFileSync(join(dir, ERROR), 'utf8') || undefined;
  } catch {
    err = undefined;
  }
  for (const f of [REQUEST, SCRIPT, ERROR]) rmSync(join(dir, f), { force: true });
  return err;
}

/** The action itself, in the process criu starts: prestart, then createRuntime, with the restored root task's pid. */
export function runHookAction(requestFile: string): number {
  const given = process.env.CRTOOLS_INIT_PID ?? '';
  const pid = Number(given);
  // The hooks see the runtime's environment, as runc's do, not criu's additions.
  for (const k of Object.keys(process.env)) if (k.startsWith('CRTOOLS_')) delete process.env[k];
  let req: Request;
  try {
    req = JSON.parse(readFileSync(requestFile, 'utf8')) as Request;
  } catch (e) {
    writeErr(`tsrun: criu action: read ${requestFile}: ${(e as Error).message}\n`);
    return 1;
  }
  if (!Number.isInteger(pid) || pid <= 0) {
    writeErr(`tsrun: criu action: no root task pid (CRTOOLS_INIT_PID=${given})\n`);
    return 1;
  }
  try {
    runCreateHooks(req.hooks, req.info, pid, { cwd: req.cwd });
  } catch (e) {
    const msg = (e as Error).message;
    writeErr(`tsrun: ${msg}\n`);
    writeFileSync(join(requestFile, '..', ERROR), msg, { mode: 0o600 });
    return 1;
  }
  return 0;
}
