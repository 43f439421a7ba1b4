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
