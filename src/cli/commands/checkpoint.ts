import type { Command } from '../../main.js';
import { idUsage } from '../usage.js';
import { parseArgs, exactArgs } from '../args.js';
import { checkpointFlags, criuOptions } from '../../criu/options.js';
import { checkpointContainer } from '../../container/checkpoint.js';

const command: Command = {
  flags: checkpointFlags,
  usage: idUsage('checkpointed', 'The checkpoint command saves the state of the container instance.'),
  run(argv, g) {
    const p = parseArgs(argv, checkpointFlags, 'checkpoint');
    exactArgs(p, 1, 'checkpoint');
    checkpointContainer(g.root, p.args[0]!, criuOptions(p));
    return 0;
  },
};
export default command;
