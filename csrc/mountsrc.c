/* mountsrc.c - bind sources opened by the parent (the `source_by_parent`
 * record). In a new user namespace the child's root is an unprivileged host
 * uid, which cannot reach a source under a directory only host root may
 * search. As runc's nsexec (send_mountsources), the parent, still host root,
 * enters the child's new mount namespace before the child is released, opens
 * each source O_PATH there and sends the fds over the release socket; the
 * child binds from the fd. The fd must name a mount of the child's own
 * namespace (open_tree refuses one of another), hence the setns. */
#define _GNU_SOURCE
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "error.h"
#include "util.h"

#define STEP "mount"

void mountsrc_send(struct plan *p, pid_t child, int sock)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_mounts; i++)
		n += p->mounts[i].source_by_parent;
	if (!n)
		return;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)child);
	int own = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (own < 0)
		fail(STEP, "open /proc/self/ns/mnt");
	int theirs = open(path, O_RDONLY | O_CLOEXEC);
	if (theirs < 0)
		fail(STEP, "open %s", path);
	int *fds = calloc(p->n_mounts, sizeof(int));
	if (!fds)
		fail(STEP, "allocate %zu fds", p->n_mounts);
	if (setns(theirs, CLONE_NEWNS) < 0)
		fail(STEP, "enter the container's mount namespace to open bind sources");
	for (size_t i = 0; i < p->n_mounts; i++) {
		struct plan_mount *m = &p->mounts[i];
		fds[i] = -1;
		if (!m->source_by_parent)
			continue;
		fds[i] = open(m->source, O_PATH | O_CLOEXEC);
		if (fds[i] < 0)
			fail(STEP, "open bind source %s for %s", m->source, m->destination);
	}
	if (setns(own, CLONE_NEWNS) < 0)
		fail(STEP, "return to the runtime's mount namespace");
	close(own);
	close(theirs);
	for (size_t i = 0; i < p->n_mounts; i++) {
		if (fds[i] < 0)
			continue;
		if (send_fd(sock, fds[i], "s", 1) != 1)
			fail(STEP, "send the fd of bind source %s to the child",
			     p->mounts[i].source);
		close(fds[i]);
	}
	free(fds);
}

/* Before the release: the parent sends them first. Nothing there means the
 * parent failed and reports it itself, as in release_wait. */
void mountsrc_receive(struct plan *p, int sock)
{
	for (size_t i = 0; i < p->n_mounts; i++) {
		struct plan_mount *m = &p->mounts[i];
		if (!m->source_by_parent)
			continue;
		m->source_fd = recv_fd(sock);
		if (m->source_fd < 0)
			_exit(1);
	}
}
