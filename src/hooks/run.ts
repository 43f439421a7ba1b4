// Hooks the runtime runs itself (config.md#posix-platform-hooks): prestart, createRuntime,
// poststart, poststop — in the runtime namespace, with the state on stdin.
import { childProcess } from '../util/child-process.js';
import { TsrunError } from '../errors.js';
import type { Config } from '../spec/load.js';
import { stateJson, type StateInfo } from './state.js';

export type Hooks = NonNullable<Config['hooks']>;
export type HookPhase = keyof Hooks;
type Hook = NonNullable<Hooks[HookPhase]>[number];

/** Output kept from a failed hook for its error message. */
const TAIL = 400;

function describe(phase: string, i: number, h: Hook): string {
  return `${phase} hook ${i} (${h.path})`;
}

/**
 * Where a hook runs and with what environment, as runc 1.1's Hook.Run: `env` exactly when the
 * hook has one (even empty), else the runtime's own; the runtime's working directory, which
 * runc's create and run have moved to the bundle (`cwd`), and delete has not.
 */
export interface HookContext {
  cwd?: string;
}

/** Runs one hook; returns an error message, or undefined when it exited 0. */
function runOne(phase: string, i: number, h: Hook, state: string, ctx: HookContext): string | undefined {
  const args = h.args?.length ? h.args : [h.path];
  const r = childProcess().spawnSync(h.path, args.slice(1), {
    argv0: args[0],
    input: state,
    // explicit: in the warm server process.cwd() is the caller's, the process's own is not
    cwd: ctx.cwd ?? process.cwd(),
    env: h.env ? Object.fromEntries(h.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])) : process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: h.timeout ? h.timeout * 1000 : undefined,
    killSignal: 'SIGKILL',
    maxBuffer: 1 << 20,
  });
  const out = `${r.stdout?.toString() ?? ''}${r.stderr?.toString() ?? ''}`.trim().slice(-TAIL);
  const tail = out ? `: ${out}` : '';
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') return `${describe(phase, i, h)} timed out after ${h.timeout} s`;
  // EPIPE: the hook exited without reading all of the state (allowed); its status decides.
  if (r.error && (r.error as NodeJS.ErrnoException).code !== 'EPIPE') return `${describe(phase, i, h)}: ${r.error.message}`;
  if (r.signal) return `${describe(phase, i, h)} killed by ${r.signal}${tail}`;
  if (r.status !== 0) return `${describe(phase, i, h)} exited with status ${r.status}${tail}`;
  return undefined;
}

/** Runs the hooks of a phase in order; the first failure throws (create, start). */
export function runHooks(hooks: Hooks | undefined, phase: HookPhase, state: string, ctx: HookContext = {}): void {
  (hooks?.[phase] ?? []).forEach((h, i) => {
    const err = runOne(phase, i, h, state, ctx);
    if (err) throw new TsrunError(err);
  });
}

/**
 * prestart then createRuntime, while pid 1 waits before pivot_root (create) or CRIU waits with
 * the restored tree's namespaces made (restore, src/criu/action.ts). prestart gets "created"
 * (the lifecycle runs it after step 2, and runtime-tools checks for it), createRuntime
 * "creating" (runc's choice for both at create; at restore runc says "stopped", its
 * container's state then).
 */
export function runCreateHooks(hooks: Hooks | undefined, info: StateInfo, pid: number, ctx: HookContext): void {
  runHooks(hooks, 'prestart', stateJson(info, 'created', pid), ctx);
  runHooks(hooks, 'createRuntime', stateJson(info, 'creating', pid), ctx);
}

/** Runs every hook of a phase; failures are handed to `warn` and the rest still run (poststop). */
export function runHooksWarn(hooks: Hooks | undefined, phase: HookPhase, state: string, warn: (m: string) => void, ctx: HookContext = {}): void {
  (hooks?.[phase] ?? []).forEach((h, i) => {
    const err = runOne(phase, i, h, state, ctx);
    if (err) warn(err);
  });
}

/** Checks what the schema leaves open: absolute paths, positive timeouts. */
export function validateHooks(hooks: Hooks | undefined): void {
  for (const [phase, list] of Object.entries(hooks ?? {})) {
    (list ?? []).forEach((h, i) => {
      if (!h.path.startsWith('/')) throw new TsrunError(`hooks.${phase}[${i}].path: must be absolute: ${h.path}`);
      if (h.timeout !== undefined && !(Number.isInteger(h.timeout) && h.timeout > 0)) throw new TsrunError(`hooks.${phase}[${i}].timeout: must be a positive integer: ${h.timeout}`);
      (h.env ?? []).forEach((e, k) => {
        if (!e.includes('=')) throw new TsrunError(`hooks.${phase}[${i}].env[${k}]: not KEY=VALUE: ${e}`);
      });
    });
  }
}

/**
 * The kinds of hook that run after create, saved in state.json (stateVersion 1 keeps the field:
 * a state dir written by an earlier build, whose C front end read it, stays valid).
 */
export function laterHooks(hooks: Hooks | undefined): ('startContainer' | 'poststart' | 'poststop')[] | undefined {
  const kinds = (['startContainer', 'poststart', 'poststop'] as const).filter((k) => hooks?.[k]?.length);
  return kinds.length ? [...kinds] : undefined;
}
