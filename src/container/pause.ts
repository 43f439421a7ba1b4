import { setFrozen } from '../cgroups/freezer.js';
import { TsrunError } from '../errors.js';
import { containerDir } from '../state/paths.js';
import { statusOf } from '../state/status.js';
import { withContainerLock } from '../state/lock.js';
import { loadState } from '../state/store.js';

/** runc's pause/resume: a running or created container pauses (a paused created one stays
 * created: its pid 1 still waits on the exec fifo) and only a paused one resumes. */
export function pauseContainer(root: string, id: string, pause: boolean): void {
  withContainerLock(root, id, () => pauseLocked(root, id, pause));
}

function pauseLocked(root: string, id: string, pause: boolean): void {
  const s = loadState(root, id);
  const status = statusOf(containerDir(root, id), s);
  if (pause && status !== 'running' && status !== 'created') throw new TsrunError(`container not running`);
  if (!pause && status !== 'paused') throw new TsrunError(`container not paused`);
  setFrozen(s.freezer, pause);
}
