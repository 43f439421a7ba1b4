/* passwd.c - HOME for a process whose env has none, as runc sets it: the
 * home field of the first /etc/passwd entry with the process's uid, or "/"
 * when there is no such file or entry. The file is the container's, read
 * after its mounts and before the user switch; TypeScript decides whether
 * HOME is needed (docs/PLAN-FORMAT.md, `home`). */
#define _GNU_SOURCE
#include "passwd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "util.h"

/* A passwd file larger than this is not read (and HOME is "/"). */
#define PASSWD_MAX (16 << 20)

/* The whole file, NUL terminated, or NULL when it can't be read as a
 * regular file. Non-blocking: a FIFO planted at /etc/passwd must not hang
 * the container's start. */
static char *read_passwd(void)
{
	int fd = open("/etc/passwd", O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	char *buf = NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < PASSWD_MAX) {
		buf = xrealloc(NULL, (size_t)st.st_size + 1);
		size_t have = 0;
		for (ssize_t r; have < (size_t)st.st_size; have += (size_t)r) {
			r = read(fd, buf + have, (size_t)st.st_size - have);
			if (r < 0 && errno == EINTR) {
				r = 0;
				continue;
			}
			if (r <= 0)
				break;
		}
		buf[have] = '\0';
	}
	close(fd);
	return buf;
}

/* The home field of the first "name:pass:uid:gid:gecos:home:shell" line
 * (whitespace around a line ignored) whose uid field is uid, in place. */
static const char *home_of(char *text, uid_t uid)
{
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		while (*line == ' ' || *line == '\t' || *line == '\r')
			line++;
		char *end = line + strlen(line);
		while (end > line && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			*--end = '\0';
		char *field[7] = { 0 };
		size_t n = 0;
		for (char *f = line; f && n < 7; n++) {
			field[n] = f;
			f = strchr(f, ':');
			if (f)
				*f++ = '\0';
		}
		uint64_t id;
		if (n >= 3 && parse_u64(field[2], &id) == 0 && id == uid)
			return n >= 6 ? field[5] : "";
	}
	return NULL;
}

void passwd_home(struct plan *p)
{
	if (!p->has_home)
		return;
	char *text = read_passwd();
	const char *home = text ? home_of(text, p->home_uid) : NULL;
	char *var;
	if (asprintf(&var, "HOME=%s", home ? home : "/") < 0)
		fail("home", "asprintf");
	free(text);
	size_t n = 0;
	while (p->env && p->env[n])
		n++;
	p->env = xrealloc(p->env, (n + 2) * sizeof(char *));
	p->env[n] = var;
	p->env[n + 1] = NULL;
}
