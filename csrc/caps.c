/* caps.c - capset with the five sets; the user switch in the middle.
 * Order: PR_CAPBSET_DROP (needs CAP_SETPCAP, so before anything is lost);
 * PR_SET_KEEPCAPS; setgroups, setresgid, setresuid; capset of
 * effective/permitted/inheritable; ambient raised last (it must be a
 * subset of permitted and inheritable). Capabilities this kernel does not
 * know (above cap_last_cap) are ignored, as runc does. */
#define _GNU_SOURCE
#include "caps.h"

#include <errno.h>
#include <sys/stat.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "error.h"

static int last_cap(void)
{
	static int last = -1;
	if (last < 0) {
		/* probe instead of reading /proc, which may be masked */
		last = 0;
		while (last < 63 && prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0)
			last++;
	}
	return last;
}

static uint64_t known(uint64_t set)
{
	int last = last_cap();
	return last >= 63 ? set : set & ((1ULL << (last + 1)) - 1);
}

/* A non-root user must still be able to reopen its own stdio (/dev/stdout,
 * /proc/self/fd/1) when the caller handed over pipes it owns, and to use the
 * terminal made for it, so stdio changes owner, as runc's fixStdioPermissions
 * does. Only the owner: the group stays (devpts gives a pty its tty group,
 * gid=5 in the default mounts, and runc keeps it). Of devices only the pty
 * made for the process (own_pty) is chowned: the others are shared
 * (/dev/null) or the caller's (its terminal). An owner the user namespace
 * can't map (EINVAL, EPERM) or a read-only fs (EROFS) means leaving stdio
 * alone rather than failing. */
static void fix_stdio_owner(uid_t uid, bool own_pty)
{
	for (int fd = 0; fd <= 2; fd++) {
		struct stat st;
		if (fstat(fd, &st) < 0) {
			if (errno == EBADF)
				continue;
			fail("user", "fstat stdio fd %d", fd);
		}
		if (st.st_uid == uid || ((S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) && !own_pty))
			continue;
		if (fchown(fd, uid, (gid_t)-1) < 0 && errno != EINVAL &&
		    errno != EPERM && errno != EROFS)
			fail("user", "fchown stdio fd %d to uid %u", fd, uid);
	}
}

static void set_user(struct plan *p)
{
	if (p->has_groups &&
	    setgroups(p->n_groups, p->n_groups ? p->groups : NULL) < 0)
		fail("groups", "setgroups (%zu groups)", p->n_groups);
	if (!p->has_user)
		return;
	if (p->uid != 0)
		fix_stdio_owner(p->uid, p->terminal);
	if (setresgid(p->gid, p->gid, p->gid) < 0)
		fail("user", "setresgid %u", p->gid);
	if (setresuid(p->uid, p->uid, p->uid) < 0)
		fail("user", "setresuid %u", p->uid);
}

void caps_and_user(struct plan *p)
{
	if (p->has_caps[CAP_BOUNDING]) {
		uint64_t keep = p->caps[CAP_BOUNDING];
		for (int c = 0; c <= last_cap(); c++)
			if (!(keep & (1ULL << c)) &&
			    prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
				fail("caps", "drop capability %d from the bounding set",
				     c);
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		fail("caps", "PR_SET_KEEPCAPS");
	set_user(p);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		fail("caps", "PR_SET_KEEPCAPS");

	bool any = p->has_caps[CAP_EFFECTIVE] || p->has_caps[CAP_PERMITTED] ||
		   p->has_caps[CAP_INHERITABLE];
	if (any) {
		struct __user_cap_header_struct hdr = {
			.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
		struct __user_cap_data_struct data[2] = { 0 };
		if (syscall(SYS_capget, &hdr, data) < 0)
			fail("caps", "capget");
		uint64_t cur[3] = {
			data[0].effective | (uint64_t)data[1].effective << 32,
			data[0].permitted | (uint64_t)data[1].permitted << 32,
			data[0].inheritable | (uint64_t)data[1].inheritable << 32,
		};
		int sets[3] = { CAP_EFFECTIVE, CAP_PERMITTED, CAP_INHERITABLE };
		for (int i = 0; i < 3; i++)
			if (p->has_caps[sets[i]])
				cur[i] = known(p->caps[sets[i]]);
		data[0].effective = (uint32_t)cur[0];
		data[1].effective = (uint32_t)(cur[0] >> 32);
		data[0].permitted = (uint32_t)cur[1];
		data[1].permitted = (uint32_t)(cur[1] >> 32);
		data[0].inheritable = (uint32_t)cur[2];
		data[1].inheritable = (uint32_t)(cur[2] >> 32);
		if (syscall(SYS_capset, &hdr, data) < 0)
			fail("caps", "capset effective 0x%llx permitted 0x%llx "
			     "inheritable 0x%llx", (unsigned long long)cur[0],
			     (unsigned long long)cur[1], (unsigned long long)cur[2]);
	}
	if (p->has_caps[CAP_AMBIENT]) {
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
			fail("caps", "clear the ambient set");
		uint64_t amb = known(p->caps[CAP_AMBIENT]);
		/* A capability outside permitted or inheritable cannot be ambient
		 * (EPERM); runc skips it rather than failing, and configs such as
		 * the default `spec` rely on that. */
		for (int c = 0; c <= last_cap(); c++)
			if ((amb & (1ULL << c)) &&
			    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0 &&
			    errno != EPERM)
				fail("caps", "raise ambient capability %d", c);
	}
}
