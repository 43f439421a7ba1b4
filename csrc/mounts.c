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
#include "testpause.h"

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

/* top: an fd of the new mount itself, or -1 to look it up again */
static void apply_attrs(struct plan_mount *m, int rootfd, int top)
{
	if (!m->propagation && !m->attr_set && !m->attr_clr)
		return;
	/* reopen: the fd of the mount point is below the new mount */
	int fd = top >= 0 ? top : in_root_open(rootfd, m->destination, O_PATH);
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
	if (fd != top)
		close(fd);
}

/* A bind made as a detached clone and moved onto the mount point's fd: the
 * clone's fd is the new mount itself, so the remount for ro/nosuid/... and
 * the propagation reach it even if the destination path is swapped for a
 * symlink meanwhile (CVE-2021-30465). Returns the clone's fd. */
static int bind_attach(struct plan_mount *m, int fd)
{
	unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC;
	if (m->flags & MS_REC)
		flags |= AT_RECURSIVE;
	int tree = m->source_fd >= 0
			   ? sys_open_tree(m->source_fd, "", flags | AT_EMPTY_PATH)
			   : sys_open_tree(AT_FDCWD, m->source, flags);
	if (tree < 0)
		fail(STEP, "open_tree bind source %s for %s", m->source,
		     m->destination);
	if (sys_move_mount(tree, "", fd, "",
			   MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		fail(STEP, "mount %s on %s (type bind)", m->source,
		     m->destination);
	/* a bind ignores ro/nosuid/...: apply them with a remount */
	unsigned long extra = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
	if (extra)
		remount_bind(STEP, fd_path(tree), m->destination, extra);
	return tree;
}

/* proc and sysfs go on the directory at the destination itself, never where
 * a symlink there points (runc's rule, from the attacks that mounted a
 * procfs through one): an O_NOFOLLOW fd of the mount point, checked */
static int kernel_fs_mountpoint(struct plan_mount *m, int rootfd)
{
	int fd = in_root_open(rootfd, m->destination, O_PATH | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		close(in_root_mountpoint(rootfd, m->destination, true, STEP));
		fd = in_root_open(rootfd, m->destination, O_PATH | O_NOFOLLOW);
	}
	if (fd < 0)
		fail(STEP, "open %s in the rootfs", m->destination);
	struct stat st;
	if (fstat(fd, &st) < 0)
		fail(STEP, "stat %s", m->destination);
	if (!S_ISDIR(st.st_mode))
		failx(STEP, "%s: filesystem \"%s\" must be mounted on ordinary directory",
		      m->destination, m->type);
	return fd;
}

static void mount_one(struct plan_mount *m, int rootfd, const char *label)
{
	bool bind = m->flags & MS_BIND;
	bool dir = true;

	if (!bind && !strcmp(m->type, "cgroup")) {
		cgroupfs_mount(m, rootfd, label);
		apply_attrs(m, rootfd, -1);
		return;
	}
	if (bind) {
		struct stat st;
		if ((m->source_fd >= 0 ? fstat(m->source_fd, &st) : stat(m->source, &st)) < 0)
			fail(STEP, "stat bind source %s for %s", m->source,
			     m->destination);
		dir = S_ISDIR(st.st_mode);
	}
	int fd = !bind && (!strcmp(m->type, "proc") || !strcmp(m->type, "sysfs"))
			 ? kernel_fs_mountpoint(m, rootfd)
			 : in_root_mountpoint(rootfd, m->destination, dir, STEP);
	test_pause("mount:%s", m->destination);
	int hidden = -1;
	if (m->copyup) {
		/* still the image's directory after the tmpfs covers it */
		hidden = open(fd_path(fd), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (hidden < 0)
			fail(STEP, "open %s for tmpcopyup", m->destination);
	}
	int top = -1;
	if (*m->uidmap) {
		idmap_attach(m, fd);
	} else if (bind) {
		top = bind_attach(m, fd);
	} else {
		const char *data = *m->data ? m->data : NULL;
		if (mount(m->source, fd_path(fd), m->type, m->flags, data) < 0)
			fail(STEP, "mount %s on %s (type %s%s%s)", m->source,
			     m->destination, m->type, data ? ", data " : "",
			     data ? data : "");
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
	apply_attrs(m, rootfd, top);
	if (top >= 0)
		close(top);
	if (m->source_fd >= 0) {
		close(m->source_fd);
		m->source_fd = -1;
	}
}

/* Only the mount at the destination, as runc's remountReadonly: what was
 * mounted in it (/dev/pts, /dev/shm) keeps its own flags. */
void mounts_remount_ro(struct plan *p)
{
	int root = -1;
	for (size_t i = 0; i < p->n_mounts; i++) {
		struct plan_mount *m = &p->mounts[i];
		if (!m->ro_later)
			continue;
		if (root < 0 && (root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
			fail(STEP, "open /");
		int fd = in_root_open(root, m->destination, O_PATH);
		if (fd < 0)
			fail(STEP, "reopen %s to make it read-only", m->destination);
		struct tsr_mount_attr attr = { .attr_set = TSR_MOUNT_ATTR_RDONLY };
		if (sys_mount_setattr(fd, "", AT_EMPTY_PATH, &attr) < 0)
			fail(STEP, "make %s read-only", m->destination);
		close(fd);
	}
	if (root >= 0)
		close(root);
}

void mounts_apply(struct plan *p, int rootfd)
{
	for (size_t i = 0; i < p->n_mounts; i++)
		mount_one(&p->mounts[i], rootfd, p->mount_label);
}
