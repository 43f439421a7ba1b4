/* child.c - the child's flow (docs/PLAN-FORMAT.md, "Order of execution"). */
#define _GNU_SOURCE
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caps.h"
#include "devices.h"
#include "error.h"
#include "hooks.h"
#include "lsm.h"
#include "mounts.h"
#include "namespaces.h"
#include "passwd.h"
#include "process.h"
#include "resolve.h"
#include "rootfs.h"
#include "seccomp.h"
#include "shed.h"
#include "sync.h"
#include "terminal.h"
#include "testpause.h"

/* in a user namespace, become its root so that files we create are owned
 * by the mapped root and setgroups/setresuid later work as root */
static void become_ns_root(struct plan *p)
{
	if (!plan_find_ns(p, CLONE_NEWUSER))
		return;
	if (setresgid(0, 0, 0) < 0 && errno != EINVAL)
		fail("user", "setresgid 0 in the user namespace");
	if (setresuid(0, 0, 0) < 0 && errno != EINVAL)
		fail("user", "setresuid 0 in the user namespace");
}

static void set_names(struct plan *p)
{
	if (p->hostname &&
	    sethostname(p->hostname, strlen(p->hostname)) < 0)
		fail("hostname", "sethostname \"%s\"", p->hostname);
	if (p->domainname &&
	    setdomainname(p->domainname, strlen(p->domainname)) < 0)
		fail("domainname", "setdomainname \"%s\"", p->domainname);
}

/* runc's reOpenDevNull: stdio that is the host's /dev/null becomes the
 * container's own, so nothing of the container points at a file outside its
 * mounts (CRIU cannot dump such an fd: "Can't lookup mount"). */
static void reopen_dev_null(void)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		fail("stdio", "open /dev/null in the container");
	struct stat want, st;
	if (fstat(null, &want) < 0)
		fail("stdio", "fstat /dev/null");
	for (int fd = 0; fd < 3; fd++) {
		if (fstat(fd, &st) < 0) {
			if (errno == EBADF)
				continue;
			fail("stdio", "fstat fd %d", fd);
		}
		if (S_ISCHR(st.st_mode) && st.st_rdev == want.st_rdev &&
		    dup3(null, fd, 0) < 0)
			fail("stdio", "reopen /dev/null on fd %d", fd);
	}
	close(null);
}

/* everything that happens inside the rootfs before we switch into it;
 * returns the exec fifo's O_PATH fd (or -1) */
static int setup_rootfs(struct plan *p, int console_fd)
{
	int rootfd = rootfs_prepare(p);
	mounts_apply(p, rootfd);
	devices_apply(p, rootfd);
	symlinks_apply(p, rootfd);
	if (p->terminal)
		terminal_setup(p, rootfd, console_fd, true);
	int fifo = p->execfifo ? execfifo_open_path(p->execfifo) : -1;
	if (p->cwd)
		close(in_root_mkdirs(rootfd, p->cwd, "cwd"));
	/* config.md#posix-platform-hooks: namespaces and mounts exist, the
	 * root is not pivoted yet; the runtime's hooks first, then ours */
	if (p->hooks_sync)
		hooks_sync(err_sync_fd());
	hooks_run(p, "createContainer", "creating");
	test_pause("pivot");
	rootfs_enter(p, rootfd);
	if (!p->terminal)
		reopen_dev_null();
	mounts_remount_ro(p);
	process_sysctl(p);
	test_pause("masked");
	paths_masked(p);
	paths_readonly(p);
	if (p->readonly_rootfs)
		rootfs_readonly();
	rootfs_propagation(p);
	return fifo;
}

/* runc's order (standard_init_linux.go): the seccomp filter, the user and
 * the capabilities are the process's before `ready`, so their errors fail
 * create (or exec) and the startContainer hooks run as the process will,
 * under the filter. Without no_new_privs loading a filter needs
 * CAP_SYS_ADMIN, which the user switch may drop: it comes first; with it,
 * after the switch, so that fewer of our syscalls pass through it. */
static void become_process(struct plan *p)
{
	if (!p->no_new_privs)
		seccomp_load(p);
	caps_and_user(p);
	if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail("no_new_privs", "PR_SET_NO_NEW_PRIVS");
	sched_affinity("cpu_affinity", p->affinity_final);
	if (p->no_new_privs)
		seccomp_load(p);
}

void child_main(struct plan *p, int sync_fd, int release_fd, int console_fd)
{
	int fifo = -1;

	mountsrc_receive(p, release_fd);
	p->host_pid = release_wait(release_fd);
	close(release_fd);
	/* born dumpable when an unprivileged parent had to write our id maps */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		fail("init", "PR_SET_DUMPABLE 0 in the child");
	/* the parent has written our pid through these: no runtime fd stays */
	for (size_t i = 0; i < p->n_cgroups; i++)
		if (p->cgroup_fds && p->cgroup_fds[i] >= 0)
			close(p->cgroup_fds[i]);
	become_ns_root(p);
	/* our cgroup paths, before a cgroup namespace hides them */
	cgroupfs_snapshot();
	ns_child_enter(p);
	test_pause("child");
	/* modes are exact (devices, mount points) until the plan's umask */
	umask(0);

	sched_affinity("cpu_affinity", p->affinity_initial);
	set_names(p);
	if (p->rootfs) {
		fifo = setup_rootfs(p, console_fd);
	} else {
		/* no rootfs: an exec into the container's namespaces */
		if (p->terminal) {
			int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (root < 0)
				fail("terminal", "open /");
			terminal_setup(p, root, console_fd, false);
			close(root);
		}
		if (p->execfifo)
			fifo = execfifo_open_path(p->execfifo);
		process_sysctl(p);
	}
	if (console_fd >= 0 && !p->terminal)
		close(console_fd);
	/* runc's nsexec makes every container process (init and exec) a session
	 * leader; with a terminal terminal_setup already did. CRIU refuses to dump
	 * a tree whose session leader is outside the container without --shell-job. */
	if (!p->terminal && setsid() < 0)
		fail("init", "setsid");
	process_personality(p);
	sched_apply(p);

	umask(p->has_umask ? p->umask : 022);
	if (p->cwd && chdir(p->cwd) < 0)
		fail("cwd", "chdir %s", p->cwd);
	passwd_home(p);
	/* config.md#process: optional at create; such a container waits
	 * here until it is deleted (start refuses it) */
	char *path = p->args ? process_find_exec(p) : NULL;
	seccomp_prepare(p);
	/* as runc: written before `ready`, so a label the kernel refuses fails
	 * create (or exec); the kernel keeps it for our execve */
	lsm_exec_labels(p);
	if (path)
		become_process(p);

	test_pause("ready");
	sync_send(sync_fd, "ready");
	close(sync_fd);
	err_set_sync_fd(-1);
	if (fifo >= 0) {
		shed_memory();
		/* `start` has opened the fifo; it takes the byte only once the
		 * startContainer hooks succeeded, so their failure fails start */
		int wfd = execfifo_wait(fifo, p->execfifo);
		test_pause("fifo");
		hooks_run(p, "startContainer", "created");
		execfifo_release(wfd, p->execfifo);
	}
	if (!path)
		failx("exec", "config.json has no process");
	process_exec(p, path);
}
