import type * as ChildProcess from 'node:child_process';

/**
 * node:child_process, loaded on first use: with the net and stream modules it pulls in, it
 * costs several ms of start-up that most calls (a create without hooks) never need.
 */
export function childProcess(): typeof ChildProcess {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('node:child_process') as typeof ChildProcess;
}
