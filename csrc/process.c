/* process.c - sysctl, rlimits, oom_score_adj, personality, PATH lookup and
 * execve. */
#define _GNU_SOURCE
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "util.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

void process_sysctl(struct plan *p)
{
	for (size_t i = 0; i < p->n_sysctls; i++) {
		char path[4096];
		const char *key = p->sysctls[i].a;
		int n = snprintf(path, sizeof(path), "/proc/sys/%s", key);
		if (n < 0 || (size_t)n >= sizeof(path))
			fail_errno(ENAMETOOLONG, "sysctl", "%s", key);
		for (char *c = path + 10; *c; c++)
			if (*c == '.')
				*c = '/';
		if (strstr(path, "/../") || strstr(path, "/./"))
			fail_errno(EINVAL, "sysctl", "%s", key);
		write_file("sysctl", path, p->sysctls[i].b);
	}
}

/* Run by the parent (host credentials) on the child before its release,
 * as runc does: in a user namespace the child could neither raise a hard
 * limit nor write its own oom_score_adj (its /proc files belong to the
 * host's root while it is not dumpable). */
void process_limits_of(struct plan *p, pid_t pid)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		struct plan_rlimit *r = &p->rlimits[i];
		struct rlimit rl = { .rlim_cur = r->soft, .rlim_max = r->hard };
		if (prlimit(pid, (__rlimit_resource_t)r->resource, &rl, NULL) < 0)
			fail("rlimit", "prlimit resource %d soft %llu hard %llu",
			     r->resource, (unsigned long long)r->soft,
			     (unsigned long long)r->hard);
	}
	if (p->has_oom_score_adj) {
		char buf[32], path[64];
		snprintf(buf, sizeof(buf), "%lld", (long long)p->oom_score_adj);
		snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", pid);
		write_file("oom_score_adj", path, buf);
	}
}

void process_personality(struct plan *p)
{
	if (p->has_personality && personality(p->personality) < 0)
		fail("personality", "personality 0x%lx", p->personality);
}

static const char *env_path(struct plan *p)
{
	for (char **e = p->env; *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			return *e + 5;
	return DEFAULT_PATH;
}

/* Callers read the errno text: Podman and Docker make "permission denied" exit 126 and "no
 * such file or directory" / "executable file not found" 127. So, as runc 1.1.5 (Go's
 * exec.LookPath): a directory or a file without x is EACCES, and a name not found in PATH is
 * ENOENT whatever the candidates were. */
static bool executable(const char *path, int *err, bool *is_dir)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		*err = errno;
		return false;
	}
	if (is_dir)
		*is_dir = S_ISDIR(st.st_mode);
	if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111)) {
		*err = EACCES;
		return false;
	}
	return true;
}

char *process_find_exec(struct plan *p)
{
	const char *prog = p->args[0];
	int err = ENOENT;
	bool is_dir = false;
	if (strchr(prog, '/')) {
		if (!executable(prog, &err, &is_dir))
			fail_errno(err, "exec", "\"%s\"%s", prog, is_dir ? " is a directory" : "");
		return (char *)prog;
	}
	if (!*prog)
		fail_errno(ENOENT, "exec", "empty program name");
	const char *path = env_path(p);
	for (const char *dir = path;;) {
		const char *end = strchrnul(dir, ':');
		char *cand;
		int n = (int)(end - dir);
		if (asprintf(&cand, "%.*s%s%s", n, n ? dir : ".", "/", prog) < 0)
			fail("memory", "PATH lookup of %s", prog);
		int e;
		if (executable(cand, &e, NULL))
			return cand;
		free(cand);
		if (!*end)
			break;
		dir = end + 1;
	}
	fail_errno(err, "exec", "\"%s\": executable file not found in $PATH",
		   prog);
}

_Noreturn void process_exec(struct plan *p, const char *path)
{
	/* preserved fds are the container's: they survive execve */
	for (unsigned i = 0; i < p->preserve_fds; i++) {
		int fd = 3 + (int)i, fl = fcntl(fd, F_GETFD);
		if (fl >= 0 && (fl & FD_CLOEXEC))
			fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
	}
	execve(path, p->args, p->env);
	fail("exec", "execve \"%s\"", path);
}
