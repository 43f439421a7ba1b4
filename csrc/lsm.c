/* lsm.c - AppArmor and SELinux labels. TypeScript decides which labels
 * apply (docs/PLAN-FORMAT.md); this file only writes them. */
#define _GNU_SOURCE
#include "lsm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "error.h"
#include "resolve.h"
#include "util.h"

#define AA_EXEC "/proc/thread-self/attr/apparmor/exec"
#define ATTR_EXEC "/proc/thread-self/attr/exec"

/* libapparmor's aa_change_onexec: "exec PROFILE" into the AppArmor attr
 * dir, or the shared attr file of kernels without per-LSM dirs */
static void apparmor_onexec(const char *profile)
{
	struct stat st;
	const char *path = AA_EXEC;
	char buf[4096];

	if (stat(path, &st) < 0) {
		if (errno != ENOENT)
			fail("apparmor", "stat %s", path);
		path = ATTR_EXEC;
	}
	int n = snprintf(buf, sizeof(buf), "exec %s", profile);
	if (n < 0 || (size_t)n >= sizeof(buf))
		fail_errno(ENAMETOOLONG, "apparmor", "profile \"%s\"", profile);
	if (try_write_file(path, buf, (size_t)n) < 0)
		fail("apparmor", "write \"%s\" to %s", buf, path);
}

void lsm_exec_labels(struct plan *p)
{
	if (p->apparmor_profile)
		apparmor_onexec(p->apparmor_profile);
	if (p->selinux_label &&
	    try_write_file(ATTR_EXEC, p->selinux_label,
			   strlen(p->selinux_label)) < 0)
		fail("selinux", "write \"%s\" to %s", p->selinux_label,
		     ATTR_EXEC);
}

void lsm_relabel(int rootfd, const char *destination, const char *label)
{
	int fd = in_root_open(rootfd, destination, O_PATH);
	if (fd < 0)
		fail("mount", "reopen %s to label it", destination);
	/* an O_PATH fd takes no fsetxattr: go through its /proc link */
	if (setxattr(fd_path(fd), "security.selinux", label, strlen(label),
		     0) < 0)
		fail("mount", "set security.selinux \"%s\" on %s", label,
		     destination);
	close(fd);
}
