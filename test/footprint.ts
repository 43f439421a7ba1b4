// The process left in the created state (runtime.md#create; DESIGN.md "Process model": it
// must be a small C program, never Node).
import t from 'tap';
import { readFileSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { Harness } from './helpers/runtime.js';

const h = new Harness(t);

/** Sum of the kB lines named `field` in /proc/PID/smaps_rollup. */
function rollup(pid: number, field: string): number {
  let kb = 0;
  for (const line of readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').split('\n')) {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`).exec(line);
    if (m) kb += Number(m[1]);
  }
  return kb;
}

t.test('the created process is small and is not node', async (t) => {
  const id = h.id(t);
  h.ok(['create', '--bundle', h.bundle({ args: ['sleep', '1000'] }), id]);
  const pid = h.state(id)!.pid;

  t.comment(`created process ${pid}: Pss ${rollup(pid, 'Pss')} kB, Rss ${rollup(pid, 'Rss')} kB`);
  const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  t.comment(`comm ${comm}, fds: ${readdirSync(`/proc/${pid}/fd`).map((fd) => `${fd}=${readlinkSync(`/proc/${pid}/fd/${fd}`)}`).join(' ')}`);

  let exe = '(unreadable)';
  try {
    exe = readlinkSync(`/proc/${pid}/exe`);
  } catch (e) {
    t.comment(`readlink /proc/${pid}/exe: ${(e as Error).message}`);
  }
  t.not(exe, realpathSync(process.execPath), `its executable is not node: ${exe}`);
  t.not(comm, 'node', 'its comm is not node');
});

/** The Rss in kB of the mapping of /proc/PID/smaps whose path is `name`. */
function mappingRss(pid: number, name: string): number {
  let current = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) current = head[1];
    const m = /^Rss:\s+(\d+) kB/.exec(line);
    if (m && current === name) return Number(m[1]);
  }
  throw new Error(`no mapping ${name} in /proc/${pid}/smaps`);
}

// A created container waits for start as long as its caller likes (runtime.md#create); setup's
// deepest step touched 36 kB of stack, which the wait gives back (csrc/shed.c).
t.test('the created process keeps no more stack than its wait needs', async (t) => {
  const id = h.id(t);
  h.ok(['create', '--bundle', h.bundle({ args: ['sleep', '1000'] }), id]);
  const pid = h.state(id)!.pid;
  const stack = mappingRss(pid, '[stack]');
  // What stays: the frames down to the wait, two pages of margin (csrc/shed.c), and the top
  // of the stack, which holds the process's arguments and environment.
  const top = readFileSync(`/proc/${pid}/environ`).length + readFileSync(`/proc/${pid}/cmdline`).length;
  const limit = 16 + 4 * Math.ceil(top / 4096);
  t.ok(stack <= limit, `[stack] Rss ${stack} kB <= ${limit} kB (arguments and environment: ${top} bytes)`);
  h.ok(['start', id]);
  t.equal(h.state(id)!.status, 'running', 'and it still starts');
});
