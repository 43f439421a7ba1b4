import { watch, type FSWatcher } from 'node:fs';
import type { Command } from '../../main.js';
import { parseArgs, str, bool, exactArgs } from '../args.js';
import { loadState } from '../../state/store.js';
import { isAlive } from '../../state/status.js';
import { OomCounter, oomEventsFile, readStats } from '../../cgroups/stats.js';
import { TsrunError } from '../../errors.js';
import { writeOut } from '../../util/stdio.js';

/** 128 + SIGPIPE: the status a shell gives a process killed by SIGPIPE, as runc's events is. */
const BROKEN_PIPE_STATUS = 141;

const flags = [
  { names: ['interval'], value: true, help: 'set the stats collection interval (default: 5s)' },
  { names: ['stats'], value: false, help: 'display the container\'s stats then exit' },
];

/** Go duration text as runc takes it: "5s", "500ms", "1m". */
function parseInterval(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v);
  if (!m) throw new TsrunError(`invalid value "${v}" for flag --interval: not a duration`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60000, h: 3600000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

const command: Command = {
  flags,
  usage: '[command options] <container-id>',
  async run(argv, g) {
    const p = parseArgs(argv, flags, 'events');
    exactArgs(p, 1, 'events');
    const id = p.args[0]!;
    const s = loadState(g.root, id);
    if (!isAlive(s)) throw new TsrunError('container not running');
    // Once nobody reads the stream (`events ID | head -1`), runc dies of SIGPIPE at its next
    // write, which a shell reports as 141; tsrun stops there with that status (Node ignores
    // SIGPIPE, and in the server nothing else would end the call).
    let gone = false;
    const emit = (type: string, data?: unknown): void => {
      gone ||= !writeOut(JSON.stringify(data === undefined ? { type, id } : { type, id, data }) + '\n');
    };
    if (bool(p, 'stats')) {
      emit('stats', readStats(s.cgroupDirs));
      return 0;
    }
    const interval = parseInterval(str(p, 'interval') ?? '5s');
    const ooms = new OomCounter(s.cgroupDirs);
    // Stats every interval, OOM kills as soon as the kernel reports them, and after the cgroup is
    // gone too (see OomCounter).
    let next = Date.now();
    const checkOom = (): void => {
      if (ooms.check()) emit('oom');
    };
    // The kernel notifies memory.events when it moves (runc's events watches it with inotify):
    // a kill is reported at once. The 200 ms poll covers v1.
    const file = oomEventsFile(s.cgroupDirs);
    let watcher: FSWatcher | undefined;
    try {
      watcher = file ? watch(file, { persistent: false }, checkOom) : undefined;
      watcher?.on('error', () => undefined);
    } catch {
      // the cgroup went between the state read and here: the poll's last look decides
    }
    try {
      while (!gone && isAlive(s)) {
        checkOom();
        if (Date.now() >= next) {
          emit('stats', readStats(s.cgroupDirs));
          next = Date.now() + interval;
        }
        await new Promise((r) => setTimeout(r, Math.min(200, interval)));
      }
      // An OOM kill of pid 1 ends the container at once: look a last time.
      if (!gone) checkOom();
    } finally {
      watcher?.close();
    }
    return gone ? BROKEN_PIPE_STATUS : 0;
  },
};
export default command;
