/* timecall.c - runs one command as a lean caller does (posix_spawn, then wait4) and writes
 * the milliseconds from the spawn to the reaped exit to fd 3; exits with the command's status
 * (128 + N for a signal N). bench/bench.mjs times every runtime call through it: Node's own
 * spawnSync adds about 3 to 4 ms per call on these machines, the same for every runtime, which
 * hides what each runtime costs (conmon and containerd's shim spawn the runtime with a vfork,
 * as posix_spawn does). fd 3 is not passed on.
 * usage: timecall COMMAND [ARG...]   (fd 3 open for writing) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0) {
		fprintf(stderr, "timecall: clock_gettime: %s\n", strerror(errno));
		_exit(125);
	}
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: timecall COMMAND [ARG...]   (fd 3: where the time goes)\n");
		return 125;
	}
	if (fcntl(3, F_SETFD, FD_CLOEXEC) < 0) {
		fprintf(stderr, "timecall: fd 3: %s\n", strerror(errno));
		return 125;
	}
	double t0 = now_ms();
	pid_t pid;
	int err = posix_spawn(&pid, argv[1], NULL, NULL, argv + 1, environ);
	if (err) {
		fprintf(stderr, "timecall: spawn %s: %s\n", argv[1], strerror(err));
		return 125;
	}
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "timecall: waitpid %d: %s\n", pid, strerror(errno));
			return 125;
		}
	}
	double ms = now_ms() - t0;
	if (dprintf(3, "%.3f\n", ms) < 0) {
		fprintf(stderr, "timecall: write fd 3: %s\n", strerror(errno));
		return 125;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
