// Bad input fails with an error that names the field or path, and leaves nothing behind
// (runtime.md#errors: "the state of the environment SHOULD be as if the operation were never
// attempted"; runtime.md#create; config.md, config-linux.md for each field).
import t from 'tap';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { alive, cgroupDirsNamed, mountsUnder, processesOf } from './helpers/host.js';
import { Harness, type Config } from './helpers/runtime.js';

const h = new Harness(t);

type Tap = tap.Test;

/** No state dir, no cgroup dir, no process, no mount: as if the create never happened. */
function assertNoTraces(t: Tap, id: string, bundle: string): void {
  t.notOk(existsSync(join(h.root, id)), 'no state dir');
  t.same(cgroupDirsNamed([id]), [], 'no cgroup dir');
  const token = `${basename(h.tmp)}/${basename(bundle)}`;
  t.same(processesOf(id, token).filter(alive), [], 'no process of the container');
  t.same(mountsUnder(bundle), [], 'no mount under the bundle');
}

const SLEEP = ['sleep', '1000'];
const cases: { name: string; spec: string; edit: (c: Config) => void; message: RegExp; args?: string[]; command?: 'create' | 'run' }[] = [
  {
    name: 'schema-invalid config: process.cwd is a number',
    spec: 'config.md#process: cwd (string, REQUIRED); runtime.md#create: an invalid config is an error',
    edit: (c) => void ((c.process as unknown as Record<string, unknown>).cwd = 5),
    message: /cwd/,
  },
  {
    name: 'unknown namespace type',
    spec: 'config-linux.md#namespaces: type is one of the listed types; "Runtimes MUST generate an error when invalid or unsupported values are encountered"',
    edit: (c) => void c.linux!.namespaces!.push({ type: 'foo' as 'pid' }),
    message: /namespace/,
  },
  {
    name: 'duplicate namespace',
    spec: 'config-linux.md#namespaces: "If a namespace type is specified more than once, the runtime MUST generate an error"',
    edit: (c) => void c.linux!.namespaces!.push({ type: 'pid' }),
    message: /pid/,
  },
  {
    name: 'missing rootfs dir',
    spec: 'config.md#root: path to the root filesystem; a missing one is an error naming it',
    edit: (c) => void (c.root!.path = 'no-such-rootfs'),
    message: /no-such-rootfs/,
  },
  {
    name: 'relative cwd',
    spec: 'config.md#process: "cwd ... This value MUST be an absolute path"',
    edit: (c) => void (c.process!.cwd = 'tmp'),
    message: /cwd/i,
  },
  {
    name: 'args[0] not found in PATH (create)',
    spec: 'config.md#process: args[0] is resolved in the container; runtime.md#create: errors in setting up the process are errors of create',
    edit: (c) => void (c.process!.args = ['no-such-command']),
    message: /no-such-command/,
  },
  {
    name: 'args[0] not found in PATH (run)',
    spec: 'as above, through run',
    edit: (c) => void (c.process!.args = ['no-such-command']),
    message: /no-such-command/,
    command: 'run',
  },
  {
    name: 'an env entry that is not NAME=VALUE',
    spec: 'config.md#process: env has environ(7) semantics; runc 1.1.5 refuses an entry without a name or "=" (populateProcessEnvironment)',
    edit: (c) => void c.process!.env!.push('JUST_A_NAME'),
    message: /process\.env\[\d+\]: not NAME=VALUE: \\"JUST_A_NAME\\"/,
  },
  {
    name: 'an env entry with an empty name',
    spec: 'as above',
    edit: (c) => void c.process!.env!.push('=value'),
    message: /process\.env\[\d+\]: not NAME=VALUE/,
  },
  {
    name: 'an env entry with a NUL byte',
    spec: 'as above: a C string cannot hold it',
    edit: (c) => void c.process!.env!.push('A=b\u0000c'),
    message: /process\.env\[\d+\]: contains a NUL byte/,
  },
  {
    name: 'a device rule whose access names none of r, w, m',
    spec: 'config-linux.md#allowed-device-list: access is a composition of r, w and m; runc 1.1.5 fails such a rule too',
    edit: (c) => void c.linux!.resources!.devices!.push({ allow: true, type: 'c', major: 1, minor: 11, access: 'RW' }),
    message: /linux\.resources\.devices\[\d+\]\.access: must name r, w or m: \\"RW\\"/,
  },
  {
    name: 'bind mount of a missing source',
    spec: 'config.md#mounts: source of a bind mount; a failed mount is an error naming the path, after the container process exists',
    edit: (c) => void c.mounts!.push({ destination: '/mnt/x', type: 'bind', source: '/no/such/source', options: ['bind'] }),
    message: /\/no\/such\/source|\/mnt\/x/,
  },
];

