// Every call runs the one TypeScript implementation, warm (through the server of its state root,
// docs/CLIENT-SERVER.md) or cold (Node started for the call). These tests hold the two paths to
// the same output, errors, exit statuses and log lines for the calls a container manager makes
// most (state, start, kill, delete), and state.json to its schema
// (src/state/saved-state.schema.json).
import t, { type Test } from 'tap';
import Ajv from 'ajv';
import { spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Harness, TOP, TSRUN, type Result } from './helpers/runtime.js';
import { alive, cgroupDirsNamed } from './helpers/host.js';
import { COLD, startServer, WARM } from './helpers/server.js';

const h = new Harness(t);
const SLEEP = ['sleep', '1000'];
/** Through the server, or exit 125 "not served by a server": tells which path answered. */
const FRONT = WARM;
const NODE = COLD;
startServer(h);

const schema = JSON.parse(readFileSync(join(TOP, 'src', 'state', 'saved-state.schema.json'), 'utf8')) as object;
const validate = new Ajv({ strict: true }).compile(schema);

/** An error line's message, without the time that differs between two calls. */
const msg = (r: Result): string => r.stderr.replace(/time="[^"]*"/g, 'time=T').replace(/"time":"[^"]*"/g, '"time":"T"');

function bothSides(t: Test, args: string[], what: string): Result {
  const warm = h.tsrun(args, { env: FRONT });
  const cold = h.tsrun(args, { env: NODE });
  t.not(warm.status, 125, `${what}: served by the server (${warm.stderr.trim()})`);
  t.equal(warm.status, cold.status, `${what}: same exit status`);
  t.equal(warm.stdout, cold.stdout, `${what}: same stdout`);
  t.equal(msg(warm), msg(cold), `${what}: same stderr`);
  return warm;
}

t.test('state.json written by create follows the schema, in every shape create writes', async (t) => {
  const shapes: [string, Parameters<Harness['bundle']>[0]][] = [
    ['plain', { args: SLEEP }],
    ['annotations and later hooks', {
      args: SLEEP,
      edit: (c) => {
        c.annotations = { 'org.example/a': 'x', '42': 'integer-like key', 'ü': '"quoted"\n\ttab' };
        c.hooks = { poststart: [{ path: '/bin/true' }], poststop: [{ path: '/bin/true' }] };
      },
    }],
    ['no process', { edit: (c) => { delete c.process; } }],
  ];
  for (const [name, o] of shapes) {
    const id = h.id(t);
    h.ok(['create', '--bundle', h.bundle(o), id]);
    const saved = JSON.parse(readFileSync(join(h.root, id, 'state.json'), 'utf8')) as { hooks?: string[]; freezer?: unknown };
    t.ok(validate(saved), `${name}: ${JSON.stringify(validate.errors)}`);
    if (name === 'plain') t.ok(saved.freezer, 'the freezer location is saved on a host that has one');
    if (name.includes('hooks')) t.same(saved.hooks, ['poststart', 'poststop'], 'the later hooks are listed');
    h.ok(['delete', '--force', id]);
  }
});

t.test('a state file of version 1 (before stdio) is still read, warm and cold', async (t) => {
  const id = h.id(t);
  h.ok(['run', '-d', '--bundle', h.bundle({ args: SLEEP }), id]);
  const file = join(h.root, id, 'state.json');
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { stateVersion: number; stdio?: string[] };
  t.equal(saved.stateVersion, 2, 'create writes version 2');
  t.equal(saved.stdio?.length, 3, 'with stdio');
  saved.stateVersion = 1;
  delete saved.stdio;
  writeFileSync(file, JSON.stringify(saved));
  t.match(bothSides(t, ['state', id], 'version 1').stdout, /"status": "running"/);
  t.equal(h.tsrun(['kill', id, 'KILL'], { env: FRONT }).status, 0, 'kill served by the server');
  h.waitStatus(id, 'stopped');
  t.equal(h.tsrun(['delete', id], { env: FRONT }).status, 0, 'delete served by the server');
  t.notOk(existsSync(join(h.root, id)), 'and gone');
});

t.test('state prints the same bytes warm and cold in every status', async (t) => {
  const id = h.id(t);
  const bundle = h.bundle({
    args: SLEEP,
    edit: (c) => {
      // Keys and values JSON.stringify escapes: quotes, controls, non-ASCII, an integer-like key.
      c.annotations = { b: 'plain', '7': 'seven', 'k"q': 'line\nbreak\u0001\u001f', 'é✓': '𝄞 and \\ backslash' };
    },
  });
  h.ok(['create', '--bundle', bundle, id]);
  bothSides(t, ['state', id], 'created');
  h.ok(['start', id]);
  bothSides(t, ['state', id], 'running');
  h.ok(['pause', id]);
  const paused = bothSides(t, ['state', id], 'paused');
  t.match(paused.stdout, /"status": "paused"/);
  h.ok(['resume', id]);
  h.ok(['kill', id, 'KILL']);
  h.waitStatus(id, 'stopped');
  bothSides(t, ['state', id], 'stopped');
  h.ok(['delete', id]);
  bothSides(t, ['state', id], 'deleted');
});

