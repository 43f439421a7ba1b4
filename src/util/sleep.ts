const cell = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread: the CLI is sequential and short-lived, so there is nothing else to run. */
export function sleepMs(ms: number): void {
  Atomics.wait(cell, 0, 0, ms);
}
