// The systemd cgroup driver's pure parts, against runc's rules (libcontainer/cgroups/systemd:
// ExpandSlice, getUnitName, the v2 resource properties, RangeToBits; specconv's
// org.systemd.property.* annotations), and the D-Bus wire format read back. Then, on this host
// (not booted with systemd), --systemd-cgroup fails with a clear error and leaves nothing, as
// runc's "systemd cgroup flag passed, but systemd support for managing cgroups is not available".
// The driver itself runs in the systemd guest: test/systemd/tier.sh.
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Harness } from './helpers/runtime.js';
import { loadBundled } from './helpers/bundle-ts.js';

type Variant = { sig: string; value: unknown };
type Property = [string, Variant];
interface Driver {
  expandSlice(s: string): string;
  unitPlace(path: string | undefined, id: string, user: boolean): { unit: string; slice: string; cgroup: string };
  rangeToBits(list: string, field: string): number[];
  resourceProperties(r: object, devices: object | undefined, version: () => number, v1?: boolean): { props: Property[]; resources: { cpu?: { quota?: number } }; setByUnit: Set<string> };
  deviceProperties(policy: object, v1?: boolean): { props: Property[]; exact: boolean };
  annotationProperties(a: Record<string, string>): Property[];
  devicePolicy(rules: object[] | undefined): object;
  encodeMessage(m: object): Buffer;
  decodeMessage(b: Buffer): { body: unknown[]; member?: string; signature?: string };
  messageLength(b: Buffer): number;
}

/** The driver's modules as tsrun bundles them, loaded into this process. */
function driver(): Driver {
  return loadBundled<Driver>([
    "export { expandSlice, unitPlace } from './src/cgroups/systemd/unit-name.ts';",
    "export { rangeToBits, resourceProperties, deviceProperties } from './src/cgroups/systemd/properties.ts';",
    "export { annotationProperties } from './src/cgroups/systemd/annotations.ts';",
    "export { encodeMessage, decodeMessage, messageLength } from './src/cgroups/systemd/wire.ts';",
    "export { devicePolicy } from './src/cgroups/devices.ts';",
  ].join('\n'));
}

const d = driver();
const h = new Harness(t);
const prop = (props: Property[], name: string): unknown => props.find(([n]) => n === name)?.[1].value;

t.test('slice expansion (runc ExpandSlice)', async (t) => {
  t.equal(d.expandSlice('-.slice'), '/');
  t.equal(d.expandSlice('system.slice'), '/system.slice');
  t.equal(d.expandSlice('test-a.slice'), '/test.slice/test-a.slice');
  t.equal(d.expandSlice('test-a-b.slice'), '/test.slice/test-a.slice/test-a-b.slice');
  t.equal(d.expandSlice('kubepods-besteffort-pod1.slice'), '/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice');
  for (const bad of ['test--a.slice', '-test.slice', 'test-.slice', 'test/a.slice', 'test', '.slice', 'slice']) {
    t.throws(() => d.expandSlice(bad), { message: `invalid slice name: ${bad}` }, bad);
  }
});

t.test('cgroupsPath slice:prefix:name to a unit (runc getUnitName, specconv)', async (t) => {
  t.same(d.unitPlace('system.slice:docker:abc', 'id', false), { unit: 'docker-abc.scope', slice: 'system.slice', cgroup: '/system.slice/docker-abc.scope' });
  t.same(d.unitPlace('kubepods-burstable.slice:cri-containerd:0123', 'id', false), {
    unit: 'cri-containerd-0123.scope', slice: 'kubepods-burstable.slice', cgroup: '/kubepods.slice/kubepods-burstable.slice/cri-containerd-0123.scope',
  });
  t.same(d.unitPlace('machine.slice:libpod:xyz', 'id', false).cgroup, '/machine.slice/libpod-xyz.scope');
  // An empty slice is the default; no cgroupsPath is the default prefix and the ID.
  t.same(d.unitPlace(':p:n', 'id', false), { unit: 'p-n.scope', slice: 'system.slice', cgroup: '/system.slice/p-n.scope' });
  t.same(d.unitPlace(undefined, 'c1', false), { unit: 'tsrun-c1.scope', slice: 'system.slice', cgroup: '/system.slice/tsrun-c1.scope' });
  t.same(d.unitPlace(undefined, 'c1', true), { unit: 'tsrun-c1.scope', slice: 'user.slice', cgroup: '/user.slice/tsrun-c1.scope' });
  // A name ending in .slice is a slice unit, placed by its own name.
  t.same(d.unitPlace('system.slice:p:test-a.slice', 'id', false), { unit: 'test-a.slice', slice: 'system.slice', cgroup: '/test.slice/test-a.slice' });
  t.throws(() => d.unitPlace('/sys/fs/cgroup/x', 'id', false), { message: /linux.cgroupsPath: expected "slice:prefix:name" for the systemd cgroup driver, got "\/sys\/fs\/cgroup\/x"/ });
  t.throws(() => d.unitPlace('a:b:c:d', 'id', false), { message: /expected "slice:prefix:name"/ });
  t.throws(() => d.unitPlace('bad--slice.slice:p:n', 'id', false), { message: 'invalid slice name: bad--slice.slice' });
  t.throws(() => d.unitPlace('system.slice:p:', 'id', false), { message: /unit name .* is empty/ });
  t.throws(() => d.unitPlace('system.slice:p:a/b', 'id', false), { message: /"p-a\/b.scope" is not a valid systemd unit name/ });
});

