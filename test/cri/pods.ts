// The CRI tier's pods and containers, made as kubelet makes them, and what the scenarios read
// back (status, exec, logs). Environment from test/cri/tier.sh: CRI_SOCK, CRI_DIR, CRI_CGPARENT.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupOfPid, containerCgroup, DRIVER, podCgroupParent, scopeOf, startPodSlice, stopPodSlice, unitProps } from './cgroups.js';
import { criClient } from './client.js';
import type { ContainerStatus__Output } from './generated/runtime/v1/ContainerStatus.js';
import type { LinuxContainerResources } from './generated/runtime/v1/LinuxContainerResources.js';
import type { LinuxContainerSecurityContext } from './generated/runtime/v1/LinuxContainerSecurityContext.js';
import type { LinuxSandboxSecurityContext } from './generated/runtime/v1/LinuxSandboxSecurityContext.js';
import type { Mount } from './generated/runtime/v1/Mount.js';
import type { PodSandboxConfig } from './generated/runtime/v1/PodSandboxConfig.js';

export const DIR = process.env.CRI_DIR ?? '';
const CGPARENT = process.env.CRI_CGPARENT ?? '';
/** The containers' image (test/cri/prepare.sh; pulled before the scenarios, test/cri/images.ts). */
export const BUSYBOX = 'localhost/tsrun-cri/busybox:1';
export const cri = criClient(process.env.CRI_SOCK ?? '');
let podN = 0;

export function check(cond: unknown, what: string): asserts cond {
  if (!cond) throw new Error(what);
}
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A container's command that runs until SIGTERM. */
export const LONG = 'trap "exit 0" TERM; while :; do sleep 1; done';

/** A pod: its sandbox's ID, its config (again in each CreateContainer), its name, CRI log dir
 * and cgroup path (podCgroupParent). */
export interface Pod { id: string; config: PodSandboxConfig; name: string; logs: string; handler: string; cgroup: string }

/** What a container gets besides its command: CRI's ContainerConfig fields the scenarios set. */
export interface ContainerExtra {
  /** the image (BUSYBOX when not given) */
  image?: string;
  security_context?: LinuxContainerSecurityContext;
  resources?: LinuxContainerResources;
  mounts?: Mount[];
}

/** The pods' network: their own namespace on the tier's CNI bridge (CRI_NETWORK=cni), or where
 * the kernel has no bridge the tier's network namespace (hostNetwork; test/cri/tier.sh). */
export const POD_NETWORK = process.env.CRI_NETWORK === 'cni';

/** A pod sandbox as kubelet asks for one: a cgroup parent of its own (with the systemd driver
 * the pod's slice, made first as kubelet does), the pod's IPC and PID namespaces, and its network
 * (POD_NETWORK). */
export async function runPod(handler: string, security: LinuxSandboxSecurityContext = {}): Promise<Pod> {
  const n = ++podN;
  const name = `p${n}-${handler}`;
  const logs = join(DIR, 'logs', name);
  mkdirSync(logs, { recursive: true });
  const cgroup = podCgroupParent(CGPARENT, name);
  if (DRIVER === 'systemd') await startPodSlice(cgroup, 512 << 20);
  const config: PodSandboxConfig = {
    metadata: { name, uid: `uid-${name}`, namespace: 'tsrun-cri', attempt: 0 },
    log_directory: logs,
    linux: { cgroup_parent: cgroup, security_context: { namespace_options: { network: POD_NETWORK ? 'POD' : 'NODE', pid: 'POD', ipc: 'POD' }, ...security } },
  };
  const res = await cri.runtime('RunPodSandbox', { config, runtime_handler: handler });
  return { id: res.pod_sandbox_id, config, name, logs, handler, cgroup };
}

/** Stops and removes POD; the pod's slice too (kubelet, once the pod is gone). */
export async function removePod(pod: Pod): Promise<void> {
  try {
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: pod.id });
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id });
  } finally {
    if (DRIVER === 'systemd') await stopPodSlice(pod.cgroup);
  }
}

/** StopContainer as kubelet issues it: a kill that fails is tried again at its next pod sync.
 * containerd 1.6 has answered "ttrpc: closed" to the first under TCG, with runc as with tsrun
 * (its kill raced the container's exit at SIGTERM); the second finds the container stopped. */
