// start of a process that runs and exits at once (`run` of `true`, a health check): the process
// can take the exec fifo, write its start byte, execve and exit between two looks of `start`
// (a read of the fifo that found nothing, then a look at pid 1). That start succeeded: runc's
// start reads the fifo to its end, so a byte written is a byte taken.
import t from 'tap';
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { alive, readOr } from './helpers/host.js';
import { Harness, TOP } from './helpers/runtime.js';

const h = new Harness(t);
const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (ok()) return;
    await delay(20);
  }
  throw new Error(`never: ${what}`);
}

// start's own stop right after its first read (a TSRUN_TEST_PAUSE_AT call runs cold: the
// same code the server runs).
const SIDES = [['Node', [process.execPath, join(TOP, 'dist', 'tsrun.js')], 'start:polled']] as const;

t.test('the process writes its start byte and exits between start\'s read and its look at pid 1', async (t) => {
  for (const [side, cmd, step] of SIDES) {
    const id = h.id(t);
    // tsrun-init stops at its step `fifo` (the fifo open for writing, the byte not yet written);
    // start stops at its step right after its first read found no byte.
    h.ok(['create', '--bundle', h.bundle({ args: ['true'] }), id], { env: { TSRUN_TEST_PAUSE_AT: 'fifo' } });
    const pid = h.state(id)!.pid;
    const errFile = h.path(`start-${id}.err`);
    const errFd = openSync(errFile, 'w+');
    const start = spawn(cmd[0], [...cmd.slice(1), '--root', h.root, 'start', id], {
      stdio: ['ignore', 'ignore', errFd],
      env: { PATH: process.env.PATH, TSRUN_TEST_PAUSE_AT: step },
    });
    closeSync(errFd);
    const exited = new Promise<number | null>((res) => start.on('exit', (code) => res(code)));
    t.teardown(() => void start.kill('SIGKILL'));
    const stateOf = (p: number): string => readOr(`/proc/${p}/stat`).replace(/^.*\) /s, '').charAt(0);
    await until(`${side}: start stops at ${step}`, () => stateOf(start.pid!) === 'T');
    await until(`${side}: tsrun-init waits at fifo`, () => readOr(`/proc/${pid}/comm`) === 'tsrun-paused\n');
    // The process goes on: writes its byte, execs `true`, exits; only then does start look again.
    process.kill(pid, 'SIGUSR1');
    await until(`${side}: the container process exits`, () => !alive(pid));
    start.kill('SIGCONT');
    t.equal(await exited, 0, `${side}: start succeeds: ${readOr(errFile).trim()}`);
    t.equal(h.state(id)?.status, 'stopped', `${side}: the container ran and stopped`);
    h.ok(['delete', id]);
  }
});
