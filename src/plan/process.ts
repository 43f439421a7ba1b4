import { TsrunError } from '../errors.js';
import type { Config } from '../spec/load.js';
import { capNumbers, checkBounding } from './capabilities.js';
import type { PlanRecord } from './encode.js';

const RLIMITS = ['CPU', 'FSIZE', 'DATA', 'STACK', 'CORE', 'RSS', 'NPROC', 'NOFILE', 'MEMLOCK', 'AS', 'LOCKS', 'SIGPENDING', 'MSGQUEUE', 'NICE', 'RTPRIO', 'RTTIME'];
const SCHED_POLICY: Record<string, number> = { SCHED_OTHER: 0, SCHED_FIFO: 1, SCHED_RR: 2, SCHED_BATCH: 3, SCHED_ISO: 4, SCHED_IDLE: 5, SCHED_DEADLINE: 6 };
const SCHED_FLAG: Record<string, number> = { SCHED_FLAG_RESET_ON_FORK: 0x1, SCHED_FLAG_RECLAIM: 0x2, SCHED_FLAG_DL_OVERRUN: 0x4, SCHED_FLAG_KEEP_POLICY: 0x8, SCHED_FLAG_KEEP_PARAMS: 0x10, SCHED_FLAG_UTIL_CLAMP_MIN: 0x20, SCHED_FLAG_UTIL_CLAMP_MAX: 0x40 };
const IOPRIO_CLASS: Record<string, number> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };
const PERSONALITY: Record<string, number> = { LINUX: 0x0, LINUX32: 0x8 };
const MPOL_MODE: Record<string, number> = { MPOL_DEFAULT: 0, MPOL_PREFERRED: 1, MPOL_BIND: 2, MPOL_INTERLEAVE: 3, MPOL_LOCAL: 4, MPOL_PREFERRED_MANY: 5, MPOL_WEIGHTED_INTERLEAVE: 6 };
const MPOL_FLAG: Record<string, number> = { MPOL_F_NUMA_BALANCING: 1 << 13, MPOL_F_RELATIVE_NODES: 1 << 14, MPOL_F_STATIC_NODES: 1 << 15 };
const CPU_LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

type Process = NonNullable<Config['process']>;

export interface ProcessPlanOptions {
  /** Extra environment (LISTEN_FDS...) appended after the config's. */
  extraEnv: string[];
  /** The user namespace has setgroups "deny" (rootless): setgroups(2) would fail, so it is left out. */
  setgroupsDenied?: boolean;
}

