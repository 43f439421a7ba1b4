// runc's `exec --cgroup [<controller>[,<controller>]:]<path>`: the exec'd process joins an
// existing sub-cgroup of the container's cgroup instead of the cgroup itself (exec.go
// getSubCgroupPaths, container_linux.go newSetnsProcess).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TsrunError } from '../errors.js';
import { hierarchies } from './hierarchy.js';

/** Sub-cgroup path per controller; key "" = every hierarchy (the only form cgroup v2 has). */
function parse(specs: string[]): Map<string, string> {
  const paths = new Map<string, string>();
  for (const spec of specs) {
    const parts = spec.split(':');
    if (parts.length > 2) throw new TsrunError(`invalid --cgroup argument: ${spec}`);
    if (parts.length === 1) {
      if (specs.length !== 1) throw new TsrunError(`invalid --cgroup argument: ${spec} (missing <controller>: prefix)`);
      paths.set('', spec);
    } else {
      for (const ctrl of parts[0]!.split(',')) paths.set(ctrl, parts[1]!);
    }
  }
  return paths;
}

/** `sub` below `dir`, refused when it leaves it ("../x"). */
function below(dir: string, sub: string): string {
  const d = join(dir, sub);
  if (d !== dir && !d.startsWith(dir + '/')) throw new TsrunError(`--cgroup: ${sub} is not a sub cgroup path`);
  return d;
}

/**
 * The dirs (one per hierarchy, as state.json's cgroupDirs) an exec'd process joins for the
 * --cgroup arguments. A sub-cgroup must exist in each hierarchy it names, as in runc; the v2
 * tree of a hybrid host, which runc does not manage, keeps the container's cgroup when the
 * sub-cgroup was made in the v1 hierarchies only.
 */
export function subCgroupDirs(dirs: string[], specs: string[]): string[] {
  const paths = parse(specs);
  const hs = hierarchies();
  const hybridV2 = (i: number): boolean => hs[i]!.version === 2 && hs.some((h) => h.version === 1);
  const out = [...dirs];
  const all = paths.get('');
  if (all !== undefined) {
    dirs.forEach((dir, i) => {
      if (!dir) return;
      const sub = below(dir, all);
      if (existsSync(sub) || !hybridV2(i)) out[i] = sub;
    });
  } else {
    for (const [ctrl, path] of paths) {
      const i = hs.findIndex((h) => h.controllers.includes(ctrl));
      if (i < 0) throw new TsrunError(`--cgroup: unknown controller ${ctrl} (this host's: ${hs.flatMap((h) => h.controllers).join(', ') || 'none, cgroup v2 takes a path alone'})`);
      if (dirs[i]) out[i] = below(dirs[i]!, path);
    }
  }
  out.forEach((d, i) => {
    if (d && d !== dirs[i] && !existsSync(d)) throw new TsrunError(`--cgroup: sub-cgroup ${d} does not exist (exec joins an existing one)`);
  });
  return out;
}
