import { containerDir } from '../state/paths.js';
import { statusOf, type Status } from '../state/status.js';
import type { SavedState } from '../state/store.js';

/** runc's `state` JSON (runtime.md#state plus runc's rootfs, created and owner). */
export interface ContainerState {
  ociVersion: string;
  id: string;
  pid: number;
  status: Status;
  bundle: string;
  rootfs: string;
  created: string;
  annotations?: Record<string, string>;
  owner: string;
}

export function describe(root: string, s: SavedState): ContainerState {
  const status = statusOf(containerDir(root, s.id), s);
  const out: ContainerState = {
    ociVersion: s.ociVersion,
    id: s.id,
    pid: status === 'stopped' ? 0 : s.pid,
    status,
    bundle: s.bundle,
    rootfs: s.rootfs,
    created: s.created,
    owner: s.owner,
  };
  if (s.annotations && Object.keys(s.annotations).length) {
    const { owner, ...rest } = out;
    return { ...rest, annotations: s.annotations, owner };
  }
  return out;
}
