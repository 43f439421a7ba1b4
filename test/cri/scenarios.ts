// The CRI tier's scenarios (run by test/cri/tier.sh against its private containerd): each runs
// with the "tsrun" and the "runc" runtime handler, as kubelet would drive them. Prints an
// ok/not ok line per scenario and handler, the table, and "cri: N passed, N failed" counting
// tsrun's scenarios (runc's are the comparison).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DRIVER, scopeOf, unitsLeft, V2 } from './cgroups.js';
import type { Mount } from './generated/runtime/v1/Mount.js';
import { imagePull, pullImages } from './images.js';
import { podCgroups, type Step } from './pod-cgroups.js';
import { check, checkPlaced, cri, DIR, exec, LONG, logLines, type Pod, POD_NETWORK, removePod, runContainer, runPod, sandboxPid, sleep, waitExit, withPod } from './pods.js';
import { streamExec } from './stream.js';

const HANDLERS = ['tsrun', 'runc'];
/** CRI_ONLY=REGEX: only the scenarios whose name matches (a run while fixing one). */
const ONLY = process.env.CRI_ONLY ? new RegExp(process.env.CRI_ONLY) : null;
/** CRI_SET=cgroups: only the scenarios that touch cgroups (the systemd guest's run). */
const CGROUPS_ONLY = process.env.CRI_SET === 'cgroups';

/** What kubelet sends for procMount Default (k8s.io/kubernetes pkg/securitycontext: defaultMaskedPaths, defaultReadonlyPaths). */
const KUBELET_PATHS = {
  masked_paths: ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
    '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware'],
  readonly_paths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
};

const SUBNET = process.env.CRI_POD_SUBNET ?? '';
/** Pods on the tier's CNI bridge (test/cri/tier.sh): each in its own network namespace with an
 * eth0 address from the tier's subnet, only the subnet's route (nothing beyond the tier's
 * network namespace is reachable), and one pod reaches the other. */
const podNetwork: [string, Scenario] = ['pod network (CNI bridge: own namespace, address, no default route, pod to pod)', async (h) =>
  withPod(h, async (a) => withPod(h, async (b) => {
    const [ida] = await Promise.all([runContainer(a, 'net', LONG), runContainer(b, 'net', LONG)]);
    const ipOf = async (pod: Pod) => (await cri.runtime('PodSandboxStatus', { pod_sandbox_id: pod.id })).status?.network?.ip ?? '';
    const [ipa, ipb] = await Promise.all([ipOf(a), ipOf(b)]);
    const net = SUBNET.replace(/\.0\/24$/, '.');
    check(ipa.startsWith(net) && ipb.startsWith(net) && ipa !== ipb, `pod addresses ${ipa} ${ipb}, want two in ${SUBNET}`);
    const r = await exec(ida, `readlink /proc/self/ns/net; ip -o -4 addr show eth0 | awk '{ print $4 }'; ip route; ping -c 1 -W 5 ${ipb} >/dev/null && echo reached`);
    const [ns, addr, ...rest] = r.out.trim().split('\n');
    check(ns !== readlinkSync('/proc/self/ns/net'), `the pod has the tier's network namespace ${ns}`);
    check(addr === `${ipa}/24`, `eth0 ${addr}, want ${ipa}/24`);
    check(rest.length === 2 && rest[0]?.startsWith(`${SUBNET} dev eth0 `) && rest[1] === 'reached', `routes and ping: ${JSON.stringify(rest)} ${r.err}`);
  }))];

/** A scenario's third element: it checks where the runtime puts processes in the cgroup tree
 * or reads/writes cgroup files (CRI_SET=cgroups runs these only). */