t.test('resources to unit properties (runc genV2ResourcesProperties)', async (t) => {
  const r = {
    memory: { limit: 33554432, reservation: 16777216, swap: 67108864 },
    cpu: { shares: 1024, quota: 12345, period: 100000, cpus: '0-2,7', mems: '0' },
    pids: { limit: 0 },
    blockIO: { weight: 500 },
  };
  const { props, resources } = d.resourceProperties(r, undefined, () => 252);
  t.equal(prop(props, 'MemoryMax'), 33554432n);
  t.equal(prop(props, 'MemoryLow'), 16777216n);
  t.equal(prop(props, 'MemorySwapMax'), 33554432n, 'swap alone: memory+swap minus memory');
  t.equal(prop(props, 'CPUWeight'), 100n, '1024 shares are weight 100');
  t.equal(prop(props, 'CPUQuotaPeriodUSec'), 100000n);
  // 12345/100000 of a CPU is 123450 us a second; systemd keeps whole percents: 130000.
  t.equal(prop(props, 'CPUQuotaPerSecUSec'), 130000n, 'quota rounded up to 10 ms a second');
  t.equal(resources.cpu?.quota, 13000, 'and written to cpu.max rounded the same way');
  t.same(prop(props, 'AllowedCPUs'), [0b10000111]);
  t.same(prop(props, 'AllowedMemoryNodes'), [1]);
  t.equal(prop(props, 'TasksMax'), undefined, 'pids.limit 0 sets nothing');
  t.equal(prop(props, 'IOWeight'), 4950n, 'blkio weight 500 is io weight 4950, as io.weight gets it');
  const unlimited = d.resourceProperties({ memory: { limit: -1, swap: -1 }, pids: { limit: -1 }, cpu: { quota: -1 } }, undefined, () => 252).props;
  t.equal(prop(unlimited, 'MemoryMax'), 2n ** 64n - 1n, '-1 is infinity');
  t.equal(prop(unlimited, 'MemorySwapMax'), 2n ** 64n - 1n);
  t.equal(prop(unlimited, 'TasksMax'), 2n ** 64n - 1n);
  t.equal(prop(unlimited, 'CPUQuotaPerSecUSec'), 2n ** 64n - 1n);
  const old = d.resourceProperties({ cpu: { cpus: '1', period: 50000 } }, undefined, () => 241).props;
  t.equal(prop(old, 'AllowedCPUs'), undefined, 'systemd < 244 has no AllowedCPUs');
  t.equal(prop(old, 'CPUQuotaPeriodUSec'), undefined, 'systemd < 242 has no CPUQuotaPeriodUSec');
  const unified = d.resourceProperties({ unified: { 'memory.high': '1048576', 'pids.max': '0', 'cpu.max': 'max 50000', 'cpu.idle': '1', 'cpu.weight': '7', 'io.max': '8:0 rbps=1' } }, undefined, () => 252).props;
  t.equal(prop(unified, 'MemoryHigh'), 1048576n);
  t.equal(prop(unified, 'TasksMax'), 1n, 'systemd takes no TasksMax=0: 1');
  t.equal(prop(unified, 'CPUQuotaPerSecUSec'), 2n ** 64n - 1n);
  t.equal(prop(unified, 'CPUWeight'), 0n, 'cpu.idle 1 is CPUWeight 0 (systemd >= 252), cpu.weight then ignored');
  t.equal(unified.filter(([n]) => n === 'CPUWeight').length, 1);
  t.equal(d.rangeToBits('0,8-9', 'f').join(','), '1,3');
  t.throws(() => d.rangeToBits('3-1', 'linux.resources.cpu.cpus'), { message: 'linux.resources.cpu.cpus: invalid list "3-1"' });
});

