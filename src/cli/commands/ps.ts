import { execFileSync } from 'node:child_process';
import type { Command } from '../../main.js';
import { parseArgs, str, minArgs } from '../args.js';
import { loadState } from '../../state/store.js';
import { cgroupPids } from '../../cgroups/manage.js';
import { TsrunError } from '../../errors.js';
import { writeOut } from '../../util/stdio.js';

const flags = [{ names: ['format', 'f'], value: true, help: 'select one of: table or json (default: "table")' }];

/** runc's ps: json is the list of host pids; table runs ps(1) and keeps the container's lines. */
const command: Command = {
  flags,
  usage: '[command options] <container-id> [ps options]',
  run(argv, g) {
    const p = parseArgs(argv, flags, 'ps');
    minArgs(p, 1, 'ps');
    const s = loadState(g.root, p.args[0]!);
    const pids = cgroupPids(s.cgroupDirs);
    const format = str(p, 'format') ?? 'table';
    if (format === 'json') {
      writeOut(JSON.stringify(pids) + '\n');
      return 0;
    }
    if (format !== 'table') throw new TsrunError(`invalid format option: ${format}`);
    const psArgs = p.args.length > 1 ? p.args.slice(1) : ['-ef'];
    const out = execFileSync('ps', psArgs, { encoding: 'utf8' }).split('\n');
    const header = out[0] ?? '';
    const col = header.trim().split(/\s+/).indexOf('PID');
    if (col < 0) throw new TsrunError("couldn't find PID field in ps output");
    const wanted = new Set(pids.map(String));
    const lines = [header, ...out.slice(1).filter((l) => wanted.has(l.trim().split(/\s+/)[col] ?? ''))];
    writeOut(lines.join('\n') + '\n');
    return 0;
  },
};
export default command;