const CGROUPS = true;
/** A scenario runs with one handler; a scenario in steps reports each step as its own row. */
type Scenario = (handler: string, step: Step) => Promise<void>;
const scenarios: Array<[string, Scenario, boolean?]> = [
  ['image pull through CRI (loopback registry)', imagePull],
  ['sandbox up/down (pause process, namespaces)', async (h) => {
    const pod = await runPod(h);
    const s = (await cri.runtime('PodSandboxStatus', { pod_sandbox_id: pod.id })).status;
    check(s?.state === 'SANDBOX_READY', `sandbox state ${s?.state}`);
    const pid = await sandboxPid(pod);
    check(readlinkSync(`/proc/${pid}/exe`).endsWith('/pause'), `sandbox pid ${pid} is not the pause program`);
    for (const ns of ['ipc', 'pid', 'mnt']) check(readlinkSync(`/proc/${pid}/ns/${ns}`) !== readlinkSync(`/proc/self/ns/${ns}`), `the sandbox has the host ${ns} namespace`);
    await checkPlaced(pod, pod.id, pid);
    await removePod(pod);
    check(!existsSync(`/proc/${pid}`), `pause process ${pid} still runs after StopPodSandbox`);
    check(DRIVER !== 'systemd' || !(await unitsLeft([scopeOf(pod.id)])).length, `the unit ${scopeOf(pod.id)} is still there`);
  }],
  ['container joins the sandbox namespaces', async (h) => withPod(h, async (pod) => {
    const id = await runContainer(pod, 'join', LONG);
    const pid = await sandboxPid(pod);
    const r = await exec(id, 'for n in net ipc pid; do readlink /proc/self/ns/$n; done; tr "\\0" " " </proc/1/cmdline');
    const want = ['net', 'ipc', 'pid'].map((n) => readlinkSync(`/proc/${pid}/ns/${n}`)).join('\n') + '\n/pause ';
    check(r.out === want, `namespaces, PID 1: ${JSON.stringify(r.out)}, want ${JSON.stringify(want)} ${r.err}`);
  })],
  ['exit code and logs', async (h) => withPod(h, async (pod) => {
    const id = await runContainer(pod, 'logs', 'echo hello; echo oops >&2; exit 3');
    const s = await waitExit(id);
    check(s.exit_code === 3, `exit code ${s.exit_code}, want 3`);
    check(s.reason === 'Error', `reason ${s.reason}, want Error`);
    const lines = logLines(pod, 'logs-0.log').sort().join(',');
    check(lines === 'stderr:oops,stdout:hello', `log lines ${lines}`);
  })],
  ['ExecSync (exit code, output, timeout)', async (h) => withPod(h, async (pod) => {
    const id = await runContainer(pod, 'exec', LONG);
    const r = await exec(id, 'echo out; echo err >&2; exit 4');
    check(r.out === 'out\n' && r.err === 'err\n' && r.code === 4, `ExecSync gave ${JSON.stringify(r)}`);
    const t0 = Date.now();
    const timedOut = await exec(id, 'sleep 30', 1).then(() => false, (e: Error) => /timeout|deadline/i.test(e.message));
    check(timedOut, 'ExecSync with timeout 1 did not report a timeout');
    check(Date.now() - t0 < 10000, `ExecSync timeout took ${Date.now() - t0}ms`);
  })],
  ['securityContext (user, groups, read-only rootfs, caps, no_new_privs, seccomp)', async (h) => withPod(h, async (pod) => {
    const id = await runContainer(pod, 'sec', LONG, {
      security_context: {
        run_as_user: { value: 1000 }, run_as_group: { value: 2000 }, supplemental_groups: [3000],
        readonly_rootfs: true, no_new_privs: true,
        capabilities: { drop_capabilities: ['ALL'], add_capabilities: ['NET_BIND_SERVICE'] },
        seccomp: { profile_type: 'RuntimeDefault' },
      },
    });
    const r = await exec(id, 'id -u; id -g; id -G; touch /x 2>/dev/null && echo writable || echo ro; grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status | tr -s "\\t" " "');
    const want = '1000\n2000\n2000 3000\nro\nCapEff: 0000000000000000\nCapBnd: 0000000000000400\nNoNewPrivs: 1\nSeccomp: 2\n';
    check(r.out === want, `got ${JSON.stringify(r.out)}, want ${JSON.stringify(want)} ${r.err}`);
  })],
  ['privileged container', async (h) => withPod(h, async (pod) => {
    const id = await runContainer(pod, 'priv', LONG, { security_context: { privileged: true } });
    const r = await exec(id, 'grep -E "^(CapEff|Seccomp):" /proc/self/status | tr -s "\\t" " "; mount -o remount,rw /sys && echo sys-rw');
    const capEff = readFileSync('/proc/self/status', 'utf8').match(/^CapEff:\s+(\w+)/m)?.[1];
    check(r.out === `CapEff: ${capEff}\nSeccomp: 0\nsys-rw\n`, `got ${JSON.stringify(r.out)} ${r.err}`);
  }, { privileged: true })],
  ['mount propagation (private, HostToContainer, Bidirectional)', async (h) => withPod(h, async (pod) => {
    const src = join(DIR, 'mnt', pod.name);
    mkdirSync(src, { recursive: true });
    execFileSync('mount', ['--bind', src, src]);
    execFileSync('mount', ['--make-rshared', src]);
    try {
      const mounts: Mount[] = [
        { container_path: '/private', host_path: src, propagation: 'PROPAGATION_PRIVATE' },
        { container_path: '/slave', host_path: src, propagation: 'PROPAGATION_HOST_TO_CONTAINER' },
        { container_path: '/shared', host_path: src, propagation: 'PROPAGATION_BIDIRECTIONAL' },
      ];
      const id = await runContainer(pod, 'prop', LONG, { mounts, security_context: { privileged: true } });
      mkdirSync(join(src, 'fromhost'));
      execFileSync('mount', ['-t', 'tmpfs', 'fromhost', join(src, 'fromhost')]);
      const r = await exec(id, 'for d in private slave shared; do grep -q " /$d/fromhost " /proc/self/mountinfo && echo $d:yes || echo $d:no; done; mkdir -p /shared/fromctr && mount -t tmpfs fromctr /shared/fromctr && echo mounted');
      check(r.out === 'private:no\nslave:yes\nshared:yes\nmounted\n', `host mount seen in the container: ${JSON.stringify(r.out)} ${r.err}`);
      const seen = readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${join(src, 'fromctr')} `);
      check(seen, 'the mount made in the Bidirectional volume is not seen on the host');
    } finally {
      spawnSync('umount', ['-R', '-l', src]);
    }
  }, { privileged: true })],
  ['tty exec (streaming, terminal size)', async (h) => withPod(h, async (pod) => {
    const id = await runContainer(pod, 'tty', LONG);
    const { url } = await cri.runtime('Exec', { container_id: id, cmd: ['sh'], tty: true, stdin: true, stdout: true });
    const r = await streamExec(url, 101, 33, 'test -t 0 && test -t 1 && echo "is a tty: $(tty)"; stty size; exit 5\n');
    check(/is a tty: \/dev\/pts\/\d+\r?\n/.test(r.stdout), `no terminal in the exec: ${JSON.stringify(r.stdout)}`);
    check(/\b33 101\r?\n/.test(r.stdout), `terminal size not 33 101: ${JSON.stringify(r.stdout)}`);
    check(/"exit-code"|"ExitCode"/i.test(r.status) && r.status.includes('"5"'), `status ${r.status}`);
  })],
  ['masked and readonly paths (procMount Default, Unmasked; privileged)', async (h) => {
    // Mountinfo only: hostNetwork pods (no bridge in the kernel) share the host's UTS
    // namespace, a write to /proc/sys/kernel would reach the host.
    const probe = 'awk \'$5 == "/proc/timer_list" { print "masked" } $5 == "/proc/sys" { split($6, o, ","); print "sys-" o[1] }\' /proc/self/mountinfo';
    await withPod(h, async (pod) => {
      // procMount Unmasked: kubelet sends no masked and no readonly paths (its API wants the
      // pod in a user namespace, which containerd 1.6 cannot make; the CRI call is the same),
      // and containerd 1.6 then gives the runtime none.
      const [plain, unmasked] = await Promise.all([
        runContainer(pod, 'plain', LONG, { security_context: KUBELET_PATHS }).then((id) => exec(id, probe)),
        runContainer(pod, 'unmasked', LONG, { security_context: { masked_paths: [], readonly_paths: [] } }).then((id) => exec(id, probe)),
      ]);
      check(plain.out === 'sys-ro\nmasked\n' || plain.out === 'masked\nsys-ro\n', `default container: ${JSON.stringify(plain.out)} ${plain.err}`);
      check(unmasked.out === '', `procMount Unmasked container has masked/readonly paths: ${JSON.stringify(unmasked.out)} ${unmasked.err}`);
    });
    await withPod(h, async (pod) => {
      const priv = await exec(await runContainer(pod, 'priv', LONG, { security_context: { privileged: true } }), probe);
      check(priv.out === '', `privileged container has masked/readonly paths: ${JSON.stringify(priv.out)}`);
    }, { privileged: true });
  }],
  ['seccomp Localhost profile', async (h) => withPod(h, async (pod) => {
    const profile = join(DIR, `seccomp-${pod.name}.json`);
    writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] }));
    const id = await runContainer(pod, 'local', LONG, { security_context: { seccomp: { profile_type: 'Localhost', localhost_ref: profile } } });
    const r = await exec(id, 'mkdir /tmp/d 2>&1; echo rc=$?; grep Seccomp: /proc/self/status | tr -s "\\t" " "');
    check(/Operation not permitted\nrc=1\nSeccomp: 2\n$/.test(r.out), `mkdir under the profile: ${JSON.stringify(r.out)}`);
  })],
  ['container restart in the same sandbox', async (h) => withPod(h, async (pod) => {
    const first = await runContainer(pod, 'again', 'echo run; exit 1');
    check((await waitExit(first)).exit_code === 1, 'first attempt');
    const second = await runContainer(pod, 'again', 'echo run; exit 0', {}, 1);
    const s = await waitExit(second);
    check(s.exit_code === 0 && s.metadata?.attempt === 1, `second attempt: exit ${s.exit_code}, attempt ${s.metadata?.attempt}`);
    await cri.runtime('RemoveContainer', { container_id: first });
    const left = (await cri.runtime('ListContainers', { filter: { pod_sandbox_id: pod.id } })).containers.map((c) => c.id);
    check(left.length === 1 && left[0] === second, `containers left ${left}`);
  })],
  ['pod cgroups', podCgroups, CGROUPS],
  ...(POD_NETWORK ? [podNetwork] : []),
];

interface Row { name: string; results: Map<string, string> }

/** Waits for CRI_READY, the file the tier makes once containerd is up (this client starts
 * meanwhile). */
async function ready(): Promise<void> {
  const f = process.env.CRI_READY;
  while (f && !existsSync(f)) await sleep(100);
}

async function main(): Promise<number> {
  const up = process.uptime();
  await ready();
  const v = await cri.runtime('Version', { version: 'v1' });
  console.log(`# CRI: ${v.runtime_name} ${v.runtime_version}, API ${v.runtime_api_version}; ${DRIVER} driver, cgroup ${V2 ? 'v2' : 'v1'} (the client was up after ${up.toFixed(1)}s)`);
  console.log(`# cri: the pods' images pulled through CRI in ${(await pullImages()).toFixed(1)}s`);
  const rows = new Map<string, Row>();
  let pass = 0, fail = 0;
  const report = (name: string, h: string, err: string, t0: number) => {
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    if (!rows.has(name)) rows.set(name, { name, results: new Map() });
    rows.get(name)?.results.set(h, `${err ? 'FAIL' : 'ok'} ${secs}s`);
    console.log(`${err ? 'not ok' : 'ok'} - ${h}: ${name} (${secs}s)${err ? `\n  # ${err.replace(/\n/g, '\n  # ')}` : ''}`);
    if (h === HANDLERS[0]) { if (err) fail++; else pass++; }
  };
  const chosen = scenarios.filter(([name, , cgroups]) => (!ONLY || ONLY.test(name)) && (!CGROUPS_ONLY || cgroups));
  // The handlers of a scenario run at once (their pods, cgroups and dirs are their own): the
  // tier's time is about half of one after the other.
  for (const [name, fn] of chosen) {
    await Promise.all(HANDLERS.map(async (h) => {
      const t0 = Date.now();
      let steps = 0;
      const step: Step = async (stepName, stepFn) => {
        steps++;
        const s0 = Date.now();
        let err = '';
        try { await stepFn(); } catch (e) { err = (e as Error).message; }
        report(`${name}: ${stepName}`, h, err, s0);
      };
      let err = '';
      try { await fn(h, step); } catch (e) { err = (e as Error).message; }
      // A scenario in steps has a row of its own only when it failed outside them.
      if (!steps || err) report(name, h, err, t0);
    }));
  }
  console.log(`\n# ${'scenario'.padEnd(90)} ${HANDLERS.map((h) => h.padEnd(10)).join(' ')}`);
  for (const r of rows.values()) console.log(`# ${r.name.padEnd(90)} ${HANDLERS.map((h) => (r.results.get(h) ?? '-').padEnd(10)).join(' ')}`);
  console.log(`cri: ${pass} passed, ${fail} failed`);
  return fail ? 1 : 0;
}

main().then((rc) => { cri.close(); process.exitCode = rc; }, (e: Error) => {
  console.log(`not ok - CRI: ${e.message}\ncri: 0 passed, 1 failed`);
  cri.close();
  process.exitCode = 1;
});
