/* start.c - `start` (runtime.md#start) for containers without startContainer
 * or poststart hooks: open the exec fifo for reading, which releases the
 * container's process blocked opening it for writing, and take the byte it
 * writes just before execve. Same steps and texts as startContainer() in
 * src/container/lifecycle.ts. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "commands.h"
#include "log.h"
#include "state.h"

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Test-only (src/util/test-pause.ts): with TSRUN_TEST_PAUSE_AT=<step>, stop here. */
static void test_pause(const char *step)
{
	const char *want = getenv("TSRUN_TEST_PAUSE_AT");
	if (want && strcmp(want, step) == 0)
		raise(SIGSTOP);
}

/* Reads the start byte; the process may die first, so nothing blocks. */
static int take_start_byte(const char *id, const char *fifo, const struct saved_state *s)
{
	int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return log_error("open %s: %s", fifo, strerror(errno));
	long deadline = now_ms() + 2000;
	int rc = 0;
	for (int polls = 0;; polls++) {
		char b;
		ssize_t n = read(fd, &b, 1);
		if (n == 1)
			break;
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			rc = log_error("read %s: %s", fifo, strerror(errno));
			break;
		}
		if (polls == 0)
			test_pause("front:start:polled");
		/* a short-lived process can take the fifo, write its byte, execve and exit
		 * between the read above and this look at pid 1: its byte then waits in the
		 * fifo, and it did start */
		if (!state_alive(s)) {
			if (read(fd, &b, 1) != 1)
				rc = log_error("cannot start a container that has stopped");
			break;
		}
		if (now_ms() > deadline) {
			rc = log_error("start %s: the container did not take the start signal", id);
			break;
		}
		/* 0: the writer has not opened yet; EAGAIN: it has, the byte is on its way */
		if (n == 0)
			sleep_ms(1);
		else
			usleep(200);
	}
	close(fd);
	if (rc == 0 && unlink(fifo) < 0 && errno != ENOENT)
		rc = log_error("remove %s: %s", fifo, strerror(errno));
	return rc;
}

int cmd_start(const char *root, const char *id)
{
	char dir[4096], fifo[4096];
	struct saved_state s;
	if (!container_dir(dir, root, id) || snprintf(fifo, sizeof(fifo), "%s/exec.fifo", dir) >= (int)sizeof(fifo))
		return DELEGATE;
	int lock, rc = 0;
	/* first read, unlocked: is this a case served here at all? */
	if (!load_unlocked(dir, id, &s, &rc))
		return rc;
	bool hooks = s.hook_start || s.hook_poststart;
	state_free(&s);
	if (hooks)
		return DELEGATE;
	if (!lock_and_load(dir, id, &s, &lock, false, &rc))
		return rc;
	enum status st = state_status(dir, &s);
	if (st == ST_STOPPED)
		rc = log_error("cannot start a container that has stopped");
	else if (st == ST_RUNNING)
		rc = log_error("cannot start an already running container");
	else if (st != ST_CREATED)
		rc = log_error("cannot start a container in the %s state", status_name(st));
	else if (!s.has_process) {
		/* such a container can never run anything: its init stops, so delete needs no --force */
		kill(s.pid, SIGKILL);
		rc = log_error("process: config.json has no process, so there is nothing to start");
	}
	else
		rc = take_start_byte(id, fifo, &s);
	state_free(&s);
	close(lock);
	return rc;
}
