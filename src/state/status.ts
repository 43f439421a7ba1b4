import { existsSync, readFileSync } from 'node:fs';
import { isFrozen } from '../cgroups/freezer.js';
import { join } from 'node:path';
import type { SavedState } from './store.js';
import { FIFO_FILE } from './paths.js';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

/** Field 22 (starttime) and field 3 (state) of /proc/PID/stat, or null if there is no such process. */
export function procStat(pid: number): { startTime: string; state: string } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm (field 2) may hold spaces and parens: fields after it start past the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0]!, startTime: rest[19]! };
}

/** True while the container's pid 1 is the process tsrun started and has not exited. */
export function isAlive(s: SavedState): boolean {
  if (s.pid <= 0) return false;
  const st = procStat(s.pid);
  return st !== null && st.startTime === s.pidStartTime && st.state !== 'Z' && st.state !== 'X';
}

/**
 * runc's refreshState order: a frozen cgroup is "paused" first, whatever runs in it (a created
 * container can be paused too); then a dead pid 1 is "stopped", the exec fifo "created".
 */
export function statusOf(dir: string, s: SavedState): Status {
  if (s.creating) return 'creating';
  if (isFrozen(s.freezer)) return 'paused';
  if (!isAlive(s)) return 'stopped';
  return existsSync(join(dir, FIFO_FILE)) ? 'created' : 'running';
}
