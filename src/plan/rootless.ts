import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { TsrunError } from '../errors.js';
import type { Config } from '../spec/load.js';
import { rootlessEuid } from '../util/rootless.js';
import type { NsType } from './namespaces.js';
import type { PlanRecord } from './encode.js';

type IdMapping = NonNullable<NonNullable<Config['linux']>['uidMappings']>[number];

/** The first executable `name` in PATH (runc resolves the helpers in the runtime, not in the container's setup). */
function lookPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    if (!dir.startsWith('/')) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      continue;
    }
  }
  return undefined;
}

function mapped(maps: IdMapping[], id: number): boolean {
  return maps.some((m) => id >= m.containerID && id < m.containerID + m.size);
}

/**
 * What an unprivileged runtime (euid != 0) must check and add to the plan, as runc does for its
 * RootlessEUID: a user namespace is required; a new one gets setgroups "deny" when its gid map is
 * just the runtime's own gid (the kernel wants that before an unprivileged gid_map write), and
 * newuidmap/newgidmap for any other map (subordinate ranges); uid=/gid= mount options must name
 * mapped ids.
 */
export function planRootless(cfg: Config, ns: Map<NsType, string>, euid = process.geteuid?.() ?? 0, egid = process.getegid?.() ?? 0): PlanRecord[] {
  if (!rootlessEuid()) return [];
  if (!ns.has('user')) throw new TsrunError('rootless container requires user namespaces');
  if (ns.get('user') !== '') return [];
  const uids = cfg.linux?.uidMappings ?? [];
  const gids = cfg.linux?.gidMappings ?? [];
  (cfg.mounts ?? []).forEach((m, i) => {
    for (const opt of m.options ?? []) {
      const kv = /^([ug])id=(\d+)$/.exec(opt);
      if (kv && !mapped(kv[1] === 'u' ? uids : gids, Number(kv[2]))) {
        throw new TsrunError(`mounts[${i}].options: cannot specify ${opt} mount option for rootless container: ${kv[1] === 'u' ? 'user' : 'group'} ID ${kv[2]} is not mapped`);
      }
    }
  });
  const records: PlanRecord[] = [];
  const ownOnly = (maps: IdMapping[], id: number): boolean => maps.length === 1 && maps[0]!.hostID === id && maps[0]!.size === 1;
  if (ownOnly(gids, egid)) records.push(['setgroups', 'deny']);
  if (!ownOnly(uids, euid)) {
    const tool = lookPath('newuidmap');
    if (tool) records.push(['maptool', 'uid', tool]);
  }
  if (!ownOnly(gids, egid)) {
    const tool = lookPath('newgidmap');
    if (tool) records.push(['maptool', 'gid', tool]);
  }
  return records;
}
