/* testpause.h - a test-only stop at a named step of the C core.
 *
 * When TSRUN_TEST_PAUSE_AT names a step, the process reaching it renames
 * itself "tsrun-paused" (its comm) and waits for SIGUSR1, so a test can act
 * at that exact point (swap a path, kill the runtime) and then let it go on.
 * Without the variable each call is one pointer test. */
#ifndef TSRUN_TESTPAUSE_H
#define TSRUN_TESTPAUSE_H

/* read TSRUN_TEST_PAUSE_AT once, at start-up, before the environment goes */
void test_pause_init(void);
/* stop here if the step (printf-formatted) is the one named */
void test_pause(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
