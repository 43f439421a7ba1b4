/* exec.c - `exec` of a process whose plan an earlier, identical exec saved
 * (exec_plan.h): start tsrun-init with that plan, as src/container/exec.ts
 * does, with the same sync protocol (docs/PLAN-FORMAT.md), pid file, waiting,
 * signal forwarding and error texts. Everything else is delegated: a plan not
 * saved yet, a container that is not created or running, a pid file whose
 * directory is not writable, a --process that is not a regular file (a pipe can
 * be read only once, and that read is Node's), any test-only variable. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/proc.h"
#include "args.h"
#include "commands.h"
#include "exec_plan.h"
#include "log.h"
#include "readfile.h"
#include "state.h"

/* src/cli/commands/exec.ts's flags, in its order */
enum { F_CONSOLE, F_CWD, F_ENV, F_TTY, F_USER, F_GIDS, F_PROCESS, F_DETACH, F_PID_FILE, F_LABEL,
       F_APPARMOR, F_NNP, F_CAP, F_PRESERVE, F_CGROUP, F_IGNORE_PAUSED, F_COUNT };
static const struct flag exec_flags[F_COUNT] = {
	{ { "console-socket", NULL }, true }, { { "cwd", NULL }, true },
	{ { "env", "e" }, true },	      { { "tty", "t" }, false },
	{ { "user", "u" }, true },	      { { "additional-gids", "g" }, true },
	{ { "process", "p" }, true },	      { { "detach", "d" }, false },
	{ { "pid-file", NULL }, true },	      { { "process-label", NULL }, true },
	{ { "apparmor", NULL }, true },	      { { "no-new-privs", NULL }, false },
	{ { "cap", "c" }, true },	      { { "preserve-fds", NULL }, true },
	{ { "cgroup", NULL }, true },	      { { "ignore-paused", NULL }, false },
};

/* src/container/foreground.ts */
static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT };

/* How long a parent that should be exiting is waited for (launch.ts REAP_MS). */
#define REAP_MS 5000

/* Test-only variables change plans (usable() in src/container/exec-plans.ts). */
static bool test_env(void)
{
	extern char **environ;
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "TSRUN_", 6) == 0 && strncmp(*e, "TSRUN_FRONT_", 12) != 0)
			return true;
	return false;
}

/* The pid file as exec.ts writes it: ".<name>" beside it, renamed over it. */
static bool pid_file_paths(const char *path, char *dir, char *tmp)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int len = !slash ? 1 : slash == path ? 1 : (int)(slash - path);
	return *base && snprintf(dir, PATH_MAX, "%.*s", len, slash ? path : ".") < PATH_MAX &&
	       snprintf(tmp, PATH_MAX, "%s/.%s", dir, base) < PATH_MAX;
}

static bool write_pid_file(const char *path, const char *tmp, pid_t pid)
{
	char text[32];
	int n = snprintf(text, sizeof(text), "%d", (int)pid);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0)
		return false;
	bool ok = write(fd, text, (size_t)n) == n;
	int err = errno;
	if (close(fd) < 0 && ok)
		ok = false, err = errno;
	if (ok && rename(tmp, path) == 0)
		return true;
	err = ok ? errno : err;
	unlink(tmp);
	errno = err;
	return false;
}

/* As runc (and exec.ts): an exec that fails once its arguments are read exits 255 with
 * "exec failed: ...", which the exec'd process's own status can't be confused with. */
#define EXEC_FAILED 255

