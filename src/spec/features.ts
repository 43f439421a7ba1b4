import type { FeaturesSchema } from './generated/features.js';
import { CAPABILITIES, kernelLastCap } from '../plan/capabilities.js';
import { knownMountOptions } from '../plan/mount-options.js';
import { NS_TYPES } from '../plan/namespaces.js';
import { seccompFeatures } from '../seccomp/kernel.js';
import { SPEC_VERSION } from './version.js';

/**
 * features.md: what this build implements. apparmor/selinux say the runtime supports the labels
 * (features-linux.md: "irrelevant to the availability ... on the host"), as runc reports them.
 * Seccomp lists what the installed libseccomp and the kernel support.
 */
export function features(): FeaturesSchema {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: SPEC_VERSION,
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: knownMountOptions(),
    linux: {
      namespaces: NS_TYPES,
      capabilities: CAPABILITIES.slice(0, kernelLastCap() + 1),
      // systemdUser: the user's own instance (rootless), proven in the systemd guest tier.
      cgroup: { v1: true, v2: true, systemd: true, systemdUser: true, rdma: false },
      seccomp: seccompFeatures(),
      apparmor: { enabled: true },
      selinux: { enabled: true },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: true } },
      netDevices: { enabled: true },
    },
    // runc's key: checkpoint and restore exist (through criu, when it is installed).
    annotations: { 'org.opencontainers.runtime-spec.version': SPEC_VERSION, 'org.opencontainers.runc.checkpoint.enabled': 'true' },
  };
}
