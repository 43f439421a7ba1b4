// The container's process as the probe sees it: config.md#process and config.md#hostname.
import t from 'tap';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Harness } from './helpers/runtime.js';
import { capMask, hostHasCap, probe } from './helpers/probe.js';

const h = new Harness(t);

t.test('hostname and domainname', async (t) => {
  // config.md#hostname, config.md#domainname (need a uts namespace: the default config has one).
  const p = probe(h, t, {
    edit: (c) => {
      c.hostname = 'probe-host';
      c.domainname = 'probe.example';
    },
  });
  t.equal(p.hostname, 'probe-host');
  t.equal(p.domainname, 'probe.example');
});

t.test('user: uid, gid, additionalGids, umask', async (t) => {
  // config.md#user (POSIX platforms).
  const p = probe(h, t, {
    edit: (c) => {
      c.process!.user = { uid: 1000, gid: 1000, additionalGids: [5, 2000], umask: 0o027 };
    },
  });
  t.match(p, { uid: 1000, euid: 1000, gid: 1000, egid: 1000 });
  t.same([...p.groups].sort((a, b) => a - b), [5, 2000], 'supplementary groups are exactly additionalGids');
  t.equal(p.umask, 0o027);
});

t.test('user 0 without additionalGids has no supplementary groups', async (t) => {
  // config.md#user: additionalGids absent = none (the runtime's own groups must not leak in).
  const p = probe(h, t);
  t.match(p, { uid: 0, gid: 0 });
  t.same(p.groups, []);
});

t.test('cwd', async (t) => {
  // config.md#process: cwd is the working directory of the executable.
  const p = probe(h, t, { edit: (c) => void (c.process!.cwd = '/tmp') });
  t.equal(p.cwd, '/tmp');
});

t.test('env is exactly the configured environment', async (t) => {
  // config.md#process: env; nothing of the runtime's own environment may reach the container.
  // HOME is the one variable a runtime may add when the config lacks it (runc does).
  // Non-ASCII text takes more bytes than characters in the plan: it must arrive whole.
  const env = ['PATH=/bin:/usr/bin', 'FOO=bar baz', 'EMPTY=', 'EQ=a=b', 'UTF8=é→🙂'];
  const p = probe(h, t, { edit: (c) => void (c.process!.env = env) });
  t.same(p.env.filter((e) => !e.startsWith('HOME=')), env);
  t.equal(p.argv[0], '/bin/probe', 'args[0] as given');
});

t.test('rlimits', async (t) => {
  // config.md#posix-process: for each rlimit, getrlimit(type) returns soft and hard as configured.
  const rlimits = [
    { type: 'RLIMIT_NOFILE', soft: 100, hard: 200 },
    { type: 'RLIMIT_CORE', soft: 0, hard: 4096 },
    { type: 'RLIMIT_MSGQUEUE', soft: 12345, hard: 54321 },
    { type: 'RLIMIT_CPU', soft: 1000, hard: 2000 },
  ];
  const p = probe(h, t, { edit: (c) => void (c.process!.rlimits = rlimits) });
  for (const r of rlimits) t.same(p.rlimits[r.type], { soft: r.soft, hard: r.hard }, r.type);
});

t.test('capabilities are exactly the configured sets', async (t) => {
  // config.md#linux-process: capabilities. What execve leaves (capabilities(7)) constrains a
  // consistent config: for uid 0, permitted = effective = bounding | inheritable; for another
  // uid, permitted = effective = ambient. Each case below is such a config.
  const cases: { name: string; uid: number; caps: Record<'bounding' | 'effective' | 'permitted' | 'inheritable' | 'ambient', string[]> }[] = [
    {
      name: 'root',
      uid: 0,
      caps: {
        bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID'],
        effective: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID'],
        permitted: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID'],
        inheritable: ['CAP_KILL'],
        ambient: ['CAP_KILL'],
      },
    },
    {
      name: 'uid 1000 with ambient capabilities',
      uid: 1000,
      caps: {
        bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW'],
        effective: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        permitted: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        inheritable: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        ambient: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      },
    },
    { name: 'none at all', uid: 0, caps: { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] } },
  ];
  for (const c of cases) {
    const p = probe(h, t, {
      edit: (cfg) => {
        cfg.process!.user = { uid: c.uid, gid: c.uid };
        cfg.process!.capabilities = c.caps;
      },
    });
    t.same(
      p.caps,
      {
        CapInh: capMask(c.caps.inheritable),
        CapPrm: capMask(c.caps.permitted),
        CapEff: capMask(c.caps.effective),
        CapBnd: capMask(c.caps.bounding),
        CapAmb: capMask(c.caps.ambient),
      },
      c.name,
    );
  }
});

