/* main.c - the `tsrun` command callers run: a client that knows nothing of state, cgroups or
 * policy. Every call goes to the warm TypeScript server of its state root (client.c,
 * docs/CLIENT-SERVER.md), or, when there is none or the call is one it does not take, execs
 * Node with the same arguments (the cold path): either way the one TypeScript implementation
 * runs it. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "client.h"

/* the global flags of src/main.ts */
static const struct flag global_flags[] = {
	{ { "root", NULL }, true },	     { { "log", NULL }, true },
	{ { "log-format", NULL }, true },    { { "debug", NULL }, false },
	{ { "systemd-cgroup", NULL }, false }, { { "cgroup-manager", NULL }, true },
	{ { "rootless", NULL }, true },	     { { "criu", NULL }, true },
	{ { "version", "v" }, false },	     { { "help", "h" }, false },
};

/* Not root, or root in a user namespace other than the initial one (rootless Podman). */
static bool rootless_context(void)
{
	struct stat st;
	if (geteuid() != 0)
		return true;
	/* PROC_USER_INIT_INO: the initial user namespace's inode */
	return stat("/proc/self/ns/user", &st) < 0 || st.st_ino != 0xEFFFFFFDU;
}

/* The directory of this binary (<top>/build/Release), which holds tsrun-init. */
static bool self_dir(char *self, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", self, size - 1);
	if (n < 0)
		return false;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (!slash)
		return false;
	*slash = '\0';
	return true;
}

/* dist/tsrun.js next to this build (<top>/build/Release/tsrun -> <top>/dist/tsrun.js),
 * and the node its first line names (the node that built it). */
static bool find_node(struct node_paths *p)
{
	char line[4096];
	if (!self_dir(p->self, sizeof(p->self))) {
		fprintf(stderr, "tsrun: readlink /proc/self/exe: %s\n", strerror(errno));
		return false;
	}
	snprintf(p->js, sizeof(p->js), "%s/../../dist/tsrun.js", p->self);
	FILE *f = fopen(p->js, "re");
	if (!f || !fgets(line, sizeof(line), f)) {
		fprintf(stderr, "tsrun: open %s: %s\n", p->js, f ? "empty file" : strerror(errno));
		if (f)
			fclose(f);
		return false;
	}
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	/* "#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS /usr/bin/node": the last word */
	char *node = strrchr(line, ' ');
	snprintf(p->node, sizeof(p->node), "%s", node ? node + 1 : line + 2);
	return true;
}

static _Noreturn void exec_node(const struct node_paths *p, char **argv)
{
	/* tsrun needs no TLS, and this variable costs tens of ms at every Node start */
	unsetenv("NODE_EXTRA_CA_CERTS");
	int argc = 0;
	while (argv[argc])
		argc++;
	char **nargv = calloc((size_t)argc + 2, sizeof(*nargv));
	if (!nargv) {
		fprintf(stderr, "tsrun: out of memory\n");
		exit(1);
	}
	nargv[0] = (char *)p->node;
	nargv[1] = (char *)p->js;
	for (int i = 1; i < argc; i++)
		nargv[i + 1] = argv[i];
	execv(p->node, nargv);
	fprintf(stderr, "tsrun: exec %s: %s\n", p->node, strerror(errno));
	exit(1);
}

/* TSRUN_SERVER: "off" never uses a server; "auto" uses a running one and starts none; unset or
 * anything else ("on", the default) also starts one when there is none (client.c). */
static const char *server_mode(void)
{
	const char *v = getenv("TSRUN_SERVER");
	return v && (strcmp(v, "off") == 0 || strcmp(v, "auto") == 0) ? v : "on";
}

/* The state root of a call the warm server may take, or NULL for a cold call: the server is
 * off (TSRUN_SERVER=off, or a file <root>/@no-server), the call writes files in the caller's
 * cwd with its umask (spec), makes CRIU its own child with the caller's stdio (checkpoint,
 * restore), stops itself (TSRUN_TEST_PAUSE_AT), runs another tsrun-init (TSRUN_INIT), or its
 * root is a rootless one or a relative path. *launch: the call starts tsrun-init (create, run,
 * exec), which the client then starts itself unless TSRUN_SERVER_LAUNCH=0. */
static const char *server_root(int argc, char **argv, bool *launch)
{
	struct parsed g;
	if (strcmp(server_mode(), "off") == 0 || getenv("TSRUN_TEST_PAUSE_AT") || getenv("TSRUN_INIT") ||
	    rootless_context())
		return NULL;
	if (!parse_flags(argc, argv, 1, global_flags, sizeof(global_flags) / sizeof(global_flags[0]), &g) ||
	    g.first_arg >= argc)
		return NULL;
	const char *cmd = argv[g.first_arg];
	*launch = strcmp(cmd, "create") == 0 || strcmp(cmd, "run") == 0 || strcmp(cmd, "exec") == 0;
	const char *off = getenv("TSRUN_SERVER_LAUNCH");
	if (strcmp(cmd, "spec") == 0 || strcmp(cmd, "checkpoint") == 0 || strcmp(cmd, "restore") == 0 ||
	    (*launch && off && strcmp(off, "0") == 0))
		return NULL;
	const char *root = g.values[0] ? g.values[0] : "/run/tsrun";
	if (root[0] != '/')
		return NULL;
	char setting[4096];
	struct stat st;
	if ((size_t)snprintf(setting, sizeof(setting), "%s/@no-server", root) >= sizeof(setting) ||
	    lstat(setting, &st) == 0)
		return NULL;
	return root;
}

int main(int argc, char **argv)
{
	struct node_paths p;
	if (!find_node(&p))
		return 1;
	bool launch = false;
	const char *root = server_root(argc, argv, &launch);
	if (root) {
		int rc = client_call(&p, root, argv, strcmp(server_mode(), "on") == 0, launch);
		if (rc != CLIENT_COLD)
			return rc;
	}
	if (getenv("TSRUN_TEST_REQUIRE_SERVER")) {
		/* tests: tells a call the server took from one that would run cold */
		fputs("tsrun: not served by a server\n", stderr);
		return 125;
	}
	exec_node(&p, argv);
}
