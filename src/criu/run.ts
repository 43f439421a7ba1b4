import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { log } from '../cli/log.js';
import { TsrunError } from '../errors.js';
import { childProcess } from '../util/child-process.js';
import type { Criu } from './binary.js';

/**
 * Runs criu to its end. stdio: criu's fds 0-2 (restore hands it the caller's, which the
 * restored process gets back in place of its pipes); extra: fds 3... (namespaces to inherit).
 * A failure quotes CRIU's own error lines from its log (in the work dir, else the image dir).
 */
export function runCriu(c: Criu, args: string[], logDir: string, logFile: string, stdio: 'inherit' | 'ignore', extra: number[] = []): void {
  log('debug', `criu ${args.join(' ')}`);
  const r = childProcess().spawnSync(c.path, args, { stdio: [stdio, stdio, stdio === 'inherit' ? 'inherit' : 'pipe', ...extra] });
  if (r.error) throw new TsrunError(`criu: ${r.error.message}`);
  if (r.status === 0) return;
  const path = join(logDir, logFile);
  let errors = '';
  try {
    errors = readFileSync(path, 'utf8').split('\n').filter((l) => /Error \(|^Error/.test(l)).slice(-5).join('\n');
  } catch {
    errors = r.stderr?.toString().trim() ?? '';
  }
  const how = r.status === null ? `killed by ${r.signal}` : `exit status ${r.status}`;
  throw new TsrunError(`criu failed: ${args[0]} (${how})${errors ? `:\n${errors}` : ''}\nlog file: ${path}`);
}
