// linux.rootfsPropagation (config-linux.md#rootfs-mount-propagation), every value run by tsrun
// and by runc 1.1.5 on the same config, compared where it counts: the optional fields of
// /proc/self/mountinfo (shared:N, master:N, unbindable, none) inside the container, and which
// mounts cross between it and the host. The recursive values (rprivate, rslave, rshared,
// runbindable) are runc's (specconv's mountPropagationMapping) and crun's; containerd's CRI
// sends rslave and rshared for Kubernetes' HostToContainer and Bidirectional mounts.
//
// Each run is in a mount namespace of its own (`unshare -m`) made to look like a systemd host:
// a shared tmpfs holds the bundle, and two shared "volumes" are bound into the container as
// Kubernetes binds them, one `rshared` (Bidirectional), one `rslave` (HostToContainer). The
// container mounts a tmpfs in its root and in each volume; then the host mounts one in each.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Harness, TSRUN, type Config, type TestLike } from './helpers/runtime.js';

const h = new Harness(t);
const RUNC = spawnSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).stdout.trim();

// $1 runtime, $2 its state root, $3 container ID, $4 the bundle to copy, $5 the shared tmpfs's
// mount point, $6 "mount" when the rootfs is a mount point of its own (Podman's and containerd's
// overlay), $7 where the results go (outside the tmpfs, which goes with the namespace).
const SCRIPT = `set -eu
rt=$1 root=$2 id=$3 bundle=$4 W=$5 layout=$6 out=$7
mount -t tmpfs top "$W"; mount --make-shared "$W"
cp -a "$bundle" "$W/b"; R=$W/b/rootfs
for v in v1 v2; do mkdir "$W/$v"; mount -t tmpfs "$v" "$W/$v"; mount --make-shared "$W/$v"; mkdir "$W/$v/in" "$W/$v/out"; done
if [ "$layout" = mount ]; then mount --bind "$R" "$R"; mount --make-shared "$R"; fi
cat /proc/self/mountinfo >"$out/host0"
"$rt" --root "$root" run --bundle "$W/b" "$id" >"$out/run" 2>&1 & pid=$!
i=0; while [ ! -e "$R/ready" ] && kill -0 $pid 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
cat /proc/self/mountinfo >"$out/host1"
if [ -e "$R/ready" ]; then for d in "$R/out" "$W/v1/out" "$W/v2/out"; do mount -t tmpfs host "$d"; done; fi
touch "$R/go"
status=0; wait $pid || status=$?
echo $status >"$out/status"
cp "$R/mi1" "$R/mi2" "$out/" 2>/dev/null || true
`;

// In the container: its mounts, a tmpfs in its root and in each volume, then its mounts again
// once the host has made its own.
const CONTAINER = 'cat /proc/self/mountinfo >/mi1; for d in /in /v1/in /v2/in; do mount -t tmpfs c $d; done; touch /ready; i=0; while [ ! -e /go ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; cat /proc/self/mountinfo >/mi2';

interface MountInfo {
  /** optional fields by mount point (the topmost mount at each) */
  optional: Map<string, string[]>;
}

function mountinfo(text: string): MountInfo {
  const optional = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-');
    if (dash < 6) continue;
    optional.set(f[4]!, f.slice(6, dash));
  }
  return { optional };
}

/** What one run shows: each mount's propagation, relative to the host mount it came from, and what crossed. */
interface Outcome {
  status: number;
  error: string;
  propagation: Record<string, string>;
  hostSees: string[];
  containerSees: string[];
}

type Propagation = NonNullable<NonNullable<Config['linux']>['rootfsPropagation']>;

/** The propagation script in a mount namespace of its own; resolves with its exit status and stderr. */
function unshared(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((res) => {
    const p = spawn('unshare', ['-m', '--propagation', 'unchanged', 'bash', '-c', SCRIPT, 'bash', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH },
    });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 120_000);
    p.on('close', (status) => {
      clearTimeout(timer);
      res({ status, stderr });
    });
  });
}

/** runc's and tsrun's runs of one value side by side (each in its own mount namespace and dirs). */
function both(t: TestLike, value: string | undefined, layout: 'dir' | 'mount'): Promise<[Outcome, Outcome]> {
  return Promise.all([runOnce(t, RUNC, h.path('runc-root'), value, layout), runOnce(t, TSRUN, h.root, value, layout)]);
}

