/* probe-util.c: the JSON writer and file helpers of the probe (see probe.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"

#define READ_MAX (1 << 20)

/* ---- a minimal streaming JSON writer on stdout ---- */

static int comma[64]; /* per nesting level: a value was already written */
static int depth, after_key;

static void sep(void)
{
	if (after_key)
		after_key = 0;
	else if (comma[depth])
		putchar(',');
	comma[depth] = 1;
}

static void raw_str(const char *s, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

void begin(char c) { sep(); putchar(c); comma[++depth] = 0; }
void end(char c) { depth--; putchar(c); }
void key(const char *k) { sep(); raw_str(k, strlen(k)); putchar(':'); after_key = 1; }
void jstrn(const char *s, size_t n) { sep(); raw_str(s, n); }
void jstr(const char *s) { if (s) jstrn(s, strlen(s)); else { sep(); fputs("null", stdout); } }
void jnum(long long v) { sep(); printf("%lld", v); }
void jerr(int e)
{
	const char *name = strerrorname_np(e);
	begin('{');
	key("errno");
	if (name)
		jstr(name);
	else
		jnum(e);
	end('}');
}

/* ---- helpers ---- */

/* Whole file into a NUL-terminated malloc'd buffer; NULL with errno set on failure. */
char *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (!buf) {
			close(fd);
			errno = ENOMEM;
			return NULL;
		}
		if (n + 1 >= cap) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb)
				free(buf);
			buf = nb;
			continue;
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			close(fd);
			errno = e;
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n >= READ_MAX) /* /proc/kcore and friends: enough is enough */
			break;
	}
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* The value after "Name:\t" in /proc/self/status, or NULL. */
const char *status_field(const char *status, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);
	for (const char *p = status; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, name, nl) == 0 && p[nl] == ':') {
			p += nl + 1;
			p += strspn(p, " \t");
			size_t n = strcspn(p, "\n");
			if (n >= outlen)
				n = outlen - 1;
			memcpy(out, p, n);
			out[n] = '\0';
			return out;
		}
	}
	return NULL;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo; decodes in place. */
char *unescape(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '7' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
			*o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return s;
}

/* Each line of a text file as a string array, or an errno object. */
void lines_of(const char *path)
{
	char *text = read_file(path, NULL);
	if (!text) {
		jerr(errno);
		return;
	}
	begin('[');
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		jstr(l);
	end(']');
	free(text);
}