t.test('errors are the same words, exit statuses and log lines warm and cold', async (t) => {
  const id = h.id(t);
  h.ok(['create', '--bundle', h.bundle({ args: SLEEP }), id]);
  bothSides(t, ['delete', id], 'delete of a created container');
  bothSides(t, ['start', 'no-such-container'], 'start of a missing container');
  bothSides(t, ['kill', 'no-such-container'], 'kill of a missing container');
  bothSides(t, ['delete', 'no-such-container'], 'delete of a missing container');
  bothSides(t, ['delete', '--force', 'no-such-container'], 'forced delete of a missing container');
  const log = h.path('warm.log');
  const logNode = h.path('cold.log');
  const a = h.tsrun(['--log', log, '--log-format', 'json', 'delete', id], { env: FRONT });
  const b = h.tsrun(['--log', logNode, '--log-format', 'json', 'delete', id], { env: NODE });
  t.equal(a.status, 1);
  t.equal(b.status, 1);
  const norm = (f: string): string => readFileSync(f, 'utf8').replace(/"time":"[^"]*"/g, '"time":"T"');
  t.equal(norm(log), norm(logNode), '--log-format json lines are the same');
  t.match(norm(log), /^\{"level":"error","msg":"cannot delete container .* that is not stopped: created","time":"T"\}\n$/);
  h.ok(['start', id]);
  bothSides(t, ['start', id], 'start of a running container');
  h.ok(['kill', id, 'KILL']);
  h.waitStatus(id, 'stopped');
  bothSides(t, ['kill', id], 'kill of a stopped container');
  bothSides(t, ['start', id], 'start of a stopped container');
  h.ok(['delete', id]);
});

t.test('signal names and numbers: the same answers warm and cold', async (t) => {
  const id = h.id(t);
  h.ok(['create', '--bundle', h.bundle({ args: SLEEP }), id]);
  h.ok(['kill', id, 'KILL']);
  h.waitStatus(id, 'stopped');
  // A stopped container: each accepted name reaches "container not running"; bad ones are refused.
  const names = Object.keys(constants.signals);
  for (const name of [names[0]!, names[8]!, names[names.length - 1]!]) {
    for (const word of [name, name.slice(3), name.toLowerCase()]) bothSides(t, ['kill', id, word], word);
  }
  for (const n of ['0', '1', '9', '64', '65', 'SIGNOPE', 'SIGSIGKILL', '-9', 'RTMIN']) bothSides(t, ['kill', id, n], `signal ${n}`);
  h.ok(['delete', id]);
});

t.test('hooks, a corrupt or newer state file, usage errors: the same answers warm and cold', async (t) => {
  const marker = h.path('poststop-ran');
  const id = h.id(t);
  h.ok(['create', '--bundle', h.bundle({
    args: SLEEP,
    edit: (c) => {
      c.hooks = { poststart: [{ path: '/bin/true' }], poststop: [{ path: '/bin/sh', args: ['sh', '-c', `touch ${marker}`] }] };
    },
  }), id]);
  t.equal(h.tsrun(['start', id], { env: FRONT }).status, 0, 'start with a poststart hook, warm');
  t.equal(h.state(id)?.status, 'running');
  t.equal(h.tsrun(['delete', '-f', id], { env: FRONT }).status, 0, 'delete with a poststop hook, warm');
  t.ok(existsSync(marker), 'the poststop hook ran');

  const bad = 'corrupt-state';
  mkdirSync(join(h.root, bad), { recursive: true });
  writeFileSync(join(h.root, bad, 'state.json'), '{"stateVersion":1,"id":');
  t.match(bothSides(t, ['state', bad], 'a corrupt state file').stderr, /corrupt state file/);
  writeFileSync(join(h.root, bad, 'state.json'), JSON.stringify({ stateVersion: 3, id: bad }));
  bothSides(t, ['state', bad], 'a newer format');
  h.ok(['delete', '--force', bad], { env: FRONT });
  t.notOk(existsSync(join(h.root, bad)), 'forced delete of an unreadable entry removes it');

  for (const args of [['state', '--bogus', 'x'], ['list'], ['state'], ['state', 'a', 'b'], ['state', '--help'], ['kill', 'x', 'KILL', '--all']]) {
    bothSides(t, args, args.join(' '));
  }
});

