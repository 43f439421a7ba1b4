// Where the CRI tier's pods and containers sit in the cgroup tree, for the two drivers kubelet
// may use: cgroupfs (cgroup_parent a path, a container's cgroup <parent>/<id>) and systemd
// (cgroup_parent a slice, which containerd 1.6 turns into the cgroupsPath
// "<slice>:cri-containerd:<id>": the container runs in the scope cri-containerd-<id>.scope under
// that slice). On cgroup v1 (this host's hybrid layout) a file is read in its controller's
// hierarchy, on v2 in the one tree.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type Driver = 'cgroupfs' | 'systemd';
export const DRIVER: Driver = process.env.CRI_DRIVER === 'systemd' ? 'systemd' : 'cgroupfs';
const ROOT = '/sys/fs/cgroup';
export const V2 = existsSync(join(ROOT, 'cgroup.controllers'));

/** The cgroup_parent kubelet sends for the pod NAME under PARENT: a path (cgroupfs), or the pod's
 * slice as kubelet's systemd driver writes it (/kubepods.slice/kubepods-pod<uid>.slice: "-" is
 * the slice hierarchy, kubelet turns the uid's dashes into "_"). Also the pod's cgroup path. */
export function podCgroupParent(parent: string, name: string): string {
  if (DRIVER === 'systemd') return `/${parent}.slice/${parent}-${name.replace(/-/g, '_')}.slice`;
  return `/${parent}/${name}`;
}

/** The systemd unit of the container or sandbox ID (the systemd driver). */
export const scopeOf = (id: string): string => `cri-containerd-${id}.scope`;

/** The cgroup path of the container or sandbox ID in the pod whose cgroup is POD. */
export function containerCgroup(pod: string, id: string): string {
  return join(pod, DRIVER === 'systemd' ? scopeOf(id) : id);
}

/** PID's cgroup path: the v2 tree's, or on v1 the memory hierarchy's. */
export function cgroupOfPid(pid: number): string {
  for (const l of readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
    const [, ctrls, path] = l.split(':');
    if (path === undefined) continue;
    if (V2 ? ctrls === '' : ctrls.split(',').includes('memory')) return path;
  }
  throw new Error(`no ${V2 ? 'cgroup v2' : 'memory cgroup'} line in /proc/${pid}/cgroup`);
}

/** A cgroup file of the cgroup at PATH, trimmed: V1 ("memory/memory.limit_in_bytes") on
 * cgroup v1, V2 ("memory.max") on v2. */
export function cgroupFile(path: string, v1: string, v2: string): string {
  const [ctrl, file] = v1.split('/');
  return readFileSync(V2 ? join(ROOT, path, v2) : join(ROOT, ctrl, path, file), 'utf8').trim();
}

/** The cgroup directories below PATH, in every hierarchy. */
export function cgroupsBelow(path: string): string[] {
  const roots = V2 ? [ROOT] : readdirSync(ROOT).map((c) => join(ROOT, c));
  const left: string[] = [];
  for (const r of roots) {
    const d = join(r, path);
    if (!existsSync(d)) continue;
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) left.push(join(d, e.name));
  }
  return left;
}

/** Runs systemctl or busctl with ARGS (asynchronously: the handlers' scenarios run at once, and
 * a call costs a second under TCG). */
async function systemd(cmd: 'systemctl' | 'busctl', args: string[]): Promise<string> {
  try {
    return (await run(cmd, args, { encoding: 'utf8' })).stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.slice(0, 2).join(' ')}: ${err.stderr?.trim() || err.message}`);
  }
}

/** Properties PROPS of the systemd units UNITS (one systemctl show), a map per unit. */
export async function unitsProps(units: string[], props: string[]): Promise<Array<Record<string, string>>> {
  const out = await systemd('systemctl', ['show', '-p', props.join(','), ...units]);
  return out.split('\n\n').slice(0, units.length).map((block) => {
    const m: Record<string, string> = {};
    for (const l of block.split('\n')) {
      const i = l.indexOf('=');
      if (i > 0) m[l.slice(0, i)] = l.slice(i + 1);
    }
    return m;
  });
}

export async function unitProps(unit: string, props: string[]): Promise<Record<string, string>> {
  return (await unitsProps([unit], props))[0] ?? {};
}

/** Those of UNITS systemd still has (loaded, or active in any way). */
export async function unitsLeft(units: string[]): Promise<string[]> {
  const p = await unitsProps(units, ['LoadState', 'ActiveState']);
  return units.filter((_, i) => p[i]?.LoadState !== 'not-found' || p[i]?.ActiveState !== 'inactive');
}

/** Creates the pod slice at PATH (podCgroupParent) as kubelet's systemd driver does before
 * RunPodSandbox: a transient slice with the pod's memory limit. (The job it queues comes
 * before the sandbox scope's, which wants the slice.) */
export async function startPodSlice(path: string, memoryMax: number): Promise<void> {
  await systemd('busctl', ['call', 'org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager',
    'StartTransientUnit', 'ssa(sv)a(sa(sv))', basename(path), 'replace', '2', 'MemoryAccounting', 'b', 'true', 'MemoryMax', 't', String(memoryMax), '0']);
}

/** Stops the pod slice at PATH (kubelet, once the pod is gone). */
export async function stopPodSlice(path: string): Promise<void> {
  await systemd('systemctl', ['stop', basename(path)]);
}
