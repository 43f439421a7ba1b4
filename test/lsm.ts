// LSM labels: process.apparmorProfile, process.selinuxLabel (config.md#linux-process) and
// linux.mountLabel (config-linux.md#mount-label), handled as runc does (its libcontainer/apparmor,
// the selinux checks of its validator and exec, go-selinux's FormatMountLabel).
//
// This host runs no AppArmor and no SELinux (LSMs: capability, landlock, bpf), so:
// - what a host without them does is tested for real (a profile is written and refused by the
//   kernel, a label is refused before start, a mount label is ignored);
// - what a host with them does is driven with TSRUN_TEST_FORCE_LSM (a test-only switch that makes
//   tsrun treat the LSM as enabled): tsrun-init then really writes the label or mounts with
//   context=, and the kernel, which has no such LSM, refuses it. That proves the C paths run,
//   with which file and data, and that their errors are clear; it cannot show a label taking
//   effect (that needs a kernel with the LSM);
// - the plan TypeScript sends is read by a stand-in for tsrun-init (a shell script given as
//   TSRUN_INIT that saves the plan and reports an error), to check the exact option strings.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Harness, type Config, type TestLike } from './helpers/runtime.js';

const h = new Harness(t);
type Tap = tap.Test;

const LABEL = 'system_u:object_r:svirt_sandbox_file_t:s0:c715,c811'; // config-linux.md's example
const PROC_LABEL = 'system_u:system_r:svirt_lxc_net_t:s0:c124,c675'; // config.md's example
const PROFILE = 'tsrun-test-profile';
const FORCE_SELINUX = { TSRUN_TEST_FORCE_LSM: 'selinux' };
const RUNC = '/usr/sbin/runc';

/** AppArmor's own attr file when the kernel has one, else the shared one (runc's order). */
const AA_ATTR = existsSync('/proc/self/attr/apparmor/exec') ? '/proc/thread-self/attr/apparmor/exec' : '/proc/thread-self/attr/exec';

/**
 * What this kernel answers to writing `value` into this thread's attr/exec, as strerror text
 * ("invalid argument"), computed here rather than assumed. Only used while no LSM is enabled, so
 * the write cannot succeed and change anything.
 */
function attrWriteError(path: string, value: string): string {
  try {
    writeFileSync(path.replace('thread-self', 'self'), value);
  } catch (e) {
    return /^[A-Z]+: ([^,]+),/.exec((e as Error).message)?.[1] ?? (e as Error).message;
  }
  throw new Error(`writing ${value} to ${path} succeeded: an LSM is enabled on this host`);
}

function lsmsHere(): { apparmor: boolean; selinux: boolean } {
  const aa = existsSync('/sys/kernel/security/apparmor') && existsSync('/sys/module/apparmor/parameters/enabled') && readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').startsWith('Y');
  const se = readFileSync('/proc/self/mountinfo', 'utf8').includes(' - selinuxfs ');
  return { apparmor: aa, selinux: se };
}


/** One launch-plan record as the C core reads it (docs/PLAN-FORMAT.md#encoding). */
type Rec = string[];

function decodePlan(buf: Buffer): Rec[] {
  const parts = buf.toString('utf8').split('\0');
  parts.pop(); // after the last NUL
  const out: Rec[] = [];
  for (let i = 0; i < parts.length; ) {
    const tag = parts[i]!;
    const n = Number(parts[i + 1]);
    out.push([tag, ...parts.slice(i + 2, i + 2 + n)]);
    i += 2 + n;
  }
  return out;
}

/**
 * Runs `args` (create or exec) with a stand-in tsrun-init that saves the plan and fails with
 * "plan: captured", and returns the plan's records. The stand-in replaces the C core only to
 * read what TypeScript sends it.
 */
