import { mkdirSync, readFileSync, writeFileSync, renameSync, rmSync, rmdirSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { NotFoundError, TsrunError } from '../errors.js';
import type { Config } from '../spec/load.js';
import { checkId, CONFIG_FILE, containerDir, isValidId, STATE_FILE } from './paths.js';

// The format is defined once, in saved-state.schema.json.
export type { SavedState } from '../spec/generated/saved-state.js';
import type { SavedState } from '../spec/generated/saved-state.js';
import { validateSavedState } from '../spec/generated/validate-saved-state.js';

/** Creates the container's state dir; mkdir's EEXIST is the atomic "ID in use" check. */
export function makeContainerDir(root: string, id: string): string {
  checkId(id);
  mkdirSync(root, { recursive: true, mode: 0o711 });
  const dir = containerDir(root, id);
  try {
    mkdirSync(dir, { mode: 0o711 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new TsrunError(`container with id exists: ${id}`);
    throw new TsrunError(`create state dir ${dir}: ${(e as Error).message}`);
  }
  return dir;
}

export function saveState(dir: string, s: SavedState): void {
  // temp file + rename: a reader never sees a half-written state.json.
  const tmp = join(dir, `.${STATE_FILE}.tmp`);
  try {
    writeFileSync(tmp, JSON.stringify(s), { mode: 0o600 });
    renameSync(tmp, join(dir, STATE_FILE));
  } catch (e) {
    // A full disk: say which file, leave no temp file behind.
    rmSync(tmp, { force: true });
    throw new TsrunError(`save state ${join(dir, STATE_FILE)}: ${(e as Error).message}`);
  }
}

export function loadState(root: string, id: string): SavedState {
  return loadStateBytes(root, id).state;
}

/** The state and the exact bytes it was read from (an exec plan is keyed on them: exec-plans.ts). */
export function loadStateBytes(root: string, id: string): { state: SavedState; bytes: Buffer } {
  checkId(id);
  let bytes: Buffer;
  try {
    bytes = readFileSync(join(containerDir(root, id), STATE_FILE));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') {
      throw new NotFoundError(id);
    }
    throw e;
  }
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    // A torn or corrupt file (a full disk, a crash): name it; `delete --force` still removes it.
    throw new TsrunError(`container "${id}" has a corrupt state file: ${(e as Error).message}`);
  }
  if (!validateSavedState(data)) {
    const err = validateSavedState.errors?.[0];
    throw new TsrunError(`container "${id}" has a corrupt state file: ${err?.instancePath || '/'} ${err?.message ?? 'is not a state'}`);
  }
  return { state: data as SavedState, bytes };
}

export function removeContainerDir(root: string, id: string): void {
  const dir = containerDir(root, id);
  try {
    removeTree(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** rm -r of a state dir (a few files, at most a small dir of plans): Node's rmSync walks it in JavaScript with a stat per entry, about 1.5 ms more. */
function removeTree(dir: string): void {
  const entries = readdirSync(dir, { withFileTypes: true });
  for (let i = 0; i < entries.length; i++) {
    const path = join(dir, entries[i]!.name);
    if (entries[i]!.isDirectory()) removeTree(path);
    else unlinkSync(path);
  }
  rmdirSync(dir);
}

export function listIds(root: string): string[] {
  try {
    return readdirSync(root, { withFileTypes: true })
      // Only names a container can have: the root also holds tsrun's caches ("@seccomp-cache").
      .filter((d) => d.isDirectory() && isValidId(d.name))
      .map((d) => d.name)
      .sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** The config.json the container was created from (saved in its state dir). */
export function loadSavedConfig(root: string, id: string): Config {
  return loadSavedConfigBytes(root, id).config;
}

/** The saved config and the exact bytes it was read from. */
export function loadSavedConfigBytes(root: string, id: string): { config: Config; bytes: Buffer } {
  checkId(id);
  const file = join(containerDir(root, id), CONFIG_FILE);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new TsrunError(`read ${file}: ${(e as Error).message}`);
    // No dir: no container. A dir without the file: a create that has not finished (or died).
    loadState(root, id);
    throw new TsrunError(`container "${id}" is still being created (or its create failed): no saved config`);
  }
  try {
    return { config: JSON.parse(bytes.toString('utf8')) as Config, bytes };
  } catch (e) {
    throw new TsrunError(`container "${id}" has a corrupt saved config: ${(e as Error).message}`);
  }
}
