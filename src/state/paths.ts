import { join } from 'node:path';
import { TsrunError } from '../errors.js';

// runc's rule: letters, digits, _ + - . and not "." or "..": an ID is always one path element.
export const ID_RE = /^[\w+.-]+$/;

export function checkId(id: string): void {
  if (!ID_RE.test(id) || id === '.' || id === '..') throw new TsrunError(`invalid container id format: ${id}`);
}

export function containerDir(root: string, id: string): string {
  return join(root, id);
}

export const STATE_FILE = 'state.json';
export const FIFO_FILE = 'exec.fifo';
export const CONFIG_FILE = 'config.json';
