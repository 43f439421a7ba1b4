/*
 * probe: runs inside a container and prints ONE JSON object describing what the process sees.
 *
 *   probe                       the process description only
 *   probe stat PATH... read FILE...
 *                               plus "stat": lstat + writability of each PATH, and
 *                               "read": the contents of each FILE (its first MiB at most).
 *                               "stat"/"read" switch the mode for the paths that follow;
 *                               they may be mixed.
 *
 * Conventions of the output:
 * - a value the probe could not obtain is {"errno": "ENAME"} (strerrorname_np);
 * - rlimits: {"RLIMIT_X": {"soft": N, "hard": N}}, RLIM_INFINITY is printed as -1;
 * - capability sets are the hex strings of /proc/self/status (CapInh, CapPrm, CapEff, CapBnd,
 *   CapAmb), NoNewPrivs and Seccomp its numbers;
 * - namespaces: the readlink text of /proc/self/ns/X ("net:[4026531840]"), null if absent;
 * - mounts: one object per /proc/self/mountinfo line, fields unescaped.
 * Exit status: 0 when the JSON was written, 1 if writing it failed.
 *
 * Build: conformance/build-probe.sh (gcc -static -O2 -Wall -Wextra -Werror; probe-util.c
 * holds the JSON writer and file helpers).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "probe.h"

extern char **environ;

/* ---- sections ---- */

static void identity(void)
{
	struct utsname u;
	int un = uname(&u) == 0 ? 0 : errno;
	key("hostname");
	if (!un) jstr(u.nodename); else jerr(un);
	key("domainname");
	if (!un) jstr(u.domainname); else jerr(un);
	key("pid"), jnum(getpid());
	key("ppid"), jnum(getppid());
	key("uid"), jnum(getuid());
	key("gid"), jnum(getgid());
	key("euid"), jnum(geteuid());
	key("egid"), jnum(getegid());
	gid_t groups[NGROUPS_MAX];
	int ng = getgroups(NGROUPS_MAX, groups);
	key("groups");
	if (ng < 0) {
		jerr(errno);
	} else {
		begin('[');
		for (int i = 0; i < ng; i++)
			jnum(groups[i]);
		end(']');
	}
	mode_t m = umask(0);
	umask(m);
	key("umask"), jnum(m);
	char cwd[PATH_MAX];
	key("cwd");
	if (getcwd(cwd, sizeof cwd)) jstr(cwd); else jerr(errno);
	key("env"), begin('[');
	for (char **e = environ; e && *e; e++)
		jstr(*e);
	end(']');
}

static void security(void)
{
	static const char *const sets[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"};
	char *status = read_file("/proc/self/status", NULL);
	int status_errno = errno;
	char v[128];
	key("caps");
	if (!status) {
		jerr(status_errno);
	} else {
		begin('{');
		for (size_t i = 0; i < sizeof sets / sizeof *sets; i++)
			key(sets[i]), jstr(status_field(status, sets[i], v, sizeof v));
		end('}');
	}
	key("noNewPrivs");
	if (status && status_field(status, "NoNewPrivs", v, sizeof v)) jnum(atoll(v)); else jstr(NULL);
	key("seccomp");
	if (status && status_field(status, "Seccomp", v, sizeof v)) jnum(atoll(v)); else jstr(NULL);
	free(status);
	int d = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	key("dumpable");
	if (d < 0) jerr(errno); else jnum(d);
	char *oom = read_file("/proc/self/oom_score_adj", NULL);
	key("oomScoreAdj");
	if (oom) jnum(atoll(oom)); else jerr(errno);
	free(oom);
}

static void limits(void)
{
	static const char *const names[] = {"RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK",
		"RLIMIT_CORE", "RLIMIT_RSS", "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS",
		"RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME"};
	key("rlimits"), begin('{');
	for (int r = 0; r < 16; r++) {
		struct rlimit rl;
		key(names[r]);
		if (getrlimit(r, &rl) < 0) {
			jerr(errno);
			continue;
		}
		begin('{');
		key("soft"), jnum(rl.rlim_cur == RLIM_INFINITY ? -1 : (long long)rl.rlim_cur);
		key("hard"), jnum(rl.rlim_max == RLIM_INFINITY ? -1 : (long long)rl.rlim_max);
		end('}');
	}
	end('}');
}

static void scheduling(void)
{
	int pers = personality(0xffffffff);
	key("personality");
	if (pers < 0) jerr(errno); else jnum(pers);
	key("scheduler"), begin('{');
	int pol = sched_getscheduler(0);
	key("policy");
	if (pol < 0) jerr(errno); else jnum(pol);
	struct sched_param sp;
	key("priority");
	if (sched_getparam(0, &sp) < 0) jerr(errno); else jnum(sp.sched_priority);
	errno = 0;
	int nice = getpriority(PRIO_PROCESS, 0);
	key("nice");
	if (nice == -1 && errno) jerr(errno); else jnum(nice);
	end('}');
	long io = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);
	key("ioprio");
	if (io < 0) {
		jerr(errno);
	} else {
		begin('{');
		key("class"), jnum(io >> 13);
		key("priority"), jnum(io & 0x1fff);
		end('}');
	}
	cpu_set_t set;
	key("cpus");
	if (sched_getaffinity(0, sizeof set, &set) < 0) {
		jerr(errno);
	} else {
		begin('[');
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set))
				jnum(c);
		end(']');
	}
}