async function runOnce(t: TestLike, runtime: string, root: string, value: string | undefined, layout: 'dir' | 'mount'): Promise<Outcome> {
  const id = h.id(t);
  t.teardown(() => void spawnSync(runtime, ['--root', root, 'delete', '--force', id]));
  const top = h.path(`top-${id}`);
  const out = h.path(`out-${id}`);
  mkdirSync(top);
  mkdirSync(out);
  const bundle = h.bundle({
    prepare: (rootfs) => ['in', 'out', 'v1', 'v2'].forEach((d) => mkdirSync(join(rootfs, d))),
    edit: (c) => {
      // runc 1.1.5 refuses runtime-spec 1.3.0
      c.ociVersion = '1.0.2';
      // "" is not a value the schema allows: runc and crun take it for "unset"
      if (value !== undefined) c.linux!.rootfsPropagation = value as Propagation;
      c.process!.args = ['sh', '-c', CONTAINER];
      const caps = c.process!.capabilities!;
      for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...(caps[set] ?? []), 'CAP_SYS_ADMIN'];
      c.mounts!.push(
        { destination: '/v1', type: 'bind', source: `${top}/v1`, options: ['rbind', 'rshared'] },
        { destination: '/v2', type: 'bind', source: `${top}/v2`, options: ['rbind', 'rslave'] },
      );
    },
  });
  const r = await unshared([runtime, root, id, bundle, top, layout, out]);
  if (r.status !== 0) throw new Error(`propagation script: exit ${r.status ?? 'killed'}: ${r.stderr}`);
  const read = (f: string): string => {
    try {
      return readFileSync(join(out, f), 'utf8');
    } catch {
      return '';
    }
  };
  const host0 = mountinfo(read('host0')).optional;
  const host1 = mountinfo(read('host1')).optional;
  const rootfs = `${top}/b/rootfs`;
  // the host mount each container mount was made from, whose peer group is "the host's"
  const group = (hostMount: string): string | undefined => host0.get(hostMount)?.find((o) => o.startsWith('shared:'))?.slice(7);
  const from: Record<string, string | undefined> = { '/': group(layout === 'mount' ? rootfs : top), '/v1': group(`${top}/v1`), '/v2': group(`${top}/v2`), '/proc': undefined };
  const inside = mountinfo(read('mi1')).optional;
  const propagation: Record<string, string> = {};
  for (const [m, g] of Object.entries(from)) {
    const fields = inside.get(m);
    propagation[m] = !fields ? '(no mount)' : fields.map((o) => o.replace(/^(shared|master):(\d+)$/, (_, kind: string, n: string) => `${kind}:${n === g ? 'host' : 'new'}`)).join(' ') || 'private';
  }
  const after = mountinfo(read('mi2')).optional;
  return {
    status: Number(read('status').trim() || -1),
    error: read('run').trim(),
    propagation,
    hostSees: [`${rootfs}/in`, `${top}/v1/in`, `${top}/v2/in`].filter((m) => host1.has(m)).map((m) => m.slice(top.length)),
    containerSees: ['/out', '/v1/out', '/v2/out'].filter((m) => after.has(m)),
  };
}

const layouts: ['dir' | 'mount', string][] = [
  ['dir', 'the rootfs a directory of a shared mount'],
  ['mount', 'the rootfs a shared mount of its own'],
];

t.test('the recursive values, and none, as runc 1.1.5', { skip: !RUNC && 'runc is not installed' }, async (t) => {
  const seen = new Map<string, Outcome>();
  for (const [layout, what] of layouts) {
    for (const value of [undefined, '', 'rprivate', 'rslave', 'rshared']) {
      const name = `${value === undefined ? 'unset' : JSON.stringify(value)}, ${what}`;
      const [runc, ours] = await both(t, value, layout);
      t.equal(runc.status, 0, `${name}: runc runs it (${runc.error})`);
      t.equal(ours.status, 0, `${name}: tsrun runs it (${ours.error})`);
      t.same(ours, { ...runc, error: ours.error }, `${name}: the same mountinfo fields and crossings as runc: ${JSON.stringify(runc)}`);
      seen.set(`${value} ${layout}`, ours);
    }
  }
  // what these values are for: a Bidirectional volume reaches the host only under rshared
  t.same(seen.get('rshared mount')?.hostSees, ['/v1/in'], 'rshared: a mount in the rshared volume reaches the host');
  t.same(seen.get('rslave mount')?.hostSees, [], 'rslave: it does not');
});

t.test('runbindable: "/" and every mount under it cannot be bound, where runc 1.1.5 cannot start', { skip: !RUNC && 'runc is not installed' }, async (t) => {
  for (const [layout, what] of layouts) {
    const [runc, ours] = await both(t, 'runbindable', layout);
    t.not(runc.status, 0, `${what}: runc fails`);
    t.match(runc.error, /error preparing rootfs: mount .*flags: 0x5000: invalid argument/, 'binding an unbindable rootfs onto itself');
    t.equal(ours.status, 0, `${what}: tsrun runs it (${ours.error})`);
    t.same(ours.propagation, { '/': 'unbindable', '/v1': 'unbindable', '/v2': 'unbindable', '/proc': 'unbindable' }, `${what}: every mount is unbindable`);
    t.same([ours.hostSees, ours.containerSees], [[], []], `${what}: and none receives or sends events`);
  }
});

t.test('the values the spec defines: runc 1.1.5 but for "/" itself, which gets the spec\'s meaning', { skip: !RUNC && 'runc is not installed' }, async (t) => {
  // config-linux.md: shared "belongs to a new peer group", slave "receives propagation events
  // from the host", unbindable "cannot be bind-mounted". runc 1.1.5 leaves "/" private for all
  // three (crun and later runc give the spec's); the volumes keep their own options under each.
  const root: Record<string, [string, string[]]> = {
    private: ['private', []],
    slave: ['master:host', ['/out']],
    shared: ['shared:new', []],
    unbindable: ['unbindable', []],
  };
  for (const [layout, what] of layouts) {
    for (const [value, [mine, seen]] of Object.entries(root)) {
      const [runc, ours] = await both(t, value, layout);
      t.equal(ours.status, 0, `${value}, ${what}: tsrun runs it (${ours.error})`);
      const expected = { ...runc, error: ours.error, propagation: { ...runc.propagation, '/': mine }, containerSees: [...seen, ...runc.containerSees.filter((m) => m !== '/out')] };
      t.same(ours, expected, `${value}, ${what}: runc's ${JSON.stringify(runc)} with "/" ${mine}`);
    }
  }
});

t.test('an unknown rootfsPropagation is refused, naming the field, and leaves nothing', async (t) => {
  const id = h.id(t);
  const r = h.tsrun(['create', '--bundle', h.bundle({ edit: (c) => void (c.linux!.rootfsPropagation = 'rbogus' as Propagation) }), id]);
  t.not(r.status, 0);
  t.match(r.stderr, /invalid config\.json: linux\.rootfsPropagation: must be equal to one of the allowed values: private, shared, slave, unbindable, rprivate, rshared, rslave, runbindable/);
  t.equal(h.state(id), null, 'no container');
});
