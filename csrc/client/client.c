/* client.c - the client half of the warm server (docs/CLIENT-SERVER.md, src/server).
 *
 * The client knows nothing of state or policy: it hands its argv, environment, cwd (as an fd)
 * and stdio to the server of its state root and build, and exits with the status the server
 * answers. Any failure before the server has taken the whole request leaves the call to the
 * cold path (Node started for this call alone), which is the same code; once the server has
 * taken it, the call is the server's, and is never made twice. */
#define _GNU_SOURCE
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <dirent.h>
#include <poll.h>
#include <spawn.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/proc.h"
#include "../common/wire.h"

extern char **environ;

/* A new build is a new server: the identity of the three files a call runs. */
static bool build_id(const struct node_paths *p, char out[17])
{
	char paths[3][4096 + 32];
	snprintf(paths[0], sizeof(paths[0]), "%s/tsrun", p->self);
	snprintf(paths[1], sizeof(paths[1]), "%s/tsrun_native.node", p->self);
	snprintf(paths[2], sizeof(paths[2]), "%s/../../dist/tsrun-main.js", p->self);
	unsigned long long key[3 * 5];
	for (int i = 0; i < 3; i++) {
		struct stat st;
		if (stat(paths[i], &st) < 0)
			return false;
		key[i * 5] = st.st_dev;
		key[i * 5 + 1] = st.st_ino;
		key[i * 5 + 2] = (unsigned long long)st.st_size;
		key[i * 5 + 3] = (unsigned long long)st.st_mtim.tv_sec;
		key[i * 5 + 4] = (unsigned long long)st.st_mtim.tv_nsec;
	}
	snprintf(out, 17, "%016llx", fnv1a64((const unsigned char *)key, sizeof(key)));
	return true;
}

/* After WIRE_PENDING, the wait for WIRE_ACCEPTED is this many times the first one. */
#define PENDING_FACTOR 6

/* ms to wait for the server's first answer (TSRUN_SERVER_TIMEOUT_MS). */
static int accept_timeout(void)
{
	const char *v = getenv("TSRUN_SERVER_TIMEOUT_MS");
	long ms = v ? strtol(v, NULL, 10) : 0;
	return ms > 0 && ms < INT_MAX ? (int)ms : 10000;
}

/* The server runs outside the caller's tree: a caller such as conmon or containerd's shim is a
 * subreaper and would adopt a server started below it, and its scope would hold it. Where
 * systemd runs, the server is a transient service of its own (systemd-run). Elsewhere it is
 * double-forked, and serves only if its pid namespace's init adopted it: under a subreaper it
 * exits at once (a zombie the subreaper reaps), and calls stay cold until a caller outside one
 * starts the server (docs/CLIENT-SERVER.md). The start is not waited for: this call runs cold,
 * the next ones find the server. Two clients may start one at once: the unit name, or else
 * the server's lock, lets one stay. */