t.test('the files a new unit holds already are not written again (cgroup v2)', async (t) => {
  // systemd writes a unit's properties to its cgroup before the start job ends: MemoryMax,
  // MemoryLow and TasksMax are memory.max, memory.low and pids.max with the value tsrun would
  // write. Not so MemorySwapMax (left out quietly without swap accounting, where tsrun's write
  // fails), cpu.max (the period from systemd 242 only) or io.weight: those are written.
  const r = { memory: { limit: 33554432, reservation: 16777216, swap: 67108864 }, cpu: { shares: 512, quota: 50000, period: 100000 }, pids: { limit: 20 }, blockIO: { weight: 500 } };
  t.same([...d.resourceProperties(r, undefined, () => 252).setByUnit].sort(), ['linux.resources.memory.limit', 'linux.resources.memory.reservation', 'linux.resources.pids.limit']);
  t.same([...d.resourceProperties({ pids: { limit: 0 }, memory: {} }, undefined, () => 252).setByUnit], [], 'no property, nothing set');
  t.same([...d.resourceProperties({ unified: { 'memory.max': '1048576', 'pids.max': '0' } }, undefined, () => 252).setByUnit], [], 'the unified map is written as given (TasksMax=0 is 1)');
  t.same([...d.resourceProperties(r, undefined, () => 252, true).setByUnit], [], 'cgroup v1: every file is written');
});

t.test('resources to unit properties on cgroup v1 (runc genV1ResourcesProperties)', async (t) => {
  // systemd writes these to the v1 files whenever it realizes the unit's cgroup (daemon-reload):
  // without them it would write its defaults over the container's limits.
  const r = { memory: { limit: 33554432, reservation: 1, swap: 67108864 }, cpu: { shares: 512, quota: 50000, period: 100000 }, pids: { limit: 20 }, blockIO: { weight: 500 }, unified: { 'memory.high': '1' } };
  const { props } = d.resourceProperties(r, undefined, () => 252, true);
  t.same(props.map(([n]) => n), ['MemoryLimit', 'CPUShares', 'CPUQuotaPeriodUSec', 'CPUQuotaPerSecUSec', 'TasksMax', 'BlockIOWeight']);
  t.equal(prop(props, 'MemoryLimit'), 33554432n);
  t.equal(prop(props, 'CPUShares'), 512n, 'shares as they are');
  t.equal(prop(props, 'CPUQuotaPerSecUSec'), 500000n);
  t.equal(prop(props, 'TasksMax'), 20n);
  t.equal(prop(props, 'BlockIOWeight'), 500n);
  t.equal(prop(d.resourceProperties({ memory: { limit: -1 } }, undefined, () => 252, true).props, 'MemoryLimit'), 2n ** 64n - 1n, '-1 is infinity');
});

