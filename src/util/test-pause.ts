/**
 * Test-only: with TSRUN_TEST_PAUSE_AT=<step>, tsrun stops itself (SIGSTOP) on reaching that
 * step, so a fault test can SIGKILL it exactly there. The same variable reaches tsrun-init,
 * which waits at its own steps (csrc/testpause.h). Unset, a call is one property read.
 */
export function testPause(step: string): void {
  if (process.env.TSRUN_TEST_PAUSE_AT === step) process.kill(process.pid, 'SIGSTOP');
}

/** The environment tsrun-init gets: empty, but for the test-only pause step. */
export function initEnv(): NodeJS.ProcessEnv {
  const step = process.env.TSRUN_TEST_PAUSE_AT;
  return step ? { TSRUN_TEST_PAUSE_AT: step } : {};
}