static void start_server(const struct node_paths *p, const char *root, const char *build)
{
	struct stat st;
	bool systemd = stat("/run/systemd/system", &st) == 0;
	char unit[96], setenv_arg[4096 + 64] = "";
	snprintf(unit, sizeof(unit), "--unit=tsrun-server-%s-%016llx", build,
		 fnv1a64((const unsigned char *)root, strlen(root)));
	const char *pause = getenv("TSRUN_TEST_SERVER_PAUSE_AT");
	if (pause)
		snprintf(setenv_arg, sizeof(setenv_arg), "--setenv=TSRUN_TEST_SERVER_PAUSE_AT=%s", pause);
	pid_t pid = fork();
	if (pid < 0)
		return;
	if (pid == 0) {
		if (setsid() < 0)
			_exit(0);
		pid_t mid = getpid();
		if (fork() != 0)
			_exit(0);
		prctl(PR_SET_NAME, "tsrun-server", 0, 0, 0);
		if (!systemd) {
			/* the intermediate exits at once; then the orphan's new parent is known */
			for (int i = 0; i < 1000 && getppid() == mid; i++)
				usleep(1000);
			if (getppid() != 1)
				_exit(0);
		}
		int nul = open("/dev/null", O_RDWR);
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(nul, 2) < 0 || chdir("/") < 0)
			_exit(1);
		/* musl has no wrapper for it; the server's stdio is set, what is left is not needed */
		syscall(SYS_close_range, 3, ~0U, 0);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (int s = 1; s < NSIG; s++)
			signal(s, SIG_DFL);
		unsetenv("NODE_EXTRA_CA_CERTS");
		if (systemd) {
			char *const args[] = { "systemd-run", "--quiet", "--collect", "--no-block", unit,
					       "--property=KillMode=mixed", setenv_arg[0] ? setenv_arg : "--quiet",
					       (char *)p->node, (char *)p->js, "--tsrun-server", (char *)root,
					       (char *)build, NULL };
			execvp(args[0], args);
			_exit(127);
		}
		char *const args[] = { (char *)p->node, (char *)p->js, "--tsrun-server", (char *)root,
				       (char *)build, NULL };
		execv(p->node, args);
		_exit(127);
	}
	int status;
	wait_retrying(pid, &status);
}

/* argv then the environment, each NUL-terminated (csrc/common/wire.h). */
static char *payload(char **argv, uint32_t *argc, uint32_t *size)
{
	size_t n = 0;
	uint32_t a = 0;
	for (char **v = argv; *v; v++, a++)
		n += strlen(*v) + 1;
	for (char **e = environ; *e; e++)
		n += strlen(*e) + 1;
	if (n > WIRE_MAX_PAYLOAD)
		return NULL;
	char *buf = malloc(n ? n : 1), *q = buf;
	if (!buf)
		return NULL;
	for (char **v = argv; *v; v++)
		q = stpcpy(q, *v) + 1;
	for (char **e = environ; *e; e++)
		q = stpcpy(q, *e) + 1;
	*argc = a;
	*size = (uint32_t)n;
	return buf;
}

/* Reads exactly n bytes, waiting at most timeout_ms (-1: no limit): n, 0 at EOF, -1 with errno. */
static ssize_t read_answer(int sock, void *buf, size_t n, int timeout_ms)
{
	size_t got = 0;
	while (got < n) {
		struct pollfd pfd = { sock, POLLIN, 0 };
		int r = poll(&pfd, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		ssize_t k = read(sock, (char *)buf + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0) {
			errno = 0; /* EOF, not an error: "no exit status" */
			return 0;
		}
		got += (size_t)k;
	}
	return (ssize_t)n;
}

/* A connection to the server of root and build, checked to be this uid's; -1 if none. */
static int connect_server(const char *sock_path, bool *absent)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	*absent = false;
	if (strlen(sock_path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, sock_path);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	int r;
	do
		r = connect(s, (struct sockaddr *)&sa, sizeof(sa));
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		/* none yet, or a stale socket of one that died */
		*absent = errno == ENOENT || errno == ECONNREFUSED;
		close(s);
		return -1;
	}
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != geteuid()) {
		close(s);
		return -1;
	}
	return s;
}

/* The highest fd open now. */
static int highest_fd(void)
{
	int high = 2;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && atoi(e->d_name) > high)
			high = atoi(e->d_name);
	closedir(d);
	return high;
}

/* tsrun-init, started here so that the container descends from the caller, with every fd the
 * caller gave this process (it keeps the preserved ones the plan names and closes the rest)
 * and the plan and sync sockets above them. Its pid, with the server's ends in ends[0..1]; or
 * -1 with nothing left. */
