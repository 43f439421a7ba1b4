import type { Command } from '../../main.js';
import { parseArgs, exactArgs } from '../args.js';
import { pauseContainer } from '../../container/pause.js';

const command: Command = {
  flags: [],
  usage: '<container-id>',
  run(argv, g) {
    const p = parseArgs(argv, [], 'resume');
    exactArgs(p, 1, 'resume');
    pauseContainer(g.root, p.args[0]!, false);
    return 0;
  },
};
export default command;
