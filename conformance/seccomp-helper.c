/* seccomp-helper.c - two small tools for test/seccomp.ts (config-linux.md#seccomp), built static
 * by conformance/build-probe.sh into build/seccomp-helper so it runs in any rootfs:
 *
 *   seccomp-helper syscall NR...        calls syscall(NR, 0, 0, 0, 0, 0, 0) for each NR and prints
 *                                       "NR=ERRNO" (0 on success) on one line
 *   seccomp-helper agent SOCKET OUT ERR a seccomp agent: listens on SOCKET, writes the container
 *                                       process state of the first connection to OUT, of the
 *                                       Nth to OUT.N, and answers every notification of their
 *                                       fds with -ERR (appending "nr N" lines to OUT.log) until
 *                                       no task is left under any filter it was given */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "seccomp-helper: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int do_syscalls(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		long nr = strtol(argv[i], NULL, 0);
		errno = 0;
		long r = syscall(nr, 0, 0, 0, 0, 0, 0);
		printf("%s%ld=%d", i ? " " : "", nr, r < 0 ? errno : 0);
	}
	printf("\n");
	return 0;
}

/* the JSON's braces balance: runc 1.1.5 sends it all but leaves the
 * connection open (the spec wants it closed), so EOF cannot tell */
static bool whole(const char *s, ssize_t n)
{
	int depth = 0;
	bool str = false, esc = false, seen = false;
	for (ssize_t i = 0; i < n; i++) {
		if (str) {
			if (esc)
				esc = false;
			else if (s[i] == '\\')
				esc = true;
			else if (s[i] == '"')
				str = false;
		} else if (s[i] == '"') {
			str = true;
		} else if (s[i] == '{') {
			depth++;
			seen = true;
		} else if (s[i] == '}') {
			depth--;
		}
	}
	return seen && depth == 0;
}

/* one connection: the JSON payload and one fd in SCM_RIGHTS */
static int receive(int conn, const char *out)
{
	char buf[65536];
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			     .msg_controllen = sizeof(u.b) };
	ssize_t n = recvmsg(conn, &mh, 0);
	if (n < 0)
		die("recvmsg");
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_type != SCM_RIGHTS) {
		errno = EPROTO;
		die("no SCM_RIGHTS");
	}
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	/* the rest of the JSON, if it came in more than one piece */
	for (ssize_t m; !whole(buf, n) && (size_t)n < sizeof(buf) - 1 && (m = read(conn, buf + n, sizeof(buf) - 1 - (size_t)n)) > 0;)
		n += m;
	FILE *f = fopen(out, "w");
	if (!f || fwrite(buf, 1, (size_t)n, f) != (size_t)n || fclose(f))
		die(out);
	return fd;
}

/* answers one notification; false once no task is left under the filter */
static bool answer(int fd, const char *log, int err)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	memset(&req, 0, sizeof(req));
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
		return errno == EINTR;
	memset(&resp, 0, sizeof(resp));
	resp.id = req.id;
	resp.error = -err;
	FILE *f = fopen(log, "a");
	if (f) {
		fprintf(f, "nr %d\n", req.data.nr);
		fclose(f);
	}
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
		die("SECCOMP_IOCTL_NOTIF_SEND");
	return true;
}

#define MAX_FILTERS 16

static int agent(const char *path, const char *out, int err)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 4) < 0)
		die(path);
	char log[4096];
	snprintf(log, sizeof(log), "%s.log", out);
	/* pf[0]: the socket; then one notify fd per connection (-1 once done) */
	struct pollfd pf[1 + MAX_FILTERS] = { { .fd = s, .events = POLLIN } };
	int given = 0, live = 0;
	for (;;) {
		if (poll(pf, (nfds_t)(1 + given), -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if ((pf[0].revents & POLLIN) && given < MAX_FILTERS) {
			int conn = accept(s, NULL, NULL);
			if (conn < 0)
				die("accept");
			char name[4096];
			if (given)
				snprintf(name, sizeof(name), "%s.%d", out, given + 1);
			else
				snprintf(name, sizeof(name), "%s", out);
			pf[1 + given] = (struct pollfd){ .fd = receive(conn, name), .events = POLLIN };
			close(conn);
			given++;
			live++;
		}
		for (int i = 1; i <= given; i++) {
			if (pf[i].fd < 0 || !pf[i].revents)
				continue;
			bool open = (pf[i].revents & POLLIN) ? answer(pf[i].fd, log, err) : false;
			if (!open) {
				close(pf[i].fd);
				pf[i].fd = -1;
				live--;
			}
		}
		if (given && !live)
			return 0;
	}
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "syscall"))
		return do_syscalls(argc - 2, argv + 2);
	if (argc == 5 && !strcmp(argv[1], "agent"))
		return agent(argv[2], argv[3], atoi(argv[4]));
	fprintf(stderr, "usage: seccomp-helper syscall NR... | agent SOCKET OUT ERRNO\n");
	return 2;
}
