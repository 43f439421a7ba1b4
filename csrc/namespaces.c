/* namespaces.c - setns by path, clone flags, id maps, time offsets. */
#define _GNU_SOURCE
#include "namespaces.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "maptool.h"
#include "util.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

void ns_open_paths(struct plan *p)
{
	for (size_t i = 0; i < p->n_ns; i++) {
		struct plan_ns *n = &p->ns[i];
		if (!n->path)
			continue;
		n->fd = open(n->path, O_RDONLY | O_CLOEXEC);
		if (n->fd < 0)
			fail("namespaces", "open %s namespace %s", n->type,
			     n->path);
	}
}

static void join(struct plan_ns *n)
{
	if (setns(n->fd, n->flag) < 0)
		fail("namespaces", "setns %s namespace %s", n->type, n->path);
	close(n->fd);
	n->fd = -1;
}

void ns_join_paths(struct plan *p)
{
	/* Everything but user and mount first, while still host root: host
	 * root may join a namespace of any owner, whereas after entering the
	 * container's user namespace it could no longer join one the host
	 * owns (a time namespace made by unshare in the parent, say). An
	 * unprivileged runtime gets EPERM there: it has the rights only once
	 * inside the container's user namespace, so those are joined after
	 * it. The mount namespace is joined by the child after release, so
	 * that the parent keeps the host's paths (/proc, cgroupfs). */
	bool deferred = false;
	for (size_t i = 0; i < p->n_ns; i++) {
		struct plan_ns *n = &p->ns[i];
		if (!n->path || n->fd < 0 || n->flag == CLONE_NEWNS ||
		    n->flag == CLONE_NEWUSER)
			continue;
		if (setns(n->fd, n->flag) < 0) {
			if (errno != EPERM)
				fail("namespaces", "setns %s namespace %s",
				     n->type, n->path);
			deferred = true;
			continue;
		}
		close(n->fd);
		n->fd = -1;
	}
	struct plan_ns *user = plan_find_ns(p, CLONE_NEWUSER);
	if (user && user->path)
		join(user);
	if (!deferred)
		return;
	for (size_t i = 0; i < p->n_ns; i++) {
		struct plan_ns *n = &p->ns[i];
		if (n->path && n->fd >= 0 && n->flag != CLONE_NEWNS &&
		    n->flag != CLONE_NEWUSER)
			join(n);
	}
}

void ns_new_time(struct plan *p)
{
	struct plan_ns *t = plan_find_ns(p, CLONE_NEWTIME);
	if (!t || t->path)
		return;
	if (unshare(CLONE_NEWTIME) < 0)
		fail("namespaces", "unshare time namespace");
	for (size_t i = 0; i < p->n_timeoffsets; i++) {
		char line[128];
		snprintf(line, sizeof(line), "%s %lld %lld\n",
			 p->timeoffsets[i].clock,
			 (long long)p->timeoffsets[i].secs,
			 (long long)p->timeoffsets[i].nsecs);
		write_file("timeoffset", "/proc/self/timens_offsets", line);
	}
}

unsigned long ns_clone_flags(struct plan *p)
{
	unsigned long flags = 0;
	for (size_t i = 0; i < p->n_ns; i++)
		if (!p->ns[i].path && p->ns[i].flag != CLONE_NEWCGROUP &&
		    p->ns[i].flag != CLONE_NEWTIME)
			flags |= (unsigned long)p->ns[i].flag;
	return flags;
}

static void write_map(const char *step, pid_t pid, const char *file,
		      struct plan_idmap *m, size_t n, const char *tool)
{
	char path[64], buf[4096];
	size_t off = 0;
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	for (size_t i = 0; i < n; i++) {
		int k = snprintf(buf + off, sizeof(buf) - off, "%u %u %u\n",
				 m[i].container, m[i].host, m[i].size);
		if (k < 0 || (size_t)k >= sizeof(buf) - off)
			failx(step, "%s: too many mappings", file);
		off += (size_t)k;
	}
	if (try_write_file(path, buf, off) == 0)
		return;
	if (errno == EPERM && tool) {
		maptool_run(step, tool, pid, m, n);
		return;
	}
	fail(step, "write %s", path);
}

void ns_write_id_maps(struct plan *p, pid_t pid)
{
	struct plan_ns *user = plan_find_ns(p, CLONE_NEWUSER);
	if (!user || user->path)
		return;
	if (p->setgroups >= 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/setgroups", pid);
		write_file("setgroups", path, p->setgroups ? "allow" : "deny");
	}
	if (p->n_uidmap)
		write_map("uidmap", pid, "uid_map", p->uidmap, p->n_uidmap,
			  p->uidmap_tool);
	if (p->n_gidmap)
		write_map("gidmap", pid, "gid_map", p->gidmap, p->n_gidmap,
			  p->gidmap_tool);
}

void ns_open_cgroups(struct plan *p)
{
	/* Opened while still host root: the kernel checks a cgroup.procs write
	 * against the opener's credentials, so the writes still work after
	 * the parent joins a container's user namespace (exec). */
	if (!p->n_cgroups)
		return;
	p->cgroup_fds = calloc(p->n_cgroups, sizeof(int));
	if (!p->cgroup_fds)
		fail("cgroup", "allocate %zu fds", p->n_cgroups);
	for (size_t i = 0; i < p->n_cgroups; i++) {
		p->cgroup_fds[i] = open(p->cgroups[i], O_WRONLY | O_CLOEXEC);
		if (p->cgroup_fds[i] < 0)
			fail("cgroup", "open %s", p->cgroups[i]);
	}
}

void ns_join_cgroups(struct plan *p, pid_t pid)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d", pid);
	for (size_t i = 0; i < p->n_cgroups; i++) {
		ssize_t w;
		do
			w = write(p->cgroup_fds[i], buf, (size_t)n);
		while (w < 0 && errno == EINTR);
		if (w != n)
			fail("cgroup", "write pid %d to %s", pid, p->cgroups[i]);
		close(p->cgroup_fds[i]);
		p->cgroup_fds[i] = -1;
	}
}

void ns_child_enter(struct plan *p)
{
	struct plan_ns *mnt = plan_find_ns(p, CLONE_NEWNS);
	if (mnt && mnt->path)
		join(mnt);
	struct plan_ns *cg = plan_find_ns(p, CLONE_NEWCGROUP);
	if (cg && !cg->path && unshare(CLONE_NEWCGROUP) < 0)
		fail("namespaces", "unshare cgroup namespace");
}

void ns_write_map_list(const char *step, const char *path, const char *list)
{
	char buf[4096];
	size_t n = strlen(list);
	if (n + 2 > sizeof(buf))
		failx(step, "mapping \"%s\" too long", list);
	memcpy(buf, list, n);
	for (size_t i = 0; i < n; i++)
		if (buf[i] == ',')
			buf[i] = '\n';
	buf[n++] = '\n';
	if (try_write_file(path, buf, n) < 0)
		fail(step, "write %s (\"%s\")", path, list);
}
