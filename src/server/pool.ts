// The server's worker threads (src/server/server.ts). A call goes to an idle worker at once;
// with none idle it waits for the first worker that is done or has started. While calls wait,
// one worker at a time is started: at once, then again every WAIT_MS once the last one is up
// and calls still wait (their workers may all be held by slow hooks). Starting a worker is a new
// isolate and the bundle's compile, tens of ms of CPU: a burst of 20 creates that started a
// worker per call spent most of its time on that.
import type { Worker } from 'node:worker_threads';
import type { WorkerMessage } from './worker.js';

/** Idle workers kept: more are started while calls wait, and the extra ones end after. */
const IDLE_WORKERS = 2;
/** Calls one worker runs before it is replaced: bounds what a leak could hold. */
const CALLS_PER_WORKER = 1000;
/** While calls wait and no worker is starting, one more is started this often. */
const WAIT_MS = 25;

type Take = (w: Worker) => void;

export class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly waiting: { take: Take; fail: () => void }[] = [];
  private readonly calls = new WeakMap<Worker, number>();
  private starting = 0;
  private alive = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly spawn: () => Worker) {}

  /** A worker for one call: take(w) now or once one is free; fail() if none could start. */
  acquire(take: Take, fail: () => void): void {
    // the worker that served last: its code is the one compiled and its caches are warm
    const w = this.idle.pop();
    if (w) {
      take(w);
      // the next call of a burst finds a worker started already
      if (this.idle.length === 0 && this.starting === 0) this.start();
      return;
    }
    this.waiting.push({ take, fail });
    if (this.starting === 0) this.start();
    this.timer ??= setInterval(() => {
      if (this.waiting.length === 0) this.stopTimer();
      else if (this.starting === 0) this.start();
    }, WAIT_MS).unref();
  }

  /** A worker whose call is over; reuse is false when it ended or must end. */
  release(w: Worker, reuse: boolean): void {
    if (!reuse) return;
    const n = (this.calls.get(w) ?? 0) + 1;
    this.calls.set(w, n);
    if (n >= CALLS_PER_WORKER) void w.terminate();
    else this.free(w);
  }

  /** Starts the first worker, before any call. */
  prime(): void {
    this.start();
  }

  private free(w: Worker): void {
    const next = this.waiting.shift();
    if (next) return next.take(w);
    this.stopTimer();
    if (this.idle.length < IDLE_WORKERS) this.idle.push(w);
    else void w.terminate();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private start(): void {
    this.starting++;
    this.alive++;
    const w = this.spawn();
    let ready = false;
    const onReady = (m: WorkerMessage): void => {
      if (m.type !== 'ready') return;
      ready = true;
      this.starting--;
      w.off('message', onReady);
      this.free(w);
    };
    w.on('message', onReady);
    w.once('exit', () => {
      this.alive--;
      const i = this.idle.indexOf(w);
      if (i >= 0) this.idle.splice(i, 1);
      if (!ready) this.starting--;
      // Workers that die before they serve (no memory, a broken build): waiting calls would
      // wait for ever once no worker is left to take them; closed unanswered, they run cold.
      if (this.alive === 0) {
        this.stopTimer();
        for (const c of this.waiting.splice(0)) c.fail();
      }
    });
  }
}
