/* seccomp.c - load the seccomp BPF program compiled by the TypeScript side
 * (libseccomp's seccomp_export_bpf output: raw struct sock_filter array in
 * native byte order, hex encoded in the plan). */
#define _GNU_SOURCE
#include "seccomp.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "error.h"
#include "util.h"

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif

static struct sock_fprog prog;

void seccomp_prepare(struct plan *p)
{
	if (!p->seccomp_bpf)
		return;
	if ((p->seccomp_flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) &&
	    p->seccomp_listener_fd < 0)
		failx("seccomp", "a notify filter needs a seccomp_agent record");
	size_t len;
	unsigned char *buf = hex_decode("seccomp", p->seccomp_bpf, &len);
	if (len == 0 || len % sizeof(struct sock_filter) ||
	    len / sizeof(struct sock_filter) > BPF_MAXINSNS)
		failx("seccomp", "program of %zu bytes is not a whole number of "
		      "BPF instructions (at most %d)", len, BPF_MAXINSNS);
	prog.len = (unsigned short)(len / sizeof(struct sock_filter));
	prog.filter = (struct sock_filter *)buf;
}

void seccomp_listener_connect(struct plan *p)
{
	if (!p->seccomp_listener)
		return;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(p->seccomp_listener) >= sizeof(addr.sun_path))
		fail_errno(ENAMETOOLONG, "seccomp", "listenerPath %s",
			   p->seccomp_listener);
	strcpy(addr.sun_path, p->seccomp_listener);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fail("seccomp", "socket for listenerPath");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		fail("seccomp", "connect listenerPath %s", p->seccomp_listener);
	p->seccomp_listener_fd = fd;
}

/* config-linux.md#containerprocessstate: one sendmsg with the JSON (the
 * plan's parts joined by our pid as the runtime sees it) and the notify fd
 * as SCM_RIGHTS, then the connection is closed */
static void send_notify_fd(struct plan *p, int notify_fd)
{
	char pid[16];
	int pid_len = snprintf(pid, sizeof(pid), "%d", (int)p->host_pid);
	size_t len = 1;
	for (char **s = p->seccomp_message; *s; s++)
		len += strlen(*s) + (size_t)pid_len;
	char *msg = xrealloc(NULL, len), *end = msg;
	for (char **s = p->seccomp_message; *s; s++) {
		end = stpcpy(end, *s);
		if (s[1])
			end = stpcpy(end, pid);
	}
	size_t n = (size_t)(end - msg);
	ssize_t w = send_fd(p->seccomp_listener_fd, notify_fd, msg, n);
	if (w < 0)
		fail("seccomp", "send the notify fd to %s", p->seccomp_listener);
	if ((size_t)w != n)
		failx("seccomp", "short send to %s", p->seccomp_listener);
	close(p->seccomp_listener_fd);
	close(notify_fd);
	p->seccomp_listener_fd = -1;
	free(msg);
}

void seccomp_load(struct plan *p)
{
	if (!prog.filter)
		return;
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			 (unsigned)p->seccomp_flags, &prog);
	if (r < 0)
		fail("seccomp", "load a filter of %u instructions with flags 0x%x",
		     prog.len, (unsigned)p->seccomp_flags);
	free(prog.filter);
	prog.filter = NULL;
	/* with NEW_LISTENER the result is the notify fd: hand it over at
	 * once, a notified syscall of ours would wait for the agent */
	if (p->seccomp_flags & SECCOMP_FILTER_FLAG_NEW_LISTENER)
		send_notify_fd(p, (int)r);
}