for (const c of cases) {
  // Each case cites its spec section in `spec`, printed as a comment in the TAP output.
  t.test(c.name, async (t) => {
    t.comment(c.spec);
    const id = h.id(t);
    const bundle = h.bundle({ args: c.args ?? SLEEP, edit: c.edit });
    const r = h.tsrun([c.command ?? 'create', '--bundle', bundle, id]);
    t.not(r.status, 0, 'fails');
    t.match(r.stderr, c.message, `the error names the field or path: ${r.stderr.trim()}`);
    assertNoTraces(t, id, bundle);
  });
}

t.test('duplicate ID: the second create leaves the first alone', async (t) => {
  // runtime.md#create: "If the ID provided is not unique across all containers within the
  // scope of the runtime ... the runtime MUST generate an error and a new container MUST NOT
  // be created."
  const id = h.id(t);
  const first = h.bundle({ args: SLEEP });
  h.ok(['create', '--bundle', first, id]);
  const before = h.state(id);
  const second = h.bundle({ args: SLEEP });
  const r = h.tsrun(['create', '--bundle', second, id]);
  t.not(r.status, 0, 'fails');
  t.match(r.stderr, id, 'the error names the id');
  t.same(h.state(id), before, 'the first container is unchanged');
  t.ok(cgroupDirsNamed([id]).length > 0, "the first container's cgroup is still there");
  const token = `${basename(h.tmp)}/${basename(second)}`;
  t.same(processesOf(`${id}-none`, token).filter(alive), [], 'no process for the second bundle');
  t.same(mountsUnder(second), [], 'no mount under the second bundle');
  h.ok(['delete', '--force', id]);
  assertNoTraces(t, id, first);
});

t.test('kill with a bad signal changes nothing', async (t) => {
  // runtime.md#kill; runtime.md#errors.
  const id = h.id(t);
  h.ok(['create', '--bundle', h.bundle({ args: SLEEP }), id]);
  const before = h.state(id);
  const r = h.tsrun(['kill', id, 'SIGNOPE']);
  t.not(r.status, 0, 'fails');
  t.match(r.stderr, 'SIGNOPE', 'the error names the signal');
  t.same(h.state(id), before, 'the container is unchanged');
});

t.test('the words callers turn into exit statuses, as runc words them', async (t) => {
  // Podman (libpod/oci_util.go getOCIRuntimeError) and Docker (daemon/start.go) make a runtime
  // error with "permission denied" exit 126 and one with "executable file not found" or "no such
  // file or directory" 127. runc 1.1.5 (Go's exec.LookPath) says permission denied for a
  // directory, and "executable file not found in $PATH" for a name PATH has only as a
  // non-executable file.
  const dir = h.tsrun(['create', '--bundle', h.bundle({ args: ['/etc'] }), h.id(t)]);
  t.not(dir.status, 0);
  t.match(dir.stderr, /"\/etc\\" is a directory: Permission denied/i, `a directory: ${dir.stderr.trim()}`);
  const onlyData = h.bundle({ args: ['passwd'], edit: (c) => void (c.process!.env = ['PATH=/etc']) });
  const path = h.tsrun(['create', '--bundle', onlyData, h.id(t)]);
  t.not(path.status, 0);
  t.match(path.stderr, /executable file not found in \$PATH/, `not in PATH: ${path.stderr.trim()}`);
  t.notMatch(path.stderr, /permission denied/i, 'not a permission error (that would be 126, not 127)');
  // runc 1.1.5: "invalid rootfs: stat /x: no such file or directory"
  const noRoot = h.tsrun(['create', '--bundle', h.bundle({ edit: (c) => void (c.root!.path = '/no/such/rootfs') }), h.id(t)]);
  t.equal(noRoot.status, 1);
  t.match(noRoot.stderr, /root\.path: invalid rootfs: stat \/no\/such\/rootfs: no such file or directory/, `a missing rootfs: ${noRoot.stderr.trim()}`);
  const fileRoot = h.tsrun(['create', '--bundle', h.bundle({ edit: (c) => void (c.root!.path = '/etc/passwd') }), h.id(t)]);
  t.equal(fileRoot.status, 1);
  t.match(fileRoot.stderr, /root\.path: invalid rootfs \/etc\/passwd: not a directory/, `a rootfs that is a file: ${fileRoot.stderr.trim()}`);
});

t.test('update: the container first, then the limits, then "container not running" (runc)', async (t) => {
  const missing = h.tsrun(['update', '--memory', '1x', 'no-such-container']);
  t.equal(missing.status, 1);
  t.match(missing.stderr, /does not exist/, 'a missing container is the error, not the flag value');
  const id = h.id(t);
  h.ok(['run', '--bundle', h.bundle({ args: ['true'] }), '--keep', id]);
  const stopped = h.tsrun(['update', '--pids-limit', '10', id]);
  t.equal(stopped.status, 1);
  t.match(stopped.stderr, /msg="container not running"/, 'runc\'s ErrNotRunning words');
});
