// File descriptors the container's process gets (runtime-linux.md#file-descriptors, runc's --preserve-fds).
import t from 'tap';
import { closeSync, openSync } from 'node:fs';
import { Harness } from './helpers/runtime.js';
import { probe } from './helpers/probe.js';

const h = new Harness(t);

/** A file opened for the test, closed when `t` ends. */
function openFile(t: { teardown(fn: () => unknown): void }, name: string): number {
  const fd = openSync(h.path(name), 'w+');
  t.teardown(() => closeSync(fd));
  return fd;
}

t.test('only stdin, stdout and stderr are open', async (t) => {
  // runtime-linux.md#file-descriptors: "By default, only the stdin, stdout and stderr file
  // descriptors are kept open for the application by the runtime."
  const p = probe(h, t);
  t.same(p.fds.map((f) => f.fd), [0, 1, 2], JSON.stringify(p.fds));
});

t.test('--preserve-fds 1 passes fd 3 and nothing above it', async (t) => {
  // runtime-linux.md#file-descriptors: "The runtime MAY pass additional file descriptors";
  // runc's --preserve-fds N passes fds 3..3+N-1 of its caller.
  const a = openFile(t, 'preserved-a.txt');
  const b = openFile(t, 'preserved-b.txt');
  const p = probe(h, t, { flags: ['--preserve-fds', '1'], run: { fds: [a, b] } });
  t.same(p.fds.map((f) => f.fd), [0, 1, 2, 3], JSON.stringify(p.fds));
  const target = p.fds.find((f) => f.fd === 3)?.target;
  t.match(String(target), /preserved-a\.txt$/, 'fd 3 is the caller\'s fd 3');
});

t.test('an fd inherited by tsrun does not leak into the container', async (t) => {
  // runtime-linux.md#file-descriptors; DESIGN.md: "No fd of the runtime leaks into the
  // container". A shim that hands tsrun an extra fd 3 without --preserve-fds must not see it
  // in the container.
  const leak = openFile(t, 'inherited.txt');
  for (const flags of [[], ['--preserve-fds', '0']]) {
    const p = probe(h, t, { flags, run: { fds: [leak] } });
    t.same(p.fds.map((f) => f.fd), [0, 1, 2], `${flags.join(' ') || 'no flag'}: ${JSON.stringify(p.fds)}`);
  }
});
