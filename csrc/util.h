/* util.h - small helpers shared by the C core. */
#ifndef TSRUN_UTIL_H
#define TSRUN_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/sendfd.h" /* send_fd, paired with recv_fd below */

void *xrealloc(void *ptr, size_t size);
/* grow *arr (of elem bytes each) so that index *n is valid; returns it */
void *xpush(void *arrp, size_t *n, size_t elem);

/* strict decimal parsers; return -1 on a malformed value */
int parse_u64(const char *s, uint64_t *out);
int parse_i64(const char *s, int64_t *out);

/* write the whole string to path (O_WRONLY, no create); fails on error */
void write_file(const char *step, const char *path, const char *data);
/* same, returning -1 with errno set instead of failing */
int try_write_file(const char *path, const char *data, size_t len);
/* read up to size-1 bytes of a file into buf, NUL terminated; -1 on error */
ssize_t read_file(const char *path, char *buf, size_t size);
/* all of a file, NUL terminated, in a malloc'd buffer (for files that must
 * not be cut, like mountinfo); NULL with errno set on error */
char *read_file_alloc(const char *path);

/* parse "0-3,7" into a bitmask of nbits bits (unsigned long words);
 * returns -1 on a malformed list or a number >= nbits */
int parse_bitlist(const char *list, unsigned long *mask, size_t nbits);

/* undo mountinfo's \ooo escapes (space, tab, newline, backslash) in place */
void mountinfo_unescape(char *s);

/* decode hex digits into a new buffer; fails naming step on a bad digit */
unsigned char *hex_decode(const char *step, const char *hex, size_t *len);

/* One fd sent with send_fd (its data: one byte), close-on-exec; -1 at EOF or
 * on a message without exactly one fd. */
int recv_fd(int sock);

/* move fd to a number >= min with O_CLOEXEC; closes the old one */
int fd_move_high(int fd, int min);
/* close every fd >= 3 except fds in keep[0..n-1] and 3..3+preserve-1 */
void close_other_fds(unsigned preserve, const int *keep, size_t n);

#endif
