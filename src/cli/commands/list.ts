import type { Command } from '../../main.js';
import { parseArgs, str, bool, exactArgs } from '../args.js';
import { listIds, loadState } from '../../state/store.js';
import { describe, type ContainerState } from '../../container/describe.js';
import { TsrunError } from '../../errors.js';
import { writeOut } from '../../util/stdio.js';

const flags = [
  { names: ['format', 'f'], value: true, help: 'select one of: table or json (default: "table")' },
  { names: ['quiet', 'q'], value: false, help: 'display only container IDs' },
];

/** Columns padded like Go's tabwriter with padding 3, as runc prints them. */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('')).join('\n') + '\n';
}

const command: Command = {
  flags,
  usage: '[command options]',
  run(argv, g) {
    const p = parseArgs(argv, flags, 'list');
    exactArgs(p, 0, 'list');
    const format = str(p, 'format') ?? 'table';
    if (format !== 'table' && format !== 'json') throw new TsrunError(`invalid format option: ${format}`);
    const states: ContainerState[] = [];
    for (const id of listIds(g.root)) {
      try {
        states.push(describe(g.root, loadState(g.root, id)));
      } catch {
        // a container being created or deleted right now
      }
    }
    if (bool(p, 'quiet')) {
      writeOut(states.map((s) => s.id + '\n').join(''));
    } else if (format === 'json') {
      writeOut((states.length ? JSON.stringify(states) : 'null') + '\n');
    } else {
      const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...states.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner])];
      writeOut(table(rows));
    }
    return 0;
  },
};
export default command;
