/* readfile.h - whole files and small ones, for the front end's readers. */
#ifndef TSRUN_FRONT_READFILE_H
#define TSRUN_FRONT_READFILE_H

#include <stddef.h>
#include <sys/types.h>

/* The whole file at path, NUL-terminated, its length in *len if len is not NULL; NULL with
 * *err an errno. */
char *read_all(const char *path, size_t *len, int *err);

/* read_all of a regular file. Anything else (a pipe, a FIFO, a terminal: what /dev/fd/N,
 * /dev/stdin and <(...) name) is not read, nor opened, so that its data stays whole for the
 * process the path is handed to: NULL with *err EINVAL. */
char *read_regular(const char *path, size_t *len, int *err);

/* The same, from an open fd (left open). */
char *read_all_fd(int fd, size_t *len, int *err);

/* Up to size-1 bytes of a small file (/proc, cgroupfs), NUL-terminated: the length, or -1 with errno. */
ssize_t read_small(const char *path, char *buf, size_t size);

#endif
