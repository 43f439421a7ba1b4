// Faults: a corrupt state file, tsrun killed in the middle of create, a pid reused by a stranger,
// and IDs that would reach outside the state root. Each ends with `delete --force` and `list`
// recovering and nothing leaking (the harness checks state dirs and cgroups after each test).
import t, { type Test } from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Harness, TOP } from './helpers/runtime.js';
import { cgroupDirsNamed } from './helpers/host.js';

const h = new Harness(t);
const sleep = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** A running container whose state.json is then corrupted; its pid. */
function corrupted(id: string): number {
  h.ok(['run', '-d', '--bundle', h.bundle({ args: ['sleep', '1000'] }), id]);
  const pid = h.state(id)!.pid;
  writeFileSync(join(h.root, id, 'state.json'), '{"ociVersion": "1.3.0", "id": ');
  return pid;
}

/** delete --force (with the global flags given) removed the entry, its cgroups and its process. */
function forcedDeleteCleansUp(t: Test, id: string, pid: number, globals: string[] = []): void {
  h.ok([...globals, 'delete', '--force', id]);
  t.notOk(existsSync(join(h.root, id)), 'the entry is gone');
  t.same(cgroupDirsNamed([id]), [], 'its cgroups were found from the saved config and removed');
  sleep(100);
  t.notOk(existsSync(`/proc/${pid}/stat`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')), 'its process was killed');
}

t.test('a corrupt state.json: state says so, list goes on, delete --force cleans up', async (t) => {
  const id = h.id(t);
  const pid = corrupted(id);
  const s = h.tsrun(['state', id]);
  t.not(s.status, 0);
  t.match(s.stderr, /corrupt state file/);
  t.equal(h.tsrun(['list']).status, 0, 'list still works');
  forcedDeleteCleansUp(t, id, pid);
});

t.test('a corrupt state.json, delete --force --systemd-cgroup where systemd does not run: cleans up', async (t) => {
  // Clients pass their driver's flag on every call; here (no systemd) there can be no unit, and a
  // container made without the flag is found from its cgroupfs path as without it.
  const id = h.id(t);
  forcedDeleteCleansUp(t, id, corrupted(id), ['--systemd-cgroup']);
});

t.test('tsrun killed during create: the entry says creating, delete --force cleans up', async (t) => {
  // A createRuntime hook holds create at the hooks sync step while tsrun is SIGKILLed.
  const id = h.id(t);
  const bundle = h.bundle({ args: ['sleep', '1000'], edit: (c) => void (c.hooks = { createRuntime: [{ path: '/bin/sleep', args: ['sleep', '3'] }] }) });
  const p = spawn(process.execPath, [join(TOP, 'dist', 'tsrun.js'), '--root', h.root, 'create', '--bundle', bundle, id], { stdio: 'ignore', env: { PATH: process.env.PATH } });
  let pid = 0;
  for (let i = 0; i < 200 && !pid; i++) {
    sleep(25);
    try {
      pid = (JSON.parse(readFileSync(join(h.root, id, 'state.json'), 'utf8')) as { pid: number }).pid;
    } catch {
      // not written yet
    }
  }
  t.ok(pid > 0, 'the container process exists (create is at the hooks step)');
  p.kill('SIGKILL');
  await new Promise((r) => p.on('exit', r));
  t.equal(h.state(id)?.status, 'creating', 'state: creating');
  const d = h.tsrun(['delete', id]);
  t.not(d.status, 0, 'delete without --force refuses a creating container');
  h.ok(['delete', '--force', id]);
  t.same(cgroupDirsNamed([id]), [], 'no cgroup left');
  sleep(100);
  t.notOk(existsSync(`/proc/${pid}/stat`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')), 'no container process left');
  sleep(3000); // the hook's sleep, orphaned by the SIGKILL, ends by itself
});

t.test('a pid reused by a stranger is neither reported running nor signalled', async (t) => {
  const id = h.id(t);
  h.ok(['run', '-d', '--bundle', h.bundle({ args: ['sleep', '1000'] }), id]);
  h.ok(['kill', id, 'KILL']);
  t.equal(h.waitStatus(id, 'stopped'), 'stopped');
  const stranger = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.teardown(() => void stranger.kill('SIGKILL'));
  const file = join(h.root, id, 'state.json');
  const st = JSON.parse(readFileSync(file, 'utf8')) as { pid: number };
  st.pid = stranger.pid!; // same pid number, different start time: what reuse looks like
  writeFileSync(file, JSON.stringify(st));
  t.equal(h.state(id)?.status, 'stopped', 'still stopped');
  const k = h.tsrun(['kill', id, 'KILL']);
  t.not(k.status, 0, 'kill refuses');
  t.match(k.stderr, /container not running/);
  sleep(100);
  t.equal(stranger.exitCode, null, 'the stranger lives');
  t.equal(stranger.signalCode, null);
  h.ok(['delete', id]);
});

t.test('IDs that would leave the state root are refused, even with --force', async (t) => {
  const outside = h.path('outside');
  mkdirSync(join(outside, 'keep'), { recursive: true });
  for (const bad of ['..', '.', '../outside', 'a/b', '']) {
    const r = spawnSync(process.execPath, [join(TOP, 'dist', 'tsrun.js'), '--root', join(outside, 'root'), 'delete', '--force', bad], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    t.not(r.status, 0, `delete --force ${JSON.stringify(bad)} fails`);
  }
  t.ok(existsSync(join(outside, 'keep')), 'nothing outside the root was removed');
});