/** config.md#process and the Linux process fields of config-linux.md, as plan records. */
export function planProcess(p: Process, cfg: Config, opts: ProcessPlanOptions): PlanRecord[] {
  const out: PlanRecord[] = [];
  if (!p.args?.length) throw new TsrunError('process.args: must not be empty');
  if (!p.cwd.startsWith('/')) throw new TsrunError(`process.cwd: must be an absolute path: ${p.cwd}`);

  if (p.execCPUAffinity?.initial) out.push(['cpu_affinity', 'initial', cpuList(p.execCPUAffinity.initial, 'process.execCPUAffinity.initial')]);

  const seenRl = new Set<string>();
  (p.rlimits ?? []).forEach((r, i) => {
    const name = r.type.replace(/^RLIMIT_/, '');
    const num = RLIMITS.indexOf(name);
    if (num < 0 || !r.type.startsWith('RLIMIT_')) throw new TsrunError(`process.rlimits[${i}].type: unknown rlimit "${r.type}"`);
    if (seenRl.has(name)) throw new TsrunError(`process.rlimits[${i}].type: "${r.type}" is listed more than once`);
    if (BigInt(r.soft) > BigInt(r.hard)) throw new TsrunError(`process.rlimits[${i}]: soft limit ${r.soft} is above hard limit ${r.hard}`);
    seenRl.add(name);
    out.push(['rlimit', num, BigInt(r.soft), BigInt(r.hard)]);
  });
  if (p.oomScoreAdj !== undefined) {
    if (p.oomScoreAdj < -1000 || p.oomScoreAdj > 1000) throw new TsrunError(`process.oomScoreAdj: must be within -1000..1000: ${p.oomScoreAdj}`);
    out.push(['oom_score_adj', p.oomScoreAdj]);
  }
  const pers = cfg.linux?.personality;
  if (pers) {
    const v = pers.domain === undefined ? undefined : PERSONALITY[pers.domain];
    if (v === undefined) throw new TsrunError(`linux.personality.domain: unknown domain "${pers.domain}"`);
    if (pers.flags?.length) throw new TsrunError(`linux.personality.flags: no flags are supported: ${pers.flags.join(', ')}`);
    out.push(['personality', v]);
  }
  if (p.scheduler) {
    const s = p.scheduler;
    let flags = 0;
    for (const f of s.flags ?? []) flags |= SCHED_FLAG[f] ?? 0;
    const policy = SCHED_POLICY[s.policy]!;
    if ((s.nice ?? 0) < -20 || (s.nice ?? 0) > 19) throw new TsrunError(`process.scheduler.nice: must be within -20..19: ${s.nice}`);
    if ((policy === 1 || policy === 2) && !(s.priority && s.priority >= 1 && s.priority <= 99)) throw new TsrunError(`process.scheduler.priority: ${s.policy} needs a priority within 1..99`);
    out.push(['scheduler', policy, s.nice ?? 0, s.priority ?? 0, flags, s.runtime ?? 0, s.deadline ?? 0, s.period ?? 0]);
  }
  if (p.ioPriority) {
    const prio = p.ioPriority.priority ?? 0;
    if (prio < 0 || prio > 7) throw new TsrunError(`process.ioPriority.priority: must be within 0..7: ${prio}`);
    out.push(['ioprio', IOPRIO_CLASS[p.ioPriority.class]!, prio]);
  }
  const mp = cfg.linux?.memoryPolicy;
  if (mp) {
    if (!mp.mode) throw new TsrunError('linux.memoryPolicy.mode: must be set');
    let flags = 0;
    for (const f of mp.flags ?? []) flags |= MPOL_FLAG[f] ?? 0;
    const nodes = mp.nodes ?? '';
    if (nodes && !CPU_LIST.test(nodes)) throw new TsrunError(`linux.memoryPolicy.nodes: invalid node list "${nodes}"`);
    if ((mp.mode === 'MPOL_DEFAULT' || mp.mode === 'MPOL_LOCAL') && nodes) throw new TsrunError(`linux.memoryPolicy.nodes: must be empty for ${mp.mode}`);
    if (!['MPOL_DEFAULT', 'MPOL_LOCAL', 'MPOL_PREFERRED'].includes(mp.mode) && !nodes) throw new TsrunError(`linux.memoryPolicy.nodes: ${mp.mode} needs nodes`);
    out.push(['mempolicy', MPOL_MODE[mp.mode]!, flags, nodes]);
  }

  const u = p.user ?? {};
  if (u.username) throw new TsrunError('process.user.username: only numeric uid/gid are supported on Linux');
  if (u.umask !== undefined) out.push(['umask', u.umask]);
  out.push(['cwd', p.cwd]);
  const env = p.env ?? [];
  // As runc's populateProcessEnvironment: NAME=VALUE with a name, and no NUL (which would also
  // cut a plan field).
  env.forEach((e, i) => {
    if (e.indexOf('=') < 1) throw new TsrunError(`process.env[${i}]: not NAME=VALUE: ${JSON.stringify(e)}`);
    if (e.includes('\0')) throw new TsrunError(`process.env[${i}]: contains a NUL byte: ${JSON.stringify(e)}`);
  });
  // As runc: a HOME the env lacks or leaves empty (the last one counts, as Go's os.Setenv leaves
  // it) is the user's home in the container's /etc/passwd, or "/".
  const home = env.filter((e) => e.startsWith('HOME=')).pop();
  if (home === undefined || home === 'HOME=') {
    out.push(['env', ...env.filter((e) => !e.startsWith('HOME=')), ...opts.extraEnv]);
    out.push(['home', u.uid ?? 0]);
  } else {
    out.push(['env', ...env, ...opts.extraEnv]);
  }
  out.push(['args', ...p.args]);
  // groups/user/caps are applied last in the child (after the exec fifo), in this order.
  if (!opts.setgroupsDenied) out.push(['groups', ...(u.additionalGids ?? [])]);
  else if (u.additionalGids?.length) throw new TsrunError('process.user.additionalGids: cannot set any additional groups in a rootless container (setgroups is denied in its user namespace)');
  out.push(['user', u.uid ?? 0, u.gid ?? 0]);
  const caps = p.capabilities ?? {};
  for (const set of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const) {
    const nums = capNumbers(caps[set] ?? [], `process.capabilities.${set}`);
    checkBounding(set, nums, `process.capabilities.${set}`);
    out.push(['caps', set, ...nums]);
  }
  if (p.noNewPrivileges) out.push(['no_new_privs']);
  if (p.execCPUAffinity?.final) out.push(['cpu_affinity', 'final', cpuList(p.execCPUAffinity.final, 'process.execCPUAffinity.final')]);
  return out;
}

function cpuList(v: string, field: string): string {
  if (!CPU_LIST.test(v)) throw new TsrunError(`${field}: invalid cpu list "${v}"`);
  return v;
}
