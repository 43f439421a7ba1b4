/* hooks.c - createContainer and startContainer hooks (config.md#posix-
 * platform-hooks). They must run in the container's namespaces, which is
 * where this process already is, so it forks and execs them itself rather
 * than making the runtime enter the namespaces. */
#define _GNU_SOURCE
#include "hooks.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "sync.h"
#include "syscalls.h"
#include "util.h"

/* the runtime's state (runtime.md#state) with this status, from the plan's
 * `state` record and p->host_pid; malloc'd */
static char *state_json(const struct plan *p, const char *status)
{
	if (!p->state_head)
		failx("hooks", "the plan has no state record");
	size_t len = strlen(p->state_head) + strlen(status) +
		     strlen(p->state_mid) + 24 + strlen(p->state_tail) + 1;
	char *s = xrealloc(NULL, len);
	snprintf(s, len, "%s%s%s%d%s", p->state_head, status, p->state_mid,
		 (int)p->host_pid, p->state_tail);
	return s;
}

/* stdin of the hook: a memfd holding the state. A file, unlike a pipe,
 * never blocks us and never raises SIGPIPE when a hook ignores stdin. */
static int state_fd(const char *phase, const char *state)
{
	int fd = memfd_create("tsrun-hook-state", MFD_CLOEXEC);
	if (fd < 0)
		fail(phase, "memfd_create for the hook's state");
	size_t len = strlen(state), off = 0;
	while (off < len) {
		ssize_t w = write(fd, state + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			fail(phase, "write the state for the hook");
		off += (size_t)w;
	}
	if (lseek(fd, 0, SEEK_SET) < 0)
		fail(phase, "rewind the hook's state");
	return fd;
}

/* env: the hook's own, or with hook_process_env the process's as it is now
 * (createContainer: before the `home` record's HOME is added; startContainer:
 * after), as runc's init runs them with its environment */
static _Noreturn void exec_hook(const struct plan_hook *h, int in, const char *cwd,
				char **env)
{
	char *argv0[] = { (char *)h->path, NULL };
	if (cwd && chdir(cwd) < 0)
		fail(h->phase, "hook %s: chdir %s", h->path, cwd);
	if (dup2(in, 0) < 0)
		fail(h->phase, "hook %s: dup2 its stdin", h->path);
	/* stdio only: no fd of ours (sync, fifo, preserved fds) reaches it */
	if (sys_close_range(3, ~0U, 0) < 0)
		fail(h->phase, "hook %s: close_range", h->path);
	signal(SIGPIPE, SIG_DFL);
	execve(h->path, h->argv[0] ? h->argv : argv0, env);
	fail(h->phase, "hook %s: execve", h->path);
}

/* wait for the hook, killing it after its timeout; returns its status */
static int wait_hook(const struct plan_hook *h, pid_t pid)
{
	int status;
	if (h->timeout) {
		int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (pfd < 0)
			fail(h->phase, "pidfd_open for hook %s", h->path);
		struct pollfd pf = { .fd = pfd, .events = POLLIN };
		long ms = h->timeout > 86400 ? 86400000L : (long)h->timeout * 1000;
		int r;
		do
			r = poll(&pf, 1, (int)ms);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			fail(h->phase, "poll hook %s", h->path);
		close(pfd);
		if (r == 0) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			failx(h->phase, "hook %s timed out after %llu s", h->path,
			      (unsigned long long)h->timeout);
		}
	}
	pid_t w;
	do
		w = waitpid(pid, &status, 0);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		fail(h->phase, "wait for hook %s", h->path);
	return status;
}

void hooks_run(const struct plan *p, const char *phase, const char *status)
{
	char *state = NULL;
	for (size_t i = 0; i < p->n_hooks; i++) {
		const struct plan_hook *h = &p->hooks[i];
		if (strcmp(h->phase, phase))
			continue;
		if (!state)
			state = state_json(p, status);
		int in = state_fd(phase, state);
		pid_t pid = fork();
		if (pid < 0)
			fail(phase, "fork hook %s", h->path);
		if (pid == 0)
			exec_hook(h, in, strcmp(phase, "createContainer") ? NULL : p->create_hooks_cwd,
				  h->process_env && p->env ? p->env : h->env);
		close(in);
		int st = wait_hook(h, pid);
		if (WIFSIGNALED(st))
			failx(phase, "hook %s killed by signal %d", h->path,
			      WTERMSIG(st));
		if (WEXITSTATUS(st))
			failx(phase, "hook %s exited with status %d", h->path,
			      WEXITSTATUS(st));
	}
	free(state);
}

void hooks_sync(int sync_fd)
{
	sync_send(sync_fd, "hooks");
	sync_wait_continue(sync_fd);
}
