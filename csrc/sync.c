/* sync.c - sync fd lines, the release byte and the exec fifo. */
#define _GNU_SOURCE
#include <sys/stat.h>
#include "sync.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error.h"

void sync_send(int fd, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(line) - 1)
		failx("sync", "line too long");
	line[n++] = '\n';
	ssize_t w;
	do
		w = send(fd, line, (size_t)n, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w < 0 && errno == ENOTSOCK)
		w = write(fd, line, (size_t)n);
	if (w != n)
		fail("sync", "send \"%.*s\"", n - 1, line);
}

void sync_wait_continue(int fd)
{
	static const char want[] = "continue\n";
	char line[sizeof(want)];
	size_t off = 0;
	while (off < sizeof(want) - 1) {
		ssize_t r = read(fd, line + off, sizeof(want) - 1 - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			_exit(1);
		off += (size_t)r;
	}
	if (memcmp(line, want, sizeof(want) - 1))
		_exit(1);
}

void release_init(int fds[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
		fail("sync", "socketpair for the child release");
}

/* 'r' and the child's pid as the runtime sees it (the child, in a new pid
 * namespace, cannot know it; hooks and the seccomp agent are told it) */
struct release_msg { char r; int32_t pid; } __attribute__((packed));

void release_child(int fd, pid_t pid)
{
	struct release_msg m = { 'r', (int32_t)pid };
	ssize_t w;
	do
		w = send(fd, &m, sizeof(m), MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w != (ssize_t)sizeof(m))
		fail("sync", "release the child");
}

pid_t release_wait(int fd)
{
	struct release_msg m;
	size_t off = 0;
	while (off < sizeof(m)) {
		ssize_t r = read(fd, (char *)&m + off, sizeof(m) - off);
		if (r < 0 && errno == EINTR)
			continue;
		/* the parent died or failed (it reports the error itself) */
		if (r <= 0)
			_exit(1);
		off += (size_t)r;
	}
	if (m.r != 'r')
		_exit(1);
	return (pid_t)m.pid;
}

void execfifo_create(const char *host_path, uid_t uid, gid_t gid)
{
	/* 0622 whatever the umask, owned by the container's root so that
	 * a container in a user namespace can open it for writing. */
	if (mkfifo(host_path, 0622) < 0)
		fail("execfifo", "mkfifo %s", host_path);
	if (chmod(host_path, 0622) < 0)
		fail("execfifo", "chmod %s", host_path);
	if ((uid != 0 || gid != 0) && chown(host_path, uid, gid) < 0)
		fail("execfifo", "chown %s to %u:%u", host_path, uid, gid);
}

int execfifo_open_path(const char *host_path)
{
	int fd = open(host_path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		fail("execfifo", "open %s", host_path);
	return fd;
}

int execfifo_wait(int pathfd, const char *host_path)
{
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pathfd);
	int fd;
	do
		fd = open(proc, O_WRONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		fail("execfifo", "open %s for writing", host_path);
	close(pathfd);
	return fd;
}

void execfifo_release(int fd, const char *host_path)
{
	ssize_t w;
	do
		w = write(fd, "0", 1);
	while (w < 0 && errno == EINTR);
	if (w != 1)
		fail("execfifo", "write %s", host_path);
	close(fd);
}
