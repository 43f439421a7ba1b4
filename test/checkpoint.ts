// checkpoint and restore (runc 1.1.5's checkpoint.go and restore.go), as far as this host can
// show them: CRIU 3.17 cannot dump on its kernel, so dumps and restores themselves are checked
// in a qemu guest (test/criu/tier.sh). Here: the commands exist and say so (Podman probes
// `RUNTIME checkpoint --help`), and every refusal comes before anything is stopped or made.
// (Container processes as CRIU needs them, session leaders on the container's own /dev/null:
// process-linux.ts.)
import t from 'tap';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Harness } from './helpers/runtime.js';
import { receiver } from './helpers/recvtty.js';

const h = new Harness(t);
const SLEEP = ['sleep', '1000'];

/** A dir holding a fake `criu` that prints `version` for --version. */
function fakeCriu(name: string, version: string): string {
  const dir = h.path(name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'criu'), `#!/bin/sh\necho "${version}"\n`, { mode: 0o755 });
  return dir;
}
const withPath = (dir: string): { env: Record<string, string> } => ({ env: { PATH: `${dir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` } });
const noCriu = (): { env: Record<string, string> } => {
  const dir = h.path('no-criu-bin');
  mkdirSync(dir, { recursive: true });
  return { env: { PATH: dir } };
};

t.test('checkpoint and restore exist: --help with runc\'s flags, features says so', async (t) => {
  const cp = h.tsrun(['checkpoint', '--help']);
  t.equal(cp.status, 0, 'checkpoint --help exits 0 (Podman\'s probe for checkpoint support)');
  for (const f of ['image-path', 'work-path', 'parent-path', 'leave-running', 'tcp-established', 'ext-unix-sk', 'shell-job', 'lazy-pages', 'status-fd', 'page-server', 'file-locks', 'pre-dump', 'manage-cgroups-mode', 'empty-ns', 'auto-dedup']) {
    t.match(cp.stdout, new RegExp(`--${f}\\b`), `checkpoint --${f}`);
  }
  const rs = h.tsrun(['restore', '--help']);
  t.equal(rs.status, 0, 'restore --help exits 0');
  for (const f of ['console-socket', 'image-path', 'work-path', 'tcp-established', 'ext-unix-sk', 'shell-job', 'file-locks', 'manage-cgroups-mode', 'bundle, -b', 'detach, -d', 'pid-file', 'no-subreaper', 'no-pivot', 'empty-ns', 'auto-dedup', 'lazy-pages', 'lsm-profile', 'lsm-mount-context']) {
    t.match(rs.stdout, new RegExp(`--${f}\\b`), `restore --${f}`);
  }
  const features = JSON.parse(h.ok(['features']).stdout) as { annotations: Record<string, string> };
  t.equal(features.annotations['org.opencontainers.runc.checkpoint.enabled'], 'true', 'features: runc\'s checkpoint annotation');
  const help = h.ok(['--help']).stdout;
  t.match(help, /^ {3}checkpoint$/m, 'the global help lists checkpoint');
  t.match(help, /^ {3}restore$/m, 'and restore');
});

t.test('create records pid 1\'s stdio in state.json for descriptors.json, as runc records it when its init starts', async (t) => {
  // runc's state.json external_descriptors: a pid 1 that moves its stdout later (exec >file)
  // still gets the caller's pipe back at restore, which checkpoint names from this record.
  const id = h.id(t);
  h.ok(['run', '-d', '--bundle', h.bundle({ args: ['sh', '-c', 'exec >/dev/null 2>&1; touch /tmp/moved; exec sleep 1000'] }), id]);
  const pid = h.state(id)!.pid;
  for (let i = 0; i < 100 && !existsSync(`/proc/${pid}/root/tmp/moved`); i++) await new Promise((r) => setTimeout(r, 50));
  const saved = JSON.parse(readFileSync(join(h.root, id, 'state.json'), 'utf8')) as { stdio?: string[] };
  t.equal(saved.stdio?.[0], '/dev/null', 'stdin as the caller gave it');
  t.match(saved.stdio?.[1], /\/io-\d+\.out$/, 'stdout: the caller\'s file, not what pid 1 has now');
  t.match(saved.stdio?.[2], /\/io-\d+\.err$/, 'stderr: the caller\'s file');
  t.equal(readlinkSync(`/proc/${pid}/fd/1`), '/dev/null', 'pid 1 has moved its stdout meanwhile');
});

