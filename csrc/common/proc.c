/* proc.c - see proc.h. */
#define _GNU_SOURCE
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int spawn_fds(const char *path, char *const argv[], char *const envp[], const int *fds, int n,
	      pid_t *pid, int *bad_fd)
{
	*bad_fd = -1;
	/* Sources are first copied above every target, so that placing one can't clobber another. */
	int *high = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
	if (!high)
		return ENOMEM;
	int err = 0;
	for (int i = 0; i < n; i++) {
		high[i] = -1;
		if (fds[i] == i || err)
			continue;
		high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, n);
		if (high[i] < 0) {
			err = errno;
			*bad_fd = fds[i];
		}
	}
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	if (!err && (err = posix_spawn_file_actions_init(&fa)) == 0) {
		if ((err = posix_spawnattr_init(&attr)) == 0) {
			/* dup2 onto itself clears close-on-exec (glibc >= 2.29) */
			for (int i = 0; i < n && !err; i++)
				err = posix_spawn_file_actions_adddup2(&fa, high[i] >= 0 ? high[i] : i, i);
			sigset_t all, none;
			sigfillset(&all);
			sigemptyset(&none);
			if (!err)
				err = posix_spawnattr_setsigdefault(&attr, &all);
			if (!err)
				err = posix_spawnattr_setsigmask(&attr, &none);
			if (!err)
				err = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
			if (!err)
				err = posix_spawn(pid, path, &fa, &attr, argv, envp);
			posix_spawnattr_destroy(&attr);
		}
		posix_spawn_file_actions_destroy(&fa);
	}
	for (int i = 0; i < n; i++)
		if (high[i] >= 0)
			close(high[i]);
	free(high);
	return err;
}

pid_t wait_retrying(pid_t pid, int *status)
{
	pid_t r;
	do
		r = waitpid(pid, status, 0);
	while (r < 0 && errno == EINTR);
	return r;
}

int status_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int wait_exit(pid_t pid, int timeout_ms, int *code)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd >= 0) {
		struct pollfd p = { pidfd, POLLIN, 0 };
		int r;
		do
			r = poll(&p, 1, timeout_ms);
		while (r < 0 && errno == EINTR);
		int err = errno;
		close(pidfd);
		if (r < 0) {
			errno = err;
			return -1;
		}
		if (r == 0)
			return 1;
	}
	int status = 0;
	if (wait_retrying(pid, &status) < 0)
		return -1;
	*code = status_code(status);
	return 0;
}

static volatile sig_atomic_t forward_target;

static void forward_signal(int sig)
{
	if (forward_target > 0)
		kill(forward_target, sig);
}

int forward_signals(pid_t target, const int *sigs, int n, struct sigaction *old)
{
	struct sigaction sa = { 0 }, prev;
	sa.sa_handler = forward_signal;
	sigemptyset(&sa.sa_mask);
	forward_target = target;
	for (int k = 0; k < n; k++)
		if (sigaction(sigs[k], &sa, old ? &old[k] : &prev) < 0) {
			int err = errno;
			for (int j = 0; old && j < k; j++)
				sigaction(sigs[j], &old[j], NULL);
			errno = err;
			return -1;
		}
	return 0;
}

int wait_forwarding(pid_t pid, pid_t target, const int *sigs, int n, int *code, const char **what)
{
	struct sigaction old[64];
	*what = "sigaction";
	if (n > 64) {
		errno = EINVAL;
		return -1;
	}
	if (forward_signals(target, sigs, n, old) < 0)
		return -1;
	/* Node's main thread may have these blocked for its own signal thread: let them in here. */
	sigset_t set, oldmask;
	sigemptyset(&set);
	for (int k = 0; k < n; k++)
		sigaddset(&set, sigs[k]);
	pthread_sigmask(SIG_UNBLOCK, &set, &oldmask);
	int status = 0;
	pid_t r = wait_retrying(pid, &status);
	int err = errno;
	pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
	forward_target = 0;
	for (int k = 0; k < n; k++)
		sigaction(sigs[k], &old[k], NULL);
	if (r < 0) {
		*what = "waitpid";
		errno = err;
		return -1;
	}
	*code = status_code(status);
	return 0;
}

unsigned long long fnv1a64(const unsigned char *p, size_t n)
{
	unsigned long long h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}
