/* state.c - state.json as TypeScript writes it, read strictly: a file this
 * reader does not fully understand is left to the TypeScript side. */
#define _GNU_SOURCE
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "readfile.h"

/* Versions this reader knows: 2 added stdio, which only checkpoint reads. */
#define STATE_VERSION_MIN 1
#define STATE_VERSION_MAX 2

static bool is_string_array(const struct json *a)
{
	if (!a || a->type != J_ARR)
		return false;
	for (size_t i = 0; i < a->len; i++)
		if (a->items[i]->type != J_STR)
			return false;
	return true;
}

static bool opt_bool(const struct json *doc, const char *key, bool *out)
{
	const struct json *v = json_get(doc, key);
	*out = v && v->type == J_BOOL && v->b;
	return !v || v->type == J_BOOL;
}

/* Fills s from doc; false if a field is missing or of the wrong type. */
static bool fill(struct saved_state *s, const struct json *doc)
{
	const struct json *v = json_get(doc, "stateVersion");
	if (!v || v->type != J_NUM || v->num < STATE_VERSION_MIN || v->num > STATE_VERSION_MAX ||
	    v->num != (int)v->num)
		return false;
	s->id = json_str(doc, "id");
	s->oci_version = json_str(doc, "ociVersion");
	s->bundle = json_str(doc, "bundle");
	s->rootfs = json_str(doc, "rootfs");
	s->created = json_str(doc, "created");
	s->owner = json_str(doc, "owner");
	s->start_time = json_str(doc, "pidStartTime");
	if (!s->id || !s->oci_version || !s->bundle || !s->rootfs || !s->created || !s->owner ||
	    !s->start_time)
		return false;
	v = json_get(doc, "pid");
	if (!v || v->type != J_NUM || v->num < 0 || v->num > 4194304 || v->num != (pid_t)v->num)
		return false;
	s->pid = (pid_t)v->num;
	v = json_get(doc, "hasProcess");
	if (!v || v->type != J_BOOL)
		return false;
	s->has_process = v->b;
	if (!opt_bool(doc, "sharesMountNs", &s->shares_mount_ns) ||
	    !opt_bool(doc, "creating", &s->creating))
		return false;
	s->cgroup_dirs = json_get(doc, "cgroupDirs");
	if (!is_string_array(s->cgroup_dirs))
		return false;
	s->annotations = json_get(doc, "annotations");
	if (s->annotations) {
		if (s->annotations->type != J_OBJ)
			return false;
		for (size_t i = 0; i < s->annotations->len; i++)
			if (s->annotations->items[i]->type != J_STR)
				return false;
	}
	const struct json *fr = json_get(doc, "freezer");
	if (fr) {
		s->freezer_dir = json_str(fr, "dir");
		const struct json *v1 = json_get(fr, "v1");
		if (!s->freezer_dir || !v1 || v1->type != J_BOOL)
			return false;
		s->freezer_v1 = v1->b;
	}
	const struct json *sd = json_get(doc, "systemd");
	if (sd) {
		const struct json *user = json_get(sd, "user");
		if (sd->type != J_OBJ || !json_str(sd, "unit") || !user || user->type != J_BOOL)
			return false;
		s->systemd = true;
	}
	const struct json *hooks = json_get(doc, "hooks");
	if (hooks) {
		if (!is_string_array(hooks))
			return false;
		for (size_t i = 0; i < hooks->len; i++) {
			const char *h = hooks->items[i]->str;
			if (strcmp(h, "startContainer") == 0)
				s->hook_start = true;
			else if (strcmp(h, "poststart") == 0)
				s->hook_poststart = true;
			else if (strcmp(h, "poststop") == 0)
				s->hook_poststop = true;
			else
				return false;
		}
	}
	return true;
}

enum load_result state_load(const char *dir, struct saved_state *s)
{
	return state_load_bytes(dir, s, NULL, NULL);
}

enum load_result state_load_bytes(const char *dir, struct saved_state *s, char **bytes, size_t *len)
{
	char path[4096];
	int err = 0;
	memset(s, 0, sizeof(*s));
	if (snprintf(path, sizeof(path), "%s/state.json", dir) >= (int)sizeof(path))
		return LOAD_OTHER;
	char *text = read_all(path, len, &err);
	if (!text)
		return err == ENOENT || err == ENOTDIR ? LOAD_MISSING : LOAD_OTHER;
	s->doc = json_parse(text, NULL, 0);
	if (!s->doc || !fill(s, s->doc)) {
		free(text);
		state_free(s);
		return LOAD_OTHER;
	}
	if (bytes)
		*bytes = text;
	else
		free(text);
	return LOAD_OK;
}

void state_free(struct saved_state *s)
{
	json_free(s->doc);
	memset(s, 0, sizeof(*s));
}

/* Fields 3 (state) and 22 (starttime) of /proc/PID/stat. */
static bool proc_stat(pid_t pid, char *state, char *start, size_t startlen)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return false;
	/* comm may hold spaces and parens: the fields after it start past the last ')' */
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return false;
	p += 2;
	*state = *p;
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return false;
		p++;
	}
	size_t l = strcspn(p, " ");
	if (l >= startlen)
		return false;
	memcpy(start, p, l);
	start[l] = '\0';
	return true;
}

bool state_alive(const struct saved_state *s)
{
	char st, start[32];
	if (s->pid <= 0 || !proc_stat(s->pid, &st, start, sizeof(start)))
		return false;
	return strcmp(start, s->start_time) == 0 && st != 'Z' && st != 'X';
}

enum status state_status(const char *dir, const struct saved_state *s)
{
	char fifo[4096];
	if (s->creating)
		return ST_CREATING;
	/* runc's order: a frozen cgroup first (a created container can be paused) */
	if (cgroup_frozen(s))
		return ST_PAUSED;
	if (!state_alive(s))
		return ST_STOPPED;
	snprintf(fifo, sizeof(fifo), "%s/exec.fifo", dir);
	return access(fifo, F_OK) == 0 ? ST_CREATED : ST_RUNNING;
}

const char *status_name(enum status st)
{
	static const char *names[] = { "creating", "created", "running", "paused", "stopped" };
	return names[st];
}

int state_lock(const char *dir)
{
	/* CLOEXEC: the lock must never reach a process this one starts */
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
	}
	/* the dir may have been deleted (and made again) while this waited: then it is gone */
	struct stat locked, now;
	if (fstat(fd, &locked) < 0 || stat(dir, &now) < 0 || locked.st_dev != now.st_dev ||
	    locked.st_ino != now.st_ino) {
		close(fd);
		errno = ENOENT;
		return -1;
	}
	return fd;
}
