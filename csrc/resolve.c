/* resolve.c - safe path resolution and creation inside the rootfs. */
#define _GNU_SOURCE
#include "resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "syscalls.h"

#define RESOLVE (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

int in_root_open(int rootfd, const char *path, int flags)
{
	int fd;
	do
		fd = sys_openat2(rootfd, path, (uint64_t)(flags | O_CLOEXEC), 0,
				 RESOLVE);
	while (fd < 0 && errno == EAGAIN);
	return fd;
}

const char *fd_path(int fd)
{
	static char buf[2][32];
	static int which;
	which ^= 1;
	snprintf(buf[which], sizeof(buf[which]), "/proc/self/fd/%d", fd);
	return buf[which];
}

/* name in dirfd is a symlink whose target does not exist yet: put the path
 * to create instead (the target, relative to dir when it is relative) in
 * out and return 1; 0 when name is not a symlink */
static int dangling_target(int dirfd, const char *name, const char *dir,
			   char *out, size_t size, const char *step)
{
	char target[4096];
	ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
	if (n < 0)
		return 0;
	target[n] = '\0';
	int k = target[0] == '/' ? snprintf(out, size, "%s", target)
				 : snprintf(out, size, "%s/%s", dir, target);
	if (k < 0 || (size_t)k >= size)
		fail_errno(ENAMETOOLONG, step, "symlink %s/%s", dir, name);
	return 1;
}

static int mkdirs(int rootfd, const char *path, const char *step, int depth);

int in_root_mkdirs(int rootfd, const char *path, const char *step)
{
	return mkdirs(rootfd, path, step, 0);
}

/* mkdir -p; a dangling symlink on the way is followed (inside the root)
 * and its target created, as runc's MkdirAllInRoot does */
static int mkdirs(int rootfd, const char *path, const char *step, int depth)
{
	if (depth > 40)
		fail_errno(ELOOP, step, "mkdir %s", path);
	char prefix[4096];
	size_t plen = 0;
	int cur = in_root_open(rootfd, "/", O_PATH | O_DIRECTORY);
	if (cur < 0)
		fail(step, "open rootfs");
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		const char *end = strchrnul(p, '/');
		size_t n = (size_t)(end - p);
		if (n == 0)
			break;
		if (plen + n + 2 >= sizeof(prefix))
			failx(step, "%s: path too long", path);
		prefix[plen++] = '/';
		memcpy(prefix + plen, p, n);
		plen += n;
		prefix[plen] = '\0';
		char comp[256];
		if (n >= sizeof(comp))
			fail_errno(ENAMETOOLONG, step, "%s", path);
		memcpy(comp, p, n);
		comp[n] = '\0';
		p = end;

		int fd = in_root_open(rootfd, prefix, O_PATH | O_DIRECTORY);
		if (fd < 0 && errno == ENOENT) {
			char parent[4096], link[4096];
			snprintf(parent, sizeof(parent), "%.*s",
				 (int)(plen - n - 1), prefix);
			if (mkdirat(cur, comp, 0755) < 0) {
				if (errno != EEXIST)
					fail(step, "mkdir %s", prefix);
				if (dangling_target(cur, comp, parent, link,
						    sizeof(link), step))
					close(mkdirs(rootfd, link, step,
						     depth + 1));
			}
			fd = in_root_open(rootfd, prefix, O_PATH | O_DIRECTORY);
		}
		if (fd < 0)
			fail(step, "open %s in the rootfs", prefix);
		close(cur);
		cur = fd;
	}
	return cur;
}

static void split(const char *path, char *dir, size_t dsize, char *name,
		  size_t nsize, const char *step)
{
	size_t len = strlen(path);
	while (len > 1 && path[len - 1] == '/')
		len--;
	size_t slash = len;
	while (slash > 0 && path[slash - 1] != '/')
		slash--;
	size_t nlen = len - slash;
	if (nlen == 0 || nlen >= nsize || slash >= dsize)
		fail_errno(nlen == 0 ? EINVAL : ENAMETOOLONG, step, "path %s",
			   path);
	memcpy(name, path + slash, nlen);
	name[nlen] = '\0';
	memcpy(dir, path, slash);
	dir[slash] = '\0';
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		fail_errno(EINVAL, step, "path %s", path);
}

int in_root_parent(int rootfd, const char *path, char *name, size_t size,
		   const char *step)
{
	char dir[4096];
	split(path, dir, sizeof(dir), name, size, step);
	return in_root_mkdirs(rootfd, dir, step);
}

static int mountpoint(int rootfd, const char *path, bool dir,
		      const char *step, int depth)
{
	if (depth > 40)
		fail_errno(ELOOP, step, "%s", path);
	int fd = in_root_open(rootfd, path, O_PATH);
	if (fd >= 0)
		return fd;
	if (errno != ENOENT)
		fail(step, "open %s in the rootfs", path);
	char name[256], pdir[4096], link[4096];
	split(path, pdir, sizeof(pdir), name, sizeof(name), step);
	int parent = mkdirs(rootfd, pdir, step, depth);
	if (dangling_target(parent, name, pdir, link, sizeof(link), step)) {
		close(parent);
		return mountpoint(rootfd, link, dir, step, depth + 1);
	}
	if (dir) {
		if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST)
			fail(step, "mkdir %s", path);
	} else {
		int f = openat(parent, name,
			       O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC |
				       O_NOFOLLOW | O_NOCTTY,
			       0644);
		if (f < 0 && errno != EEXIST)
			fail(step, "create %s", path);
		if (f >= 0)
			close(f);
	}
	close(parent);
	fd = in_root_open(rootfd, path, O_PATH);
	if (fd < 0)
		fail(step, "open %s in the rootfs", path);
	return fd;
}

int in_root_mountpoint(int rootfd, const char *path, bool dir,
		       const char *step)
{
	return mountpoint(rootfd, path, dir, step, 0);
}
