import type { Command } from '../../main.js';
import { idUsage } from '../usage.js';
import { parseArgs, exactArgs, str, bool } from '../args.js';
import { criuOptions, restoreFlags } from '../../criu/options.js';
import { restoreContainer } from '../../container/restore.js';
import { deleteAfterExit } from '../../container/lifecycle.js';
import { waitForeground } from '../../container/foreground.js';

const command: Command = {
  flags: restoreFlags,
  usage: idUsage('restored', `Restores the saved state of the container instance that was previously saved
   using the runc checkpoint command.`),
  run(argv, g) {
    const p = parseArgs(argv, restoreFlags, 'restore');
    exactArgs(p, 1, 'restore');
    const id = p.args[0]!;
    // --no-pivot and --no-subreaper are accepted as runc's: CRIU makes the root itself, and
    // tsrun never becomes a subreaper.
    const { pid } = restoreContainer({
      root: g.root,
      id,
      bundle: str(p, 'bundle') ?? process.cwd(),
      pidFile: str(p, 'pid-file'),
      consoleSocket: str(p, 'console-socket'),
      cgroups: g.cgroupManager !== 'disabled',
      rootless: g.rootlessCgroups,
      systemd: g.systemdCgroup,
      criu: criuOptions(p),
    });
    if (bool(p, 'detach')) return 0;
    // Foreground, as runc: the container's exit status is ours, and the container goes with it.
    const code = waitForeground({ parent: pid, pid });
    deleteAfterExit(g.root, id);
    return code;
  },
};
export default command;
