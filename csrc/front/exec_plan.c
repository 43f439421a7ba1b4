/* exec_plan.c - see exec_plan.h. */
#define _GNU_SOURCE
#include "exec_plan.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/proc.h"
#include "readfile.h"

static bool put(struct buf *b, const char *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (b->len + n + 1 > cap)
			cap *= 2;
		char *d = realloc(b->data, cap);
		if (!d)
			return false;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return true;
}

static bool putf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool putf(struct buf *b, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < sizeof(line) && put(b, line, (size_t)n);
}

/* "<name> <length>\n<bytes>\n", or "<name> -\n" */
static bool field(struct buf *b, const char *name, const char *data, size_t len)
{
	if (!data)
		return putf(b, "%s -\n", name);
	return putf(b, "%s %zu\n", name, len) && put(b, data, len) && put(b, "\n", 1);
}

static bool stamp(struct buf *b, const char *name, const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return false;
	unsigned long long ns = (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL + (unsigned long long)st.st_mtim.tv_nsec;
	return putf(b, "%s %lld %llu\n", name, (long long)st.st_size, ns);
}

/* The bounding set as /proc/self/status writes it (hex digits). */
static bool capbnd(struct buf *b)
{
	char status[8192];
	if (read_small("/proc/self/status", status, sizeof(status)) < 0)
		return false;
	const char *p = strstr(status, "\nCapBnd:");
	if (!p)
		return putf(b, "capbnd -\n");
	p += strlen("\nCapBnd:");
	while (*p == ' ' || *p == '\t')
		p++;
	size_t n = strspn(p, "0123456789abcdef");
	return n > 0 && p[n] == '\n' && putf(b, "capbnd %.*s\n", (int)n, p);
}

bool exec_plan_key(const struct exec_inputs *in, struct buf *b)
{
	char boot[128];
	if (read_small("/proc/sys/kernel/random/boot_id", boot, sizeof(boot)) < 0)
		return false;
	boot[strcspn(boot, " \t\n")] = '\0';
	struct stat mntns;
	if (stat("/proc/self/ns/mnt", &mntns) < 0)
		return false;
	if (!put(b, "tsrun exec plan 1\n", 18) || !stamp(b, "bundle", in->dist_main) ||
	    !stamp(b, "init", in->init) || !putf(b, "boot %s\n", boot) ||
	    !putf(b, "mntns %llu\n", (unsigned long long)mntns.st_ino) || !capbnd(b) ||
	    !field(b, "state", in->state, in->state_len) || !field(b, "config", in->config, in->config_len) ||
	    !field(b, "process", in->process, in->process_len) ||
	    !field(b, "cwd", in->cwd, in->cwd ? strlen(in->cwd) : 0) || !putf(b, "argv %d\n", in->argc))
		return false;
	for (int i = 0; i < in->argc; i++) {
		size_t n = strlen(in->argv[i]);
		if (!putf(b, "%zu\n", n) || !put(b, in->argv[i], n) || !put(b, "\n", 1))
			return false;
	}
	return true;
}

/* Ours alone: owned by this euid, writable by nobody else. */
static bool ours(int fd, bool dir)
{
	struct stat st;
	return fstat(fd, &st) == 0 && (dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode)) &&
	       st.st_uid == geteuid() && (st.st_mode & 022) == 0;
}

/* "<name> <decimal>\n" at *p; advances past it. */
static bool number_line(const char **p, const char *end, const char *name, unsigned long long *out)
{
	size_t n = strlen(name);
	const char *q = *p;
	if ((size_t)(end - q) < n + 2 || memcmp(q, name, n) != 0 || q[n] != ' ')
		return false;
	q += n + 1;
	if (q >= end || !isdigit((unsigned char)*q))
		return false;
	unsigned long long v = 0;
	while (q < end && isdigit((unsigned char)*q)) {
		if (v > (1ULL << 40))
			return false;
		v = v * 10 + (unsigned long long)(*q++ - '0');
	}
	if (q >= end || *q != '\n')
		return false;
	*p = q + 1;
	*out = v;
	return true;
}

bool exec_plan_find(const char *dir, const struct buf *key, struct exec_plan *out)
{
	char path[4096], name[17];
	memset(out, 0, sizeof(*out));
	snprintf(name, sizeof(name), "%016llx", fnv1a64((const unsigned char *)key->data, key->len));
	if (snprintf(path, sizeof(path), "%s/exec-plans", dir) >= (int)sizeof(path))
		return false;
	int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return false;
	int fd = ours(dfd, true) ? openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
	close(dfd);
	if (fd < 0)
		return false;
	size_t len = 0;
	int err = 0;
	char *file = ours(fd, false) ? read_all_fd(fd, &len, &err) : NULL;
	close(fd);
	if (!file)
		return false;
	const char *p = file + key->len, *end = file + len;
	unsigned long long detach, preserve, plan_len;
	if (len < key->len || memcmp(file, key->data, key->len) != 0 || !number_line(&p, end, "detach", &detach) ||
	    detach > 1 || !number_line(&p, end, "preserve-fds", &preserve) || preserve > 1024 ||
	    !number_line(&p, end, "plan", &plan_len) || (size_t)(end - p) != plan_len) {
		free(file);
		return false;
	}
	out->file = file;
	out->detach = detach == 1;
	out->preserve_fds = (int)preserve;
	out->plan = p;
	out->plan_len = plan_len;
	return true;
}

void buf_free(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}
