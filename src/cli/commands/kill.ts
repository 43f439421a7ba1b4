import type { Command } from '../../main.js';
import { parseArgs, bool, minArgs } from '../args.js';
import { killContainer, parseSignal } from '../../container/lifecycle.js';
import { UsageError } from '../../errors.js';

const flags = [{ names: ['all', 'a'], value: false, help: 'send the specified signal to all processes inside the container' }];

const command: Command = {
  flags,
  usage: '[command options] <container-id> [signal]',
  run(argv, g) {
    const p = parseArgs(argv, flags, 'kill');
    minArgs(p, 1, 'kill');
    if (p.args.length > 2) throw new UsageError('"kill" requires a maximum of 2 argument(s)', 'kill');
    const sig = parseSignal(p.args[1] ?? 'SIGTERM');
    killContainer(g.root, p.args[0]!, sig, bool(p, 'all'));
    return 0;
  },
};
export default command;