t.test('noNewPrivileges', async (t) => {
  // config.md#linux-process: noNewPrivileges sets no_new_privs; unset, the bit stays clear.
  t.equal(probe(h, t, { edit: (c) => void (c.process!.noNewPrivileges = true) }).noNewPrivs, 1, 'true');
  t.equal(probe(h, t, { edit: (c) => void (c.process!.noNewPrivileges = false) }).noNewPrivs, 0, 'false');
});

t.test('oomScoreAdj', async (t) => {
  // config.md#linux-process: oomScoreAdj is written to /proc/[pid]/oom_score_adj.
  t.equal(probe(h, t, { edit: (c) => void (c.process!.oomScoreAdj = 250) }).oomScoreAdj, 250);
  // Going below the runtime's own value takes CAP_SYS_RESOURCE, which some sandboxes withhold
  // even from root (the kernel then says EACCES to any runtime).
  const own = Number(readFileSync('/proc/self/oom_score_adj', 'utf8'));
  if (hostHasCap('CAP_SYS_RESOURCE')) t.equal(probe(h, t, { edit: (c) => void (c.process!.oomScoreAdj = own - 17) }).oomScoreAdj, own - 17);
  else t.pass(`oomScoreAdj below ${own}`, { skip: "this host's root lacks CAP_SYS_RESOURCE" });
});

t.test('no seccomp filter without linux.seccomp; dumpable again after execve', async (t) => {
  // config-linux.md#seccomp: no linux.seccomp, no filter (Seccomp: 0). The runtime is
  // non-dumpable until execve (DESIGN.md); execve of a readable binary without a credential
  // change makes the process dumpable again, as under runc and crun.
  const p = probe(h, t);
  t.equal(p.seccomp, 0);
  t.equal(p.dumpable, 1);
});

t.test('stdio handed over by the caller changes owner, not group, for a non-root user (runc)', async (t) => {
  // runc's fixStdioPermissions: fchown(fd, uid, <its gid>) so the user can reopen /dev/stdout;
  // the group stays. The harness hands `run` a file it made (root:root) as stdout.
  const id = h.id(t);
  const r = h.tsrun(['run', '--bundle', h.bundle({
    args: ['sh', '-c', 'stat -L -c "%u %g" /proc/self/fd/1; echo reopened >> /dev/stdout'],
    edit: (c) => void (c.process!.user = { uid: 1000, gid: 1000 }),
  }), id]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^1000 0\n/, 'owner 1000, group still 0');
  t.match(r.stdout, /reopened/, 'the user reopened its stdout');
});

t.test('HOME from the container\'s /etc/passwd when the env has none or an empty one (runc)', async (t) => {
  // runc's setupUser: if HOME is unset or empty after the config's env, it is the home field
  // of the user's /etc/passwd entry in the container, or "/" without one.
  const home = (user: { uid: number; gid: number }, env?: string[], prepare?: (rootfs: string) => void): string => {
    const r = h.tsrun(['run', '--bundle', h.bundle({
      args: ['sh', '-c', 'env | grep ^HOME='],
      prepare,
      edit: (c) => {
        c.process!.user = user;
        if (env) c.process!.env = env;
      },
    }), h.id(t)]);
    t.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  t.equal(home({ uid: 1000, gid: 1000 }), 'HOME=/home/user', 'uid 1000: its passwd entry');
  t.equal(home({ uid: 0, gid: 0 }), 'HOME=/root', 'root: its passwd entry too');
  t.equal(home({ uid: 4242, gid: 4242 }), 'HOME=/', 'a uid without an entry: /');
  t.equal(home({ uid: 1000, gid: 1000 }, ['PATH=/bin', 'HOME=/elsewhere']), 'HOME=/elsewhere', 'the config\'s HOME stays');
  t.equal(home({ uid: 1000, gid: 1000 }, ['PATH=/bin', 'HOME=']), 'HOME=/home/user', 'an empty HOME is replaced, once');
  t.equal(home({ uid: 1000, gid: 1000 }, undefined, (rootfs) => rmSync(join(rootfs, 'etc', 'passwd'))), 'HOME=/', 'no /etc/passwd: /');
  t.equal(home({ uid: 1000, gid: 1000 }, undefined, (rootfs) => {
    rmSync(join(rootfs, 'etc', 'passwd'));
    execFileSync('mkfifo', [join(rootfs, 'etc', 'passwd')]);
  }), 'HOME=/', 'a FIFO at /etc/passwd is not waited on: /');
});
