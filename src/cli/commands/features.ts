import type { Command } from '../../main.js';
import { parseArgs, exactArgs } from '../args.js';
import { features } from '../../spec/features.js';
import { writeOut } from '../../util/stdio.js';

const command: Command = {
  flags: [],
  usage: '',
  run(argv) {
    exactArgs(parseArgs(argv, [], 'features'), 0, 'features');
    writeOut(JSON.stringify(features(), null, 4) + '\n');
    return 0;
  },
};
export default command;
