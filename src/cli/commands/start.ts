import type { Command } from '../../main.js';
import { parseArgs, exactArgs } from '../args.js';
import { startContainer } from '../../container/lifecycle.js';

const command: Command = {
  flags: [],
  usage: '<container-id>',
  run(argv, g) {
    const p = parseArgs(argv, [], 'start');
    exactArgs(p, 1, 'start');
    startContainer(g.root, p.args[0]!);
    return 0;
  },
};
export default command;