function capturePlan(t: Tap, args: string[], env: Record<string, string> = {}): Rec[] {
  const n = Math.random().toString(36).slice(2);
  const out = h.path(`plan-${n}.bin`);
  const init = h.path(`fake-init-${n}.sh`);
  writeFileSync(init, `#!/bin/sh\n# $1 = plan fd, $2 = sync fd (docs/PLAN-FORMAT.md#invocation)\neval "/bin/cat <&$1" > '${out}'\neval "echo 'error plan: captured' >&$2"\nexit 1\n`);
  chmodSync(init, 0o755);
  const r = h.tsrun(args, { env: { ...env, TSRUN_INIT: init } });
  t.not(r.status, 0, 'the stand-in init fails the call');
  t.match(r.stderr, /plan: captured/, 'the stand-in init received the plan');
  const recs = decodePlan(readFileSync(out));
  rmSync(out);
  return recs;
}

function planOf(t: Tap, edit: (c: Config) => void, env: Record<string, string> = {}): Rec[] {
  const id = h.id(t);
  const recs = capturePlan(t, ['create', '--bundle', h.bundle({ args: ['true'], edit }), id], env);
  t.notOk(existsSync(join(h.root, id)), 'no state dir left');
  return recs;
}

const mountRec = (recs: Rec[], dest: string): Rec | undefined => recs.find((r) => r[0] === 'mount' && r[2] === dest);
/** A mount record's data field (docs/PLAN-FORMAT.md: source, destination, type, flags, propagation, data, ...). */
const dataOf = (r: Rec | undefined): string | undefined => r?.[6];

/** The message of tsrun's error line (`level=error msg="..."`, its quotes escaped), else stderr. */
function errorOf(stderr: string): string {
  const m = /level=error msg=("(?:[^"\\]|\\.)*")/.exec(stderr);
  return m ? (JSON.parse(m[1]!) as string) : stderr;
}

/** The create must fail, name `message`, and leave no state dir behind. */
function failsToCreate(t: Tap, edit: (c: Config) => void, message: RegExp, env: Record<string, string> = {}): string {
  const id = h.id(t);
  const r = h.tsrun(['run', '--bundle', h.bundle({ args: ['true'], edit }), id], { env });
  t.equal(r.status, 1, 'exit 1');
  t.match(errorOf(r.stderr), message, 'the error says what failed');
  t.notOk(existsSync(join(h.root, id)), 'no state dir left');
  return errorOf(r.stderr);
}

/** The same config under runc (installed here as a reference), for the behaviour to match. */
function runcRun(t: TestLike, edit: (c: Config) => void): { status: number | null; stderr: string } {
  const root = h.path('runc-root');
  const id = `lsm-${process.pid}-${Math.random().toString(36).slice(2)}`;
  t.teardown(() => void spawnSync(RUNC, ['--root', root, 'delete', '--force', id]));
  const r = spawnSync(RUNC, ['--root', root, 'run', '--bundle', h.bundle({ args: ['true'], edit }), id], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stderr: r.stderr };
}

function running(t: TestLike): string {
  const id = h.id(t);
  h.ok(['run', '-d', '--bundle', h.bundle({ args: ['sleep', '1000'] }), id]);
  return id;
}

