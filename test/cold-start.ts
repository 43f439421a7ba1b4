// A cold call (no server: docs/CLIENT-SERVER.md) is mostly Node's own start; what tsrun adds is
// the bundle and the Node modules the call loads. Some of Node's cost several ms each at the
// first load (the stream stack behind process.stdout, node:worker_threads) and no command needs
// them: this file checks that no cold call loads them, without timing anything. A preload (in
// NODE_OPTIONS, which the client passes on to Node) records process.moduleLoadList when the call
// exits, through the addon's exitNow or through Node's exit.
import t, { type Test } from 'tap';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Harness } from './helpers/runtime.js';
import { COLD } from './helpers/server.js';

const h = new Harness(t);
const preload = h.path('record-modules.cjs');
const record = h.path('modules.json');

writeFileSync(
  preload,
  `const fs = require('node:fs');
const at = process.moduleLoadList.length;
const save = () => fs.writeFileSync(${JSON.stringify(record)}, JSON.stringify({ before: process.moduleLoadList.slice(0, at), all: process.moduleLoadList }));
const dlopen = process.dlopen;
process.dlopen = function (m, ...rest) {
  const r = dlopen.call(this, m, ...rest);
  const exitNow = m.exports.exitNow;
  if (typeof exitNow === 'function') m.exports.exitNow = (code) => (save(), exitNow(code));
  return r;
};
process.on('exit', save);
`,
);

/** Node's modules that no command needs; the stream stack is named by its public module. */
const UNNEEDED = ['NativeModule stream', 'NativeModule worker_threads', 'NativeModule child_process', 'NativeModule net'];

/** Runs a cold call with the preload; returns the Node modules it loaded. */
function modulesOf(t: Test, args: string[], wantStatus = 0): string[] {
  rmSync(record, { force: true });
  const r = h.tsrun(args, { env: { ...COLD, NODE_OPTIONS: `--require=${preload}` } });
  t.equal(r.status, wantStatus, `${args[0]}: exit ${r.status}: ${r.stderr.slice(-300)}`);
  t.ok(existsSync(record), `${args[0]}: the preload recorded the modules`);
  const { before, all } = JSON.parse(readFileSync(record, 'utf8')) as { before: string[]; all: string[] };
  // the check means something only if Node's start and the preload left these out
  for (const m of UNNEEDED) t.notOk(before.includes(m), `${m} is not loaded before the bundle runs`);
  return all;
}

t.test('no cold call loads the stream stack, worker_threads, child_process or net', async (t) => {
  const id = h.id(t);
  const calls: { args: string[]; status?: number }[] = [
    { args: ['create', '--bundle', h.bundle({ args: ['sleep', '100'] }), id] },
    { args: ['state', id] },
    { args: ['start', id] },
    { args: ['exec', id, 'true'] },
    { args: ['list'] },
    { args: ['kill', id, 'KILL'] },
    { args: ['delete', '--force', id] },
    // an error is written to stderr
    { args: ['state', `${id}-none`], status: 1 },
  ];
  for (const c of calls) {
    const loaded = modulesOf(t, c.args, c.status);
    t.same(UNNEEDED.filter((m) => loaded.includes(m)), [], `${c.args[0]} loads none of them`);
  }
});
