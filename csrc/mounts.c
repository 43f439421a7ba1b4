/* mounts.c - one mount record: mount point, mount, remount pass,
 * propagation, mount_setattr attributes. Destinations are resolved inside
 * the rootfs and mounted on through /proc/self/fd/N. */
#define _GNU_SOURCE
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "copyup.h"
#include "error.h"
#include "lsm.h"
#include "resolve.h"
#include "syscalls.h"

#define STEP "mount"
#define ATIME_FLAGS (MS_NOATIME | MS_RELATIME | MS_STRICTATIME | MS_NODIRATIME)

void remount_bind(const char *step, const char *path, const char *shown,
		  unsigned long flags)
{
	flags |= MS_REMOUNT | MS_BIND;
	if (mount(NULL, path, NULL, flags, NULL) == 0)
		return;
	if (errno == EPERM) {
		struct statvfs sv;
		if (statvfs(path, &sv) < 0)
			fail(step, "statvfs %s", shown);
		unsigned long locked = sv.f_flag & (ST_NOSUID | ST_NODEV |
						    ST_NOEXEC);
		if (!(flags & ATIME_FLAGS))
			locked |= sv.f_flag & (ST_NOATIME | ST_RELATIME |
					       ST_NODIRATIME);
		if (mount(NULL, path, NULL, flags | locked, NULL) == 0)
			return;
	}
	fail(step, "remount %s with flags 0x%lx", shown, flags);
}

static void apply_attrs(struct plan_mount *m, int rootfd)
{
	if (!m->propagation && !m->attr_set && !m->attr_clr)
		return;
	/* reopen: the fd of the mount point is below the new mount */
	int fd = in_root_open(rootfd, m->destination, O_PATH);
	if (fd < 0)
		fail(STEP, "reopen %s", m->destination);
	if (m->propagation &&
	    mount(NULL, fd_path(fd), NULL, m->propagation, NULL) < 0)
		fail(STEP, "set propagation 0x%lx on %s", m->propagation,
		     m->destination);
	if (m->attr_set || m->attr_clr) {
		struct tsr_mount_attr attr = { .attr_set = m->attr_set,
					       .attr_clr = m->attr_clr };
		if (sys_mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE,
				      &attr) < 0)
			fail(STEP, "mount_setattr set 0x%llx clear 0x%llx on %s",
			     (unsigned long long)m->attr_set,
			     (unsigned long long)m->attr_clr, m->destination);
	}
	close(fd);
}

static void mount_one(struct plan_mount *m, int rootfd, const char *label)
{
	bool bind = m->flags & MS_BIND;
	bool dir = true;

	if (!bind && !strcmp(m->type, "cgroup")) {
		cgroupfs_mount(m, rootfd, label);
		apply_attrs(m, rootfd);
		return;
	}
	if (bind) {
		struct stat st;
		if (stat(m->source, &st) < 0)
			fail(STEP, "stat bind source %s for %s", m->source,
			     m->destination);
		dir = S_ISDIR(st.st_mode);
	}
	int fd = in_root_mountpoint(rootfd, m->destination, dir, STEP);
	int hidden = -1;
	if (m->copyup) {
		/* still the image's directory after the tmpfs covers it */
		hidden = open(fd_path(fd), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (hidden < 0)
			fail(STEP, "open %s for tmpcopyup", m->destination);
	}
	if (*m->uidmap) {
		idmap_attach(m, fd);
	} else {
		unsigned long flags = bind ? m->flags & (MS_BIND | MS_REC)
					   : m->flags;
		const char *data = *m->data ? m->data : NULL;
		if (mount(m->source, fd_path(fd), bind ? NULL : m->type, flags,
			  data) < 0)
			fail(STEP, "mount %s on %s (type %s%s%s)", m->source,
			     m->destination, m->type, data ? ", data " : "",
			     data ? data : "");
		/* a bind ignores ro/nosuid/...: apply them with a remount */
		if (bind && (m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT))) {
			int top = in_root_open(rootfd, m->destination, O_PATH);
			if (top < 0)
				fail(STEP, "reopen %s", m->destination);
			remount_bind(STEP, fd_path(top), m->destination,
				     m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT));
			close(top);
		}
	}
	close(fd);
	if (m->relabel)
		lsm_relabel(rootfd, m->destination, m->relabel);
	if (hidden >= 0) {
		int top = in_root_open(rootfd, m->destination, O_RDONLY | O_DIRECTORY);
		if (top < 0)
			fail(STEP, "open the tmpfs on %s", m->destination);
		copyup(hidden, top);
		close(top);
		close(hidden);
	}
	apply_attrs(m, rootfd);
}

void mounts_apply(struct plan *p, int rootfd)
{
	for (size_t i = 0; i < p->n_mounts; i++)
		mount_one(&p->mounts[i], rootfd, p->mount_label);
}