t.test('a full lifecycle served by the server leaves nothing', async (t) => {
  const id = h.id(t);
  h.ok(['create', '--bundle', h.bundle({ args: SLEEP }), id]);
  for (const args of [['state', id], ['start', id], ['kill', id, 'TERM'], ['kill', '--all', id, 'KILL']]) {
    const r = h.tsrun(args, { env: FRONT });
    t.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  h.waitStatus(id, 'stopped');
  const d = h.tsrun(['delete', id], { env: FRONT });
  t.equal(d.status, 0, `delete: ${d.stderr}`);
  t.notOk(existsSync(join(h.root, id)), 'the state dir is gone');
});

t.test('a config without process: create works, start refuses and stops it, delete needs no force', async (t) => {
  // config.md#process: optional for create; runtime.md#start: start MUST fail without it.
  for (const [side, env] of [['warm', FRONT], ['cold', NODE]] as const) {
    const id = h.id(t);
    h.ok(['create', '--bundle', h.bundle({ edit: (c) => { delete c.process; } }), id]);
    t.equal(h.state(id)?.status, 'created', `${side}: created`);
    const s = h.tsrun(['start', id], { env });
    t.equal(s.status, 1, `${side}: start fails`);
    t.match(s.stderr, /process: config.json has no process/, `${side}: the error names process`);
    t.equal(h.waitStatus(id, 'stopped'), 'stopped', `${side}: the container is stopped`);
    const d = h.tsrun(['delete', id], { env });
    t.equal(d.status, 0, `${side}: delete: ${d.stderr}`);
  }
});

t.test('kill as runc: signal 0, --all of a stopped container, the container looked up first', async (t) => {
  // runc 1.1.5 kill.go and libcontainer's Signal(): signal 0 goes to a created, running or paused
  // init like any other; --all signals whatever the cgroup holds, so of a stopped container it
  // succeeds; a missing container is the error before an unknown signal.
  const id = h.id(t);
  h.ok(['create', '--bundle', h.bundle({ args: SLEEP }), id]);
  t.equal(bothSides(t, ['kill', id, '0'], 'signal 0 to a created container').status, 0);
  h.ok(['start', id]);
  t.equal(bothSides(t, ['kill', id, '0'], 'signal 0 to a running container').status, 0);
  t.equal(bothSides(t, ['kill', '--all', id, '0'], '--all signal 0 to a running container').status, 0);
  h.ok(['kill', id, 'KILL']);
  h.waitStatus(id, 'stopped');
  const gone = bothSides(t, ['kill', id, '0'], 'signal 0 to a stopped container');
  t.equal(gone.status, 1);
  t.match(gone.stderr, /container not running/, 'containerd\'s shim reads "container not running" as "process already finished"');
  t.equal(bothSides(t, ['kill', '--all', id, 'KILL'], '--all to a stopped container').status, 0);
  const missing = h.tsrun(['kill', 'no-such-container', 'SIGNOPE']);
  t.equal(missing.status, 1);
  t.match(missing.stderr, /does not exist/, 'a missing container is the error, not the signal');
  h.ok(['delete', id]);
});

t.test('SIGKILL to a paused container thaws it, so it dies (runc), warm and cold', async (t) => {
  for (const [side, env] of [['warm', FRONT], ['cold', NODE]] as const) {
    for (const all of [false, true]) {
      const id = h.id(t);
      h.ok(['run', '-d', '--bundle', h.bundle({ args: SLEEP }), id]);
      h.ok(['pause', id]);
      const k = h.tsrun(['kill', ...(all ? ['--all'] : []), id, 'KILL'], { env });
      t.equal(k.status, 0, `${side}${all ? ' --all' : ''}: ${k.stderr}`);
      t.equal(h.waitStatus(id, 'stopped'), 'stopped', `${side}${all ? ' --all' : ''}: the container stopped`);
      h.ok(['delete', id]);
    }
  }
  // Another signal leaves it paused (runc's single-process kill thaws only for SIGKILL).
  const id = h.id(t);
  h.ok(['run', '-d', '--bundle', h.bundle({ args: SLEEP }), id]);
  h.ok(['pause', id]);
  h.ok(['kill', id, 'TERM']);
  t.equal(h.state(id)?.status, 'paused', 'TERM: still paused');
});

t.test('a created container pauses as in runc, the same warm and cold', async (t) => {
  // runc 1.1.5 libcontainer: Pause() takes Running and Created; refreshState asks the freezer
  // first (paused), then the exec fifo (created); start.go words every other state "cannot
  // start a container in the <status> state".
  const id = h.id(t);
  h.ok(['create', '--bundle', h.bundle({ args: SLEEP }), id]);
  h.ok(['pause', id]);
  const again = h.tsrun(['pause', id]);
  t.equal(again.status, 1, 'a second pause fails');
  t.match(again.stderr, /container not running/, 'with runc\'s ErrNotRunning words');
  t.match(bothSides(t, ['state', id], 'state of a paused created container').stdout, /"status": "paused"/);
  const start = bothSides(t, ['start', id], 'start of a paused created container');
  t.equal(start.status, 1);
  t.match(start.stderr, /msg="cannot start a container in the paused state"/);
  t.match(bothSides(t, ['delete', id], 'delete of a paused created container').stderr, /not stopped: paused/);
  h.ok(['resume', id]);
  t.equal(h.state(id)?.status, 'created', 'resume: created again, its pid 1 still at the exec fifo');
  h.ok(['start', id]);
  t.equal(h.state(id)?.status, 'running', 'and it starts');
  h.ok(['delete', '--force', id]);
  // A paused created container killed (SIGKILL thaws it) or force-deleted leaves nothing.
  for (const [side, env] of [['warm', FRONT], ['cold', NODE]] as const) {
    const killed = h.id(t);
    h.ok(['create', '--bundle', h.bundle({ args: SLEEP }), killed]);
    h.ok(['pause', killed]);
    t.equal(h.tsrun(['kill', killed, 'KILL'], { env }).status, 0, `${side}: kill`);
    t.equal(h.waitStatus(killed, 'stopped'), 'stopped', `${side}: killed, it stops`);
    t.equal(h.tsrun(['delete', killed], { env }).status, 0, `${side}: delete`);
    const forced = h.id(t);
    h.ok(['create', '--bundle', h.bundle({ args: SLEEP }), forced]);
    const pid = h.state(forced)!.pid;
    h.ok(['pause', forced]);
    const d = h.tsrun(['delete', '--force', forced], { env });
    t.equal(d.status, 0, `${side}: delete --force: ${d.stderr}`);
    t.equal(h.state(forced), null, `${side}: the entry is gone`);
    t.notOk(alive(pid), `${side}: its pid 1 is gone`);
    t.same(cgroupDirsNamed([killed, forced]), [], `${side}: no cgroup is left`);
  }
});

t.test('a --process on a pipe, <(...), /dev/stdin or a FIFO: the caller\'s, read once, warm and cold', async (t) => {
  // Shells and some shims hand the process JSON on a pipe (`-p /dev/fd/3`, `-p <(...)`) or a
  // FIFO, which only one reader can empty: runc reads it once. /dev/fd/N and /dev/stdin name the
  // caller's fds, which the server reads through /proc/CLIENT/fd/N (src/util/caller.ts).
  const id = h.id(t);
  h.ok(['run', '-d', '--bundle', h.bundle({ args: SLEEP }), id]);
  const json = JSON.stringify({ args: ['echo', 'from a pipe'], cwd: '/' });
  const fifo = h.path(`${id}.fifo`);
  t.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
  // $1 tsrun, $2 its root, $3 the container, $4 the JSON, $5 the FIFO; `timeout` ends a tsrun that waits for a writer gone
  const shell = (script: string, env: Record<string, string>) =>
    spawnSync('bash', ['-c', script, 'bash', TSRUN, h.root, id, json, fifo], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 60_000 });
  const ways: [string, string][] = [
    ['-p /dev/fd/3 on a pipe', 'printf %s "$4" | timeout 20 "$1" --root "$2" exec -p /dev/fd/3 "$3" 3<&0 </dev/null'],
    ['-p <(...)', 'timeout 20 "$1" --root "$2" exec -p <(printf %s "$4") "$3"'],
    ['-p /dev/stdin on a pipe', 'printf %s "$4" | timeout 20 "$1" --root "$2" exec --process=/dev/stdin "$3"'],
    ['-p FIFO', 'printf %s "$4" >"$5" & timeout 20 "$1" --root "$2" exec -p "$5" "$3"; s=$?; kill $! 2>/dev/null; exit $s'],
  ];
  for (const [side, env] of [['warm', FRONT], ['cold', NODE]] as const) {
    for (const [what, script] of ways) {
      const r = shell(script, env);
      t.equal(r.status, 0, `${side}, ${what}: exit 0 (${r.stderr.trim()})`);
      t.equal(r.stdout, 'from a pipe\n', `${side}, ${what}: the process ran`);
    }
  }
  h.ok(['delete', '--force', id]);
});
