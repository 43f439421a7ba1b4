/* copyup.c - the `tmpcopyup` mount option (runc's and crun's extension, which
 * Podman uses for --read-only and --tmpfs): a tmpfs mounted over a directory
 * of the image starts with a copy of what it hides. */
#define _GNU_SOURCE
#include "copyup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

#define STEP "tmpcopyup"

static void copy_file(int from, int to, const char *name, const struct stat *st)
{
	int in = openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		fail(STEP, "open %s", name);
	int out = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			 st->st_mode & 07777);
	if (out < 0)
		fail(STEP, "create %s", name);
	for (off_t left = st->st_size; left > 0;) {
		ssize_t n = sendfile(out, in, NULL, left > INT_MAX ? INT_MAX : (size_t)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail(STEP, "copy %s", name);
		if (n == 0)
			break; /* the file shrank meanwhile */
		left -= n;
	}
	close(in);
	close(out);
}

/* copy what the directory from holds into the directory to, recursively,
 * keeping modes, owners, symlinks and special files */
static void copy_dir(int from, int to, int depth)
{
	if (depth > 64)
		failx(STEP, "directories nested deeper than 64 levels");
	int dup_from = fcntl(from, F_DUPFD_CLOEXEC, 0);
	if (dup_from < 0)
		fail(STEP, "dup a directory fd");
	DIR *d = fdopendir(dup_from);
	if (!d)
		fail(STEP, "read a directory");
	struct dirent *e;
	while ((errno = 0, e = readdir(d))) {
		const char *name = e->d_name;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		struct stat st;
		if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			fail(STEP, "stat %s", name);
		if (S_ISDIR(st.st_mode)) {
			if (mkdirat(to, name, st.st_mode & 07777) < 0)
				fail(STEP, "mkdir %s", name);
			int sub_from = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int sub_to = openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub_from < 0 || sub_to < 0)
				fail(STEP, "open directory %s", name);
			copy_dir(sub_from, sub_to, depth + 1);
			close(sub_from);
			close(sub_to);
		} else if (S_ISREG(st.st_mode)) {
			copy_file(from, to, name, &st);
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(from, name, target, sizeof(target) - 1);
			if (n < 0)
				fail(STEP, "readlink %s", name);
			target[n] = '\0';
			if (symlinkat(target, to, name) < 0)
				fail(STEP, "symlink %s", name);
		} else if (mknodat(to, name, st.st_mode, st.st_rdev) < 0) {
			fail(STEP, "mknod %s", name);
		}
		if (fchownat(to, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
			fail(STEP, "chown %s", name);
		if (!S_ISLNK(st.st_mode) && fchmodat(to, name, st.st_mode & 07777, 0) < 0)
			fail(STEP, "chmod %s", name);
	}
	if (errno)
		fail(STEP, "read a directory");
	closedir(d);
}

void copyup(int hidden_dir, int mounted_dir)
{
	struct stat st;
	if (fstat(hidden_dir, &st) < 0)
		fail(STEP, "stat the directory under the tmpfs");
	copy_dir(hidden_dir, mounted_dir, 0);
	/* the tmpfs root takes the mode and owner of what it covers */
	if (fchown(mounted_dir, st.st_uid, st.st_gid) < 0)
		fail(STEP, "chown the tmpfs root");
	if (fchmod(mounted_dir, st.st_mode & 07777) < 0)
		fail(STEP, "chmod the tmpfs root");
}
