import { constants } from 'node:os';
import { initHost } from './init-host.js';
import type { Launched } from './launch.js';

/** Signals a person or a supervisor sends to a foreground `run`/`exec` that belong to the container. */
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT'] as const;

/** Waits for tsrun-init's parent (kept by a foreground launch), forwarding those signals to the process; its exit status. */
export function waitForeground(l: Launched): number {
  return initHost().waitForwarding(l.parent, l.pid, FORWARDED_SIGNALS());
}

/** Those signals' numbers. */
function FORWARDED_SIGNALS(): number[] {
  return FORWARDED.map((s) => constants.signals[s]);
}

/** Signals tsrun gets go to pid from now on: before the wait, tsrun still writes the pid file and the exec plan. */
export function forwardTo(pid: number): void {
  initHost().forwardTo(pid, FORWARDED_SIGNALS());
}
