/* delete.c - `delete [--force] ID` (runtime.md#delete) for containers without
 * poststop hooks, with their own mount namespace and a cgroupfs cgroup (a
 * systemd unit is Node's to stop), as deleteContainer() in
 * src/container/lifecycle.ts. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "commands.h"
#include "log.h"
#include "state.h"

/* SIGKILL pid 1 (which takes a pid namespace with it) and every process of the cgroup. */
static int kill_all(const char *id, const struct saved_state *s)
{
	pid_t *pids = malloc((MAX_PIDS + 1) * sizeof(*pids));
	if (!pids)
		return log_error("delete %s: out of memory", id);
	for (int i = 0; i < 500; i++) {
		size_t n = cgroup_pids(s, pids, MAX_PIDS);
		if (state_alive(s))
			pids[n++] = s->pid;
		if (n == 0) {
			free(pids);
			return 0;
		}
		for (size_t k = 0; k < n; k++)
			kill(pids[k], SIGKILL); /* ESRCH: gone meanwhile */
		/* a frozen task dies only once thawed; after the SIGKILL it runs no more user code */
		char err[4200];
		if (i == 0 && cgroup_frozen(s) && cgroup_freeze(s, false, err, sizeof(err)) < 0) {
			free(pids);
			return log_error("%s", err);
		}
		sleep_ms(i < 10 ? 1 : 10);
	}
	free(pids);
	return log_error("delete %s: processes did not exit after SIGKILL", id);
}

/* rm -r of dirfd's entries; the state dir holds files and, at most, small dirs. */
static int remove_tree_at(int dirfd, const char *path)
{
	int rc = 0;
	int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(fd, e->d_name, 0) == 0 || errno == ENOENT)
			continue;
		if ((errno == EISDIR || errno == EPERM) && remove_tree_at(fd, e->d_name) == 0)
			continue;
		rc = -1;
	}
	closedir(d);
	if (unlinkat(dirfd, path, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = -1;
	return rc;
}

static int delete_locked(const char *root, const char *id, const char *dir,
			 const struct saved_state *s, bool force)
{
	enum status st = state_status(dir, s);
	pid_t probe[1];
	/* runtime.md#delete: deleting a container that is not stopped (created included) is an error */
	if (st != ST_STOPPED && !force)
		return log_error("cannot delete container %s that is not stopped: %s", id, status_name(st));
	/* also when pid 1 is gone: without a pid namespace its children may still run */
	if ((st != ST_STOPPED || cgroup_pids(s, probe, 1)) && kill_all(id, s))
		return 1;
	if (cgroup_remove(s))
		return 1;
	int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0 || remove_tree_at(rootfd, id) < 0) {
		int e = errno;
		if (rootfd >= 0)
			close(rootfd);
		return log_error("remove %s: %s", dir, strerror(e));
	}
	close(rootfd);
	return 0;
}

int cmd_delete(const char *root, const char *id, bool force)
{
	char dir[4096];
	struct saved_state s;
	struct stat st;
	if (!container_dir(dir, root, id))
		return DELEGATE;
	enum load_result r = state_load(dir, &s);
	if (r == LOAD_MISSING && stat(dir, &st) < 0 && errno == ENOENT)
		return force ? 0 : not_exist(id); /* runc: nothing to delete is fine with --force */
	if (r != LOAD_OK)
		return DELEGATE; /* a dir without a readable state: TypeScript finds its cgroups */
	/* a systemd unit is stopped over D-Bus, by the TypeScript side */
	bool delegate = s.hook_poststop || s.shares_mount_ns || s.systemd;
	state_free(&s);
	if (delegate)
		return DELEGATE;
	/* runc: with --force, a container a concurrent delete removed is no error */
	int lock, rc = 0;
	if (!lock_and_load(dir, id, &s, &lock, force, &rc))
		return rc;
	rc = delete_locked(root, id, dir, &s, force);
	state_free(&s);
	close(lock);
	return rc;
}
