// runtime.md#state as hooks receive it on stdin (and the seccomp agent in its message).
import type { Config } from '../spec/load.js';

export type HookStatus = 'creating' | 'created' | 'running' | 'stopped';

export interface StateInfo {
  ociVersion: string;
  id: string;
  bundle: string;
  annotations?: Record<string, string>;
}

/** The state's fixed part for container `id` of this config and bundle. */
export function stateInfo(cfg: Config, id: string, bundle: string): StateInfo {
  return { ociVersion: cfg.ociVersion, id, bundle, annotations: cfg.annotations as Record<string, string> | undefined };
}

export interface OciState extends StateInfo {
  status: HookStatus;
  pid?: number;
}

export function stateJson(s: StateInfo, status: HookStatus, pid: number | undefined): string {
  const o: OciState = { ociVersion: s.ociVersion, id: s.id, status, pid, bundle: s.bundle, annotations: s.annotations ?? {} };
  // runtime.md#state: pid is required while the container's process exists, absent after.
  if (pid === undefined || status === 'stopped') delete o.pid;
  return JSON.stringify(o);
}

/**
 * The plan's `state` record: the same JSON cut around status and pid, which only the C core
 * knows when it runs a hook (it learns its host pid from the parent). Key order as stateJson.
 */
export function stateTemplate(s: StateInfo): [head: string, mid: string, tail: string] {
  const json = stateJson(s, 'creating', 424242);
  const st = json.indexOf('"status":"creating"');
  const pid = json.indexOf('"pid":424242');
  return [json.slice(0, st + 10), json.slice(st + 18, pid + 6), json.slice(pid + 12)];
}
