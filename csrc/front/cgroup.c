/* cgroup.c - cgroup files read and written for state, kill --all and delete. */
#define _GNU_SOURCE
#include "cgroup.h"

#include <dirent.h>
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

/* Adds the pids of dir and of every cgroup below it to pids[*n..max); false
 * when dir's cgroup.procs cannot be read. */
static bool pids_under(const char *dir, pid_t *pids, size_t *n, size_t max)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	int pid;
	while (*n < max && fscanf(f, "%d", &pid) == 1)
		pids[(*n)++] = pid;
	fclose(f);
	DIR *d = opendir(dir);
	if (!d)
		return true;
	struct dirent *e;
	while (*n < max && (e = readdir(d))) {
		if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		pids_under(path, pids, n, max);
	}
	closedir(d);
	return true;
}

size_t cgroup_pids(const struct saved_state *s, pid_t *pids, size_t max)
{
	for (size_t i = 0; i < s->cgroup_dirs->len; i++) {
		size_t n = 0;
		if (pids_under(s->cgroup_dirs->items[i]->str, pids, &n, max))
			return n;
	}
	return 0;
}

/* rmdir of dir after its sub-cgroups, deepest first (runc's RemovePath);
 * 0, or the errno of the first failure with its path in failed. */
static int remove_tree(const char *dir, char *failed, size_t len)
{
	if (rmdir(dir) == 0 || errno == ENOENT)
		return 0;
	DIR *d = opendir(dir);
	int err = 0;
	if (d) {
		struct dirent *e;
		char path[4096];
		while (!err && (e = readdir(d))) {
			if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			err = remove_tree(path, failed, len);
		}
		closedir(d);
	}
	if (err)
		return err;
	if (rmdir(dir) == 0 || errno == ENOENT)
		return 0;
	snprintf(failed, len, "%s", dir);
	return errno;
}

int cgroup_remove(const struct saved_state *s)
{
	char failures[4096] = "";
	size_t off = 0;
	for (size_t i = 0; i < s->cgroup_dirs->len; i++) {
		const char *d = s->cgroup_dirs->items[i]->str;
		char failed[4096] = "";
		int err = 0;
		for (int tries = 0; tries < 50; tries++) {
			err = remove_tree(d, failed, sizeof(failed));
			if (err != EBUSY)
				break;
			sleep_ms(10);
		}
		if (err && off < sizeof(failures))
			off += (size_t)snprintf(failures + off, sizeof(failures) - off, "%s%s: %s",
						off ? "; " : "", failed, strerror(err));
	}
	return off ? log_error("remove cgroup: %s", failures) : 0;
}
