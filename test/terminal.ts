// Terminals: process.terminal with --console-socket (config.md#process, runc's console socket
// protocol: the pty master over SCM_RIGHTS), and a foreground run on the caller's terminal.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Harness, TOP } from './helpers/runtime.js';
import { receiver } from './helpers/recvtty.js';

const h = new Harness(t);
t.test('create/start with --console-socket: the pty master reaches the socket, consoleSize applies', async (t) => {
  const id = h.id(t);
  const sock = h.path(`${id}.sock`);
  const rx = receiver(sock);
  const bundle = h.bundle({
    args: ['sh', '-c', 'tty; stty size; ls -l /dev/console'],
    edit: (c) => {
      c.process!.terminal = true;
      c.process!.consoleSize = { height: 33, width: 111 };
    },
  });
  h.ok(['create', '--console-socket', sock, '--bundle', bundle, id]);
  h.ok(['start', id]);
  const out = (await rx.done).replace(/\r/g, '');
  t.match(out, /^\/dev\/pts\/0$/m, 'stdio is a pty of the container\'s devpts');
  t.match(out, /^33 111$/m, 'consoleSize is the terminal size');
  t.match(out, /\/dev\/console/, '/dev/console exists');
});

t.test('exec -t with --console-socket: input goes in, output comes back', async (t) => {
  const id = h.id(t);
  h.ok(['run', '-d', '--bundle', h.bundle({ args: ['sleep', '1000'] }), id]);
  const sock = h.path(`${id}-exec.sock`);
  const rx = receiver(sock, 'echo typed-$((6*7))\nexit\n');
  h.ok(['exec', '-t', '-d', '--console-socket', sock, id, 'sh']);
  const out = await rx.done;
  t.match(out, /typed-42/, 'the shell read from the terminal and wrote back through it');
  // As runc: an exec'd process gets a pty of its own, and the container's /dev/console stays
  // as it was. Bound over it, the next tty exec failed once the first pty was gone.
  const sock2 = h.path(`${id}-exec2.sock`);
  const rx2 = receiver(sock2);
  h.ok(['exec', '-t', '-d', '--console-socket', sock2, id, 'sh', '-c', 'tty; ls -l /dev/console']);
  const out2 = (await rx2.done).replace(/\r/g, '');
  t.match(out2, /^\/dev\/pts\/\d+$/m, 'a second tty exec gets a pty');
  t.notMatch(out2, /^c.* 136, /m, '/dev/console is not a pty (devpts major 136)');
  t.notMatch(readFileSync(`/proc/${h.state(id)!.pid}/mountinfo`, 'utf8'), / \/dev\/console /, 'nothing is mounted on the container\'s /dev/console');
});

t.test('runc\'s errors: a detached tty without a socket, a socket without a tty', async (t) => {
  const id = h.id(t);
  const tty = h.bundle({ args: ['true'], edit: (c) => { c.process!.terminal = true; } });
  const a = h.tsrun(['create', '--bundle', tty, id]);
  t.not(a.status, 0);
  t.match(a.stderr, /cannot allocate tty if tsrun will detach without setting console socket/);
  const plain = h.bundle({ args: ['true'] });
  const b = h.tsrun(['create', '--console-socket', h.path('none.sock'), '--bundle', plain, id]);
  t.not(b.status, 0);
  t.match(b.stderr, /cannot use console socket if tsrun will not detach or allocate tty/);
  t.equal(h.state(id), null, 'nothing was created');
});

t.test('foreground run -t without a socket uses the caller\'s terminal', async (t) => {
  // script(1) gives tsrun a real terminal, as a person at a shell would.
  const id = h.id(t);
  const bundle = h.bundle({ args: ['sh', '-c', 'read x; echo got-$x; tty; exit 6'], edit: (c) => { c.process!.terminal = true; } });
  const cmd = [process.execPath, join(TOP, 'dist', 'tsrun.js'), '--root', h.root, 'run', '--bundle', bundle, id].join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { input: 'hello\n', encoding: 'utf8', timeout: 30000, env: { PATH: process.env.PATH } });
  t.equal(r.status, 6, `exit status through the terminal relay: ${r.stderr}`);
  t.match(r.stdout, /got-hello/, 'input reached the container');
  t.match(r.stdout, /\/dev\/pts\/0/, 'the container has its own pty');
});

t.test('the pty belongs to the process user, in the tty group (runc\'s fixStdioPermissions), for create and exec -t', async (t) => {
  // runc chowns the process's stdio to its uid before switching to it and keeps the group, which
  // devpts sets from its gid=5 option: a non-root process owns its terminal (mesg, chmod, reopen).
  const id = h.id(t);
  const sock = h.path(`${id}.sock`);
  const rx = receiver(sock);
  const stat = ['sh', '-c', 'stat -c "%u %g %a" $(tty); stat -c "%u" /proc/self/fd/1'];
  const bundle = h.bundle({
    args: stat,
    edit: (c) => {
      c.process!.terminal = true;
      c.process!.user = { uid: 1000, gid: 1000 };
    },
  });
  h.ok(['run', '-d', '--console-socket', sock, '--bundle', bundle, id]);
  const out = (await rx.done).replace(/\r/g, '');
  t.match(out, /^1000 5 620\n1000$/m, `create: owner 1000, group tty, mode 620: ${JSON.stringify(out)}`);

  const id2 = h.id(t);
  h.ok(['run', '-d', '--bundle', h.bundle({ args: ['sleep', '1000'] }), id2]);
  const sock2 = h.path(`${id2}-exec.sock`);
  const rx2 = receiver(sock2);
  h.ok(['exec', '-t', '-d', '-u', '1000:1000', '--console-socket', sock2, id2, ...stat]);
  const out2 = (await rx2.done).replace(/\r/g, '');
  t.match(out2, /^1000 5 620\n1000$/m, `exec -t: the same: ${JSON.stringify(out2)}`);
});
