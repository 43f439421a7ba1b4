/* recvtty - the receiving end of --console-socket, as conmon and containerd's shim are.
 *
 *   recvtty SOCKET [INPUT]
 *
 * Listens on the AF_UNIX stream socket SOCKET, takes one connection, receives the pty master
 * sent with SCM_RIGHTS, writes INPUT (if any) to it, then copies everything the container
 * writes to the terminal to stdout until the slave side is closed. Exits 0 on success. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "recvtty: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int recv_fd(int conn)
{
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = c.buf, .msg_controllen = sizeof(c.buf) };
	if (recvmsg(conn, &msg, 0) < 0)
		die("recvmsg");
	struct cmsghdr *h = CMSG_FIRSTHDR(&msg);
	if (!h || h->cmsg_type != SCM_RIGHTS || h->cmsg_len != CMSG_LEN(sizeof(int))) {
		errno = EBADMSG;
		die("no fd in the message");
	}
	int fd;
	memcpy(&fd, CMSG_DATA(h), sizeof(fd));
	return fd;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: recvtty SOCKET [INPUT]\n");
		return 2;
	}
	/* Bound under a temporary name and renamed once listening: a caller that waits for SOCKET
	 * to exist could otherwise connect between bind and listen and be refused. */
	char tmp[sizeof(((struct sockaddr_un *)0)->sun_path)];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		die(argv[1]);
	}
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	strcpy(addr.sun_path, tmp);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		die("socket");
	unlink(tmp);
	unlink(argv[1]);
	if (bind(s, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die("bind");
	if (listen(s, 1) < 0)
		die("listen");
	if (rename(tmp, argv[1]) < 0)
		die("rename");
	/* tell the caller it may start the runtime now */
	if (write(STDOUT_FILENO, "", 0) < 0)
		die("stdout");
	int conn = accept4(s, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		die("accept");
	int master = recv_fd(conn);
	close(conn);
	close(s);
	unlink(argv[1]);
	if (argc == 3) {
		size_t n = strlen(argv[2]);
		if (write(master, argv[2], n) != (ssize_t)n)
			die("write to the pty master");
	}
	char buf[4096];
	for (;;) {
		ssize_t r = read(master, buf, sizeof(buf));
		if (r == 0 || (r < 0 && errno == EIO))
			break; /* the last slave fd closed: the container is done */
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("read from the pty master");
		}
		if (write(STDOUT_FILENO, buf, (size_t)r) != r)
			die("stdout");
	}
	return 0;
}
