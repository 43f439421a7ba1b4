import { appendFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { writeErr } from '../util/stdio.js';

export type LogFormat = 'text' | 'json';
type Level = 'debug' | 'info' | 'warning' | 'error';

interface LogTarget {
  file?: string;
  format: LogFormat;
  debug: boolean;
}

const target: LogTarget = { format: 'text', debug: false };

export function configureLog(file: string | undefined, format: LogFormat, debug: boolean): void {
  // resolved now: in the server the process's own cwd is not the caller's (src/server/worker.ts)
  target.file = file ? resolve(file) : file;
  target.format = format;
  target.debug = debug;
}

export function debugEnabled(): boolean {
  return target.debug;
}

/** RFC 3339 in UTC without fractions, as runc's logrus output. */
function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

function line(level: Level, msg: string): string {
  if (target.format === 'json') return JSON.stringify({ level, msg, time: now() }) + '\n';
  return `time="${now()}" level=${level} msg=${JSON.stringify(msg)}\n`;
}

/**
 * Writes one log line. With --log the line goes to that file (conmon and containerd read the
 * last error line from it) and errors also reach stderr as plain text; without --log the line
 * goes to stderr, as runc does.
 */
export function log(level: Level, msg: string): void {
  if (level === 'debug' && !target.debug) return;
  if (target.file) {
    try {
      appendFileSync(target.file, line(level, msg));
    } catch {
      writeErr(line(level, msg));
    }
    if (level === 'error') writeErr(msg + '\n');
  } else {
    writeErr(line(level, msg));
  }
}