static pid_t start_init(const struct node_paths *p, int ends[2])
{
	int plan[2], sync[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, plan) < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync) < 0) {
		close(plan[0]), close(plan[1]);
		return -1;
	}
	int high = highest_fd();
	char path[4096 + 16], plan_arg[16], sync_arg[16];
	snprintf(path, sizeof(path), "%s/tsrun-init", p->self);
	snprintf(plan_arg, sizeof(plan_arg), "%d", high + 1);
	snprintf(sync_arg, sizeof(sync_arg), "%d", high + 2);
	char *const argv[] = { path, plan_arg, sync_arg, NULL };
	char *const envp[] = { NULL };
	pid_t pid = -1;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t all, none;
	sigfillset(&all);
	sigemptyset(&none);
	if (high >= 2 && posix_spawn_file_actions_init(&fa) == 0) {
		if (posix_spawnattr_init(&attr) == 0) {
			if (posix_spawn_file_actions_adddup2(&fa, plan[1], high + 1) != 0 ||
			    posix_spawn_file_actions_adddup2(&fa, sync[1], high + 2) != 0 ||
			    posix_spawnattr_setsigdefault(&attr, &all) != 0 ||
			    posix_spawnattr_setsigmask(&attr, &none) != 0 ||
			    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK) != 0 ||
			    posix_spawn(&pid, path, &fa, &attr, argv, envp) != 0)
				pid = -1;
			posix_spawnattr_destroy(&attr);
		}
		posix_spawn_file_actions_destroy(&fa);
	}
	close(plan[1]);
	close(sync[1]);
	if (pid < 0) {
		close(plan[0]);
		close(sync[0]);
		return -1;
	}
	ends[0] = plan[0];
	ends[1] = sync[0];
	return pid;
}

static bool send_ints(int sock, char type, const int32_t *v, int n)
{
	char buf[1 + 4 * 4];
	buf[0] = type;
	memcpy(buf + 1, v, sizeof(int32_t) * (size_t)n);
	return send(sock, buf, 1 + 4 * (size_t)n, MSG_NOSIGNAL) == (ssize_t)(1 + 4 * (size_t)n);
}

/* A pid, a count and that many signals (WIRE_FORWARD, WIRE_FOREGROUND). */
static bool read_signals(int sock, int32_t *pid, int *sigs, int *n)
{
	int32_t head[2];
	if (read_answer(sock, head, sizeof(head), -1) != (ssize_t)sizeof(head) || head[1] < 0 ||
	    head[1] > WIRE_MAX_SIGNALS)
		return false;
	*pid = head[0];
	*n = head[1];
	int32_t s32[WIRE_MAX_SIGNALS];
	if (*n && read_answer(sock, s32, sizeof(int32_t) * (size_t)*n, -1) != (ssize_t)(sizeof(int32_t) * (size_t)*n))
		return false;
	for (int i = 0; i < *n; i++)
		sigs[i] = s32[i];
	return true;
}

/* After WIRE_ACCEPTED: the server's questions about tsrun-init (wire.h), until its exit status.
 * 0 with *code set, or -1 when the server went away (errno). */
static int converse(int sock, pid_t init, bool *reaped, int32_t *code)
{
	for (;;) {
		char type;
		ssize_t r = read_answer(sock, &type, 1, -1);
		if (r <= 0)
			return -1;
		int32_t v, pid, answer;
		int sigs[WIRE_MAX_SIGNALS], n, c = -1;
		const char *what = "";
		switch (type) {
		case WIRE_EXIT:
			return read_answer(sock, code, sizeof(*code), -1) == (ssize_t)sizeof(*code) ? 0 : -1;
		case WIRE_WAIT:
			if (!init || read_answer(sock, &v, sizeof(v), -1) != (ssize_t)sizeof(v))
				return -1;
			answer = -1;
			if (!*reaped && wait_exit(init, v, &c) == 0)
				*reaped = true, answer = c;
			if (!send_ints(sock, WIRE_WAITED, &answer, 1))
				return -1;
			break;
		case WIRE_FORWARD:
			if (!init || !read_signals(sock, &pid, sigs, &n))
				return -1;
			forward_signals(pid, sigs, n, NULL);
			answer = 0;
			if (!send_ints(sock, WIRE_FORWARDING, &answer, 1))
				return -1;
			break;
		case WIRE_FOREGROUND:
			if (!init || !read_signals(sock, &pid, sigs, &n))
				return -1;
			answer = -1;
			if (!*reaped && wait_forwarding(init, pid, sigs, n, &c, &what) == 0)
				*reaped = true, answer = c;
			if (!send_ints(sock, WIRE_WAITED, &answer, 1))
				return -1;
			break;
		default:
			errno = EPROTO;
			return -1;
		}
	}
}

