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
#include <sys/syscall.h>
#include <unistd.h>

#include "error.h"
#include "util.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static struct sock_fprog prog;

void seccomp_prepare(struct plan *p)
{
	if (!p->seccomp_bpf)
		return;
	size_t len = strlen(p->seccomp_bpf);
	if (len == 0 || len % (2 * sizeof(struct sock_filter)) ||
	    len / (2 * sizeof(struct sock_filter)) > BPF_MAXINSNS)
		failx("seccomp", "program of %zu hex digits is not a whole "
		      "number of BPF instructions (at most %d)", len,
		      BPF_MAXINSNS);
	unsigned char *buf = xrealloc(NULL, len / 2);
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hexval(p->seccomp_bpf[2 * i]);
		int lo = hexval(p->seccomp_bpf[2 * i + 1]);
		if (hi < 0 || lo < 0)
			failx("seccomp", "bad hex digit at %zu", 2 * i);
		buf[i] = (unsigned char)(hi << 4 | lo);
	}
	prog.len = (unsigned short)(len / 2 / sizeof(struct sock_filter));
	prog.filter = (struct sock_filter *)buf;
}

void seccomp_load(struct plan *p)
{
	if (!prog.filter)
		return;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		    (unsigned)p->seccomp_flags, &prog) < 0)
		fail("seccomp", "load a filter of %u instructions with flags 0x%x",
		     prog.len, (unsigned)p->seccomp_flags);
	free(prog.filter);
	prog.filter = NULL;
}
