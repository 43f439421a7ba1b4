/* devfilter.c - cgroup v2 device control: the runtime compiles the device
 * rules into a BPF_PROG_TYPE_CGROUP_DEVICE program; this loads it and
 * attaches it to the container's cgroup before the container exists. */
#define _GNU_SOURCE
#include "devfilter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "error.h"
#include "util.h"

#define STEP "device_filter"

/* The verifier's account of a refused program; the reason is at its end. */
static char verifier_log[65536];

static int load(const unsigned char *code, size_t len, char *log, size_t log_size)
{
	union bpf_attr load;
	memset(&load, 0, sizeof(load));
	load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	load.insns = (uint64_t)(uintptr_t)code;
	load.insn_cnt = (uint32_t)(len / sizeof(struct bpf_insn));
	load.license = (uint64_t)(uintptr_t)"Apache";
	load.log_buf = (uint64_t)(uintptr_t)log;
	load.log_size = (uint32_t)log_size;
	load.log_level = log ? 1 : 0;
	return (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load));
}

/* Loads without a log: before Linux 6.4 a log that outgrows its buffer fails the load with
 * ENOSPC, and a long program's log does. Only a refused program is loaded again for its log. */
static int load_or_fail(const char *dir, const unsigned char *code, size_t len)
{
	int prog = load(code, len, NULL, 0);
	if (prog >= 0)
		return prog;
	int err = errno;
	verifier_log[0] = '\0';
	int again = load(code, len, verifier_log, sizeof(verifier_log));
	if (again >= 0)
		close(again);
	size_t n = strnlen(verifier_log, sizeof(verifier_log));
	while (n && verifier_log[n - 1] == '\n')
		verifier_log[--n] = '\0';
	const char *tail = n > 200 ? verifier_log + n - 200 : verifier_log;
	fail_errno(err, STEP, "load the device program for %s (verifier: %s)", dir, tail);
}

void devfilter_attach(struct plan *p)
{
	for (size_t i = 0; i < p->n_devfilters; i++) {
		const char *dir = p->devfilters[i].a, *hex = p->devfilters[i].b;
		size_t len;
		unsigned char *code = hex_decode(STEP, hex, &len);
		if (len == 0 || len % sizeof(struct bpf_insn))
			failx(STEP, "program of %zu bytes is not whole instructions", len);
		int prog = load_or_fail(dir, code, len);
		int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cg < 0)
			fail(STEP, "open cgroup %s", dir);
		union bpf_attr at;
		memset(&at, 0, sizeof(at));
		at.target_fd = (uint32_t)cg;
		at.attach_bpf_fd = (uint32_t)prog;
		at.attach_type = BPF_CGROUP_DEVICE;
		/* a parent's program (systemd's, say) keeps applying too */
		at.attach_flags = BPF_F_ALLOW_MULTI;
		if (syscall(SYS_bpf, BPF_PROG_ATTACH, &at, sizeof(at)) < 0)
			fail(STEP, "attach the device program to %s", dir);
		close(cg);
		close(prog);
		free(code);
	}
}
