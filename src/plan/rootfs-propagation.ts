// linux.rootfsPropagation (config-linux.md#rootfs-mount-propagation) as the three steps the C
// core takes (docs/PLAN-FORMAT.md, `rootfs_propagation`): on "/" of the new mount namespace
// before the rootfs is bound onto itself (runc's prepareRoot), on the rootfs' parent mount when
// it is shared (pivot_root refuses a shared one, and the bind would propagate to the host), and
// on the container's "/" once its mounts, masked and read-only paths are made.
import { MS } from './mount-options.js';
import type { Config } from '../spec/load.js';

type Propagation = NonNullable<NonNullable<Config['linux']>['rootfsPropagation']>;

const { PRIVATE, SLAVE, SHARED, UNBINDABLE, REC } = MS;

/**
 * [namespace "/", shared parent, container "/"] by value. Where runc 1.1.5 takes a value, the
 * first two are its: the flags as written on the namespace's "/", then the parent made private.
 * The recursive values end there, as in runc, so the host's mounts keep their propagation
 * (rshared: a bind with `rshared` stays a peer of the host's, for Kubernetes' Bidirectional).
 * Three add what runc 1.1.5 leaves undone (its root stays private), as crun and later runc do:
 * shared and unbindable change the container's "/" itself at the end, and slave makes the
 * parent a slave, so that "/" receives the host's events. An unbindable parent could not be
 * bound: those values start private and end unbindable (runbindable: "/" and every mount
 * under it, which runc 1.1.5 and crun cannot start at all).
 */
const STEPS: Record<Propagation, [number, number, number]> = {
  private: [PRIVATE, PRIVATE, 0],
  rprivate: [PRIVATE | REC, PRIVATE, 0],
  slave: [SLAVE, SLAVE, 0],
  rslave: [SLAVE | REC, PRIVATE, 0],
  shared: [SHARED, PRIVATE, SHARED],
  rshared: [SHARED | REC, PRIVATE, 0],
  unbindable: [PRIVATE, PRIVATE, UNBINDABLE],
  runbindable: [PRIVATE | REC, PRIVATE, UNBINDABLE | REC],
};

/** Without a value, runc's default: the namespace rslave. */
const DEFAULT: [number, number, number] = [SLAVE | REC, PRIVATE, 0];

export function rootfsPropagationSteps(cfg: Config): [number, number, number] {
  const p = cfg.linux?.rootfsPropagation;
  return p ? STEPS[p] : DEFAULT;
}
