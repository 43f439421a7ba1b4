// The CRI tier's scenarios (run by test/cri/tier.sh against its private containerd): each runs
// with the "tsrun" and the "runc" runtime handler, as kubelet would drive them. Prints an
// ok/not ok line per scenario and handler, the table, and "cri: N passed, N failed" counting
// tsrun's scenarios (runc's are the comparison).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { criClient, type Msg } from './client.js';
import { streamExec } from './stream.js';

const SOCK = process.env.CRI_SOCK ?? '';
const DIR = process.env.CRI_DIR ?? '';
const CGPARENT = process.env.CRI_CGPARENT ?? '';
const HANDLERS = ['tsrun', 'runc'];
/** CRI_ONLY=REGEX: only the scenarios whose name matches (a run while fixing one). */
const ONLY = process.env.CRI_ONLY ? new RegExp(process.env.CRI_ONLY) : null;
const BUSYBOX = 'localhost/tsrun-cri/busybox:1';
const cri = criClient(SOCK);
let podN = 0;

function check(cond: unknown, what: string): asserts cond {
  if (!cond) throw new Error(what);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Pod { id: string; config: Msg; handler: string; cgroup: string }

/** A pod sandbox as kubelet asks for one: a cgroup parent of its own, the pod's IPC and PID
 * namespaces; the host's network (hostNetwork: containerd 1.6 wants an eth0 address from CNI,
 * which a loopback-only config does not give, and networking is not what the tier tests). */
async function runPod(handler: string, security: Msg = {}): Promise<Pod> {
  const n = ++podN;
  const name = `p${n}-${handler}`;
  const logs = join(DIR, 'logs', name);
  mkdirSync(logs, { recursive: true });
  const cgroup = `/${CGPARENT}/${name}`;
  const config = {
    metadata: { name, uid: `uid-${name}`, namespace: 'tsrun-cri', attempt: 0 },
    log_directory: logs,
    linux: { cgroup_parent: cgroup, security_context: { namespace_options: { network: 'NODE', pid: 'POD', ipc: 'POD' }, ...security } },
  };
  const res = await cri.runtime('RunPodSandbox', { config, runtime_handler: handler });
  return { id: res.pod_sandbox_id, config, handler, cgroup };
}

async function removePod(pod: Pod): Promise<void> {
  await cri.runtime('StopPodSandbox', { pod_sandbox_id: pod.id });
  await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id });
}

/** Creates and starts a busybox container in POD running COMMAND (sh -c). */
async function runContainer(pod: Pod, name: string, command: string, extra: Msg = {}, attempt = 0): Promise<string> {
  const { security_context, resources, ...rest } = extra;
  const config = {
    metadata: { name, attempt },
    image: { image: BUSYBOX },
    command: ['sh', '-c', command],
    log_path: `${name}-${attempt}.log`,
    linux: { security_context: security_context ?? {}, resources: resources ?? {} },
    ...rest,
  };
  const { container_id } = await cri.runtime('CreateContainer', { pod_sandbox_id: pod.id, config, sandbox_config: pod.config });
  await cri.runtime('StartContainer', { container_id });
  return container_id as string;
}

async function status(id: string): Promise<Msg> {
  return (await cri.runtime('ContainerStatus', { container_id: id })).status;
}

async function waitExit(id: string, seconds = 20): Promise<Msg> {
  for (let i = 0; i < seconds * 10; i++) {
    const s = await status(id);
    if (s.state === 'CONTAINER_EXITED') return s;
    await sleep(100);
  }
  throw new Error(`container ${id} did not exit in ${seconds}s`);
}

async function exec(id: string, cmd: string, timeout = 10): Promise<{ out: string; err: string; code: number }> {
  const r = await cri.runtime('ExecSync', { container_id: id, cmd: ['sh', '-c', cmd], timeout }, timeout + 10);
  return { out: Buffer.from(r.stdout).toString(), err: Buffer.from(r.stderr).toString(), code: r.exit_code };
}

/** The CRI log lines of a container ("<time> <stream> <tag> <text>"), as stream:text. */
function logLines(pod: Pod, path: string): string[] {
  const file = join(pod.config.log_directory, path);
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => {
    const [, stream, , ...text] = l.split(' ');
    return `${stream}:${text.join(' ')}`;
  });
}

async function sandboxPid(pod: Pod): Promise<number> {
  const r = await cri.runtime('PodSandboxStatus', { pod_sandbox_id: pod.id, verbose: true });
  return JSON.parse(r.info.info).pid as number;
}

/** The cgroup directories left under POD's cgroup parent, in every v1 hierarchy. */
function cgroupsLeft(pod: Pod): string[] {
  const left: string[] = [];
  for (const c of readdirSync('/sys/fs/cgroup')) {
    const d = join('/sys/fs/cgroup', c, pod.cgroup);
    if (!existsSync(d)) continue;
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) left.push(join(d, e.name));
  }
  return left;
}

function mountsWith(id: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(id));
}

