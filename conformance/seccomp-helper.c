/* seccomp-helper.c - two small tools for test/seccomp.ts (config-linux.md#seccomp), built static
 * by conformance/build-probe.sh into build/seccomp-helper so it runs in any rootfs:
 *
 *   seccomp-helper syscall NR...        calls syscall(NR, 0, 0, 0, 0, 0, 0) for each NR and prints
 *                                       "NR=ERRNO" (0 on success) on one line
 *   seccomp-helper agent SOCKET OUT ERR a seccomp agent: listens on SOCKET, takes one connection,
 *                                       writes the container process state it receives to OUT,
 *                                       then answers every notification with -ERR (appending
 *                                       "nr N" lines to OUT.log) until the filter's tasks exit */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
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
	for (ssize_t m; (size_t)n < sizeof(buf) - 1 && (m = read(conn, buf + n, sizeof(buf) - 1 - (size_t)n)) > 0;)
		n += m;
	FILE *f = fopen(out, "w");
	if (!f || fwrite(buf, 1, (size_t)n, f) != (size_t)n || fclose(f))
		die(out);
	return fd;
}

static int agent(const char *path, const char *out, int err)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 1) < 0)
		die(path);
	int conn = accept(s, NULL, NULL);
	if (conn < 0)
		die("accept");
	int fd = receive(conn, out);
	close(conn);
	char log[4096];
	snprintf(log, sizeof(log), "%s.log", out);
	for (;;) {
		struct seccomp_notif req;
		struct seccomp_notif_resp resp;
		memset(&req, 0, sizeof(req));
		if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
			if (errno == EINTR)
				continue;
			return 0; /* ENOENT: no task left under the filter */
		}
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
