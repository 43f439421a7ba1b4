/* paths.c - masked and readonly paths, after pivot_root.
 * These use the new mount API (open_tree/fsmount/move_mount onto an fd) so
 * they work whether or not the container has /proc mounted. Missing paths
 * are skipped, as the spec says. */
#define _GNU_SOURCE
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "error.h"
#include "resolve.h"
#include "syscalls.h"

static int open_root(const char *step)
{
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		fail(step, "open /");
	return fd;
}

/* O_PATH fd of path, or -1 when it does not exist */
static int open_existing(int rootfd, const char *path, const char *step)
{
	int fd = in_root_open(rootfd, path, O_PATH);
	if (fd < 0 && errno != ENOENT && errno != ENOTDIR)
		fail(step, "open %s", path);
	return fd;
}

/* A clone of the container's /dev/null, checked to be the null device
 * itself and not followed through a symlink: whatever else is there (a
 * link to a procfs file, a file the container wrote) would be bound over
 * the masked paths, readable and writable (CVE-2025-31133). */
static int null_tree(int rootfd, const char *step)
{
	int fd = in_root_open(rootfd, "/dev/null", O_PATH | O_NOFOLLOW);
	if (fd < 0)
		fail(step, "open /dev/null to mask files with");
	struct stat st;
	if (fstat(fd, &st) < 0)
		fail(step, "stat /dev/null");
	if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
		failx(step, "/dev/null is not the null device (mode 0%o, device %u:%u): it cannot mask files",
		      st.st_mode, major(st.st_rdev), minor(st.st_rdev));
	int tree = sys_open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
						 AT_EMPTY_PATH);
	if (tree < 0)
		fail(step, "open_tree /dev/null");
	close(fd);
	return tree;
}

static void attach(int tree, int fd, const char *step, const char *path)
{
	if (sys_move_mount(tree, "", fd, "",
			   MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		fail(step, "mount on %s", path);
	close(tree);
}

void paths_masked(struct plan *p)
{
	const char *step = "masked";
	if (!p->n_masked)
		return;
	int rootfd = open_root(step);
	for (size_t i = 0; i < p->n_masked; i++) {
		const char *path = p->masked[i];
		int fd = open_existing(rootfd, path, step);
		if (fd < 0)
			continue;
		struct stat st;
		if (fstat(fd, &st) < 0)
			fail(step, "stat %s", path);
		int tree;
		if (S_ISDIR(st.st_mode)) {
			int fs = sys_fsopen("tmpfs", FSOPEN_CLOEXEC);
			if (fs < 0)
				fail(step, "create a tmpfs for %s", path);
			/* linux.mountLabel, as runc labels its masking tmpfs */
			if (p->mount_label &&
			    sys_fsconfig(fs, FSCONFIG_SET_STRING, "context",
					 p->mount_label, 0) < 0)
				fail(step, "set context \"%s\" on the tmpfs for %s",
				     p->mount_label, path);
			if (sys_fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
				fail(step, "create a tmpfs for %s", path);
			tree = sys_fsmount(fs, FSMOUNT_CLOEXEC,
					   TSR_MOUNT_ATTR_RDONLY);
			if (tree < 0)
				fail(step, "fsmount a tmpfs for %s", path);
			close(fs);
		} else {
			tree = null_tree(rootfd, step);
		}
		attach(tree, fd, step, path);
		close(fd);
	}
	close(rootfd);
}

void paths_readonly(struct plan *p)
{
	const char *step = "readonly";
	if (!p->n_readonly)
		return;
	int rootfd = open_root(step);
	for (size_t i = 0; i < p->n_readonly; i++) {
		const char *path = p->readonly[i];
		int fd = open_existing(rootfd, path, step);
		if (fd < 0)
			continue;
		int tree = sys_open_tree(fd, "",
					 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
						 AT_RECURSIVE | AT_EMPTY_PATH);
		if (tree < 0)
			fail(step, "open_tree %s", path);
		/* the clone keeps what is mounted below (MS_REC in runc's
		 * bind) but only its top goes read-only, as runc's remount:
		 * readonlyPaths /dev leaves /dev/shm and /dev/pts writable */
		struct tsr_mount_attr attr = { .attr_set = TSR_MOUNT_ATTR_RDONLY };
		if (sys_mount_setattr(tree, "", AT_EMPTY_PATH, &attr) < 0)
			fail(step, "make %s read-only", path);
		attach(tree, fd, step, path);
		close(fd);
	}
	close(rootfd);
}