/** Runs FN with a pod, removing the pod afterwards even when FN fails. */
async function withPod(handler: string, fn: (pod: Pod) => Promise<void>, security: Msg = {}): Promise<void> {
  const pod = await runPod(handler, security);
  try {
    await fn(pod);
  } finally {
    await removePod(pod).catch(() => undefined);
  }
}

/** What kubelet sends for procMount Default (k8s.io/kubernetes pkg/securitycontext: defaultMaskedPaths, defaultReadonlyPaths). */
const KUBELET_PATHS = {
  masked_paths: ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
    '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware'],
  readonly_paths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
};

const LONG = 'trap "exit 0" TERM; while :; do sleep 1; done';

const scenarios: Array<[string, (handler: string) => Promise<void>]> = [
  ['sandbox up/down (pause process, namespaces)', async (h) => {
    const pod = await runPod(h);
    const s = (await cri.runtime('PodSandboxStatus', { pod_sandbox_id: pod.id })).status;
    check(s.state === 'SANDBOX_READY', `sandbox state ${s.state}`);
    const pid = await sandboxPid(pod);
    check(readlinkSync(`/proc/${pid}/exe`).endsWith('/pause'), `sandbox pid ${pid} is not the pause program`);
    for (const ns of ['ipc', 'pid', 'mnt']) check(readlinkSync(`/proc/${pid}/ns/${ns}`) !== readlinkSync(`/proc/self/ns/${ns}`), `the sandbox has the host ${ns} namespace`);
    check(cgroupsLeft(pod).length > 0, `no cgroup under ${pod.cgroup}`);
    await removePod(pod);
    check(!existsSync(`/proc/${pid}`), `pause process ${pid} still runs after StopPodSandbox`);
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
    const src = join(DIR, 'mnt', pod.config.metadata.name);
    mkdirSync(src, { recursive: true });
    execFileSync('mount', ['--bind', src, src]);
    execFileSync('mount', ['--make-rshared', src]);
    try {
      const mounts = [
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
  ['masked and readonly paths (default, privileged)', async (h) => {
    // Mountinfo only: the pods share the host's UTS namespace (hostNetwork), a write to
    // /proc/sys/kernel would reach the host.
    const probe = 'awk \'$5 == "/proc/timer_list" { print "masked" } $5 == "/proc/sys" { split($6, o, ","); print "sys-" o[1] }\' /proc/self/mountinfo';
    await withPod(h, async (pod) => {
      const plain = await exec(await runContainer(pod, 'plain', LONG, { security_context: KUBELET_PATHS }), probe);
      check(plain.out === 'sys-ro\nmasked\n' || plain.out === 'masked\nsys-ro\n', `default container: ${JSON.stringify(plain.out)} ${plain.err}`);
    });
    await withPod(h, async (pod) => {
      const priv = await exec(await runContainer(pod, 'priv', LONG, { security_context: { privileged: true } }), probe);
      check(priv.out === '', `privileged container has masked/readonly paths: ${JSON.stringify(priv.out)}`);
    }, { privileged: true });
  }],
  ['seccomp Localhost profile', async (h) => withPod(h, async (pod) => {
    const profile = join(DIR, `seccomp-${pod.config.metadata.name}.json`);
    writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] }));
    const id = await runContainer(pod, 'local', LONG, { security_context: { seccomp: { profile_type: 'Localhost', localhost_ref: profile } } });
    const r = await exec(id, 'mkdir /tmp/d 2>&1; echo rc=$?; grep Seccomp: /proc/self/status | tr -s "\\t" " "');
    check(/Operation not permitted\nrc=1\nSeccomp: 2\n$/.test(r.out), `mkdir under the profile: ${JSON.stringify(r.out)}`);
  })],
  ['UpdateContainerResources', async (h) => withPod(h, async (pod) => {
    const id = await runContainer(pod, 'upd', LONG, { resources: { memory_limit_in_bytes: 256 << 20, cpu_shares: 1024 } });
    const cg = join('/sys/fs/cgroup/memory', pod.cgroup, id);
    check(readFileSync(join(cg, 'memory.limit_in_bytes'), 'utf8').trim() === String(256 << 20), 'memory limit at create');
    await cri.runtime('UpdateContainerResources', { container_id: id, linux: { memory_limit_in_bytes: 128 << 20, cpu_shares: 512, cpu_period: 100000, cpu_quota: 50000 } });
    const got = [readFileSync(join(cg, 'memory.limit_in_bytes'), 'utf8').trim(),
      readFileSync(join('/sys/fs/cgroup/cpu', pod.cgroup, id, 'cpu.shares'), 'utf8').trim(),
      readFileSync(join('/sys/fs/cgroup/cpu', pod.cgroup, id, 'cpu.cfs_quota_us'), 'utf8').trim()].join(' ');
    check(got === `${128 << 20} 512 50000`, `after update: ${got}`);
    const s = await status(id);
    check(s.resources?.linux?.memory_limit_in_bytes === 128 << 20, `ContainerStatus resources ${JSON.stringify(s.resources)}`);
  })],
  ['ContainerStats', async (h) => withPod(h, async (pod) => {
    const id = await runContainer(pod, 'stats', 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; ' + LONG);
    await sleep(1500);
    const s = (await cri.runtime('ContainerStats', { container_id: id })).stats;
    check(s.attributes.id === id, 'stats for another container');
    check(s.cpu?.usage_core_nano_seconds?.value > 0, `cpu ${JSON.stringify(s.cpu)}`);
    check(s.memory?.working_set_bytes?.value > 0, `memory ${JSON.stringify(s.memory)}`);
  })],
  ['OOM kill reported as OOMKilled', async (h) => withPod(h, async (pod) => {
    const id = await runContainer(pod, 'oom', 'tail /dev/zero', { resources: { memory_limit_in_bytes: 32 << 20, memory_swap_limit_in_bytes: 32 << 20 } });
    const s = await waitExit(id, 30);
    check(s.reason === 'OOMKilled' && s.exit_code === 137, `reason ${s.reason}, exit ${s.exit_code}`);
  })],
  ['container restart in the same sandbox', async (h) => withPod(h, async (pod) => {
    const first = await runContainer(pod, 'again', 'echo run; exit 1');
    check((await waitExit(first)).exit_code === 1, 'first attempt');
    const second = await runContainer(pod, 'again', 'echo run; exit 0', {}, 1);
    const s = await waitExit(second);
    check(s.exit_code === 0 && s.metadata.attempt === 1, `second attempt: exit ${s.exit_code}, attempt ${s.metadata.attempt}`);
    await cri.runtime('RemoveContainer', { container_id: first });
    const left = (await cri.runtime('ListContainers', { filter: { pod_sandbox_id: pod.id } })).containers.map((c: Msg) => c.id);
    check(left.length === 1 && left[0] === second, `containers left ${left}`);
  })],
  ['removal leaves nothing (state, cgroup, mounts)', async (h) => {
    const pod = await runPod(h);
    const id = await runContainer(pod, 'gone', LONG);
    // The shim's Root option is the runtime's --root; its state lives under <root>/k8s.io.
    const root = join(DIR, `${h}-root`, 'k8s.io');
    check(existsSync(join(root, id)) && existsSync(join(root, pod.id)), `no runtime state under ${root}`);
    await cri.runtime('StopContainer', { container_id: id, timeout: 5 });
    await cri.runtime('RemoveContainer', { container_id: id });
    await removePod(pod);
    const state = existsSync(root) ? readdirSync(root).filter((e) => e === id || e === pod.id) : [];
    check(state.length === 0, `runtime state left: ${state}`);
    const cg = cgroupsLeft(pod);
    check(cg.length === 0, `cgroups left: ${cg}`);
    const m = [...mountsWith(id), ...mountsWith(pod.id)];
    check(m.length === 0, `mounts left: ${m}`);
  }],
];

async function main(): Promise<number> {
  const v = await cri.runtime('Version', { version: 'v1' });
  console.log(`# CRI: ${v.runtime_name} ${v.runtime_version}, API ${v.runtime_api_version}`);
  const results: Record<string, Record<string, string>> = {};
  let pass = 0, fail = 0;
  const chosen = scenarios.filter(([name]) => !ONLY || ONLY.test(name));
  // The handlers of a scenario run at once (their pods, cgroups and dirs are their own): the
  // tier's time is about half of one after the other.
  for (const [name, fn] of chosen) {
    results[name] = {};
    const runs = await Promise.all(HANDLERS.map(async (h) => {
      const t0 = Date.now();
      let err = '';
      try { await fn(h); } catch (e) { err = (e as Error).message; }
      return { h, err, secs: ((Date.now() - t0) / 1000).toFixed(1) };
    }));
    for (const { h, err, secs } of runs) {
      results[name][h] = `${err ? 'FAIL' : 'ok'} ${secs}s`;
      console.log(`${err ? 'not ok' : 'ok'} - ${h}: ${name} (${secs}s)${err ? `\n  # ${err.replace(/\n/g, '\n  # ')}` : ''}`);
      if (h === HANDLERS[0]) { if (err) fail++; else pass++; }
    }
  }
  console.log(`\n# ${'scenario'.padEnd(80)} ${HANDLERS.map((h) => h.padEnd(10)).join(' ')}`);
  for (const [name] of chosen) console.log(`# ${name.padEnd(80)} ${HANDLERS.map((h) => results[name][h].padEnd(10)).join(' ')}`);
  console.log(`cri: ${pass} passed, ${fail} failed`);
  return fail ? 1 : 0;
}

main().then((rc) => { cri.close(); process.exitCode = rc; }, (e: Error) => {
  console.log(`not ok - CRI: ${e.message}\ncri: 0 passed, 1 failed`);
  cri.close();
  process.exitCode = 1;
});
