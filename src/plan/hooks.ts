import type { Config } from '../spec/load.js';
import { stateTemplate, type StateInfo } from '../hooks/state.js';
import { validateHooks } from '../hooks/run.js';
import type { PlanRecord } from './encode.js';

/**
 * The hook records of the plan (docs/PLAN-FORMAT.md): createContainer and startContainer hooks
 * run in the container's namespaces, so the C core runs them; prestart and createRuntime run
 * here, at the `hooks` sync step the C core stops at when the plan has `hooks_sync`.
 */
export function planHooks(cfg: Config): PlanRecord[] {
  const h = cfg.hooks;
  validateHooks(h);
  const out: PlanRecord[] = [];
  if (h?.prestart?.length || h?.createRuntime?.length) out.push(['hooks_sync']);
  for (const phase of ['createContainer', 'startContainer'] as const) {
    for (const k of h?.[phase] ?? []) {
      const args = k.args ?? [];
      out.push(['hook', phase, k.path, k.timeout ?? 0, args.length, ...args, ...(k.env ?? [])]);
    }
  }
  return out;
}

/** The `state` record, needed by hooks the C core runs. */
export function planState(s: StateInfo): PlanRecord {
  return ['state', ...stateTemplate(s)];
}
