// The devices cgroup on this host's v1 hierarchy (config-linux.md#allowed-device-list): the rule
// shapes runc's `spec`, Podman, Docker and containerd send give the devices.list runc 1.1.5 gives
// (its emulator collapses the rules into a default and exceptions, written sorted), and a node in
// linux.devices does not widen the list (config-linux.md#devices: containers MAY NOT access a
// node the lists do not allow; runc: EPERM). test/cgroup2/tier.sh runs the same shapes through
// the cgroup v2 program, where the kernel's verifier checks it.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Harness } from './helpers/runtime.js';
import { cgroupDirsNamed } from './helpers/host.js';
import type { ConfigSchema } from '../src/spec/generated/config.js';

type DeviceRules = NonNullable<NonNullable<NonNullable<ConfigSchema['linux']>['resources']>['devices']>;

const h = new Harness(t);

function devicesList(id: string): string[] {
  const dir = cgroupDirsNamed([id]).find((d) => d.split('/')[4]?.split(',').includes('devices'));
  if (!dir) throw new Error(`no devices cgroup for ${id}`);
  return readFileSync(`${dir}/devices.list`, 'utf8').trim().split('\n');
}

const DENY_ALL = { allow: false, access: 'rwm' };
const ALLOW_ALL = { allow: true, access: 'rwm' };
const allowC = (major: number, minor?: number, access = 'rwm'): DeviceRules[number] => ({ allow: true, type: 'c', major, minor, access });
/** What runc 1.1.5 lists for deny-all plus its AllowedDevices (specconv), sorted by major, minor, type. */
const DEFAULTS = ['b *:* m', 'c *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm', 'c 5:2 rwm', 'c 10:200 rwm', 'c 136:* rwm'];
const withLine = (line: string, after: string): string[] => DEFAULTS.flatMap((l) => (l === after ? [l, line] : [l]));
const KMSG = { path: '/dev/kmsg', type: 'c', major: 1, minor: 11, fileMode: 0o666 };

t.test('devices.list is what runc 1.1.5 makes of the same rules', async (t) => {
  // Each expected list was read from runc 1.1.5's cgroup on this host for the same config.
  const cases: [string, DeviceRules | undefined, string[]][] = [
    ['no rules: the defaults only', undefined, DEFAULTS],
    ["runc spec's deny-all (type, major and minor unset)", [DENY_ALL], DEFAULTS],
    ['allow-all', [ALLOW_ALL], ['a *:* rwm']],
    ['a list that ends in allow-all', [DENY_ALL, allowC(1, 3), ALLOW_ALL], ['a *:* rwm']],
    ['the Podman/Docker/containerd list', [DENY_ALL, { allow: true, type: 'c', access: 'm' }, { allow: true, type: 'b', access: 'm' },
      ...[[1, 3], [1, 5], [1, 7], [5, 0], [5, 1], [5, 2], [1, 8], [1, 9], [10, 200]].map(([ma, mi]) => allowC(ma!, mi)), allowC(136)], withLine('c 5:1 rwm', 'c 5:0 rwm')],
    ['a type with every number: c *:* rw', [DENY_ALL, { allow: true, type: 'c', access: 'rw' }], ['b *:* m', 'c *:* rwm', ...DEFAULTS.slice(2)]],
    ['-1 major and minor mean every number', [DENY_ALL, { allow: true, type: 'c', major: -1, minor: -1, access: 'r' }], ['b *:* m', 'c *:* rm', ...DEFAULTS.slice(2)]],
    ['rules on one device merge; a deny before the defaults is undone by them', [DENY_ALL, allowC(1, 11, 'r'), allowC(1, 11, 'w'), { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }], withLine('c 1:11 rw', 'c 1:9 rwm')],
  ];
  for (const [name, devices, want] of cases) {
    const id = h.id(t);
    h.ok(['create', '--bundle', h.bundle({ args: ['true'], edit: (c) => void (c.linux!.resources = devices ? { devices } : {}) }), id]);
    t.same(devicesList(id), want, name);
    h.ok(['delete', '--force', id]);
  }
});

t.test('a node in linux.devices does not widen the devices cgroup', async (t) => {
  // config-linux.md#devices; runc 1.1.5 builds its cgroup rules from resources.devices and its
  // AllowedDevices only, so writing the node fails with EPERM there too.
  const sh = 'echo tsrun-test > /dev/kmsg && echo kmsg-written; echo x > /dev/null && echo null-ok';
  const run = (devices: DeviceRules): { list: string[]; out: string } => {
    const id = h.id(t);
    const b = h.bundle({ args: ['sh', '-c', `(${sh}) >/result 2>&1`], edit: (c) => void ((c.linux!.resources = { devices }), (c.linux!.devices = [KMSG])) });
    h.ok(['create', '--bundle', b, id]);
    const list = devicesList(id);
    h.ok(['start', id]);
    t.equal(h.waitStatus(id, 'stopped'), 'stopped', 'the container ran');
    return { list, out: readFileSync(join(b, 'rootfs', 'result'), 'utf8') };
  };
  const denied = run([DENY_ALL]);
  t.same(denied.list, DEFAULTS, 'deny-all: c 1:11 is not in devices.list');
  t.match(denied.out, /\/dev\/kmsg.*Operation not permitted/, 'deny-all: writing /dev/kmsg is refused');
  t.notMatch(denied.out, /kmsg-written/, 'deny-all: nothing was written');
  t.match(denied.out, /null-ok/, 'deny-all: the default /dev/null is usable');
  // the control: the same node, allowed by a resources rule, is writable
  const allowed = run([DENY_ALL, allowC(1, 11, 'w')]);
  t.same(allowed.list, withLine('c 1:11 w', 'c 1:9 rwm'), 'allow c 1:11 w: listed');
  t.match(allowed.out, /kmsg-written/, 'a resources rule, not the node, opens /dev/kmsg');
  // allow-all, then a deny exception: the exception holds although the node is listed
  const except = run([ALLOW_ALL, { allow: false, type: 'c', major: 1, minor: 11, access: 'w' }]);
  t.match(except.out, /\/dev\/kmsg.*Operation not permitted/, 'allow-all but c 1:11 w: writing /dev/kmsg is refused');
  t.match(except.out, /null-ok/, 'allow-all but c 1:11 w: /dev/null is usable');
});

t.test('a default device named in linux.devices stays allowed', async (t) => {
  // A difference from runc kept on purpose (docs/CONFORMANCE.md): runc 1.1.5 drops a default
  // rule when linux.devices names its path, and then fails to reopen its own /dev/null.
  const id = h.id(t);
  const b = h.bundle({ args: ['sh', '-c', 'echo x > /dev/null && echo null-ok'], edit: (c) => void ((c.linux!.resources = { devices: [DENY_ALL] }), (c.linux!.devices = [{ path: '/dev/null', type: 'c', major: 1, minor: 3 }])) });
  const r = h.ok(['run', '--bundle', b, id]);
  t.match(r.stdout, /null-ok/, '/dev/null is usable');
});
