// The lifecycle commands against real containers (runtime.md#operations, runtime.md#lifecycle).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { alive } from './helpers/host.js';
import { Harness } from './helpers/runtime.js';

const h = new Harness(t);
const SLEEP = ['sleep', '1000'];

t.test('create, start, kill, delete walk the states', async (t) => {
  // runtime.md#create, #start, #kill, #delete and runtime.md#state (status, pid).
  const id = h.id(t);
  const bundle = h.bundle({ args: SLEEP });
  const pidFile = h.path(`${id}.pid`);
  const c = h.tsrun(['create', '--bundle', bundle, '--pid-file', pidFile, id]);
  t.equal(c.status, 0, `create: ${c.stderr}`);

  const created = h.state(id);
  t.equal(created?.status, 'created', 'state after create');
  t.equal(created?.id, id);
  t.equal(created?.bundle, bundle, 'state.bundle is the absolute bundle path');
  t.ok((created?.pid ?? 0) > 0, 'a created container has a pid');
  // runc's --pid-file: the container's pid 1 as seen from the runtime.
  t.equal(readFileSync(pidFile, 'utf8').trim(), String(created?.pid), 'pid file holds the state pid');

  const s = h.tsrun(['start', id]);
  t.equal(s.status, 0, `start: ${s.stderr}`);
  const running = h.state(id);
  t.equal(running?.status, 'running', 'state after start');
  t.equal(running?.pid, created?.pid, 'start runs the program in the created process');

  // A pid 1 ignores signals it has no handler for; KILL always stops it.
  const k = h.tsrun(['kill', id, 'KILL']);
  t.equal(k.status, 0, `kill: ${k.stderr}`);
  t.equal(h.waitStatus(id, 'stopped'), 'stopped', 'state after kill');

  const d = h.tsrun(['delete', id]);
  t.equal(d.status, 0, `delete: ${d.stderr}`);
  const gone = h.tsrun(['state', id]);
  t.not(gone.status, 0, 'state of a deleted container fails');
  t.match(gone.stderr, 'does not exist', 'and says it does not exist');
});

t.test('run returns the exit code of the container process', async (t) => {
  // runc's `run` = create + start + wait; the status is the process's (runtime.md#lifecycle step 8-9).
  const id = h.id(t);
  const r = h.tsrun(['run', '--bundle', h.bundle({ args: ['sh', '-c', 'echo out; echo err >&2; exit 3'] }), id]);
  t.equal(r.status, 3, `exit status 3 (stderr: ${r.stderr})`);
  t.equal(r.stdout, 'out\n', "the container's stdout is run's stdout");
  t.match(r.stderr, 'err', "the container's stderr is run's stderr");
  t.equal(h.state(id), null, 'run without --keep deletes the container');
});

t.test('run -d leaves the container running', async (t) => {
  const id = h.id(t);
  const r = h.tsrun(['run', '-d', '--bundle', h.bundle({ args: SLEEP }), id]);
  t.equal(r.status, 0, `run -d: ${r.stderr}`);
  t.equal(h.state(id)?.status, 'running');
  t.equal(h.tsrun(['delete', '--force', id]).status, 0, 'delete --force');
  t.equal(h.state(id), null);
});

t.test('list shows containers as table, json and ids', async (t) => {
  const id = h.id(t);
  h.ok(['create', '--bundle', h.bundle({ args: SLEEP }), id]);
  const pid = h.state(id)!.pid;

  const table = h.ok(['list']).stdout.split('\n');
  t.match(table[0], /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER/, 'table header as runc');
  const row = table.find((l) => l.startsWith(id + ' '));
  t.ok(row, 'a row for the container');
  t.match(row ?? '', new RegExp(`^${id}\\s+${pid}\\s+created\\s+/`), 'row: id, pid, status, bundle');

  const json = JSON.parse(h.ok(['list', '--format', 'json']).stdout) as { id: string; pid: number; status: string }[];
  t.ok(Array.isArray(json), 'json list is an array');
  t.match(json.find((c) => c.id === id), { id, pid, status: 'created' });

  const ids = h.ok(['list', '-q']).stdout.split('\n').filter(Boolean);
  t.ok(ids.includes(id), 'list -q prints the id');
  t.ok(ids.every((l) => !/\s/.test(l)), 'list -q prints only ids');
});

t.test('a duplicate ID is refused and the first container is untouched', async (t) => {
  // runtime.md#create: "If the ID provided is not unique ... MUST generate an error and a new container MUST NOT be created."
  const id = h.id(t);
  h.ok(['create', '--bundle', h.bundle({ args: SLEEP }), id]);
  const before = h.state(id);
  const again = h.tsrun(['create', '--bundle', h.bundle({ args: SLEEP }), id]);
  t.not(again.status, 0, 'second create fails');
  t.match(again.stderr, id, 'the error names the id');
  t.match(again.stderr, /exists/, 'and says it exists');
  t.same(h.state(id), before, 'the first container is unchanged');
});

t.test('start twice fails', async (t) => {
  // runtime.md#start: "if the container is not in the created state, the runtime MUST generate an error".
  const id = h.id(t);
  h.ok(['create', '--bundle', h.bundle({ args: SLEEP }), id]);
  h.ok(['start', id]);
  const again = h.tsrun(['start', id]);
  t.not(again.status, 0, 'second start fails');
  t.match(again.stderr, /running/, 'the error says the container is running');
  t.equal(h.state(id)?.status, 'running', 'still running');
});

t.test('delete of a running container needs --force', async (t) => {
  // runtime.md#delete: "Attempting to delete a container that is not stopped MUST have no effect on the container and MUST generate an error."
  const id = h.id(t);
  h.ok(['run', '-d', '--bundle', h.bundle({ args: SLEEP }), id]);
  const pid = h.state(id)!.pid;
  const d = h.tsrun(['delete', id]);
  t.not(d.status, 0, 'delete without --force fails');
  t.match(d.stderr, /not stopped|running/, 'the error says why');
  t.match(h.state(id), { status: 'running', pid }, 'the container is unaffected');
  const f = h.tsrun(['delete', '--force', id]);
  t.equal(f.status, 0, `delete --force: ${f.stderr}`);
  t.equal(h.state(id), null, 'deleted');
  t.notOk(alive(pid), 'its process is gone (or a zombie waiting for its reaper)');
});

t.test('kill with an unknown signal name fails and names it', async (t) => {
  // runtime.md#kill: the signal is part of the request; an invalid one is an error.
  const id = h.id(t);
  h.ok(['create', '--bundle', h.bundle({ args: SLEEP }), id]);
  const k = h.tsrun(['kill', id, 'NOSUCHSIG']);
  t.not(k.status, 0, 'kill fails');
  t.match(k.stderr, 'NOSUCHSIG', 'the error names the signal');
  t.equal(h.state(id)?.status, 'created', 'the container is unaffected');
});
