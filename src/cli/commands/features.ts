import type { Command } from '../../main.js';
import { parseArgs } from '../args.js';
import { features } from '../../spec/features.js';

const command: Command = {
  flags: [],
  usage: '',
  run(argv) {
    parseArgs(argv, [], 'features');
    process.stdout.write(JSON.stringify(features(), null, 4) + '\n');
    return 0;
  },
};
export default command;
