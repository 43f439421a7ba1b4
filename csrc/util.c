/* util.c - number parsing, file helpers, fd hygiene. */
#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error.h"
#include "syscalls.h"

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);
	if (!p)
		fail("memory", "allocating %zu bytes", size);
	return p;
}

void *xpush(void *arrp, size_t *n, size_t elem)
{
	void **arr = arrp;
	*arr = xrealloc(*arr, (*n + 1) * elem);
	char *slot = (char *)*arr + *n * elem;
	memset(slot, 0, elem);
	(*n)++;
	return slot;
}

int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int parse_i64(const char *s, int64_t *out)
{
	uint64_t v;
	int neg = *s == '-';
	if (parse_u64(s + neg, &v) < 0)
		return -1;
	if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
		return -1;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

int try_write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, data, len);
	int saved = errno;
	close(fd);
	if (n < 0) {
		errno = saved;
		return -1;
	}
	if ((size_t)n != len) {
		errno = EIO;
		return -1;
	}
	return 0;
}

void write_file(const char *step, const char *path, const char *data)
{
	if (try_write_file(path, data, strlen(data)) < 0)
		fail(step, "write %s", path);
}

/* read fd to EOF into *buf of *size bytes, NUL terminated; with grow the
 * buffer is doubled as needed, else the rest is left unread */
static ssize_t read_fd(int fd, char **buf, size_t *size, bool grow)
{
	size_t off = 0;
	for (;;) {
		if (off + 1 >= *size) {
			if (!grow)
				break;
			*buf = xrealloc(*buf, *size *= 2);
		}
		ssize_t n = read(fd, *buf + off, *size - 1 - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		off += (size_t)n;
	}
	(*buf)[off] = '\0';
	return (ssize_t)off;
}

ssize_t read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read_fd(fd, &buf, &size, false);
	int saved = errno;
	close(fd);
	errno = saved;
	return n;
}

char *read_file_alloc(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t size = 65536;
	char *buf = xrealloc(NULL, size);
	ssize_t n = read_fd(fd, &buf, &size, true);
	int saved = errno;
	close(fd);
	if (n < 0) {
		free(buf);
		errno = saved;
		return NULL;
	}
	return buf;
}

int parse_bitlist(const char *list, unsigned long *mask, size_t nbits)
{
	const size_t w = sizeof(unsigned long) * CHAR_BIT;
	memset(mask, 0, (nbits + w - 1) / w * sizeof(unsigned long));
	const char *p = list;
	while (*p) {
		char *end;
		errno = 0;
		unsigned long a = strtoul(p, &end, 10), b = a;
		if (end == p || errno)
			return -1;
		p = end;
		if (*p == '-') {
			p++;
			b = strtoul(p, &end, 10);
			if (end == p || errno || b < a)
				return -1;
			p = end;
		}
		if (b >= nbits)
			return -1;
		for (unsigned long i = a; i <= b; i++)
			mask[i / w] |= 1UL << (i % w);
		if (*p == ',')
			p++;
		else if (*p)
			return -1;
	}
	return 0;
}

int fd_move_high(int fd, int min)
{
	int nfd = fcntl(fd, F_DUPFD_CLOEXEC, min);
	if (nfd < 0)
		return -1;
	close(fd);
	return nfd;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

void close_other_fds(unsigned preserve, const int *keep, size_t n)
{
	int sorted[16];
	if (n > 16)
		failx("fds", "too many fds to keep");
	memcpy(sorted, keep, n * sizeof(int));
	qsort(sorted, n, sizeof(int), cmp_int);
	unsigned lo = 3 + preserve;
	for (size_t i = 0; i < n; i++) {
		unsigned k = (unsigned)sorted[i];
		if (k < lo)
			continue;
		if (k > lo && sys_close_range(lo, k - 1, 0) < 0)
			fail("fds", "close_range %u-%u", lo, k - 1);
		lo = k + 1;
	}
	if (sys_close_range(lo, ~0U, 0) < 0)
		fail("fds", "close_range %u-", lo);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

unsigned char *hex_decode(const char *step, const char *hex, size_t *len)
{
	size_t n = strlen(hex);
	if (n % 2)
		failx(step, "odd number of hex digits (%zu)", n);
	unsigned char *buf = xrealloc(NULL, n / 2 ? n / 2 : 1);
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			failx(step, "bad hex digit at %zu", 2 * i);
		buf[i] = (unsigned char)(hi << 4 | lo);
	}
	*len = n / 2;
	return buf;
}

void mountinfo_unescape(char *s)
{
	char *d = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] && s[3]) {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

int recv_fd(int sock)
{
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = c.buf, .msg_controllen = sizeof(c.buf) };
	ssize_t r;
	do
		r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return -1;
	struct cmsghdr *h = CMSG_FIRSTHDR(&msg);
	if (!h || h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS ||
	    h->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(h), sizeof(fd));
	return fd;
}

