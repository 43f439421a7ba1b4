/* main.c - tsrun-init's parent flow.
 *
 *   tsrun-init <plan-fd> <sync-fd>
 *
 * Reads the launch plan (docs/PLAN-FORMAT.md), joins the namespaces given by
 * path, clones the child with the new ones, writes its id maps and cgroups,
 * sends "pid N" and releases it. The child (child.c) builds the container
 * and execs the user's process. With the `wait` record the parent stays,
 * forwards signals, and exits with the child's status. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "error.h"
#include "mounts.h"
#include "namespaces.h"
#include "plan.h"
#include "process.h"
#include "seccomp.h"
#include "sync.h"
#include "syscalls.h"
#include "devfilter.h"
#include "relay.h"
#include "terminal.h"
#include "testpause.h"
#include "util.h"

static pid_t child;

static int parse_fd(const char *s)
{
	uint64_t v;
	if (parse_u64(s, &v) < 0 || v > 65535)
		return -1;
	return (int)v;
}

static void forward(int sig)
{
	if (child > 0)
		kill(child, sig);
}

/* signals to the foreground runtime reach the container */
static void forward_signals(void)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1,
				    SIGUSR2, SIGWINCH, SIGCONT, SIGALRM };
	struct sigaction sa = { .sa_handler = forward, .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

static _Noreturn void wait_child(void)
{
	int status;
	pid_t r;
	do
		r = waitpid(child, &status, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		fail("wait", "waitpid %d", child);
	if (WIFEXITED(status))
		exit(WEXITSTATUS(status));
	exit(128 + WTERMSIG(status));
}

/* the host id that container id 0 maps to (0 without a mapping) */
static uint32_t host_id_of_root(const struct plan_idmap *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].container == 0)
			return m[i].host;
	return 0;
}

/* a new user namespace made by a runtime that is not root */
static bool unprivileged_userns(struct plan *p)
{
	struct plan_ns *user = plan_find_ns(p, CLONE_NEWUSER);
	return user && !user->path && geteuid() != 0;
}

int main(int argc, char **argv)
{
	struct plan plan, *p = &plan;

	/* not dumpable: nothing can ptrace us or open /proc/PID/exe */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		fail("init", "PR_SET_DUMPABLE");
	test_pause_init();
	if (argc != 3) {
		fprintf(stderr, "usage: tsrun-init <plan-fd> <sync-fd>\n");
		return 2;
	}
	int plan_fd = parse_fd(argv[1]), sync_fd = parse_fd(argv[2]);
	if (plan_fd < 0 || sync_fd < 0 || plan_fd == sync_fd) {
		fprintf(stderr, "tsrun-init: bad fd arguments\n");
		return 2;
	}
	err_set_sync_fd(sync_fd);

	plan_read(plan_fd, p);
	int low = 3 + (int)p->preserve_fds;
	if (plan_fd < low || sync_fd < low)
		failx("init", "plan fd %d or sync fd %d is a preserved fd (%d)",
		      plan_fd, sync_fd, p->preserve_fds);
	close(plan_fd);
	sync_fd = fd_move_high(sync_fd, low);
	if (sync_fd < 0)
		fail("init", "move the sync fd");
	err_set_sync_fd(sync_fd);
	close_other_fds(p->preserve_fds, &sync_fd, 1);

	ns_open_paths(p);
	ns_open_cgroups(p);
	/* with cgroup_sync the cgroup is made after the clone (a systemd unit) */
	if (!p->cgroup_sync)
		devfilter_attach(p);
	/* before joining anything: idmaps hold host IDs and host paths */
	idmap_prepare(p);
	ns_join_paths(p);
	ns_new_time(p);
	int console_fd = console_connect(p), relay_fd = -1;
	seccomp_listener_connect(p);
	if (p->terminal && console_fd < 0)
		console_fd = relay_socketpair(&relay_fd);
	if (p->execfifo)
		execfifo_create(p->execfifo, host_id_of_root(p->uidmap, p->n_uidmap),
				host_id_of_root(p->gidmap, p->n_gidmap));

	test_pause("plan");
	int rel[2];
	release_init(rel);
	/* A parent that is not root can write the child's setgroups and id
	 * maps (or have newuidmap do it) only while the child is dumpable:
	 * otherwise its /proc files belong to root. The child is born
	 * dumpable and turns it off once released, before anything else. */
	bool dumpable_window = unprivileged_userns(p);
	if (dumpable_window && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		fail("init", "PR_SET_DUMPABLE 1 for the id maps");
	long pid = sys_clone(ns_clone_flags(p) | SIGCHLD, NULL);
	if (pid < 0)
		fail("clone", "clone with flags 0x%lx", ns_clone_flags(p));
	if (pid == 0) {
		close(rel[0]);
		child_main(p, sync_fd, rel[1], console_fd);
	}
	if (dumpable_window && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		fail("init", "PR_SET_DUMPABLE 0");
	child = (pid_t)pid;
	err_set_child(child);
	close(rel[1]);
	if (console_fd >= 0)
		close(console_fd);
	if (p->seccomp_listener_fd >= 0)
		close(p->seccomp_listener_fd);
	for (size_t i = 0; i < p->n_ns; i++)
		if (p->ns[i].fd >= 0)
			close(p->ns[i].fd);
	for (size_t i = 0; i < p->n_mounts; i++)
		if (p->mounts[i].idmap_tree >= 0)
			close(p->mounts[i].idmap_tree);

	sync_send(sync_fd, "pid %d", child);
	if (p->cgroup_sync) {
		sync_wait_continue(sync_fd);
		devfilter_attach(p);
	}
	test_pause("pid");
	ns_write_id_maps(p, child);
	process_limits_of(p, child);
	ns_join_cgroups(p, child);
	mountsrc_send(p, child, rel[0]);
	test_pause("release");
	release_child(rel[0], child);
	close(rel[0]);
	/* from here on the child reports its own errors */
	err_set_child(0);
	close(sync_fd);
	err_set_sync_fd(-1);
	if (p->wait)
		forward_signals();
	if (relay_fd >= 0)
		relay_run(relay_fd);
	if (p->wait)
		wait_child();
	return 0;
}
