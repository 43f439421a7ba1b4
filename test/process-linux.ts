// The Linux process fields of spec 1.2/1.3 and the time namespace, seen from inside:
// config-linux.md#personality, config.md (scheduler, ioPriority, execCPUAffinity),
// config-linux.md#memory-policy, config-linux.md#offset-for-time-namespace, config.md#mounts (idmap).
import t from 'tap';
import { chownSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Harness } from './helpers/runtime.js';
import { probe, statOf } from './helpers/probe.js';

const h = new Harness(t);

t.test('personality, scheduler, ioPriority', async (t) => {
  const p = probe(h, t, {
    edit: (c) => {
      c.linux!.personality = { domain: 'LINUX32' };
      c.process!.scheduler = { policy: 'SCHED_BATCH', nice: 7 };
      c.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 3 };
    },
  });
  t.equal(p.personality & 0xff, 0x08, 'PER_LINUX32');
  t.equal(p.scheduler.policy, 3, 'SCHED_BATCH');
  t.equal(p.scheduler.nice, 7);
  t.same(p.ioprio, { class: 2, priority: 3 }, 'IOPRIO_CLASS_BE level 3');
});

t.test('execCPUAffinity: final is what the program runs with', { skip: cpus().length < 2 && 'needs 2 cpus' }, async (t) => {
  const p = probe(h, t, { edit: (c) => void (c.process!.execCPUAffinity = { initial: '0', final: '1' }) });
  t.same(p.cpus, [1]);
});

t.test('memoryPolicy MPOL_BIND', async (t) => {
  const id = h.id(t);
  const bundle = h.bundle({
    args: ['sh', '-c', 'grep -c bind:0 /proc/self/numa_maps'],
    edit: (c) => void (c.linux!.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0' }),
  });
  const r = h.tsrun(['run', '--bundle', bundle, id]);
  t.equal(r.status, 0, r.stderr);
  t.ok(Number(r.stdout) > 0, 'mappings carry the bind:0 policy');
});

t.test('time namespace offsets', async (t) => {
  const id = h.id(t);
  const hostUptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const bundle = h.bundle({
    args: ['cat', '/proc/uptime'],
    edit: (c) => {
      c.linux!.namespaces!.push({ type: 'time' });
      c.linux!.timeOffsets = { boottime: { secs: 1000000, nanosecs: 0 } };
    },
  });
  const r = h.tsrun(['run', '--bundle', bundle, id]);
  t.equal(r.status, 0, r.stderr);
  const inside = Number(r.stdout.split(' ')[0]);
  t.ok(inside >= hostUptime + 1000000 && inside < hostUptime + 1000000 + 600, `uptime ${inside} is the host's ${hostUptime} plus the offset`);
});

t.test('idmapped bind mount: on-disk uid 0 is presented as the mapped host id', async (t) => {
  // The mount's mapping is a user namespace map (containerID inside, hostID outside): an on-disk
  // id is read as an inside id, so files owned by 0 show as 1000, and 1000 has no mapping.
  const dir = h.path('idmapped');
  mkdirSync(dir);
  writeFileSync(`${dir}/root-owned`, 'x');
  writeFileSync(`${dir}/user-owned`, 'x');
  chownSync(`${dir}/user-owned`, 1000, 1000);
  const p = probe(h, t, {
    probeArgs: ['stat', '/mnt/idm/root-owned', '/mnt/idm/user-owned'],
    edit: (c) =>
      void c.mounts!.push({
        destination: '/mnt/idm', type: 'bind', source: dir, options: ['bind', 'idmap'],
        uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
      }),
  });
  const root = statOf(p, '/mnt/idm/root-owned');
  t.equal(root.uid, 1000, 'uid 0 on disk is 1000 through the mount');
  t.equal(root.gid, 1000);
  t.equal(statOf(p, '/mnt/idm/user-owned').uid, 65534, 'an id outside the mapping is the overflow id');
});

t.test('every container process leads its own session, stdio on the host\'s /dev/null is the container\'s (runc\'s nsexec setsid, reOpenDevNull; CRIU needs both)', async (t) => {
  const id = h.id(t);
  h.ok(['run', '-d', '--bundle', h.bundle({ args: ['sleep', '1000'] }), id]);
  const pid = h.state(id)!.pid;
  // runc's nsexec calls setsid() for every container process: CRIU refuses a tree whose session
  // leader is outside it ("A session leader of N is outside of its pid namespace").
  const stat = (text: string): string[] => text.slice(text.lastIndexOf(')') + 2).split(' ');
  t.equal(stat(readFileSync(`/proc/${pid}/stat`, 'utf8'))[3], String(pid), 'the container\'s process leads its own session');
  const ex = h.ok(['exec', id, 'cat', '/proc/self/stat']).stdout;
  t.equal(stat(ex)[3], ex.split(' ')[0], 'an exec\'d process leads its own session');
  // runc's reOpenDevNull: stdio on the host's /dev/null is reopened on the container's, which
  // CRIU can dump (the harness's stdin is the host's /dev/null).
  const fd0 = statSync(`/proc/${pid}/fd/0`);
  const inner = statSync(`/proc/${pid}/root/dev/null`);
  t.ok(fd0.dev === inner.dev && fd0.ino === inner.ino, 'stdin is the container\'s /dev/null, not the host\'s');
  t.not(fd0.dev, statSync('/dev/null').dev, 'not the host\'s');
});