static int exec_failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int exec_failed(const char *fmt, ...)
{
	char msg[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("exec failed: %s", msg);
	return EXEC_FAILED;
}

static int fail_launched(pid_t pid, pid_t parent, int sync, const char *msg)
{
	if (sync >= 0)
		close(sync);
	int code;
	wait_exit(parent, REAP_MS, &code);
	if (pid > 0)
		kill(pid, SIGKILL);
	return exec_failed("%s", msg);
}

/* launch() and the rest of execProcess() in src/container/exec.ts, from the plan on. */
static int run_plan(const char *init, const struct exec_plan *e, const char *pid_file)
{
	char dir[PATH_MAX], tmp[PATH_MAX], msg[4200];
	/* a pid file that can't be written fails after the launch, in Node's words */
	if (pid_file && (!pid_file_paths(pid_file, dir, tmp) || access(dir, W_OK | X_OK) < 0))
		return DELEGATE;
	int plan_sv[2], sync_sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, plan_sv) < 0)
		return exec_failed("socketpair: %s", strerror(errno));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync_sv) < 0) {
		int err = errno;
		close(plan_sv[0]);
		close(plan_sv[1]);
		return exec_failed("socketpair: %s", strerror(err));
	}
	int n = 3 + e->preserve_fds + 2, fds[1024 + 5];
	for (int i = 0; i < n - 2; i++)
		fds[i] = i;
	fds[n - 2] = plan_sv[1];
	fds[n - 1] = sync_sv[1];
	char plan_arg[16], sync_arg[16];
	snprintf(plan_arg, sizeof(plan_arg), "%d", n - 2);
	snprintf(sync_arg, sizeof(sync_arg), "%d", n - 1);
	char *argv[] = { (char *)init, plan_arg, sync_arg, NULL }, *envp[] = { NULL };
	pid_t parent;
	int bad_fd;
	int err = spawn_fds(init, argv, envp, fds, n, &parent, &bad_fd);
	close(plan_sv[1]);
	close(sync_sv[1]);
	if (err) {
		close(plan_sv[0]);
		close(sync_sv[0]);
		if (bad_fd >= 0)
			return exec_failed("start tsrun-init: spawn %s: fd %d: %s", init, bad_fd, strerror(err));
		return exec_failed("start tsrun-init: spawn %s: %s", init, strerror(err));
	}
	/* EPIPE: tsrun-init exited before reading it all; its exit is reported below. */
	for (size_t off = 0; off < e->plan_len;) {
		ssize_t w = send(plan_sv[0], e->plan + off, e->plan_len - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(plan_sv[0]);

	int sync = sync_sv[0];
	const int nsigs = (int)(sizeof(forwarded) / sizeof(forwarded[0]));
	pid_t pid = 0;
	char line[4096];
	size_t have = 0;
	for (;;) {
		char *nl = memchr(line, '\n', have);
		if (!nl) {
			ssize_t r = have < sizeof(line) ? read(sync, line + have, sizeof(line) - have) : -1;
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			have += (size_t)r;
			continue;
		}
		*nl = '\0';
		size_t used = (size_t)(nl - line) + 1;
		if (strncmp(line, "pid ", 4) == 0) {
			pid = (pid_t)atoi(line + 4);
			/* a foreground exec's signals go to its process as soon as there is one */
			if (!e->detach && pid > 0 && forward_signals(pid, forwarded, nsigs, NULL) < 0)
				return fail_launched(pid, parent, sync, "sigaction: cannot forward signals");
		} else if (strcmp(line, "hooks") == 0) {
			return fail_launched(pid, parent, sync, "tsrun-init stopped for hooks the plan does not have");
		} else if (strcmp(line, "ready") == 0) {
			close(sync);
			int code = 0;
			if (e->detach)
				wait_exit(parent, REAP_MS, &code);
			if (pid_file && !write_pid_file(pid_file, tmp, pid)) {
				int werr = errno;
				kill(pid, SIGKILL);
				return exec_failed("write pid file %s: %s", pid_file, strerror(werr));
			}
			if (e->detach)
				return 0;
			const char *what = "";
			if (wait_forwarding(parent, pid, forwarded, nsigs, &code, &what) < 0)
				return exec_failed("%s: %s", what, strerror(errno));
			return code;
		} else if (strncmp(line, "error ", 6) == 0) {
			snprintf(msg, sizeof(msg), "%s", line + 6);
			return fail_launched(pid, parent, sync, msg);
		}
		memmove(line, line + used, have - used);
		have -= used;
	}
	close(sync);
	int code = 0;
	int r = wait_exit(parent, REAP_MS, &code);
	if (pid > 0)
		kill(pid, SIGKILL);
	if (r == 0)
		return exec_failed("container init exited before it was ready (status %d)", code);
	return exec_failed("container init exited before it was ready (status unknown)");
}

/* stdio and the preserved fds are handed on as they are. Node opens /dev/null on a closed
 * stdio fd at its start, and words the error for a closed preserved one: both are Node's. */
static bool fds_open(int n)
{
	for (int fd = 0; fd < 3 + n; fd++)
		if (fcntl(fd, F_GETFD) < 0)
			return false;
	return true;
}

int cmd_exec(const char *root, const char *self_dir, int argc, char **argv)
{
	struct parsed p;
	if (test_env() || !parse_flags(argc, argv, 0, exec_flags, F_COUNT, &p) || p.first_arg >= argc ||
	    !valid_id(argv[p.first_arg]))
		return DELEGATE;
	const char *process = p.values[F_PROCESS], *pid_file = p.values[F_PID_FILE];
	if ((!process && argc - p.first_arg < 2) || (pid_file && !*pid_file))
		return DELEGATE;
	char dir[4096], main_js[PATH_MAX], init[PATH_MAX], config_path[4200];
	if (!container_dir(dir, root, argv[p.first_arg]) ||
	    snprintf(main_js, sizeof(main_js), "%s/../../dist/tsrun-main.js", self_dir) >= (int)sizeof(main_js) ||
	    snprintf(init, sizeof(init), "%s/tsrun-init", self_dir) >= (int)sizeof(init) ||
	    snprintf(config_path, sizeof(config_path), "%s/config.json", dir) >= (int)sizeof(config_path))
		return DELEGATE;

	/* the plan holds the console socket's absolute path: a relative one depends on the cwd */
	char cwd[PATH_MAX];
	const char *console = p.values[F_CONSOLE];
	bool relative_console = console && console[0] != '/';
	if (relative_console && !getcwd(cwd, sizeof(cwd)))
		return DELEGATE;

	struct saved_state s;
	char *state_bytes = NULL, *config_bytes = NULL, *process_bytes = NULL;
	struct exec_inputs in = { .dist_main = main_js, .init = init, .argc = argc,
				  .cwd = relative_console ? cwd : NULL };
	if (state_load_bytes(dir, &s, &state_bytes, &in.state_len) != LOAD_OK)
		return DELEGATE;
	enum status st = state_status(dir, &s);
	state_free(&s);
	/* the key: argv with the values of --pid-file and --process cut, as withoutValues() */
	int cut[] = { F_PID_FILE, F_PROCESS };
	char **keyargv = calloc((size_t)argc + 1, sizeof(char *));
	struct buf key = { 0 };
	struct exec_plan plan = { 0 };
	int rc = DELEGATE, err;
	if ((st != ST_RUNNING && st != ST_CREATED) || !keyargv)
		goto out;
	for (int i = 0; i < argc; i++)
		keyargv[i] = argv[i];
	for (size_t k = 0; k < 2; k++) {
		int at = p.value_index[cut[k]];
		if (at >= 0 && !(keyargv[at] = strndup(argv[at], (size_t)(p.values[cut[k]] - argv[at]))))
			goto out;
	}
	in.argv = keyargv;
	in.state = state_bytes;
	in.config = config_bytes = read_all(config_path, &in.config_len, &err);
	if (process)
		in.process = process_bytes = read_regular(process, &in.process_len, &err);
	if (in.config && (!process || in.process) && exec_plan_key(&in, &key) &&
	    exec_plan_find(dir, &key, &plan) && fds_open(plan.preserve_fds))
		rc = run_plan(init, &plan, pid_file);
out:
	/* the cut arguments are the only ones this function allocated */
	for (size_t k = 0; keyargv && k < 2; k++) {
		int at = p.value_index[cut[k]];
		if (at >= 0 && keyargv[at] != argv[at])
			free(keyargv[at]);
	}
	free(keyargv);
	free(state_bytes);
	free(config_bytes);
	free(process_bytes);
	free(plan.file);
	buf_free(&key);
	return rc;
}
