import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '../../main.js';
import { parseArgs, str, bool, exactArgs } from '../args.js';
import { defaultSpec } from '../../spec/default-spec.js';
import { TsrunError } from '../../errors.js';

const flags = [
  { names: ['bundle', 'b'], value: true, help: 'path to the root of the bundle directory' },
  { names: ['rootless'], value: false, help: 'generate a configuration for a rootless container' },
];

const command: Command = {
  flags,
  usage: '[command options]',
  run(argv) {
    const p = parseArgs(argv, flags, 'spec');
    exactArgs(p, 0, 'spec');
    const file = join(str(p, 'bundle') ?? '.', 'config.json');
    if (existsSync(file)) throw new TsrunError('File config.json exists. Remove it first');
    const spec = defaultSpec(bool(p, 'rootless'), process.getuid?.() ?? 0, process.getgid?.() ?? 0);
    writeFileSync(file, JSON.stringify(spec, null, '\t') + '\n', { mode: 0o666 });
    return 0;
  },
};
export default command;
