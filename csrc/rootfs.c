/* rootfs.c - prepare the rootfs mount and switch to it. */
#define _GNU_SOURCE
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "error.h"
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
	static char mi[65536];
	char best[4096] = "";
	bool shared = false;
	if (read_file("/proc/self/mountinfo", mi, sizeof(mi)) < 0)
		fail(STEP, "read /proc/self/mountinfo");
	char *save;
	for (char *line = strtok_r(mi, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *s2, *tok = strtok_r(line, " ", &s2);
		char *mp = NULL;
		bool sh = false;
		for (int i = 0; tok; i++, tok = strtok_r(NULL, " ", &s2)) {
			if (i == 4)
				mp = tok;
			if (i >= 6 && !strcmp(tok, "-"))
				break;
			if (i >= 6 && !strncmp(tok, "shared:", 7))
				sh = true;
		}
		if (!mp)
			continue;
		mountinfo_unescape(mp);
		/* later lines are mounted on top: >= keeps the topmost */
		if (is_under(rootfs, mp) && strlen(mp) >= strlen(best)) {
			snprintf(best, sizeof(best), "%s", mp);
			shared = sh;
		}
	}
	if (shared && mount(NULL, best, NULL, flags, NULL) < 0)
		fail(STEP, "set propagation 0x%lx on the rootfs' parent mount %s",
		     flags, best);
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
