/* resolve.h - paths inside the rootfs, resolved with openat2(RESOLVE_IN_ROOT)
 * relative to a rootfs dirfd so that no symlink can lead out of it. */
#ifndef TSRUN_RESOLVE_H
#define TSRUN_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>

/* openat2(rootfd, path, flags|O_CLOEXEC, IN_ROOT|NO_MAGICLINKS); -1+errno */
int in_root_open(int rootfd, const char *path, int flags);
/* mkdir -p path (mode 0755) inside the root; returns an O_PATH fd to it */
int in_root_mkdirs(int rootfd, const char *path, const char *step);
/* the parent directory of path (created if missing) as an O_PATH fd; the
 * last component is copied to name */
int in_root_parent(int rootfd, const char *path, char *name, size_t size,
		   const char *step);
/* make sure path exists (a dir, or an empty file when !dir) and return an
 * O_PATH fd to it */
int in_root_mountpoint(int rootfd, const char *path, bool dir,
		       const char *step);
/* "/proc/self/fd/N" for fd (two rotating static buffers) */
const char *fd_path(int fd);

#endif