static void namespaces(void)
{
	static const char *const types[] = {"pid", "net", "mnt", "ipc", "uts", "user", "cgroup", "time"};
	key("ns"), begin('{');
	for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
		char path[64], target[128];
		snprintf(path, sizeof path, "/proc/self/ns/%s", types[i]);
		ssize_t n = readlink(path, target, sizeof target - 1);
		key(types[i]);
		if (n >= 0) jstrn(target, (size_t)n);
		else if (errno == ENOENT) jstr(NULL);
		else jerr(errno);
	}
	end('}');
	key("cgroup"), lines_of("/proc/self/cgroup");
}

static void fds(void)
{
	key("fds");
	DIR *d = opendir("/proc/self/fd");
	if (!d) {
		jerr(errno);
		return;
	}
	begin('[');
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		int fd = atoi(de->d_name);
		if (fd == dirfd(d))
			continue;
		char target[PATH_MAX];
		ssize_t n = readlinkat(dirfd(d), de->d_name, target, sizeof target - 1);
		begin('{');
		key("fd"), jnum(fd);
		key("target");
		if (n >= 0) jstrn(target, (size_t)n); else jerr(errno);
		end('}');
		errno = 0;
	}
	if (errno)
		jerr(errno);
	end(']');
	closedir(d);
}

static void mounts(void)
{
	key("mounts");
	char *text = read_file("/proc/self/mountinfo", NULL);
	if (!text) {
		jerr(errno);
		return;
	}
	begin('[');
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		/* id parent maj:min root mountpoint options [optional...] - fstype source superoptions */
		char *f[6], *s2 = NULL;
		int i = 0;
		char *dash = strstr(l, " - ");
		if (!dash)
			continue;
		*dash = '\0';
		/* exactly 6 tokens: what strtok_r leaves are the optional fields */
		for (char *t = l; i < 6 && (t = strtok_r(i ? NULL : t, " ", &s2)); i++)
			f[i] = t;
		if (i < 6)
			continue;
		begin('{');
		key("id"), jnum(atoll(f[0]));
		key("parent"), jnum(atoll(f[1]));
		key("majmin"), jstr(f[2]);
		key("root"), jstr(unescape(f[3]));
		key("mountpoint"), jstr(unescape(f[4]));
		key("options"), jstr(f[5]);
		key("optional"), begin('[');
		for (char *t = strtok_r(NULL, " ", &s2); t; t = strtok_r(NULL, " ", &s2))
			jstr(t);
		end(']');
		char *s3 = NULL, *fstype = strtok_r(dash + 3, " ", &s3);
		char *source = strtok_r(NULL, " ", &s3), *super = strtok_r(NULL, " ", &s3);
		key("fstype"), jstr(fstype);
		key("source"), jstr(source ? unescape(source) : NULL);
		key("superOptions"), jstr(super);
		end('}');
	}
	end(']');
	free(text);
}

static const char *type_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "file";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "symlink";
	case S_IFCHR: return "char";
	case S_IFBLK: return "block";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "socket";
	default: return "unknown";
	}
}

/* lstat, and whether the path is writable: access(W_OK), then a real open for writing
 * (O_WRONLY for files and char devices, O_TMPFILE for dirs: nothing is created or truncated). */
static void stat_path(const char *path)
{
	struct stat st;
	begin('{');
	key("path"), jstr(path);
	if (lstat(path, &st) < 0) {
		key("error"), jerr(errno);
		end('}');
		return;
	}
	key("type"), jstr(type_name(st.st_mode));
	key("mode"), jnum(st.st_mode & 07777);
	key("uid"), jnum(st.st_uid);
	key("gid"), jnum(st.st_gid);
	key("size"), jnum(st.st_size);
	key("rdevMajor"), jnum(major(st.st_rdev));
	key("rdevMinor"), jnum(minor(st.st_rdev));
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(path, target, sizeof target - 1);
		key("link");
		if (n >= 0) jstrn(target, (size_t)n); else jerr(errno);
	}
	key("access");
	if (access(path, W_OK) == 0) jstr("ok"); else jerr(errno);
	int fd = -1;
	key("open");
	if (S_ISREG(st.st_mode) || S_ISCHR(st.st_mode))
		fd = open(path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	else if (S_ISDIR(st.st_mode))
		fd = open(path, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	else {
		jstr(NULL);
		end('}');
		return;
	}
	if (fd >= 0) {
		jstr("ok");
		close(fd);
	} else {
		jerr(errno);
	}
	end('}');
}

static void read_path(const char *path)
{
	size_t n = 0;
	char *text = read_file(path, &n);
	begin('{');
	key("path"), jstr(path);
	if (text) key("content"), jstrn(text, n);
	else key("error"), jerr(errno);
	end('}');
	free(text);
}

int main(int argc, char **argv)
{
	begin('{');
	key("argv"), begin('[');
	for (int i = 0; i < argc; i++)
		jstr(argv[i]);
	end(']');
	identity();
	security();
	limits();
	scheduling();
	namespaces();
	fds();
	mounts();
	for (int pass = 0; pass < 2; pass++) {
		const char *want = pass == 0 ? "stat" : "read";
		int on = 0;
		key(want), begin('[');
		for (int i = 1; i < argc; i++) {
			if (strcmp(argv[i], "stat") == 0 || strcmp(argv[i], "read") == 0)
				on = strcmp(argv[i], want) == 0;
			else if (on && pass == 0)
				stat_path(argv[i]);
			else if (on)
				read_path(argv[i]);
		}
		end(']');
	}
	end('}');
	putchar('\n');
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("probe: write");
		return 1;
	}
	return 0;
}
