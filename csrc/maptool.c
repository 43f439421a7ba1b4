/* maptool.c - id maps written through newuidmap/newgidmap. An unprivileged
 * runtime may write only a map of its own id into a user namespace it
 * made; ranges from /etc/subuid and /etc/subgid need the setuid helpers
 * from the shadow suite, which check them. As runc does, the direct write
 * comes first and the helper is used when the kernel says EPERM. */
#define _GNU_SOURCE
#include "maptool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"

void maptool_run(const char *step, const char *tool, pid_t pid,
		 const struct plan_idmap *m, size_t n)
{
	/* argv: tool pid (c h s)... NULL */
	size_t argc = 2 + 3 * n;
	char **argv = calloc(argc + 1, sizeof(char *));
	char *nums = calloc(argc, 16);
	if (!argv || !nums)
		fail(step, "allocate %zu arguments for %s", argc, tool);
	argv[0] = (char *)tool;
	snprintf(nums, 16, "%d", pid);
	argv[1] = nums;
	for (size_t i = 0; i < n; i++) {
		uint32_t v[3] = { m[i].container, m[i].host, m[i].size };
		for (size_t k = 0; k < 3; k++) {
			char *s = nums + 16 * (2 + 3 * i + k);
			snprintf(s, 16, "%u", v[k]);
			argv[2 + 3 * i + k] = s;
		}
	}
	pid_t child = fork();
	if (child < 0)
		fail(step, "fork for %s", tool);
	if (child == 0) {
		/* stdout would be the container's: the helper's words go to stderr */
		char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
		if (dup2(2, 1) >= 0)
			execve(tool, argv, envp);
		fprintf(stderr, "tsrun-init: %s: run %s: %s\n", step, tool,
			strerror(errno));
		_exit(127);
	}
	int status;
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			fail(step, "wait for %s", tool);
	free(argv);
	free(nums);
	if (WIFSIGNALED(status))
		failx(step, "%s %d: killed by signal %d", tool, pid,
		      WTERMSIG(status));
	if (WEXITSTATUS(status) != 0)
		failx(step, "%s %d: exit status %d (are the ranges in /etc/sub%cid?)",
		      tool, pid, WEXITSTATUS(status),
		      strstr(tool, "gid") ? 'g' : 'u');
}
