/* idmap.c - idmapped bind mounts, as runc does them: the parent, still in
 * the runtime's user and mount namespaces, makes a helper user namespace
 * that carries the mount's uid/gid maps, clones the source tree with
 * open_tree, gives it MOUNT_ATTR_IDMAP with mount_setattr, and keeps the
 * detached tree's fd; the child attaches it with move_mount. (Done in the
 * child, a container in a user namespace could neither map host IDs nor
 * hold CAP_SYS_ADMIN over the helper namespace.) */
#define _GNU_SOURCE
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "namespaces.h"
#include "syscalls.h"
#include "util.h"

#define STEP "mount"

/* The helper's pid as seen by the /proc we can reach, which can differ
 * from clone's return value (pid namespaces): read it from the pidfd's
 * fdinfo, which /proc translates into its own pid namespace. */
static long proc_pid_of(int pidfd)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	if (read_file(path, buf, sizeof(buf)) < 0)
		fail(STEP, "read %s", path);
	char *pid = strstr(buf, "\nPid:");
	if (!pid)
		failx(STEP, "no Pid in %s", path);
	return strtol(pid + 5, NULL, 10);
}

static int helper_userns(const char *uidmap, const char *gidmap)
{
	int pipefd[2], pidfd = -1;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		fail(STEP, "pipe for the idmap helper");
	long pid = sys_clone(CLONE_NEWUSER | CLONE_PIDFD | SIGCHLD, &pidfd);
	if (pid < 0)
		fail(STEP, "clone the idmap helper user namespace");
	if (pid == 0) {
		char c;
		close(pipefd[1]);
		while (read(pipefd[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(pipefd[0]);
	long hp = proc_pid_of(pidfd);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%ld/uid_map", hp);
	ns_write_map_list(STEP, path, uidmap);
	snprintf(path, sizeof(path), "/proc/%ld/gid_map", hp);
	ns_write_map_list(STEP, path, gidmap);
	snprintf(path, sizeof(path), "/proc/%ld/ns/user", hp);
	int nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		fail(STEP, "open %s", path);
	close(pipefd[1]);
	close(pidfd);
	while (waitpid((pid_t)pid, NULL, 0) < 0 && errno == EINTR)
		;
	return nsfd;
}

static void prepare_one(struct plan_mount *m)
{
	if (!(m->flags & MS_BIND))
		failx(STEP, "%s: an idmapped mount must be a bind mount",
		      m->destination);
	bool rec = m->flags & MS_REC;
	int nsfd = helper_userns(m->uidmap, m->gidmap);
	int tree = sys_open_tree(AT_FDCWD, m->source,
				 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
					 (rec ? AT_RECURSIVE : 0));
	if (tree < 0)
		fail(STEP, "open_tree %s for %s", m->source, m->destination);
	struct tsr_mount_attr attr = { .attr_set = TSR_MOUNT_ATTR_IDMAP,
				       .userns_fd = (uint64_t)nsfd };
	if (m->flags & MS_RDONLY)
		attr.attr_set |= TSR_MOUNT_ATTR_RDONLY;
	if (m->flags & MS_NOSUID)
		attr.attr_set |= TSR_MOUNT_ATTR_NOSUID;
	if (m->flags & MS_NODEV)
		attr.attr_set |= TSR_MOUNT_ATTR_NODEV;
	if (m->flags & MS_NOEXEC)
		attr.attr_set |= TSR_MOUNT_ATTR_NOEXEC;
	if (sys_mount_setattr(tree, "", AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0),
			      &attr) < 0)
		fail(STEP, "idmap %s (uidmap \"%s\" gidmap \"%s\")",
		     m->destination, m->uidmap, m->gidmap);
	close(nsfd);
	m->idmap_tree = tree;
}

void idmap_prepare(struct plan *p)
{
	for (size_t i = 0; i < p->n_mounts; i++)
		if (*p->mounts[i].uidmap)
			prepare_one(&p->mounts[i]);
}

void idmap_attach(struct plan_mount *m, int dstfd)
{
	if (sys_move_mount(m->idmap_tree, "", dstfd, "",
			   MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		fail(STEP, "move_mount idmapped %s on %s", m->source,
		     m->destination);
	close(m->idmap_tree);
	m->idmap_tree = -1;
}
