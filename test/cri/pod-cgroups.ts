// The CRI tier's cgroup checks, as one pod's life in steps (one pod per handler: under TCG in the
// systemd guest a sandbox costs seconds, so the steps share it): the sandbox and a container in
// their cgroups (with the systemd driver their scopes in the pod's slice), a live update
// reaching the cgroup files and the scope's properties, ContainerStats, a second container
// OOM-killed and reported as OOMKilled, and removal leaving no runtime state, cgroup, unit or
// mount. Runs with both drivers: cgroupfs on the host, systemd in the systemd guest.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupFile, cgroupsBelow, containerCgroup, DRIVER, scopeOf, unitProps, unitsLeft, V2 } from './cgroups.js';
import { check, checkPlaced, containerPid, cri, DIR, mountsWith, removePod, runContainer, runPod, sandboxPid, status, stopContainer, waitExit } from './pods.js';

/** cgroup v2's cpu.weight for 1024 and 512 shares as the handler's runtime converts them: runc
 * 1.1's linear map (1 + (shares - 2) * 9999 / 262142), tsrun's the quadratic-in-log one crun and
 * runc 1.3 use (src/cgroups/convert.ts: 1024 shares land on the default 100). */
const WEIGHT: Record<string, Record<number, number>> = { runc: { 1024: 39, 512: 20 }, tsrun: { 1024: 100, 512: 59 } };

/** Runs FN as the step NAME: its result is reported as its own line and row. */
export type Step = (name: string, fn: () => Promise<void>) => Promise<void>;

export async function podCgroups(h: string, step: Step): Promise<void> {
  const pod = await runPod(h);
  let upd = '', oom = '';
  try {
    await step('sandbox and container in their cgroups (systemd: scopes in the pod slice)', async () => {
      // The OOM container starts with the other: its kill runs while the next steps do. Its
      // shell outlives the killed tail a second: when the kill empties a systemd scope, systemd
      // removes the cgroup before the shim may read its memory.events, and containerd then
      // misses the OOM (reason Error, with runc as with tsrun). The
      // other stops at SIGTERM at once (not PID 1: the pod shares the pause's PID namespace);
      // a shell's trap ran seconds late under TCG, past StopContainer's timeout, whose kill
      // then raced the exit in containerd ("ttrpc: closed").
      [upd, oom] = await Promise.all([
        runContainer(pod, 'upd', 'exec sleep 2147483647', { resources: { memory_limit_in_bytes: 256 << 20, cpu_shares: 1024 } }),
        runContainer(pod, 'oom', 'tail /dev/zero; sleep 1; exit 137', { resources: { memory_limit_in_bytes: 32 << 20, memory_swap_limit_in_bytes: 32 << 20 } }),
      ]);
      await Promise.all([checkPlaced(pod, pod.id, await sandboxPid(pod)), checkPlaced(pod, upd, await containerPid(upd))]);
    });
    await step('UpdateContainerResources (cgroup files; systemd: the unit)', async () => {
      const cg = containerCgroup(pod.cgroup, upd);
      const files = () => [cgroupFile(cg, 'memory/memory.limit_in_bytes', 'memory.max'), cgroupFile(cg, 'cpu/cpu.shares', 'cpu.weight'),
        cgroupFile(cg, 'cpu/cpu.cfs_quota_us', 'cpu.max')].join(' ');
      const atCreate = files();
      check(atCreate === (V2 ? `${256 << 20} ${WEIGHT[h][1024]} max 100000` : `${256 << 20} 1024 -1`), `at create: ${atCreate}`);
      await cri.runtime('UpdateContainerResources', { container_id: upd, linux: { memory_limit_in_bytes: 128 << 20, cpu_shares: 512, cpu_period: 100000, cpu_quota: 50000 } });
      const got = files();
      check(got === (V2 ? `${128 << 20} ${WEIGHT[h][512]} 50000 100000` : `${128 << 20} 512 50000`), `after update: ${got}`);
      if (DRIVER === 'systemd') {
        // The update reaches the scope's properties too: systemd would otherwise put the old
        // limits back at its next daemon-reload.
        const u = await unitProps(scopeOf(upd), ['MemoryMax', 'CPUWeight', 'CPUQuotaPerSecUSec']);
        const got = `${u.MemoryMax} ${u.CPUWeight} ${u.CPUQuotaPerSecUSec}`, want = `${128 << 20} ${WEIGHT[h][512]} 500ms`;
        check(got === want, `the unit after update: MemoryMax CPUWeight CPUQuotaPerSecUSec ${got}, want ${want}`);
      }
      const s = await status(upd);
      check(s.resources?.linux?.memory_limit_in_bytes === 128 << 20, `ContainerStatus resources ${JSON.stringify(s.resources)}`);
    });
    await step('ContainerStats', async () => {
      const s = (await cri.runtime('ContainerStats', { container_id: upd })).stats;
      check(s?.attributes?.id === upd, `stats for another container: ${JSON.stringify(s?.attributes)}`);
      check((s.cpu?.usage_core_nano_seconds?.value ?? 0) > 0, `cpu ${JSON.stringify(s.cpu)}`);
      check((s.memory?.working_set_bytes?.value ?? 0) > 0, `memory ${JSON.stringify(s.memory)}`);
    });
    await step('OOM kill reported as OOMKilled', async () => {
      const s = await waitExit(oom, 60);
      check(s.reason === 'OOMKilled' && s.exit_code === 137, `reason ${s.reason}, exit ${s.exit_code}`);
    });
    await step('removal leaves nothing (state, cgroups, units, mounts)', async () => {
      // The shim's Root option is the runtime's --root; its state lives under <root>/k8s.io.
      const root = join(DIR, `${h}-root`, 'k8s.io');
      const ids = [upd, oom, pod.id];
      check(existsSync(join(root, upd)) && existsSync(join(root, pod.id)), `no runtime state under ${root}`);
      await stopContainer(upd, 5);
      for (const id of [upd, oom]) await cri.runtime('RemoveContainer', { container_id: id });
      await cri.runtime('StopPodSandbox', { pod_sandbox_id: pod.id });
      await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id });
      const state = existsSync(root) ? readdirSync(root).filter((e) => ids.includes(e)) : [];
      check(state.length === 0, `runtime state left: ${state}`);
      // (the pod's own cgroup, or slice, is kubelet's to remove)
      const cg = cgroupsBelow(pod.cgroup);
      check(cg.length === 0, `cgroups left: ${cg}`);
      const units = DRIVER === 'systemd' ? await unitsLeft(ids.map(scopeOf)) : [];
      check(units.length === 0, `units left: ${units}`);
      const m = ids.flatMap(mountsWith);
      check(m.length === 0, `mounts left: ${m}`);
    });
  } finally {
    // (after the removal step: the pod's slice, as kubelet stops it)
    await removePod(pod).catch(() => undefined);
  }
}
