/* cgroupfs.c - a mount of type "cgroup".
 *
 * On a cgroup v2-only host /sys/fs/cgroup is cgroup2 and we mount a
 * cgroup2 fs (inside a cgroup namespace it shows the namespace's root).
 *
 * On a v1 or hybrid host (this project's CI: tmpfs on /sys/fs/cgroup with one
 * v1 hierarchy per controller plus cgroup2 on "unified") we do what runc does
 * on v1: a tmpfs at the destination, and for each hierarchy mounted under
 * the host's /sys/fs/cgroup a bind of the container's own cgroup directory
 * (taken from /proc/self/cgroup before a cgroup namespace is unshared) on
 * DEST/<hierarchy name>, remounted with the mount's flags (ro, nosuid, ...).
 * Not done yet: runc's symlinks for co-mounted controllers ("cpu" ->
 * "cpu,cpuacct"); on such hosts the directory keeps the joined name. */
#define _GNU_SOURCE
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "error.h"
#include "mountinfo.h"
#include "resolve.h"
#include "util.h"

#define STEP "mount"
#define CGROUP2_MAGIC 0x63677270

struct hier {
	char *mountpoint;  /* host path under /sys/fs/cgroup */
	char *source;      /* host path of our own cgroup in it */
};

static struct hier *hiers;
static size_t n_hiers;
static bool snapped;


/* every controller of the /proc/self/cgroup line is in the super options */
static bool controllers_match(const char *ctrls, const char *superopts)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", ctrls);
	for (char *save, *c = strtok_r(buf, ",", &save); c;
	     c = strtok_r(NULL, ",", &save)) {
		size_t n = strlen(c);
		const char *s = superopts;
		bool found = false;
		while (*s && !found) {
			const char *e = strchrnul(s, ',');
			found = (size_t)(e - s) == n && !strncmp(s, c, n);
			s = *e ? e + 1 : e;
		}
		if (!found)
			return false;
	}
	return true;
}

/* our cgroup path for a hierarchy, from /proc/self/cgroup */
static const char *own_cgroup(char *cg, const char *fstype,
			      const char *superopts)
{
	static char path[4096];
	char *save, *line;
	char copy[16384];
	snprintf(copy, sizeof(copy), "%s", cg);
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		const char *ctrls = c1 + 1;
		bool v2 = !strcmp(fstype, "cgroup2");
		if (v2 ? *ctrls == '\0' : (*ctrls && controllers_match(ctrls, superopts))) {
			snprintf(path, sizeof(path), "%s", c2 + 1);
			return path;
		}
	}
	return NULL;
}

void cgroupfs_snapshot(void)
{
	static char cg[16384];
	snapped = true;
	char *mi = read_file_alloc("/proc/self/mountinfo");
	if (!mi)
		return;
	if (read_file("/proc/self/cgroup", cg, sizeof(cg)) < 0) {
		free(mi);
		return;
	}
	struct mountinfo m;
	for (char *cur = mi; mountinfo_next(&cur, &m);) {
		if ((strcmp(m.fstype, "cgroup") && strcmp(m.fstype, "cgroup2")) ||
		    strncmp(m.mountpoint, "/sys/fs/cgroup/", 15))
			continue;
		const char *own = own_cgroup(cg, m.fstype, m.superopts);
		if (!own)
			continue;
		/* own is relative to the hierarchy's root; m.root is the root
		 * of this mount within the hierarchy */
		size_t rl = strcmp(m.root, "/") ? strlen(m.root) : 0;
		if (rl && strncmp(own, m.root, rl))
			continue;
		struct hier *h = xpush(&hiers, &n_hiers, sizeof(*h));
		h->mountpoint = strdup(m.mountpoint);
		if (asprintf(&h->source, "%s%s", m.mountpoint, own + rl) < 0 ||
		    !h->mountpoint)
			fail("memory", "cgroup hierarchy %s", m.mountpoint);
	}
	free(mi);
}

void cgroupfs_mount(struct plan_mount *m, int rootfd, const char *label)
{
	char tmpfs_data[4096] = "mode=755";
	struct statfs sf;
	unsigned long flags = m->flags;
	const char *data = *m->data ? m->data : NULL;
	int fd = in_root_mountpoint(rootfd, m->destination, true, STEP);

	if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_MAGIC) {
		if (mount(m->source, fd_path(fd), "cgroup2", flags, data) == 0) {
			close(fd);
			return;
		}
		/* In a user namespace without a cgroup namespace of its own (runc's
		 * rootless template) the kernel refuses a cgroup2 mount: EPERM, or
		 * EBUSY. runc (mountCgroupV2) binds the host's /sys/fs/cgroup then,
		 * remounted with the mount's flags; so do we. */
		if (errno != EPERM && errno != EBUSY)
			fail(STEP, "mount cgroup2 on %s", m->destination);
		int e = errno;
		if (mount("/sys/fs/cgroup", fd_path(fd), NULL, MS_BIND, NULL) < 0)
			fail(STEP, "bind /sys/fs/cgroup on %s (a cgroup2 mount was refused: %s)",
			     m->destination, strerror(e));
		close(fd);
		fd = in_root_open(rootfd, m->destination, O_PATH);
		if (fd < 0)
			fail(STEP, "reopen %s", m->destination);
		if (flags & ~(MS_BIND | MS_REC | MS_REMOUNT))
			remount_bind(STEP, fd_path(fd), m->destination,
				     flags & ~(MS_BIND | MS_REC | MS_REMOUNT));
		close(fd);
		return;
	}
	if (!snapped)
		cgroupfs_snapshot();
	if (label) {
		int n = snprintf(tmpfs_data, sizeof(tmpfs_data),
				 "mode=755,context=\"%s\"", label);
		if (n < 0 || (size_t)n >= sizeof(tmpfs_data))
			fail_errno(ENAMETOOLONG, STEP, "mount label \"%s\"",
				   label);
	}
	if (mount("tmpfs", fd_path(fd), "tmpfs", flags & ~MS_RDONLY,
		  tmpfs_data) < 0)
		fail(STEP, "mount tmpfs for cgroup v1 on %s (data %s)",
		     m->destination, tmpfs_data);
	close(fd);
	for (size_t i = 0; i < n_hiers; i++) {
		char dst[4096];
		snprintf(dst, sizeof(dst), "%s/%s", m->destination,
			 hiers[i].mountpoint + 15);
		int sub = in_root_mountpoint(rootfd, dst, true, STEP);
		if (mount(hiers[i].source, fd_path(sub), NULL, MS_BIND | MS_REC,
			  NULL) < 0)
			fail(STEP, "bind %s on %s", hiers[i].source, dst);
		close(sub);
		sub = in_root_open(rootfd, dst, O_PATH);
		if (sub < 0)
			fail(STEP, "reopen %s", dst);
		if (flags & ~(MS_BIND | MS_REC | MS_REMOUNT))
			remount_bind(STEP, fd_path(sub), dst,
				     flags & ~(MS_BIND | MS_REC | MS_REMOUNT));
		close(sub);
	}
	if (flags & MS_RDONLY) {
		fd = in_root_open(rootfd, m->destination, O_PATH);
		if (fd < 0 || mount(NULL, fd_path(fd), NULL,
				    MS_REMOUNT | (flags & ~(MS_BIND | MS_REC)),
				    "mode=755") < 0)
			fail(STEP, "remount %s read-only", m->destination);
		close(fd);
	}
}