t.test('checkpoint refuses before anything stops: no criu, an old criu, bad flags, a created container', async (t) => {
  const id = h.id(t);
  h.ok(['run', '-d', '--bundle', h.bundle({ args: SLEEP }), id]);
  const pid = h.state(id)!.pid;
  const img = h.path('cp-refused-img');
  const cases: [string, string[], { env: Record<string, string> } | undefined, RegExp][] = [
    ['no criu on PATH', [], noCriu(), /no criu on PATH \(install the criu package\)/],
    ['criu 2.0', [], withPath(fakeCriu('criu-old', 'Version: 2.0')), /CRIU version 20000 must be 30000 or higher/],
    ['a criu with no version', [], withPath(fakeCriu('criu-odd', 'hello')), /CRIU version check failed: .* printed no version/],
    ['--lazy-pages', ['--lazy-pages'], undefined, /--lazy-pages is not supported by tsrun/],
    ['a bad --manage-cgroups-mode', ['--manage-cgroups-mode', 'hard'], undefined, /Invalid manage cgroups mode: hard/],
    ['an absolute --parent-path', ['--parent-path', '/tmp'], undefined, /--parent-path must be relative/],
    ['a missing --parent-path', ['--parent-path', 'no-such-parent'], undefined, /invalid --parent-path: .*no-such-parent/],
    ['--empty-ns ipc', ['--empty-ns', 'ipc'], undefined, /namespace \\?"ipc\\?" is not supported by --empty-ns/],
    ['--page-server without a port', ['--page-server', 'host'], undefined, /Use --page-server ADDRESS:PORT/],
  ];
  for (const [what, flags, o, want] of cases) {
    const r = h.tsrun(['checkpoint', '--image-path', img, ...flags, id], o);
    t.equal(r.status, 1, `${what}: exit 1`);
    t.match(r.stderr, want, `${what}: says why`);
    const s = h.state(id);
    t.ok(s?.status === 'running' && s.pid === pid, `${what}: the container runs on, same pid`);
  }
  t.notOk(existsSync(img), 'no image dir was made');
  const created = h.id(t);
  h.ok(['create', '--bundle', h.bundle({ args: SLEEP }), created]);
  const c = h.tsrun(['checkpoint', '--image-path', img, created]);
  t.match(c.stderr, /Container cannot be checkpointed in created state/, 'a created container: runc\'s words');
  t.equal(h.state(created)?.status, 'created', 'it stays created');
  const none = h.tsrun(['checkpoint', '--image-path', img, 'no-such-container']);
  t.match(none.stderr, /container \\?"no-such-container\\?" does not exist/);
});

t.test('checkpoint of a container with a terminal needs --shell-job, said before CRIU runs', async (t) => {
  const id = h.id(t);
  const sock = h.path(`${id}.sock`);
  const rx = receiver(sock);
  h.ok(['run', '-d', '--console-socket', sock, '--bundle', h.bundle({ args: SLEEP, edit: (c) => void (c.process!.terminal = true) }), id]);
  const pid = h.state(id)!.pid;
  const r = h.tsrun(['checkpoint', '--image-path', h.path('tty-img'), id], noCriu());
  t.equal(r.status, 1);
  t.match(r.stderr, /has a terminal \(process\.terminal\): CRIU needs --shell-job/, 'the terminal is named before criu is looked for');
  t.ok(h.state(id)?.status === 'running' && h.state(id)?.pid === pid, 'the container runs on');
  h.ok(['delete', '-f', id]);
  await rx.done.catch(() => undefined);
});

