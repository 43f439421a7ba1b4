/* cgroup.c - cgroup files read and written for state, kill --all and delete. */
#define _GNU_SOURCE
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "readfile.h"
#include "state.h"

void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static bool frozen_now(const struct saved_state *s)
{
	char path[4096], buf[4096];
	if (s->freezer_v1) {
		snprintf(path, sizeof(path), "%s/freezer.state", s->freezer_dir);
		if (read_small(path, buf, sizeof(buf)) < 0)
			return false;
		return strcmp(buf, "FROZEN\n") == 0 || strcmp(buf, "FROZEN") == 0;
	}
	snprintf(path, sizeof(path), "%s/cgroup.events", s->freezer_dir);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return false;
	return strncmp(buf, "frozen 1\n", 9) == 0 || strstr(buf, "\nfrozen 1\n") != NULL;
}

bool cgroup_frozen(const struct saved_state *s)
{
	char path[4096], buf[64];
	if (!s->freezer_dir)
		return false;
	if (s->freezer_v1)
		return frozen_now(s);
	snprintf(path, sizeof(path), "%s/cgroup.freeze", s->freezer_dir);
	return read_small(path, buf, sizeof(buf)) > 0 && buf[0] == '1';
}

int cgroup_freeze(const struct saved_state *s, bool frozen, char *err, size_t errlen)
{
	const char *verb = frozen ? "freeze" : "thaw";
	char file[4096];
	if (!s->freezer_dir) {
		snprintf(err, errlen, "pause: no freezer: neither the v1 freezer controller nor cgroup.freeze is available");
		return -1;
	}
	snprintf(file, sizeof(file), "%s/%s", s->freezer_dir, s->freezer_v1 ? "freezer.state" : "cgroup.freeze");
	const char *value = s->freezer_v1 ? (frozen ? "FROZEN" : "THAWED") : (frozen ? "1" : "0");
	for (int i = 0; i < 1000; i++) {
		int fd = open(file, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, value, strlen(value)) < 0) {
			int e = errno;
			if (fd >= 0)
				close(fd);
			snprintf(err, errlen, "%s %s: %s", verb, file, strerror(e));
			return -1;
		}
		close(fd);
		if (frozen_now(s) == frozen)
			return 0;
		/* v1 can stay in FREEZING while a task is in an uninterruptible sleep: write again */
		sleep_ms(i < 10 ? 1 : 10);
	}
	snprintf(err, errlen, "%s %s: the cgroup did not reach the %s state", verb, s->freezer_dir,
		 frozen ? "frozen" : "thawed");
	return -1;
}

size_t cgroup_pids(const struct saved_state *s, pid_t *pids, size_t max)
{
	for (size_t i = 0; i < s->cgroup_dirs->len; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/cgroup.procs", s->cgroup_dirs->items[i]->str);
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		size_t n = 0;
		int pid;
		while (n < max && fscanf(f, "%d", &pid) == 1)
			pids[n++] = pid;
		fclose(f);
		return n;
	}
	return 0;
}

int cgroup_remove(const struct saved_state *s)
{
	char failures[4096] = "";
	size_t off = 0;
	for (size_t i = 0; i < s->cgroup_dirs->len; i++) {
		const char *d = s->cgroup_dirs->items[i]->str;
		int err = 0;
		for (int tries = 0; tries < 50; tries++) {
			if (rmdir(d) == 0 || errno == ENOENT) {
				err = 0;
				break;
			}
			err = errno;
			if (err != EBUSY)
				break;
			sleep_ms(10);
		}
		if (err && off < sizeof(failures))
			off += (size_t)snprintf(failures + off, sizeof(failures) - off, "%s%s: %s",
						off ? "; " : "", d, strerror(err));
	}
	return off ? log_error("remove cgroup: %s", failures) : 0;
}
