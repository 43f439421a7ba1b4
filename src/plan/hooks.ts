import type { Config } from '../spec/load.js';
import { stateTemplate, type StateInfo } from '../hooks/state.js';
import { validateHooks } from '../hooks/run.js';
import type { PlanRecord } from './encode.js';

/**
 * The hook records of the plan (docs/PLAN-FORMAT.md): createContainer and startContainer hooks
 * run in the container's namespaces, so the C core runs them; prestart and createRuntime run
 * here, at the `hooks` sync step the C core stops at when the plan has `hooks_sync`.
 *
 * As runc 1.1 runs them from its init process: a hook without `env` gets the environment that
 * process has, the container's (createContainer before the HOME runc's setupUser adds,
 * startContainer after it); createContainer runs in the rootfs' host path (runc's chdir before
 * those hooks), startContainer in process.cwd (the C core is there by then).
 */
export function planHooks(cfg: Config, rootfs: string): PlanRecord[] {
  const h = cfg.hooks;
  validateHooks(h);
  const out: PlanRecord[] = [];
  if (h?.prestart?.length || h?.createRuntime?.length) out.push(['hooks_sync']);
  if (h?.createContainer?.length) out.push(['hooks_cwd', 'createContainer', rootfs]);
  for (const phase of ['createContainer', 'startContainer'] as const) {
    for (const k of h?.[phase] ?? []) {
      const args = k.args ?? [];
      out.push(['hook', phase, k.path, k.timeout ?? 0, args.length, ...args, ...(k.env ?? [])]);
      if (!k.env) out.push(['hook_process_env']);
    }
  }
  return out;
}

/** The `state` record, needed by hooks the C core runs. */
export function planState(s: StateInfo): PlanRecord {
  return ['state', ...stateTemplate(s)];
}