t.test('a read-only root is refused by checkpoint and restore: CRIU would bring it back writable (criu#2632)', async (t) => {
  const id = h.id(t);
  const bundle = h.bundle({ args: SLEEP, edit: (c) => void (c.root!.readonly = true) });
  h.ok(['run', '-d', '--bundle', bundle, id]);
  const pid = h.state(id)!.pid;
  const img = h.path('ro-img');
  const r = h.tsrun(['checkpoint', '--image-path', img, id]);
  t.equal(r.status, 1);
  t.match(r.stderr, /has a read-only root \(root\.readonly\): CRIU would restore it writable \(criu#2632\)/, 'checkpoint says why');
  t.ok(h.state(id)?.status === 'running' && h.state(id)?.pid === pid, 'the container runs on');
  t.notOk(existsSync(img), 'no image dir');
  mkdirSync(img);
  writeFileSync(join(img, 'descriptors.json'), '["/dev/null","/dev/null","/dev/null"]');
  const id2 = h.id(t);
  const rs = h.tsrun(['restore', '-d', '--image-path', img, '--bundle', bundle, id2]);
  t.match(rs.stderr, /has a read-only root/, 'restore says so too');
  t.equal(h.state(id2), null, 'and makes nothing');
});

t.test('restore refuses before anything is made: no criu, no image, an ID in use, a terminal without --shell-job or --console-socket', async (t) => {
  const id = h.id(t);
  const bundle = h.bundle({ args: SLEEP });
  const img = h.path('rs-img');
  mkdirSync(img);
  const cases: [string, string[], string, { env: Record<string, string> } | undefined, RegExp][] = [
    ['no criu on PATH', ['--image-path', img], bundle, noCriu(), /no criu on PATH/],
    ['criu 2.0', ['--image-path', img], bundle, withPath(fakeCriu('criu-old2', 'Version: 2.0')), /CRIU version 20000 must be 30000 or higher/],
    ['a missing image dir', ['--image-path', h.path('no-such-img')], bundle, undefined, /--image-path .*no-such-img: no such directory/],
    ['an image dir without descriptors.json', ['--image-path', img], bundle, undefined, /descriptors\.json: .*not a checkpoint made by checkpoint/],
    ['--lsm-profile with criu 3.15', ['--image-path', img, '--lsm-profile', 'apparmor:x'], bundle, withPath(fakeCriu('criu-315', 'Version: 3.15')), /--lsm-profile requires at least CRIU 3\.16/],
    ['a terminal without --shell-job', ['--image-path', img], h.bundle({ args: SLEEP, edit: (c) => void (c.process!.terminal = true) }), undefined, /has a terminal .*needs --shell-job/],
    ['a terminal without --console-socket', ['--image-path', img, '--shell-job'], h.bundle({ args: SLEEP, edit: (c) => void (c.process!.terminal = true) }), undefined, /process\.terminal: restore needs --console-socket/],
    ['--console-socket without a terminal', ['--image-path', img, '--console-socket', h.path('no-tty.sock')], bundle, undefined, /cannot use console socket if tsrun will not allocate tty/],
    ['a hook with a relative path', ['--image-path', img], h.bundle({ args: SLEEP, edit: (c) => void (c.hooks = { prestart: [{ path: 'bin/true' }] }) }), undefined, /hooks\.prestart\[0\]\.path: must be absolute/],
  ];
  for (const [what, flags, b, o, want] of cases) {
    const r = h.tsrun(['restore', '-d', ...flags, '--bundle', b, id], o);
    t.equal(r.status, 1, `${what}: exit 1`);
    t.match(r.stderr, want, `${what}: says why`);
    t.equal(h.state(id), null, `${what}: no container`);
    t.notOk(existsSync(`/sys/fs/cgroup/unified/${id}`) || existsSync(`/sys/fs/cgroup/pids/${id}`), `${what}: no cgroup`);
  }
  // An ID in use: the running container is left alone.
  writeFileSync(join(img, 'descriptors.json'), '["/dev/null","/dev/null","/dev/null"]');
  h.ok(['run', '-d', '--bundle', bundle, id]);
  const pid = h.state(id)!.pid;
  const r = h.tsrun(['restore', '-d', '--image-path', img, '--bundle', bundle, id]);
  t.match(r.stderr, new RegExp(`container with id exists: ${id}`), 'an ID in use: runc\'s words');
  t.ok(h.state(id)?.status === 'running' && h.state(id)?.pid === pid, 'the running container is untouched');
});

t.test('a terminal: checkpoint records its pty, restore gives criu a new one (--inherit-fd fd[N]:tty[rdev:dev]) and sends the master to --console-socket', async (t) => {
  // runc 1.1.5 restores a terminal through CRIU's RPC (orphan_pts_master: CRIU makes the pty and
  // runc sends its master to --console-socket). The criu command line names an external tty as
  // tty[rdev:dev] (hex, criu/tty.c get_tty_driver), from the dumped slave's st_rdev and st_dev.
  // These fake criu record their arguments; the restoring one starts a process on the fd it is
  // told holds the new pty and names it in --pidfile, as criu restore would.
  const dir = h.path('criu-tty');
  mkdirSync(dir, { recursive: true });
  const args = join(dir, 'args');
  writeFileSync(join(dir, 'criu'), [
    '#!/bin/sh',
    '[ "$1" = --version ] && { echo "Version: 3.17.1"; exit 0; }',
    `echo "$*" >> ${args}`,
    '[ "$1" = restore ] || exit 0',
    'for a; do case $p in --pidfile) pf=$a ;; --inherit-fd) case $a in *:tty*) k=${a#fd[}; k=${k%%]*} ;; esac ;; esac; p=$a; done',
    '[ -n "$k" ] && [ -n "$pf" ] || exit 9',
    'sh -c \'[ -t 0 ] && echo restored-on-the-new-pty; exec sleep 1000\' <&$k >&$k 2>&$k &',
    'echo $! > $pf',
    '',
  ].join('\n'), { mode: 0o755 });
  const id = h.id(t);
  const bundle = h.bundle({ args: SLEEP, edit: (c) => void (c.process!.terminal = true) });
  const rx1 = receiver(h.path(`${id}-1.sock`));
  h.ok(['run', '-d', '--console-socket', h.path(`${id}-1.sock`), '--bundle', bundle, id]);
  const st = statSync(`/proc/${h.state(id)!.pid}/fd/0`);
  const key = `tty[${st.rdev.toString(16)}:${st.dev.toString(16)}]`;
  const img = h.path('tty-img');
  h.ok(['checkpoint', '--shell-job', '--image-path', img, id], withPath(dir));
  await rx1.done.catch(() => undefined);
  t.same(JSON.parse(readFileSync(join(img, 'tsrun-tty.json'), 'utf8')), { key }, `tsrun-tty.json: pid 1's pty as CRIU names it (${key})`);
  t.match(readFileSync(args, 'utf8'), /^dump .* --external mnt\[\/dev\/console\]:\/dev\/console\b/m, 'dump: the slave bound on /dev/console is an external mount (CRIU refuses it without its master)');

  const rx2 = receiver(h.path(`${id}-2.sock`));
  const r = h.tsrun(['restore', '-d', '--shell-job', '--console-socket', h.path(`${id}-2.sock`), '--image-path', img, '--bundle', bundle, id], withPath(dir));
  t.equal(r.status, 0, `restore exits 0 ${r.stderr}`);
  const restore = readFileSync(args, 'utf8').split('\n').find((l) => l.startsWith('restore ')) ?? '';
  t.match(restore, new RegExp(`--inherit-fd fd\\[3\\]:${key.replace(/[[\]]/g, '\\$&')}`), 'criu gets the new pty on its fd 3 under the old one\'s key');
  t.match(restore, / --shell-job /, 'with --shell-job');
  t.match(restore, /--external mnt\[\/dev\/console\]:\/dev\/pts\/\d+\b/, 'and the new slave bound on /dev/console');
  t.equal(h.state(id)?.status, 'running', 'the restored container runs');
  h.ok(['delete', '-f', id]);
  t.match(await rx2.done, /restored-on-the-new-pty/, 'what the restored process writes to its terminal arrives on the master the new console socket got');
  t.equal(h.state(id), null, 'deleted');

  // The checkpoint of a terminal recorded nothing (not tsrun's): said before criu runs.
  const bare = h.path('tty-img-bare');
  mkdirSync(bare);
  writeFileSync(join(bare, 'descriptors.json'), '["/dev/pts/0","/dev/pts/0","/dev/pts/0"]');
  const n = h.tsrun(['restore', '-d', '--shell-job', '--console-socket', h.path(`${id}-3.sock`), '--image-path', bare, '--bundle', bundle, id], withPath(dir));
  t.equal(n.status, 1, 'an image without tsrun-tty.json: exit 1');
  t.match(n.stderr, /tsrun-tty\.json: .*the checkpoint recorded no terminal/, 'says what is missing');
  t.equal(h.state(id), null, 'no container');
  t.equal(readFileSync(args, 'utf8').split('\n').filter((l) => l.startsWith('restore ')).length, 1, 'criu was not run');
});

t.test('restore runs prestart and createRuntime at criu\'s setup-namespaces action, with the restored pid; a failing hook fails the restore', async (t) => {
  // runc runs them from CRIU's setup-namespaces notification (criuNotifications); tsrun gets it
  // as criu's --action-script. This fake criu runs the script as criu 3.17 does (the action in
  // CRTOOLS_SCRIPT_ACTION, the root task's pid in CRTOOLS_INIT_PID, its own pid here), then fails
  // as no restore can on this host.
  const dir = h.path('criu-actions');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'criu'), [
    '#!/bin/sh',
    '[ "$1" = --version ] && { echo "Version: 3.17.1"; exit 0; }',
    'while [ $# -gt 0 ]; do [ "$1" = --action-script ] && s=$2; shift; done',
    '[ -n "$s" ] || { echo "no --action-script" >&2; exit 9; }',
    `echo $$ > ${dir}/pid`,
    'CRTOOLS_SCRIPT_ACTION=pre-restore "$s" || exit 7',
    'CRTOOLS_SCRIPT_ACTION=setup-namespaces CRTOOLS_INIT_PID=$$ "$s" || exit 8',
    'CRTOOLS_SCRIPT_ACTION=post-restore CRTOOLS_INIT_PID=$$ "$s" || exit 7',
    'exit 1',
    '',
  ].join('\n'), { mode: 0o755 });
  const log = h.path('restore-hooks.log');
  const hook = (phase: string, status = 0): { path: string; args: string[] } => ({ path: '/bin/sh', args: ['sh', '-c', `echo "${phase} $(cat) $PWD CRTOOLS=$(env | grep -c ^CRTOOLS_)" >> ${log}; exit ${status}`] });
  const img = h.path('hooks-img');
  mkdirSync(img);
  writeFileSync(join(img, 'descriptors.json'), '["/dev/null","/dev/null","/dev/null"]');
  const id = h.id(t);
  const bundle = h.bundle({ args: SLEEP, edit: (c) => void (c.hooks = { prestart: [hook('prestart')], createRuntime: [hook('createRuntime')], createContainer: [hook('createContainer')] }) });
  const r = h.tsrun(['restore', '-d', '--image-path', img, '--bundle', bundle, id], withPath(dir));
  t.match(r.stderr, /criu failed: restore \(exit status 1\)/, 'the hooks passed: criu went on (and failed afterwards, as it must here)');
  const pid = readFileSync(join(dir, 'pid'), 'utf8').trim();
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  t.equal(lines.length, 2, 'prestart and createRuntime ran once each, not createContainer (nor does runc at restore)');
  t.match(lines[0], new RegExp(`^prestart \\{"ociVersion":"[^"]+","id":"${id}","status":"created","pid":${pid},"bundle":"${bundle}".* ${bundle} CRTOOLS=0$`), 'prestart: state "created" with the root task\'s pid, run in the bundle dir, without criu\'s variables');
  t.match(lines[1], new RegExp(`^createRuntime \\{.*"status":"creating","pid":${pid},.* ${bundle} CRTOOLS=0$`), 'createRuntime: state "creating"');
  t.equal(h.state(id), null, 'the failed restore leaves no container');

  const failing = h.bundle({ args: SLEEP, edit: (c) => void (c.hooks = { prestart: [hook('prestart')], createRuntime: [hook('createRuntime', 3)] }) });
  const f = h.tsrun(['restore', '-d', '--image-path', img, '--bundle', failing, id], withPath(dir));
  t.equal(f.status, 1, 'a failing hook: exit 1');
  t.match(f.stderr, /createRuntime hook 0 \(\/bin\/sh\) exited with status 3/, 'the hook\'s failure is the error, not criu\'s');
  t.equal(h.state(id), null, 'no container');
  t.notOk(existsSync(join(h.root, id)), 'no state dir (nor the action\'s files)');
  t.notOk(existsSync(`/sys/fs/cgroup/pids/${id}`) || existsSync(`/sys/fs/cgroup/unified/${id}`), 'no cgroup');
});

