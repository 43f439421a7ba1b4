import type { Command } from '../../main.js';
import { parseArgs, bool, maxArgs, minArgs } from '../args.js';
import { killContainer } from '../../container/lifecycle.js';

const flags = [{ names: ['all', 'a'], value: false, help: 'send the specified signal to all processes inside the container' }];

const command: Command = {
  flags,
  usage: '[command options] <container-id> [signal]',
  run(argv, g) {
    const p = parseArgs(argv, flags, 'kill');
    minArgs(p, 1, 'kill');
    maxArgs(p, 2, 'kill');
    killContainer(g.root, p.args[0]!, p.args[1] ?? 'SIGTERM', bool(p, 'all'));
    return 0;
  },
};
export default command;