t.test('device rules to DevicePolicy/DeviceAllow (runc devices/systemd.go)', async (t) => {
  const oci = d.devicePolicy([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }]);
  const strict = d.deviceProperties(oci);
  t.ok(strict.exact, 'deny all, then allows: systemd says it exactly');
  t.equal(prop(strict.props, 'DevicePolicy'), 'strict');
  const allow = strict.props.filter(([n]) => n === 'DeviceAllow').map(([, v]) => v.value as string[][]);
  t.same(allow[0], [], 'an empty DeviceAllow first clears the list');
  // the exceptions in runc's order (its emulator's Rules(): by major, minor, then type)
  t.same(allow[1]!.slice(0, 3), [['block-*', 'm'], ['char-*', 'm'], ['/dev/char/1:3', 'rwm']]);
  t.ok(allow[1]!.some(([p, a]) => p === '/dev/char/10:229' && a === 'rw'), 'the config\'s rule');
  t.ok(allow[1]!.some(([p, a]) => p === 'char-136' && a === 'rwm'), 'a wildcard minor is char-MAJOR');
  const deny = d.deviceProperties(d.devicePolicy([{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'rwm' }]));
  t.notOk(deny.exact, 'a deny list is not something systemd has');
  t.equal(prop(deny.props, 'DevicePolicy'), 'auto', 'systemd then allows all and tsrun\'s own program decides');
  t.notOk(d.deviceProperties(d.devicePolicy([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', minor: 3, access: 'r' }])).exact, '"*:3" rules are not');
  // v1: one list, which systemd writes again on daemon-reload; "auto" would then allow every
  // device. What systemd cannot say is strict with what it can (runc's rule).
  const denyV1 = d.deviceProperties(d.devicePolicy([{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' }]), true);
  t.equal(prop(denyV1.props, 'DevicePolicy'), 'strict', 'v1: a deny list is strict, nothing allowed');
  t.same(denyV1.props.filter(([n]) => n === 'DeviceAllow').map(([, v]) => v.value), [[], []]);
  const allV1 = d.deviceProperties(d.devicePolicy([{ allow: true, access: 'rwm' }]), true);
  t.equal(prop(allV1.props, 'DevicePolicy'), 'auto', 'v1: allow-all is auto');
  const starV1 = d.deviceProperties(d.devicePolicy([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', minor: 3, access: 'r' }]), true);
  t.equal(prop(starV1.props, 'DevicePolicy'), 'strict', 'v1: a "*:3" rule is left out of a strict list');
  t.same(starV1.props, d.deviceProperties(d.devicePolicy([{ allow: false, access: 'rwm' }]), true).props, '  ... the rest as without it');
});

t.test('org.systemd.property.* annotations (runc initSystemdProps)', async (t) => {
  const props = d.annotationProperties({
    'org.systemd.property.TimeoutStopSec': 'uint64 5',
    'org.systemd.property.CollectMode': "'inactive-or-failed'",
    'org.systemd.property.IOAccounting': 'false',
    'org.systemd.property.After': "['a.service', 'b.service']",
    'org.systemd.property.CPUQuotaPeriodUSec': '@t 20000',
    other: 'x',
  });
  t.same(props.map(([n, v]) => [n, v.sig, v.value]), [
    ['TimeoutStopUSec', 't', 5000000n],
    ['CollectMode', 's', 'inactive-or-failed'],
    ['IOAccounting', 'b', false],
    ['After', 'as', ['a.service', 'b.service']],
    ['CPUQuotaPeriodUSec', 't', 20000n],
  ]);
  t.throws(() => d.annotationProperties({ 'org.systemd.property.Bad-Name': '1' }), { message: /org.systemd.property.Bad-Name: the property name must be ASCII letters/ });
  t.throws(() => d.annotationProperties({ 'org.systemd.property.TasksMax': 'lots' }), { message: /org.systemd.property.TasksMax=lots: cannot parse "lots"/ });
});

t.test('D-Bus messages: StartTransientUnit written and read back', async (t) => {
  const body = ['tsrun-x.scope', 'replace', [['PIDs', { sig: 'au', value: [42] }], ['MemoryMax', { sig: 't', value: 1n << 40n }], ['DeviceAllow', { sig: 'a(ss)', value: [['/dev/char/1:3', 'rwm']] }], ['Delegate', { sig: 'b', value: true }]], []];
  const m = d.encodeMessage({ type: 1, serial: 7, destination: 'org.freedesktop.systemd1', path: '/org/freedesktop/systemd1', interface: 'org.freedesktop.systemd1.Manager', member: 'StartTransientUnit', signature: 'ssa(sv)a(sa(sv))', body });
  t.equal(d.messageLength(m), m.length, 'the length from the fixed header is the whole message');
  t.equal(d.messageLength(m.subarray(0, 10)), 0, 'a partial header is not a length');
  const back = d.decodeMessage(m);
  t.equal(back.member, 'StartTransientUnit');
  t.same(back.body, body);
  // The bytes of a small message, as the D-Bus specification lays them out.
  const hello = d.encodeMessage({ type: 1, serial: 1, path: '/', member: 'Hello', signature: '', body: [] });
  t.equal(hello.subarray(0, 16).toString('hex'), '6c01000100000000010000001e000000', 'endianness, type, flags, version, body length, serial, fields length');
});

t.test('--systemd-cgroup on a host not booted with systemd: a clear error, nothing left', async (t) => {
  if (existsSync('/run/systemd/system')) {
    t.comment('this host runs systemd: test/systemd/tier.sh covers it');
    return;
  }
  const id = h.id(t);
  const bundle = h.bundle({ args: ['true'] });
  for (const flags of [['--systemd-cgroup'], ['--cgroup-manager', 'systemd']]) {
    for (const cmd of ['create', 'run']) {
      const r = h.tsrun([...flags, cmd, '--bundle', bundle, id]);
      t.equal(r.status, 1, `${flags.join(' ')} ${cmd} fails`);
      t.match(r.stderr, /systemd cgroup flag passed, but systemd support for managing cgroups is not available: this host was not booted with systemd \(\/run\/systemd\/system is missing\)/, 'and says why');
      t.notOk(existsSync(join(h.root, id)), 'no state dir');
      t.equal(h.state(id), null, 'no container');
    }
  }
});

t.test('features: the systemd driver is there', async (t) => {
  const f = JSON.parse(h.ok(['features']).stdout) as { linux: { cgroup: { systemd: boolean; systemdUser: boolean } } };
  t.equal(f.linux.cgroup.systemd, true, 'systemd');
  t.equal(f.linux.cgroup.systemdUser, true, "systemdUser: the user's instance (test/systemd/tier.sh, rootless)");
});