const hasCriu = (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, 'criu')));
t.test('a restore CRIU fails leaves no container, no cgroup, no mount, and the rootfs as it was', { skip: hasCriu ? false : 'criu is not installed' }, async (t) => {
  // An image dir with only descriptors.json: criu restore runs and fails on any kernel.
  const img = h.path('bogus-img');
  mkdirSync(img);
  writeFileSync(join(img, 'descriptors.json'), '["/dev/null","/dev/null","/dev/null"]');
  const bundle = h.bundle({ args: SLEEP, prepare: (rootfs) => writeFileSync(join(rootfs, 'marker'), 'kept') });
  const id = h.id(t);
  const r = h.tsrun(['restore', '-d', '--image-path', img, '--bundle', bundle, id]);
  t.equal(r.status, 1, 'exit 1');
  t.match(r.stderr, /criu failed: restore .*log file: .*restore\.log/s, 'CRIU\'s failure and its log file');
  t.equal(h.state(id), null, 'no container');
  t.equal(readFileSync(join(bundle, 'rootfs', 'marker'), 'utf8'), 'kept', 'the rootfs (bind-mounted for CRIU) is untouched');
  t.notMatch(readFileSync('/proc/self/mountinfo', 'utf8'), /@criu-root-/, 'CRIU\'s root mount is gone');
  t.same(readdirSync(h.root).filter((n) => n.startsWith('@criu-root')), [], 'and its dir');
});
