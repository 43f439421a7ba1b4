/* testpause.c - see testpause.h. A signal, not SIGSTOP, resumes the process:
 * the container's pid 1 ignores SIGSTOP sent by itself. */
#define _GNU_SOURCE
#include "testpause.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "error.h"

static const char *wanted;
static volatile sig_atomic_t resumed;

void test_pause_init(void)
{
	wanted = getenv("TSRUN_TEST_PAUSE_AT");
	if (wanted && !*wanted)
		wanted = NULL;
}

static void on_resume(int sig)
{
	(void)sig;
	resumed = 1;
}

void test_pause(const char *fmt, ...)
{
	if (!wanted)
		return;
	char step[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(step, sizeof(step), fmt, ap);
	va_end(ap);
	if (strcmp(step, wanted))
		return;
	sigset_t usr1, old;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	struct sigaction sa = { .sa_handler = on_resume }, prev;
	sigemptyset(&sa.sa_mask);
	if (sigprocmask(SIG_BLOCK, &usr1, &old) < 0 ||
	    sigaction(SIGUSR1, &sa, &prev) < 0)
		fail("test_pause", "wait for SIGUSR1 at %s", step);
	char comm[16] = "";
	if (prctl(PR_GET_NAME, comm, 0, 0, 0) < 0 ||
	    prctl(PR_SET_NAME, "tsrun-paused", 0, 0, 0) < 0)
		fail("test_pause", "rename the process at %s", step);
	sigset_t wait = old;
	sigdelset(&wait, SIGUSR1);
	resumed = 0;
	while (!resumed)
		sigsuspend(&wait);
	if (prctl(PR_SET_NAME, comm, 0, 0, 0) < 0 ||
	    sigaction(SIGUSR1, &prev, NULL) < 0 ||
	    sigprocmask(SIG_SETMASK, &old, NULL) < 0)
		fail("test_pause", "resume at %s", step);
}
