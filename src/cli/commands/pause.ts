import type { Command } from '../../main.js';
import { parseArgs, exactArgs } from '../args.js';
import { pauseContainer } from '../../container/pause.js';

const command: Command = {
  flags: [],
  usage: '<container-id>',
  run(argv, g) {
    const p = parseArgs(argv, [], 'pause');
    exactArgs(p, 1, 'pause');
    pauseContainer(g.root, p.args[0]!, true);
    return 0;
  },
};
export default command;
