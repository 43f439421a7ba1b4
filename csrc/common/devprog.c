/* devprog.c - a cgroup v2 device program loaded and attached (devprog.h). */
#define _GNU_SOURCE
#include "devprog.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

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
 * ENOSPC, and a long program's log does. Only a refused program is loaded again for its log,
 * whose last lines (the reason) are moved to the start of vlog. */
static int load_logged(const unsigned char *code, size_t len, char *vlog, size_t vlog_size)
{
	int prog = load(code, len, NULL, 0);
	if (prog >= 0)
		return prog;
	int err = errno;
	vlog[0] = '\0';
	int again = load(code, len, vlog, vlog_size);
	if (again >= 0)
		close(again);
	size_t n = strnlen(vlog, vlog_size - 1);
	vlog[n] = '\0';
	while (n && vlog[n - 1] == '\n')
		vlog[--n] = '\0';
	if (n > 200)
		memmove(vlog, vlog + n - 200, 201);
	errno = err;
	return -1;
}

int devprog_attach(const char *dir, const unsigned char *code, size_t len, const char **what,
		   char *vlog, size_t vlog_size)
{
	*what = "load the device program for";
	if (len == 0 || len % sizeof(struct bpf_insn))
		return EINVAL;
	int prog = load_logged(code, len, vlog, vlog_size);
	if (prog < 0)
		return errno;
	*what = "open cgroup";
	int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		int err = errno;
		close(prog);
		return err;
	}
	*what = "attach the device program to";
	union bpf_attr at;
	memset(&at, 0, sizeof(at));
	at.target_fd = (uint32_t)cg;
	at.attach_bpf_fd = (uint32_t)prog;
	at.attach_type = BPF_CGROUP_DEVICE;
	/* a parent's program (systemd's, say) keeps applying too */
	at.attach_flags = BPF_F_ALLOW_MULTI;
	int r = (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &at, sizeof(at)), err = errno;
	close(cg);
	close(prog);
	return r < 0 ? err : 0;
}