export async function stopContainer(id: string, timeout: number): Promise<void> {
  try {
    await cri.runtime('StopContainer', { container_id: id, timeout });
  } catch (e) {
    if (!String((e as Error).message).includes('ttrpc: closed')) throw e;
    console.log(`# StopContainer ${id.slice(0, 12)} again after: ${(e as Error).message}`);
    await sleep(1000);
    await cri.runtime('StopContainer', { container_id: id, timeout });
  }
}

/** Runs FN with a pod, removing the pod afterwards even when FN fails. */
export async function withPod(handler: string, fn: (pod: Pod) => Promise<void>, security: LinuxSandboxSecurityContext = {}): Promise<void> {
  const pod = await runPod(handler, security);
  try {
    await fn(pod);
  } finally {
    await removePod(pod).catch(() => undefined);
  }
}

/** Creates and starts a container in POD (BUSYBOX unless EXTRA names an image) running COMMAND (sh -c). */
export async function runContainer(pod: Pod, name: string, command: string, extra: ContainerExtra = {}, attempt = 0): Promise<string> {
  const config = {
    metadata: { name, attempt },
    image: { image: extra.image ?? BUSYBOX },
    command: ['sh', '-c', command],
    log_path: `${name}-${attempt}.log`,
    linux: { security_context: extra.security_context ?? {}, resources: extra.resources ?? {} },
    mounts: extra.mounts ?? [],
  };
  const { container_id } = await cri.runtime('CreateContainer', { pod_sandbox_id: pod.id, config, sandbox_config: pod.config });
  await cri.runtime('StartContainer', { container_id });
  return container_id;
}

export async function status(id: string): Promise<ContainerStatus__Output> {
  const { status: s } = await cri.runtime('ContainerStatus', { container_id: id });
  check(s, `ContainerStatus ${id}: no status`);
  return s;
}

export async function waitExit(id: string, seconds = 20): Promise<ContainerStatus__Output> {
  for (let i = 0; i < seconds * 10; i++) {
    const s = await status(id);
    if (s.state === 'CONTAINER_EXITED') return s;
    await sleep(100);
  }
  throw new Error(`container ${id} did not exit in ${seconds}s`);
}

export async function exec(id: string, cmd: string, timeout = 10): Promise<{ out: string; err: string; code: number }> {
  const r = await cri.runtime('ExecSync', { container_id: id, cmd: ['sh', '-c', cmd], timeout }, timeout + 10);
  return { out: Buffer.from(r.stdout).toString(), err: Buffer.from(r.stderr).toString(), code: r.exit_code };
}

/** The CRI log lines of a container ("<time> <stream> <tag> <text>"), as stream:text. */
export function logLines(pod: Pod, path: string): string[] {
  const file = join(pod.logs, path);
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => {
    const [, stream, , ...text] = l.split(' ');
    return `${stream}:${text.join(' ')}`;
  });
}

/** The pid in a verbose status's info (containerd's JSON under "info"). */
function verbosePid(info: Record<string, string>, id: string): number {
  const pid: unknown = JSON.parse(info.info ?? '{}').pid;
  check(typeof pid === 'number' && pid > 0, `no pid in the verbose status of ${id}`);
  return pid;
}

/** The pid of the pod's pause process (PodSandboxStatus's verbose info). */
export async function sandboxPid(pod: Pod): Promise<number> {
  return verbosePid((await cri.runtime('PodSandboxStatus', { pod_sandbox_id: pod.id, verbose: true })).info, pod.id);
}

/** The pid of container ID's process (ContainerStatus's verbose info). */
export async function containerPid(id: string): Promise<number> {
  return verbosePid((await cri.runtime('ContainerStatus', { container_id: id, verbose: true })).info, id);
}

export function mountsWith(id: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(id));
}

/** Checks that PID, the process of the container or sandbox ID, sits in ID's cgroup under the
 * pod's: <parent>/<id>, or with the systemd driver the active scope cri-containerd-<id>.scope in
 * the pod's slice. */
export async function checkPlaced(pod: Pod, id: string, pid: number): Promise<void> {
  const cg = cgroupOfPid(pid), want = containerCgroup(pod.cgroup, id);
  check(cg === want, `pid ${pid} is in ${cg}, want ${want}`);
  if (DRIVER !== 'systemd') return;
  const u = await unitProps(scopeOf(id), ['ActiveState', 'Slice', 'ControlGroup']);
  check(u.ActiveState === 'active' && u.Slice === pod.cgroup.split('/').pop() && u.ControlGroup === cg, `the unit ${scopeOf(id)}: ${JSON.stringify(u)}`);
}
