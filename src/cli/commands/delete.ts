import type { Command } from '../../main.js';
import { parseArgs, bool, exactArgs } from '../args.js';
import { deleteContainer } from '../../container/lifecycle.js';

const flags = [{ names: ['force', 'f'], value: false, help: 'forcibly delete the container if it is still running (uses SIGKILL)' }];

const command: Command = {
  flags,
  usage: '[command options] <container-id>',
  run(argv, g) {
    const p = parseArgs(argv, flags, 'delete');
    exactArgs(p, 1, 'delete');
    deleteContainer(g.root, p.args[0]!, bool(p, 'force'), { systemd: g.systemdCgroup, rootless: g.rootlessCgroups });
    return 0;
  },
};
export default command;
