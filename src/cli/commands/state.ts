import type { Command } from '../../main.js';
import { parseArgs, exactArgs } from '../args.js';
import { loadState } from '../../state/store.js';
import { describe } from '../../container/describe.js';
import { writeOut } from '../../util/stdio.js';

const command: Command = {
  flags: [],
  usage: '<container-id>',
  run(argv, g) {
    const p = parseArgs(argv, [], 'state');
    exactArgs(p, 1, 'state');
    const s = describe(g.root, loadState(g.root, p.args[0]!));
    writeOut(JSON.stringify(s, null, 2) + '\n');
    return 0;
  },
};
export default command;
