/* wire.c - sending and receiving one client request (wire.h). */
#define _GNU_SOURCE
#include "wire.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int wire_send(int sock, const int *fds, uint32_t nfds, uint32_t argc, const char *payload,
	      uint32_t size, uint32_t init)
{
	if (nfds > WIRE_MAX_FDS || size > WIRE_MAX_PAYLOAD) {
		errno = E2BIG;
		return -1;
	}
	struct wire_header h = { WIRE_MAGIC, nfds, argc, size, init };
	union {
		char buf[CMSG_SPACE(sizeof(int) * WIRE_MAX_FDS)];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct iovec iov = { &h, sizeof(h) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nfds) {
		msg.msg_control = u.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	ssize_t n;
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n != sizeof(h)) {
		errno = EPROTO;
		return -1;
	}
	for (uint32_t off = 0; off < size;) {
		n = send(sock, payload + off, size - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		off += (uint32_t)n;
	}
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until sock is readable before deadline: 0, or -1 with errno. */
static int wait_readable(int sock, long long deadline)
{
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		struct pollfd p = { sock, POLLIN, 0 };
		int r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

int wire_recv(int sock, int timeout_ms, struct wire_header *h, int *fds, char **payload)
{
	long long deadline = now_ms() + timeout_ms;
	union {
		char buf[CMSG_SPACE(sizeof(int) * WIRE_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { h, sizeof(*h) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	ssize_t n;
	for (;;) {
		if (wait_readable(sock, deadline) < 0)
			return -1;
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n >= 0 || (errno != EINTR && errno != EAGAIN))
			break;
	}
	if (n < 0)
		return -1;
	int got = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		if (got + k > WIRE_MAX_FDS) {
			int tmp[WIRE_MAX_FDS];
			memcpy(tmp, CMSG_DATA(c), sizeof(int) * (size_t)k);
			close_all(tmp, k);
			continue;
		}
		memcpy(fds + got, CMSG_DATA(c), sizeof(int) * (size_t)k);
		got += k;
	}
	if ((size_t)n != sizeof(*h) || (msg.msg_flags & MSG_CTRUNC) || h->magic != WIRE_MAGIC ||
	    h->nfds != (uint32_t)got || h->payload > WIRE_MAX_PAYLOAD) {
		close_all(fds, got);
		errno = EPROTO;
		return -1;
	}
	char *p = malloc(h->payload + 1);
	if (!p) {
		close_all(fds, got);
		errno = ENOMEM;
		return -1;
	}
	for (uint32_t off = 0; off < h->payload;) {
		if (wait_readable(sock, deadline) < 0)
			goto fail;
		n = recv(sock, p + off, h->payload - off, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			goto fail;
		if (n == 0) {
			errno = EPROTO;
			goto fail;
		}
		off += (uint32_t)n;
	}
	p[h->payload] = '\0';
	/* a client that gave up waiting (its timeout) must not have its call made after all */
	struct pollfd gone = { sock, POLLRDHUP, 0 };
	if (poll(&gone, 1, 0) > 0 && (gone.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
		errno = ECONNRESET;
		goto fail;
	}
	*payload = p;
	return 0;
fail:;
	int e = errno;
	free(p);
	close_all(fds, got);
	errno = e;
	return -1;
}
