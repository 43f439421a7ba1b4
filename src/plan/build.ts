import { existsSync, statSync } from 'node:fs';
import { TsrunError } from '../errors.js';
import type { Config } from '../spec/load.js';
import { planDevices } from './devices.js';
import { stateInfo } from '../hooks/state.js';
import { planHooks, planState } from './hooks.js';
import { PLAN_VERSION, type PlanRecord } from './encode.js';
import { lsmState, planLsmProcess } from './lsm.js';
import { planBindSources, planMounts, planNoPivot } from './mounts.js';
import { planNamespaces, type NsType } from './namespaces.js';
import { planProcess } from './process.js';
import { planRootless } from './rootless.js';
import { planSeccomp } from './seccomp.js';
import { planSysctl } from './sysctl.js';
import { checkNetDevices } from '../container/netdevices.js';
import { planTerminal } from './terminal.js';
import { rootlessEuid, runningInUserNs } from '../util/rootless.js';

export interface PlanInput {
  cfg: Config;
  /** The container's ID (for the state hooks and the seccomp agent get). */
  id: string;
  /** Debug-level findings (seccomp syscalls unknown here). */
  debug: (m: string) => void;
  bundle: string;
  rootfs: string;
  fifo?: string;
  consoleSocket?: string;
  noPivot: boolean;
  preserveFds: number;
  extraEnv: string[];
  /** Keep the C parent alive until the container exits (foreground `run`). */
  wait: boolean;
  /** The state root, where compiled seccomp programs are cached. */
  root?: string;
}

export interface Plan {
  records: PlanRecord[];
  ns: Map<NsType, string>;
}

/** Turns a validated config into the launch plan the C core executes (docs/PLAN-FORMAT.md). */
export function buildPlan(i: PlanInput): Plan {
  const { cfg } = i;
  // runc's words ("invalid rootfs: stat PATH: no such file or directory"): Podman and Docker
  // read "no such file or directory" in a runtime's error as "not found" (exit 127).
  const root = statSync(i.rootfs, { throwIfNoEntry: false });
  if (!root) throw new TsrunError(`root.path: invalid rootfs: stat ${i.rootfs}: no such file or directory`);
  if (!root.isDirectory()) throw new TsrunError(`root.path: invalid rootfs ${i.rootfs}: not a directory`);
  if (cfg.linux?.intelRdt && !existsSync('/sys/fs/resctrl/schemata')) throw new TsrunError('linux.intelRdt: no resctrl filesystem is mounted on this host');
  const { ns, records: nsRecords } = planNamespaces(cfg);
  checkNetDevices(cfg.linux?.netDevices ?? {}, ns);
  const lsm = lsmState();
  const rootless = planRootless(cfg, ns);
  const setgroupsDenied = rootless.some(([t, v]) => t === 'setgroups' && v === 'deny');
  const records: PlanRecord[] = [['version', PLAN_VERSION], ...nsRecords, ...rootless];
  const mountLabel = cfg.linux?.mountLabel;
  if (mountLabel && !lsm.selinux) i.debug(`linux.mountLabel "${mountLabel}": SELinux is not enabled on this host; the label is ignored`);
  records.push(...planMounts(cfg, i.bundle, i.rootfs, lsm.selinux ? mountLabel : undefined, planBindSources(ns, rootlessEuid())));
  if (i.noPivot) records.push(...planNoPivot(ns.has('mount')));
  // mknod needs CAP_MKNOD in the initial user namespace: in any other, host nodes are bound.
  records.push(...planDevices(cfg, ns.get('user') === '' || runningInUserNs()));
  records.push(...planSysctl(cfg.linux?.sysctl ?? {}, ns));
  records.push(...planTerminal(cfg.process, i.consoleSocket, !i.wait));
  if (i.fifo) records.push(['execfifo', i.fifo]);
  if (i.preserveFds) records.push(['preserve_fds', i.preserveFds]);
  // config.md#process: optional at create, required at start (which refuses without it).
  if (cfg.process) {
    records.push(...planProcess(cfg.process, cfg, { extraEnv: i.extraEnv, setgroupsDenied }));
    records.push(...planLsmProcess(cfg.process, lsm, i.debug));
  }
  const info = stateInfo(cfg, i.id, i.bundle);
  records.push(...planSeccomp(cfg, i.debug, { info }, i.root));
  const hooks = planHooks(cfg, i.rootfs);
  records.push(...hooks);
  if (hooks.length) records.push(planState(info));
  if (i.wait) records.push(['wait']);
  return { records, ns };
}
