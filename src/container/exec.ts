import { readFileSync } from 'node:fs';
import { procsFiles } from '../cgroups/manage.js';
import { subCgroupDirs } from '../cgroups/sub-cgroup.js';
import { TsrunError } from '../errors.js';
import { encodePlan, PLAN_VERSION, type PlanRecord } from '../plan/encode.js';
import { NS_PROC_NAME, type NsType } from '../plan/namespaces.js';
import { lsmState, planLsmProcess } from '../plan/lsm.js';
import { planProcess } from '../plan/process.js';
import { planSeccomp } from '../plan/seccomp.js';
import { stateInfo } from '../hooks/state.js';
import { log } from '../cli/log.js';
import { planTerminal } from '../plan/terminal.js';
import { configError, type Config } from '../spec/load.js';
import { containerDir } from '../state/paths.js';
import { statusOf } from '../state/status.js';
import { loadSavedConfigBytes, loadState } from '../state/store.js';
import { launch, type Launched } from './launch.js';
import { forwardTo } from './foreground.js';
import { testPause } from '../util/test-pause.js';
import { writePidFile } from '../state/pid-file.js';

export type Process = NonNullable<Config['process']>;

export interface ExecOptions {
  root: string;
  id: string;
  /** The process, or how to make it from the container's own (runc's exec flags). */
  process: Process | ((container: Process | undefined) => Process);
  consoleSocket?: string;
  pidFile?: string;
  preserveFds: number;
  detach: boolean;
  ignorePaused: boolean;
  /** --cgroup: sub-cgroups of the container's to join instead ([<controller>:]<path>). */
  subCgroups?: string[];
}

/** Checks a --process file's object with the config schema, so errors name process.FIELD. */
export function validateProcess(p: unknown): Process {
  const err = configError({ ociVersion: '1.0.0', process: p });
  if (err) throw new TsrunError(`invalid process: ${err.instancePath.replace(/^\//, '').replaceAll('/', '.')}: ${err.message}`);
  return p as Process;
}

/**
 * runc's exec: a new process in every namespace and cgroup of a created or running container.
 * The C core joins the namespaces through /proc/PID/ns of the container's pid 1.
 */
export function execProcess(o: ExecOptions): Launched {
  // A process made from flags needs the saved config first, so its errors come before the status's.
  let saved: ReturnType<typeof loadSavedConfigBytes> | undefined;
  let proc: Process;
  if (typeof o.process === 'function') {
    saved = loadSavedConfigBytes(o.root, o.id);
    proc = o.process(saved.config.process);
  } else {
    proc = o.process;
  }
  const s = loadState(o.root, o.id);
  const status = statusOf(containerDir(o.root, o.id), s);
  if (status === 'stopped') throw new TsrunError('cannot exec in a stopped container');
  if (status === 'creating') throw new TsrunError('cannot exec in a container that is still being created');
  if (status === 'paused' && !o.ignorePaused) throw new TsrunError('cannot exec in a paused container (use --ignore-paused to override)');
  saved ??= loadSavedConfigBytes(o.root, o.id);
  const { config: cfg } = saved;
  const records: PlanRecord[] = [['version', PLAN_VERSION]];
  for (const n of cfg.linux?.namespaces ?? []) {
    records.push(['ns', n.type, `/proc/${s.pid}/ns/${NS_PROC_NAME[n.type as NsType]}`]);
  }
  const cgroupDirs = o.subCgroups?.length ? subCgroupDirs(s.cgroupDirs, o.subCgroups) : s.cgroupDirs;
  for (const p of procsFiles(cgroupDirs)) records.push(['cgroup', p]);
  records.push(...planTerminal(proc, o.consoleSocket, o.detach));
  if (o.preserveFds) records.push(['preserve_fds', o.preserveFds]);
  records.push(...planProcess(proc, cfg, { extraEnv: [], setgroupsDenied: setgroupsDenied(s.pid) }));
  // As runc: the exec'd process keeps the container's labels unless it names its own.
  const labels = {
    apparmorProfile: proc.apparmorProfile || cfg.process?.apparmorProfile,
    selinuxLabel: proc.selinuxLabel || cfg.process?.selinuxLabel,
  };
  records.push(...planLsmProcess(labels, lsmState(), (m) => log('debug', m)));
  // The container's seccomp profile binds every process in it, exec'd ones too, and a notify
  // filter's new fd goes to the agent as well (as runc).
  const agent = { info: stateInfo(cfg, o.id, s.bundle), containerPid: s.pid };
  records.push(...planSeccomp(cfg, (m) => log('debug', m), agent, o.root));
  if (!o.detach) records.push(['wait']);
  let pid = 0;
  const plan = encodePlan(records);
  try {
    // A foreground exec's signals go to its process as soon as there is one (runc does the same).
    const onPid = (p: number): void => {
      pid = p;
      if (!o.detach) forwardTo(p);
    };
    const launched = launch(plan, o.preserveFds, onPid, !o.detach);
    testPause('exec:launched');
    if (o.pidFile) writePidFile(o.pidFile, launched.pid);
    return launched;
  } catch (e) {
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    throw e;
  }
}

/** The container's user namespace forbids setgroups(2) (a rootless one with just the runtime's gid). */
function setgroupsDenied(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/setgroups`, 'utf8').trim() === 'deny';
  } catch {
    return false;
  }
}
