import { compileCached } from '../seccomp/cache.js';
import { compileSeccomp } from '../seccomp/compile.js';
import { stateJson, stateTemplate, type StateInfo } from '../hooks/state.js';
import { SPEC_VERSION } from '../spec/version.js';
import type { Config } from '../spec/load.js';
import type { PlanRecord } from './encode.js';

/**
 * What the seccomp agent is told of the container (config-linux.md#containerprocessstate), as
 * runc tells it: while it is created, status `creating` and the pid of the process itself; for
 * an exec, status `running` and the pid of the container's process.
 */
export interface AgentState {
  info: StateInfo;
  /** exec: the container's pid 1 as the runtime sees it */
  containerPid?: number;
}

/**
 * The `seccomp` (and `seccomp_agent`) records; koffi and libseccomp are loaded only when there
 * is seccomp and the state root's cache does not have the program yet.
 */
export function planSeccomp(cfg: Config, debug: (m: string) => void, agent: AgentState, cacheRoot?: string): PlanRecord[] {
  const s = cfg.linux?.seccomp;
  if (!s) return [];
  const c = compileCached(s, cacheRoot, compileSeccomp);
  // A debug line, as runc: Docker's and Podman's profiles name calls newer than many libseccomps.
  if (c.skipped.length) debug(`linux.seccomp: syscalls unknown to libseccomp skipped: ${c.skipped.join(', ')}`);
  const out: PlanRecord[] = [['seccomp', c.flags, c.program.toString('hex')]];
  if (c.listener) out.push(['seccomp_agent', c.listener.path, ...agentMessage(c.listener.metadata, agent)]);
  return out;
}

/** The message cut where the process's pid goes: only the C core knows it (the parent sends it). */
function agentMessage(metadata: string | undefined, a: AgentState): string[] {
  const head = JSON.stringify({ ociVersion: SPEC_VERSION, fds: ['seccompFd'], metadata: metadata ?? '' }).slice(0, -1) + ',"pid":';
  if (a.containerPid !== undefined) return [head, `,"state":${stateJson(a.info, 'running', a.containerPid)}}`];
  const [stHead, stMid, stTail] = stateTemplate(a.info);
  return [head, `,"state":${stHead}creating${stMid}`, `${stTail}}`];
}
