/* devices.c - mknod (or bind the host node) for each device record, and
 * the /dev symlinks (fd, stdin, stdout, stderr, ptmx, ...). */
#define _GNU_SOURCE
#include "devices.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "error.h"
#include "resolve.h"

/* remove an existing non-directory entry so it can be recreated */
static void remove_existing(int dirfd, const char *name, const char *step,
			    const char *path)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		fail(step, "stat %s", path);
	if (S_ISDIR(st.st_mode))
		fail_errno(EISDIR, step, "%s exists", path);
	if (unlinkat(dirfd, name, 0) < 0)
		fail(step, "remove %s", path);
}

/* In a user namespace the host's node at the same path is bound instead of
 * made: it must be that very device, or a record naming a host file (say
 * /etc/shadow, or /dev/../etc/shadow) would bind it into the container. */
static void bind_device(struct plan_device *d, int rootfd)
{
	int src = open(d->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (src < 0)
		fail("device", "open host %s", d->path);
	struct stat st;
	if (fstat(src, &st) < 0)
		fail("device", "stat host %s", d->path);
	mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO
								: S_IFCHR;
	if ((st.st_mode & S_IFMT) != type ||
	    (type != S_IFIFO &&
	     st.st_rdev != makedev((unsigned)d->major, (unsigned)d->minor)))
		failx("device", "host %s is not the device %c %llu:%llu: it cannot be bound",
		      d->path, d->type, (unsigned long long)d->major,
		      (unsigned long long)d->minor);
	int fd = in_root_mountpoint(rootfd, d->path, false, "device");
	if (mount(fd_path(src), fd_path(fd), NULL, MS_BIND, NULL) < 0)
		fail("device", "bind host %s", d->path);
	close(fd);
	close(src);
}

static void make_device(struct plan_device *d, int rootfd)
{
	char name[256];
	mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO
								: S_IFCHR;
	dev_t dev = makedev((unsigned)d->major, (unsigned)d->minor);
	int dir = in_root_parent(rootfd, d->path, name, sizeof(name), "device");
	int r = mknodat(dir, name, type | d->mode, dev);
	if (r < 0 && errno == EEXIST) {
		remove_existing(dir, name, "device", d->path);
		r = mknodat(dir, name, type | d->mode, dev);
	}
	if (r < 0)
		fail("device", "mknod %s (%c %llu:%llu)", d->path, d->type,
		     (unsigned long long)d->major,
		     (unsigned long long)d->minor);
	if (fchownat(dir, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
		fail("device", "chown %s to %u:%u", d->path, d->uid, d->gid);
	close(dir);
}

void devices_apply(struct plan *p, int rootfd)
{
	for (size_t i = 0; i < p->n_devices; i++) {
		if (p->devices[i].bind)
			bind_device(&p->devices[i], rootfd);
		else
			make_device(&p->devices[i], rootfd);
	}
}

void symlinks_apply(struct plan *p, int rootfd)
{
	for (size_t i = 0; i < p->n_symlinks; i++) {
		const char *target = p->symlinks[i].a, *link = p->symlinks[i].b;
		char name[256];
		int dir = in_root_parent(rootfd, link, name, sizeof(name),
					 "symlink");
		int r = symlinkat(target, dir, name);
		if (r < 0 && errno == EEXIST) {
			/* e.g. /dev/ptmx as a node in the image: replace it */
			remove_existing(dir, name, "symlink", link);
			r = symlinkat(target, dir, name);
		}
		if (r < 0)
			fail("symlink", "symlink %s -> %s", link, target);
		close(dir);
	}
}