function main(): void {
  t.test('apparmorProfile without AppArmor: written anyway and refused by the kernel, as runc does', async (t) => {
    // runc's ApplyProfile does not look whether AppArmor is enabled: "exec PROFILE" goes to the
    // attr file and the kernel's error fails the container.
    const errText = attrWriteError(AA_ATTR, `exec ${PROFILE}`);
    const stderr = failsToCreate(t, (c) => void (c.process!.apparmorProfile = PROFILE), new RegExp(`apparmor: write "exec ${PROFILE}" to ${AA_ATTR.replaceAll('/', '\\/')}: `));
    t.ok(stderr.toLowerCase().includes(errText), `the errno text (${errText}) is given`);
    const debug = h.tsrun(['--debug', 'run', '--bundle', h.bundle({ args: ['true'], edit: (c) => void (c.process!.apparmorProfile = PROFILE) }), h.id(t)]);
    t.match(debug.stderr, /level=debug msg=.*AppArmor is not enabled on this host; applying it anyway, as runc does/, 'a debug line says AppArmor is off');
    if (existsSync(RUNC)) {
      const r = runcRun(t, (c) => void (c.process!.apparmorProfile = PROFILE));
      t.not(r.status, 0, 'runc fails the same config');
      t.ok(r.stderr.toLowerCase().includes(errText), 'with the same errno');
    }
  });

  t.test('apparmorProfile is written by tsrun-init also when AppArmor is detected (forced)', async (t) => {
    const errText = attrWriteError(AA_ATTR, `exec ${PROFILE}`);
    const stderr = failsToCreate(t, (c) => void (c.process!.apparmorProfile = PROFILE), /apparmor: write "exec tsrun-test-profile" to \/proc\/thread-self\/attr\//, { TSRUN_TEST_FORCE_LSM: 'apparmor' });
    t.ok(stderr.toLowerCase().includes(errText), 'the errno text is given');
  });

  t.test('selinuxLabel without SELinux is refused before anything starts, with runc\'s text', async (t) => {
    const stderr = failsToCreate(t, (c) => void (c.process!.selinuxLabel = PROC_LABEL), /process\.selinuxLabel: selinux label is specified in config, but selinux is disabled or not supported/);
    if (existsSync(RUNC)) {
      const r = runcRun(t, (c) => void (c.process!.selinuxLabel = PROC_LABEL));
      t.not(r.status, 0, 'runc refuses it too');
      const sentence = /selinux label is specified in config, but selinux is disabled or not supported/.exec(stderr)![0];
      t.ok(r.stderr.includes(sentence), 'with the same sentence');
    }
  });

  t.test('selinuxLabel with SELinux (forced): tsrun-init writes it to attr/exec, the kernel refuses', async (t) => {
    const errText = attrWriteError('/proc/thread-self/attr/exec', PROC_LABEL);
    const stderr = failsToCreate(t, (c) => void (c.process!.selinuxLabel = PROC_LABEL), new RegExp(`selinux: write "${PROC_LABEL}" to /proc/thread-self/attr/exec: `), FORCE_SELINUX);
    t.ok(stderr.toLowerCase().includes(errText), `the errno text (${errText}) is given`);
  });

  t.test('the plan carries apparmor and selinux records', async (t) => {
    const recs = planOf(t, (c) => {
      c.process!.apparmorProfile = PROFILE;
      c.process!.selinuxLabel = PROC_LABEL;
    }, FORCE_SELINUX);
    t.same(recs.filter((r) => r[0] === 'apparmor' || r[0] === 'selinux'), [['apparmor', PROFILE], ['selinux', PROC_LABEL]]);
    const none = planOf(t, () => undefined, FORCE_SELINUX);
    t.same(none.filter((r) => r[0] === 'apparmor' || r[0] === 'selinux'), [], 'none without the fields');
  });

  t.test('mountLabel without SELinux is ignored: the container runs with the same mounts', async (t) => {
    // runc 1.1 would add context= anyway and fail the /dev tmpfs; crun ignores it: so do we
    // (runtime-tools' linux_mount_label expects the container to run).
    const script = ['sh', '-c', "awk '{print $2, $3, $4}' /proc/self/mounts"];
    const plain = h.tsrun(['run', '--bundle', h.bundle({ args: script }), h.id(t)]);
    t.equal(plain.status, 0, plain.stderr);
    const id = h.id(t);
    const r = h.tsrun(['--debug', 'run', '--bundle', h.bundle({ args: script, edit: (c) => void (c.linux!.mountLabel = LABEL) }), id]);
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, plain.stdout, 'mount options as without a label');
    t.notMatch(r.stdout, /context=/);
    t.match(r.stderr, /level=debug msg=.*linux\.mountLabel.*SELinux is not enabled on this host; the label is ignored/, 'a debug line says so');
  });

  t.test('mountLabel with SELinux (forced): context= on the mounts runc labels', async (t) => {
    const recs = planOf(t, (c) => {
      c.linux!.mountLabel = LABEL;
      c.mounts!.push({ destination: '/mnt', type: 'bind', source: '/tmp', options: ['rbind', 'ro'] });
    }, FORCE_SELINUX);
    const ctx = `context="${LABEL}"`;
    const plain = planOf(t, (c) => void c.mounts!.push({ destination: '/mnt', type: 'bind', source: '/tmp', options: ['rbind', 'ro'] }), FORCE_SELINUX);
    for (const dest of ['/dev', '/dev/pts', '/dev/shm']) {
      const before = dataOf(mountRec(plain, dest));
      t.equal(dataOf(mountRec(recs, dest)), before ? `${before},${ctx}` : ctx, `${dest}: context= appended to its data`);
    }
    for (const dest of ['/proc', '/sys', '/dev/mqueue', '/sys/fs/cgroup', '/mnt']) {
      t.equal(dataOf(mountRec(recs, dest)), dataOf(mountRec(plain, dest)), `${dest}: data unchanged (proc, sysfs, mqueue, cgroup, bind)`);
    }
    const i = recs.findIndex((r) => r[0] === 'mount' && r[2] === '/dev/mqueue');
    t.same(recs[i + 1], ['relabel', '/dev/mqueue', LABEL], 'mqueue: a relabel record right after its mount');
    t.same(recs.filter((r) => r[0] === 'mount_label'), [['mount_label', LABEL]], 'mount_label for the tmpfs the C core makes');
    t.same(plain.filter((r) => ['mount_label', 'relabel'].includes(r[0]!)), [], 'no label records without mountLabel');

    const off = planOf(t, (c) => void (c.linux!.mountLabel = LABEL));
    t.notMatch(JSON.stringify(off), /context=|mount_label|relabel/, 'without SELinux: nothing of the label in the plan');
  });

  t.test('mountLabel with SELinux (forced): tsrun-init mounts with context=, the kernel refuses', async (t) => {
    // /dev is the first tmpfs: without SELinux the kernel knows no "context" option for it.
    failsToCreate(t, (c) => void (c.linux!.mountLabel = LABEL), new RegExp(`mount: mount tmpfs on /dev \\(type tmpfs, data [^)]*context="${LABEL}"\\): Invalid argument`), FORCE_SELINUX);
  });

  t.test('mountLabel with SELinux (forced): the mqueue root gets security.selinux', async (t) => {
    // Only proc and mqueue: the relabel is the first thing that needs SELinux.
    failsToCreate(t, (c) => {
      c.linux!.mountLabel = LABEL;
      c.mounts = c.mounts!.filter((m) => m.type === 'proc' || m.type === 'mqueue');
      c.linux!.maskedPaths = [];
      c.linux!.readonlyPaths = [];
    }, new RegExp(`mount: set security.selinux "${LABEL}" on /dev/mqueue: Operation not supported`), FORCE_SELINUX);
  });

  t.test('mountLabel with SELinux (forced): masked directories get a labelled tmpfs', async (t) => {
    failsToCreate(t, (c) => {
      c.linux!.mountLabel = LABEL;
      c.mounts = c.mounts!.filter((m) => m.type === 'proc');
      c.linux!.maskedPaths = ['/home'];
      c.linux!.readonlyPaths = [];
    }, new RegExp(`masked: set context "${LABEL}" on the tmpfs for /home: Invalid argument`), FORCE_SELINUX);
  });

  const cgroupV2 = / \/sys\/fs\/cgroup .* - cgroup2 /.test(readFileSync('/proc/self/mountinfo', 'utf8'));
  t.test('mountLabel with SELinux (forced): the v1 cgroup tmpfs is labelled', { skip: cgroupV2 && 'a cgroup v2 host mounts cgroup2, no tmpfs' }, async (t) => {
    failsToCreate(t, (c) => {
      c.linux!.mountLabel = LABEL;
      c.mounts = c.mounts!.filter((m) => m.type === 'proc' || m.type === 'cgroup');
      c.linux!.maskedPaths = [];
      c.linux!.readonlyPaths = [];
    }, new RegExp(`mount: mount tmpfs for cgroup v1 on /sys/fs/cgroup \\(data mode=755,context="${LABEL}"\\): Invalid argument`), FORCE_SELINUX);
  });

  t.test('linux.mountLabel with a quote is refused', async (t) => {
    failsToCreate(t, (c) => void (c.linux!.mountLabel = 'a"b'), /linux\.mountLabel: must not contain quotes/, FORCE_SELINUX);
  });

  t.test('exec --apparmor: the profile is written for the exec\'d process; the container keeps running', async (t) => {
    const id = running(t);
    const errText = attrWriteError(AA_ATTR, `exec ${PROFILE}`);
    const r = h.tsrun(['exec', '--apparmor', PROFILE, id, 'true']);
    t.equal(r.status, 255, "a failed exec exits 255, as runc's");
    t.match(errorOf(r.stderr), new RegExp(`apparmor: write "exec ${PROFILE}" to ${AA_ATTR.replaceAll('/', '\\/')}: `));
    t.ok(r.stderr.toLowerCase().includes(errText), 'with the errno text');
    t.equal(h.state(id)?.status, 'running');
    const file = h.path(`${id}-process.json`);
    writeFileSync(file, JSON.stringify({ cwd: '/', args: ['true'], apparmorProfile: PROFILE }));
    t.match(errorOf(h.tsrun(['exec', '--process', file, id]).stderr), /apparmor: write "exec tsrun-test-profile"/, 'process.json\'s apparmorProfile too');
  });

  t.test('exec --process-label without SELinux is refused, as runc\'s exec does', async (t) => {
    const id = running(t);
    const r = h.tsrun(['exec', '--process-label', PROC_LABEL, id, 'true']);
    t.equal(r.status, 255, "a failed exec exits 255, as runc's");
    t.match(r.stderr, /selinux label is specified in config, but selinux is disabled or not supported/);
    t.equal(h.state(id)?.status, 'running');
  });

  t.test('exec: labels come from the flags, else process.json, else the container (plan)', async (t) => {
    const id = running(t);
    // A container running under an AppArmor profile cannot exist on this host: give its saved
    // config the fields afterwards, so exec sees a container created with them.
    const saved = join(h.root, id, 'config.json');
    const cfg = JSON.parse(readFileSync(saved, 'utf8')) as Config;
    cfg.process!.apparmorProfile = 'from-container';
    cfg.process!.selinuxLabel = 'container_u:container_r:container_t:s0';
    writeFileSync(saved, JSON.stringify(cfg));
    const lsm = (recs: Rec[]): Rec[] => recs.filter((r) => r[0] === 'apparmor' || r[0] === 'selinux');

    t.same(lsm(capturePlan(t, ['exec', id, 'true'], FORCE_SELINUX)), [['apparmor', 'from-container'], ['selinux', 'container_u:container_r:container_t:s0']], 'inherited from the container');
    t.same(lsm(capturePlan(t, ['exec', '--apparmor', 'from-flag', '--process-label', 'flag_u:flag_r:flag_t:s0', id, 'true'], FORCE_SELINUX)),
      [['apparmor', 'from-flag'], ['selinux', 'flag_u:flag_r:flag_t:s0']], 'the flags override');
    const file = h.path(`${id}-process.json`);
    writeFileSync(file, JSON.stringify({ cwd: '/', args: ['true'], apparmorProfile: 'from-file' }));
    t.same(lsm(capturePlan(t, ['exec', '--process', file, id], FORCE_SELINUX)), [['apparmor', 'from-file'], ['selinux', 'container_u:container_r:container_t:s0']], 'process.json\'s field overrides, the rest is inherited');
    t.equal(h.state(id)?.status, 'running');
  });

  t.test('features reports AppArmor and SELinux support', async (t) => {
    const f = JSON.parse(h.ok(['features']).stdout) as { linux: { apparmor: { enabled: boolean }; selinux: { enabled: boolean } } };
    t.same([f.linux.apparmor, f.linux.selinux], [{ enabled: true }, { enabled: true }], 'features-linux.md: runtime support, whatever the host has');
  });
}

const here = lsmsHere();
if (here.apparmor || here.selinux) {
  // Every test relies on the kernel refusing the labels.
  t.pass('skipped: AppArmor or SELinux is enabled on this host, these tests are for hosts without them');
} else {
  main();
}