int client_call(const struct node_paths *p, const char *root, char **argv, bool start, bool launch)
{
	char build[17], sock_path[4096];
	if (!build_id(p, build))
		return CLIENT_COLD;
	if ((size_t)snprintf(sock_path, sizeof(sock_path), "%s/@server/%s.sock", root, build) >=
	    sizeof(sock_path))
		return CLIENT_COLD;
	bool absent;
	int s = connect_server(sock_path, &absent);
	if (s < 0) {
		struct stat st;
		/* a root that does not exist holds no container to serve yet */
		if (start && absent && stat(root, &st) == 0 && S_ISDIR(st.st_mode))
			start_server(p, root, build);
		return CLIENT_COLD;
	}
	int fds[6], ends[2] = { -1, -1 };
	pid_t init = 0;
	bool reaped = false;
	fds[0] = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	fds[1] = 0, fds[2] = 1, fds[3] = 2;
	uint32_t argc = 0, size = 0;
	char *data = payload(argv, &argc, &size);
	/* a closed stdio fd cannot be passed: such a call runs cold, as it always did */
	bool ok = fds[0] >= 0 && data && fcntl(0, F_GETFD) >= 0 && fcntl(1, F_GETFD) >= 0 &&
		  fcntl(2, F_GETFD) >= 0;
	if (ok && launch) {
		init = start_init(p, ends);
		ok = init > 0;
		fds[4] = ends[0], fds[5] = ends[1];
	}
	ok = ok && wire_send(s, fds, init > 0 ? 6 : 4, argc, data, size, init > 0 ? (uint32_t)init : 0) == 0;
	free(data);
	if (fds[0] >= 0)
		close(fds[0]);
	/* the server holds its own copies now: tsrun-init sees EOF once the server is done */
	for (int i = 0; i < 2; i++)
		if (ends[i] >= 0)
			close(ends[i]);
	/* A server whose main thread does not answer at once is hung. One that does may still
	 * have to start a worker for the call, which a loaded host can make slow: that wait is
	 * bounded too, more loosely. */
	char a;
	int waited = accept_timeout();
	ssize_t r = ok ? read_answer(s, &a, 1, waited) : 0;
	if (r > 0 && a == WIRE_PENDING) {
		waited += PENDING_FACTOR * accept_timeout();
		r = read_answer(s, &a, 1, PENDING_FACTOR * accept_timeout());
	}
	if (r < 0 && errno == ETIMEDOUT) {
		fprintf(stderr,
			"tsrun: the server at %s did not take the call within %d ms (TSRUN_SERVER=off runs "
			"without it)\n",
			sock_path, waited);
		return 1;
	}
	if (r <= 0 || a != WIRE_ACCEPTED) {
		/* closed before taking the call: nothing of it was done; the unused tsrun-init
		 * ends at the EOF of its plan */
		close(s);
		if (init > 0) {
			int st;
			wait_retrying(init, &st);
		}
		return CLIENT_COLD;
	}
	/* The server makes the call only once it has this: a client that timed out above never
	 * sends it, so a call it reported as not taken is never made later. A send that fails
	 * finds the server gone: converse then reads its EOF. */
	char go = WIRE_CONFIRMED;
	(void)!send(s, &go, 1, MSG_NOSIGNAL);
	int32_t code;
	int c = converse(s, init, &reaped, &code);
	int err = errno;
	close(s);
	if (c < 0) {
		fprintf(stderr, "tsrun: the server at %s ended during the call: %s\n", sock_path,
			err == 0 || err == EPROTO ? "no exit status" : strerror(err));
		return 1;
	}
	if (init > 0 && !reaped) {
		int st;
		wait_retrying(init, &st);
	}
	return code;
}
