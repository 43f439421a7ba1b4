/* readfile.c - see readfile.h. */
#define _GNU_SOURCE
#include "readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

char *read_all(const char *path, size_t *lenp, int *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*err = errno;
		return NULL;
	}
	char *buf = read_all_fd(fd, lenp, err);
	close(fd);
	return buf;
}

char *read_regular(const char *path, size_t *lenp, int *err)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		*err = errno;
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		*err = EINVAL;
		return NULL;
	}
	/* O_NONBLOCK: should the path have become a FIFO since the stat, the open
	 * must not wait for its writer */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		*err = errno;
		return NULL;
	}
	char *buf = NULL;
	if (fstat(fd, &st) < 0)
		*err = errno;
	else if (!S_ISREG(st.st_mode))
		*err = EINVAL;
	else
		buf = read_all_fd(fd, lenp, err);
	close(fd);
	return buf;
}

char *read_all_fd(int fd, size_t *lenp, int *err)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (!buf) {
			*err = ENOMEM;
			break;
		}
		if (len + 1 >= cap) {
			char *b = realloc(buf, cap *= 2);
			if (!b) {
				free(buf);
				buf = NULL;
				continue;
			}
			buf = b;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*err = errno;
			free(buf);
			buf = NULL;
			break;
		}
		if (n == 0) {
			buf[len] = '\0';
			if (lenp)
				*lenp = len;
			break;
		}
		len += (size_t)n;
	}
	return buf;
}

ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n;
	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	int e = errno;
	close(fd);
	if (n < 0) {
		errno = e;
		return -1;
	}
	buf[n] = '\0';
	return n;
}
