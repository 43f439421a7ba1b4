// The test-only pause steps (TSRUN_TEST_PAUSE_AT: src/util/test-pause.ts, csrc/testpause.h):
// tsrun run in the background and held at a named step, so that a test can act exactly there
// (swap a path for a symlink, SIGKILL tsrun) and then let it go on.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TOP, type Harness } from './runtime.js';

export interface Paused {
  /** The tsrun process. */
  tsrun: ChildProcess;
  /** The process held at the step: tsrun itself (its steps) or a tsrun-init (the C core's). */
  pid: number;
  /** True when `pid` is a tsrun-init process (resumed by SIGUSR1; tsrun by SIGCONT). */
  init: boolean;
  /** Lets the held process go on. */
  resume(): void;
  /** tsrun's exit status (or 128+signal) and its stderr. */
  exited: Promise<{ status: number; stderr: string }>;
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function statField(pid: number, i: number): string | undefined {
  const s = readOr(`/proc/${pid}/stat`);
  return s ? s.slice(s.lastIndexOf(')') + 2).split(' ')[i] : undefined;
}

/** A process named tsrun-paused that descends from `ancestor` or (orphaned once tsrun-init's
 * parent has exited) is in a cgroup named `id`. */
function pausedInit(ancestor: number, id: string): number {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || readOr(`/proc/${name}/comm`) !== 'tsrun-paused\n') continue;
    if (readOr(`/proc/${name}/cgroup`).split('\n').some((l) => l.endsWith(`/${id}`))) return Number(name);
    for (let p = Number(name), n = 0; p > 1 && n < 16; p = Number(statField(p, 1) ?? 0), n++) {
      if (p === ancestor) return Number(name);
    }
  }
  return 0;
}

/** Runs `tsrun --root <root> ...args` on container `id` with TSRUN_TEST_PAUSE_AT=step; resolves once it is held there. */
export async function pauseAt(h: Harness, id: string, args: string[], step: string): Promise<Paused> {
  const err = h.path(`pause-${process.hrtime.bigint()}.err`);
  const errFd = openSync(err, 'w+');
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, TSRUN_TEST_PAUSE_AT: step };
  if (process.env.TSRUN_INIT) env.TSRUN_INIT = process.env.TSRUN_INIT;
  const tsrun = spawn(process.execPath, [join(TOP, 'dist', 'tsrun.js'), '--root', h.root, ...args], { stdio: ['ignore', 'ignore', errFd], env, cwd: h.tmp });
  closeSync(errFd);
  let done = false;
  const exited = new Promise<{ status: number; stderr: string }>((res) =>
    tsrun.on('exit', (code, sig) => {
      done = true;
      res({ status: code ?? 128 + (sig === 'SIGKILL' ? 9 : 15), stderr: readOr(err) });
    }),
  );
  for (let i = 0; i < 1500; i++) {
    if (done) throw new Error(`tsrun ${args.join(' ')} ended before step ${step}: ${(await exited).stderr.trim()}`);
    if (statField(tsrun.pid!, 0) === 'T') {
      return { tsrun, pid: tsrun.pid!, init: false, resume: () => void tsrun.kill('SIGCONT'), exited };
    }
    const pid = pausedInit(tsrun.pid!, id);
    if (pid) return { tsrun, pid, init: true, resume: () => process.kill(pid, 'SIGUSR1'), exited };
    await delay(20);
  }
  tsrun.kill('SIGKILL');
  throw new Error(`tsrun ${args.join(' ')} never reached step ${step}`);
}
