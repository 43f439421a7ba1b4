/* error.c - format and report the first failure, then exit 1. */
#define _GNU_SOURCE
#include "error.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int sync_fd = -1;
static pid_t child_pid;

void err_set_sync_fd(int fd) { sync_fd = fd; }
int err_sync_fd(void) { return sync_fd; }
void err_set_child(pid_t pid) { child_pid = pid; }

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		/* MSG_NOSIGNAL: a runtime that went away must not SIGPIPE us
		 * (ignoring SIGPIPE instead would leak into the container) */
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == ENOTSOCK)
			n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static _Noreturn void report(int errnum, const char *step, const char *fmt,
			     va_list ap)
{
	char msg[4096];
	size_t off = 0;
	const char *prefix = sync_fd >= 0 ? "error " : "tsrun-init: ";

	off += (size_t)snprintf(msg, sizeof(msg), "%s%s: ", prefix, step);
	if (off < sizeof(msg))
		off += (size_t)vsnprintf(msg + off, sizeof(msg) - off, fmt, ap);
	if (errnum && off < sizeof(msg))
		off += (size_t)snprintf(msg + off, sizeof(msg) - off, ": %s",
					strerror(errnum));
	if (off > sizeof(msg) - 2)
		off = sizeof(msg) - 2;
	/* the sync protocol is line based: no newline inside a message */
	for (size_t i = 0; i < off; i++)
		if (msg[i] == '\n' || msg[i] == '\0')
			msg[i] = ' ';
	msg[off++] = '\n';
	write_all(sync_fd >= 0 ? sync_fd : 2, msg, off);
	if (child_pid > 0) {
		kill(child_pid, SIGKILL);
		waitpid(child_pid, NULL, 0);
	}
	_exit(1);
}

void fail(const char *step, const char *fmt, ...)
{
	int errnum = errno;
	va_list ap;
	va_start(ap, fmt);
	report(errnum, step, fmt, ap);
}

void fail_errno(int errnum, const char *step, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(errnum, step, fmt, ap);
}

void failx(const char *step, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(0, step, fmt, ap);
}
