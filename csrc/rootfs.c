/* rootfs.c - prepare the rootfs mount and switch to it. */
#define _GNU_SOURCE
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "error.h"
#include "mountinfo.h"
#include "mounts.h"
#include "syscalls.h"
#include "util.h"

#define STEP "rootfs"


static bool is_under(const char *path, const char *mp)
{
	size_t n = strlen(mp);
	if (!strcmp(mp, "/"))
		return true;
	return !strncmp(path, mp, n) && (path[n] == '/' || path[n] == '\0');
}

/* pivot_root refuses a shared parent mount, and binding the rootfs under
 * one would reach the host's peers: find the mount the rootfs is on (the
 * rootfs itself when it is a mount point) and, if it is shared, give it the
 * plan's propagation (private, as runc does, or slave) */
static void parent_mount_unshared(const char *rootfs, unsigned long flags)
{
	char best[4096] = "";
	bool shared = false;
	char *mi = read_file_alloc("/proc/self/mountinfo");
	if (!mi)
		fail(STEP, "read /proc/self/mountinfo");
	struct mountinfo m;
	for (char *cur = mi; mountinfo_next(&cur, &m);) {
		/* later lines are mounted on top: >= keeps the topmost */
		if (is_under(rootfs, m.mountpoint) &&
		    strlen(m.mountpoint) >= strlen(best)) {
			snprintf(best, sizeof(best), "%s", m.mountpoint);
			shared = m.shared;
		}
	}
	free(mi);
	if (shared && mount(NULL, best, NULL, flags, NULL) < 0)
		fail(STEP, "set propagation 0x%lx on the rootfs' parent mount %s",
		     flags, best);
}

/* runc's msMoveRoot: the kernel lets a new proc or sysfs be mounted (from a
 * user namespace made inside the container, too) while a fully visible one
 * is in the mount namespace. pivot_root detaches the host's with the old
 * root; MS_MOVE + chroot leaves them below the new root, so the full mounts
 * (the filesystem's root) of the plan's types outside the rootfs are
 * detached first, or covered with a tmpfs where the kernel refuses (a
 * locked mount) */
static void hide_host_mounts(struct plan *p)
{
	char rootfs[PATH_MAX];
	if (!p->n_nopivot_hide)
		return;
	/* mountinfo's paths are canonical */
	if (!realpath(p->rootfs, rootfs))
		fail(STEP, "resolve %s", p->rootfs);
	char *mi = read_file_alloc("/proc/self/mountinfo");
	if (!mi)
		fail(STEP, "read /proc/self/mountinfo");
	struct mountinfo m;
	for (char *cur = mi; mountinfo_next(&cur, &m);) {
		bool listed = false;
		for (size_t i = 0; i < p->n_nopivot_hide && !listed; i++)
			listed = !strcmp(m.fstype, p->nopivot_hide[i]);
		if (!listed || strcmp(m.root, "/") ||
		    is_under(m.mountpoint, rootfs))
			continue;
		/* so that the detach does not propagate to the host */
		if (mount(NULL, m.mountpoint, NULL, MS_SLAVE | MS_REC, NULL) < 0) {
			if (errno == ENOENT)
				continue; /* under a mount detached before */
			fail(STEP, "make %s rslave", m.mountpoint);
		}
		if (umount2(m.mountpoint, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
			continue;
		if (errno != EINVAL && errno != EPERM)
			fail(STEP, "detach %s", m.mountpoint);
		if (mount("tmpfs", m.mountpoint, "tmpfs", 0, NULL) < 0)
			fail(STEP, "cover %s with a tmpfs", m.mountpoint);
	}
	free(mi);
}

int rootfs_prepare(struct plan *p)
{
	/* New or joined, a mount namespace is the container's own and can be
	 * reshaped; without one (the spec lets the container share the
	 * runtime's), mounts go to the runtime's namespace under the rootfs and
	 * the container is chroot'ed, as runc does. */
	if (plan_find_ns(p, CLONE_NEWNS)) {
		if (p->prop_ns && mount(NULL, "/", NULL, p->prop_ns, NULL) < 0)
			fail(STEP, "set propagation 0x%lx on /", p->prop_ns);
		if (p->prop_parent)
			parent_mount_unshared(p->rootfs, p->prop_parent);
		if (mount(p->rootfs, p->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
			fail(STEP, "bind %s on itself", p->rootfs);
	}
	int fd = open(p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		fail(STEP, "open %s", p->rootfs);
	return fd;
}

void rootfs_enter(struct plan *p, int rootfd)
{
	if (fchdir(rootfd) < 0)
		fail(STEP, "chdir %s", p->rootfs);
	if (!plan_find_ns(p, CLONE_NEWNS)) {
		if (chroot(".") < 0)
			fail(STEP, "chroot %s", p->rootfs);
	} else if (p->nopivot) {
		hide_host_mounts(p);
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
			fail(STEP, "move %s to /", p->rootfs);
		if (chroot(".") < 0)
			fail(STEP, "chroot %s", p->rootfs);
	} else {
		int oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (oldroot < 0)
			fail(STEP, "open the old /");
		if (sys_pivot_root(".", ".") < 0)
			fail(STEP, "pivot_root %s", p->rootfs);
		/* the old root is now stacked on "/": detach it */
		if (fchdir(oldroot) < 0)
			fail(STEP, "chdir to the old root");
		if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
			fail(STEP, "make the old root rslave");
		if (umount2(".", MNT_DETACH) < 0)
			fail(STEP, "detach the old root");
		close(oldroot);
	}
	if (chdir("/") < 0)
		fail(STEP, "chdir /");
	close(rootfd);
}

void rootfs_propagation(struct plan *p)
{
	if (plan_find_ns(p, CLONE_NEWNS) && p->prop_root &&
	    mount(NULL, "/", NULL, p->prop_root, NULL) < 0)
		fail(STEP, "set propagation 0x%lx on the container's /",
		     p->prop_root);
}

void rootfs_readonly(void)
{
	remount_bind("readonly_rootfs", "/", "/", MS_RDONLY);
}
