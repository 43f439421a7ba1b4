// Namespaces, sysctl and user mappings as the container sees them (config-linux.md).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostNamespaces, type NsName } from './helpers/host.js';
import { Harness, type Config } from './helpers/runtime.js';
import { probe, readOf } from './helpers/probe.js';

const h = new Harness(t);
const host = hostNamespaces();
const PROC_NAME: Record<string, NsName> = { pid: 'pid', network: 'net', mount: 'mnt', ipc: 'ipc', uts: 'uts', user: 'user', cgroup: 'cgroup', time: 'time' };

function must(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error}`);
}

function withNamespaces(types: string[]) {
  return (c: Config): void => {
    c.linux!.namespaces = types.map((type) => ({ type }) as NonNullable<NonNullable<Config['linux']>['namespaces']>[number]);
  };
}

t.test('configured namespaces are new, the others are the runtime\'s', async (t) => {
  // config-linux.md#namespaces: "If a namespace type is not specified in the namespaces array,
  // the container MUST inherit the runtime namespace of that type"; listed without a path, a
  // new one is created.
  for (const types of [
    ['pid', 'network', 'ipc', 'uts', 'mount'],
    ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup', 'time'],
    ['mount', 'uts'],
  ]) {
    const p = probe(h, t, { edit: withNamespaces(types) });
    for (const [type, name] of Object.entries(PROC_NAME)) {
      if (host[name] === null) continue; // a kernel without this namespace type
      if (types.includes(type)) t.not(p.ns[name], host[name], `${types.join(',')}: ${type} is new`);
      else t.equal(p.ns[name], host[name], `${types.join(',')}: ${type} is the runtime's`);
    }
    if (types.includes('pid')) t.equal(p.pid, 1, 'the process is pid 1 of its new pid namespace');
  }
});

t.test('a namespace given by path is joined', async (t) => {
  // config-linux.md#namespaces: path "the runtime MUST place the container process in the namespace".
  const netns = `tsrun-test-${process.pid}`;
  must('ip', ['netns', 'add', netns]);
  t.teardown(() => must('ip', ['netns', 'del', netns]));
  const netPath = `/run/netns/${netns}`;
  // A uts namespace kept by a bind mount of its nsfs file under the test's temp dir.
  const utsPath = h.path('uts-ns');
  writeFileSync(utsPath, '');
  must('unshare', [`--uts=${utsPath}`, 'hostname', 'joined-uts']);
  t.teardown(() => must('umount', [utsPath]));

  const p = probe(h, t, {
    edit: (c) => {
      delete c.hostname; // the uts namespace is not the container's own to name
      c.linux!.namespaces = [
        { type: 'pid' },
        { type: 'mount' },
        { type: 'ipc' },
        { type: 'network', path: netPath },
        { type: 'uts', path: utsPath },
      ];
    },
  });
  t.equal(p.ns.net, `net:[${statSync(netPath).ino}]`, 'in the network namespace of the path');
  t.equal(p.ns.uts, `uts:[${statSync(utsPath).ino}]`, 'in the uts namespace of the path');
  t.equal(p.hostname, 'joined-uts', 'and sees its hostname');
});

t.test('sysctl is set inside the container\'s namespaces only', async (t) => {
  // config-linux.md#sysctl: kernel parameters modified at runtime for the container.
  const hostForward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
  const hostShmmax = readFileSync('/proc/sys/kernel/shmmax', 'utf8');
  const p = probe(h, t, {
    probeArgs: ['read', '/proc/sys/net/ipv4/ip_forward', '/proc/sys/kernel/shmmax'],
    edit: (c) => {
      c.linux!.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '65536' };
    },
  });
  t.equal(readOf(p, '/proc/sys/net/ipv4/ip_forward').content, '1\n', 'net.ipv4.ip_forward (network namespace)');
  t.equal(readOf(p, '/proc/sys/kernel/shmmax').content, '65536\n', 'kernel.shmmax (ipc namespace)');
  t.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'), hostForward, 'host ip_forward unchanged');
  t.equal(readFileSync('/proc/sys/kernel/shmmax', 'utf8'), hostShmmax, 'host shmmax unchanged');
});

t.test('user namespace with uid and gid mappings', async (t) => {
  // config-linux.md#user-namespace-mappings: uidMappings/gidMappings describe the mapping from
  // the host to the container. The rootfs copy is chowned to the mapped root.
  const map = { containerID: 0, hostID: 100000, size: 65536 };
  const p = probe(h, t, {
    probeArgs: ['read', '/proc/self/uid_map', '/proc/self/gid_map', 'stat', '/bin/probe'],
    prepare: (rootfs) => must('chown', ['-R', '-h', '100000:100000', rootfs]),
    edit: (c) => {
      c.linux!.namespaces!.push({ type: 'user' });
      c.linux!.uidMappings = [map];
      c.linux!.gidMappings = [map];
      // cgroup v1 cannot be mounted from a user namespace; this test is about the mappings.
      c.mounts = c.mounts!.filter((m) => m.destination !== '/sys/fs/cgroup');
    },
  });
  const fields = (s: string | undefined): string[] => (s ?? '').trim().split(/\s+/);
  t.same(fields(readOf(p, '/proc/self/uid_map').content), ['0', '100000', '65536'], 'uid_map');
  t.same(fields(readOf(p, '/proc/self/gid_map').content), ['0', '100000', '65536'], 'gid_map');
  t.not(p.ns.user, host.user, 'a new user namespace');
  t.match(p, { uid: 0, gid: 0 }, 'root inside');
  t.match(p.stat[0], { path: '/bin/probe', uid: 0, gid: 0 }, 'files owned by host uid 100000 appear as root');
});
