import type { FeaturesSchema } from './generated/features.js';
import { CAPABILITIES, kernelLastCap } from '../plan/capabilities.js';
import { knownMountOptions } from '../plan/mount-options.js';
import { NS_TYPES } from '../plan/namespaces.js';
import { SPEC_VERSION } from './version.js';

/**
 * features.md: what this build implements. Hooks, seccomp and LSM labels are not implemented
 * yet, so they are reported absent or disabled rather than promised.
 */
export function features(): FeaturesSchema {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: SPEC_VERSION,
    hooks: [],
    mountOptions: knownMountOptions(),
    linux: {
      namespaces: NS_TYPES,
      capabilities: CAPABILITIES.slice(0, kernelLastCap() + 1),
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: false },
      seccomp: { enabled: false },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: true } },
      netDevices: { enabled: false },
    },
    annotations: { 'org.opencontainers.runtime-spec.version': SPEC_VERSION },
  };
}
