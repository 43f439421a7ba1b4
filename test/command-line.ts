// runc's command line beyond the spec, as callers and people type it: where flags may go, help,
// usage errors and their exit statuses. runc 1.1.5 parses with urfave/cli (Debian builds it
// with urfave/cli 1.22.9): a command's flags may follow its arguments except for exec and ps.
import t from 'tap';
import { Harness } from './helpers/runtime.js';

const h = new Harness(t);
const SLEEP = ['sleep', '1000'];

t.test('flags after the container ID are taken, as runc reorders them', async (t) => {
  const id = h.id(t);
  h.ok(['create', '--bundle', h.bundle({ args: SLEEP }), id]);
  const k = h.tsrun(['kill', id, 'KILL', '--all']);
  t.equal(k.status, 0, `kill ID KILL --all: ${k.stderr}`);
  t.equal(h.waitStatus(id, 'stopped'), 'stopped', 'the signal went out');
  // A created container needs --force; given after the ID it counts.
  const id2 = h.id(t);
  h.ok(['create', '--bundle', h.bundle({ args: SLEEP }), id2]);
  const d = h.tsrun(['delete', id2, '--force']);
  t.equal(d.status, 0, `delete ID --force: ${d.stderr}`);
  t.equal(h.state(id2), null, 'deleted');
});

t.test('exec keeps everything after the ID for the command (runc\'s SkipArgReorder)', async (t) => {
  const id = h.id(t);
  h.ok(['run', '-d', '--bundle', h.bundle({ args: SLEEP }), id]);
  const r = h.tsrun(['exec', id, 'echo', '-h', '--help', '-t']);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, '-h --help -t\n', 'the words after the command are its own, help flags included');
});

t.test('help: --help or -h among a command\'s flags, before or after the ID', async (t) => {
  for (const args of [['state', '--help'], ['state', 'some-id', '-h'], ['kill', 'x', 'KILL', '--help'], ['exec', '-h']]) {
    const r = h.tsrun(args);
    t.equal(r.status, 0, `${args.join(' ')}: exit 0`);
    t.match(r.stdout, new RegExp(`^USAGE:\\n   tsrun ${args[0]} `), `${args.join(' ')}: the command's help on stdout`);
  }
  const bare = h.tsrun([]);
  t.equal(bare.status, 0, 'no command: the global help, exit 0 (runc)');
  t.match(bare.stdout, /COMMANDS:/);
});

t.test('usage errors: runc\'s words, exit statuses and streams', async (t) => {
  const unknown = h.tsrun(['no-such-command']);
  t.equal(unknown.status, 3, 'an unknown command exits 3 (urfave/cli\'s help command)');
  t.match(unknown.stderr, /No help topic for 'no-such-command'/);
  for (const args of [['list', 'extra'], ['features', 'extra'], ['spec', 'extra']]) {
    const r = h.tsrun(args);
    t.equal(r.status, 1, `${args.join(' ')}: exit 1`);
    t.match(r.stdout, /^Incorrect Usage\.\n\nUSAGE:/, `${args.join(' ')}: the usage on stdout`);
    t.match(r.stderr, new RegExp(`tsrun: \\\\"${args[0]}\\\\" requires exactly 0 argument\\(s\\)`), 'runc\'s words');
  }
  const flag = h.tsrun(['delete', '--force=yes', 'x']);
  t.equal(flag.status, 1);
  t.match(flag.stdout, /^Incorrect Usage: invalid boolean value "yes" for -force: parse error\n/, 'a refused flag heads the usage');
  t.match(flag.stderr, /msg="invalid boolean value \\"yes\\" for -force: parse error"/);
  // Go's strconv.ParseBool words are taken: --all=t is --all.
  const id = h.id(t);
  h.ok(['create', '--bundle', h.bundle({ args: SLEEP }), id]);
  t.equal(h.tsrun(['kill', '--all=t', id, 'KILL']).status, 0, '--all=t');
  t.equal(h.waitStatus(id, 'stopped'), 'stopped');
});
