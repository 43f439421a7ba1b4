import { resolve } from 'node:path';
import { TsrunError } from '../errors.js';
import type { Config } from '../spec/load.js';
import type { PlanRecord } from './encode.js';

/**
 * The terminal records for a process: the pty master goes to --console-socket, or, for a
 * foreground run/exec without one, to tsrun-init, which relays it to the caller's terminal.
 * The errors are runc's, which callers know.
 */
export function planTerminal(p: Config['process'], consoleSocket: string | undefined, detached: boolean): PlanRecord[] {
  if (!p?.terminal) {
    if (consoleSocket) throw new TsrunError('cannot use console socket if tsrun will not detach or allocate tty');
    return [];
  }
  if (!consoleSocket && detached) throw new TsrunError('cannot allocate tty if tsrun will detach without setting console socket');
  const records: PlanRecord[] = [['terminal', p.consoleSize?.height ?? 0, p.consoleSize?.width ?? 0]];
  if (consoleSocket) records.push(['console_socket', resolve(consoleSocket)]);
  return records;
}
