import type { Command } from '../../main.js';
import { forwardTo, waitForeground } from '../../container/foreground.js';
import { parseArgs, str, bool, exactArgs } from '../args.js';
import { createContainer } from '../../container/create.js';
import { deleteAfterExit, deleteContainer, startContainer } from '../../container/lifecycle.js';
import { createFlags, preserveFdsOf } from './create.js';
import { testPause } from '../../util/test-pause.js';

const flags = [
  ...createFlags,
  { names: ['detach', 'd'], value: false, help: 'detach from the container\'s process' },
  { names: ['keep'], value: false, help: 'do not delete the container after it exits' },
];


const command: Command = {
  flags,
  usage: '[command options] <container-id>',
  async run(argv, g) {
    const p = parseArgs(argv, flags, 'run');
    exactArgs(p, 1, 'run');
    const id = p.args[0]!;
    const detach = bool(p, 'detach');
    const c = await createContainer({
      root: g.root,
      id,
      bundle: str(p, 'bundle') ?? process.cwd(),
      pidFile: str(p, 'pid-file'),
      consoleSocket: str(p, 'console-socket'),
      noPivot: bool(p, 'no-pivot'),
      preserveFds: preserveFdsOf(str(p, 'preserve-fds')),
      wait: !detach,
      cgroups: g.cgroupManager !== 'disabled',
      rootless: g.rootlessCgroups,
      systemd: g.systemdCgroup,
    });
    // runc listens for signals before its process starts: one that comes once the process runs,
    // while start is still finishing (state, poststart hooks), must reach it, not end tsrun.
    // Before execve the pid 1 has no handlers and ignores it, as runc's would.
    if (!detach) forwardTo(c.pid);
    try {
      startContainer(g.root, id);
      testPause('run:started');
    } catch (e) {
      deleteContainer(g.root, id, true);
      throw e;
    }
    if (detach) return 0;
    // Foreground: signals to tsrun go to the container; the C parent reports its exit status.
    const code = waitForeground(c);
    if (!bool(p, 'keep')) deleteAfterExit(g.root, id);
    return code;
  },
};
export default command;
