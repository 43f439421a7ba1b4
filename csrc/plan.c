/* plan.c - parse the launch plan: TAG\0COUNT\0FIELD...\0 records. */
#define _GNU_SOURCE
#include "plan.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "error.h"
#include "util.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define STEP "plan"

/* the record being parsed, for messages */
static const char *cur_tag;

static uint64_t u64(const char *s, const char *what)
{
	uint64_t v;
	if (parse_u64(s, &v) < 0)
		failx(STEP, "record %s: bad %s \"%s\"", cur_tag, what, s);
	return v;
}

static int64_t i64(const char *s, const char *what)
{
	int64_t v;
	if (parse_i64(s, &v) < 0)
		failx(STEP, "record %s: bad %s \"%s\"", cur_tag, what, s);
	return v;
}

static uint32_t u32(const char *s, const char *what)
{
	uint64_t v = u64(s, what);
	if (v > UINT32_MAX)
		failx(STEP, "record %s: %s out of range \"%s\"", cur_tag, what, s);
	return (uint32_t)v;
}

static const struct { const char *name; int flag; } ns_types[] = {
	{ "pid", CLONE_NEWPID },   { "network", CLONE_NEWNET },
	{ "mount", CLONE_NEWNS },  { "ipc", CLONE_NEWIPC },
	{ "uts", CLONE_NEWUTS },   { "user", CLONE_NEWUSER },
	{ "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME },
};

static const char *cap_sets[CAP_NSETS] = {
	"bounding", "effective", "inheritable", "permitted", "ambient",
};

struct plan_ns *plan_find_ns(struct plan *p, int flag)
{
	for (size_t i = 0; i < p->n_ns; i++)
		if (p->ns[i].flag == flag)
			return &p->ns[i];
	return NULL;
}

static void rec_ns(struct plan *p, char **f)
{
	int flag = 0;
	for (size_t i = 0; i < sizeof(ns_types) / sizeof(ns_types[0]); i++)
		if (!strcmp(f[0], ns_types[i].name))
			flag = ns_types[i].flag;
	if (!flag)
		failx(STEP, "record ns: unknown namespace type \"%s\"", f[0]);
	if (plan_find_ns(p, flag))
		failx(STEP, "record ns: namespace \"%s\" given twice", f[0]);
	struct plan_ns *n = &p->ns[p->n_ns++];
	n->flag = flag;
	n->type = f[0];
	n->path = *f[1] ? f[1] : NULL;
	n->fd = -1;
}

static void rec_idmap(struct plan_idmap **arr, size_t *n, char **f)
{
	struct plan_idmap *m = xpush(arr, n, sizeof(**arr));
	m->container = u32(f[0], "containerID");
	m->host = u32(f[1], "hostID");
	m->size = u32(f[2], "size");
}

static void rec_mount(struct plan *p, char **f)
{
	struct plan_mount *m = xpush(&p->mounts, &p->n_mounts, sizeof(*m));
	m->source = f[0];
	m->destination = f[1];
	m->type = f[2];
	m->flags = u64(f[3], "flags");
	m->propagation = u64(f[4], "propagation");
	m->data = f[5];
	m->attr_set = u64(f[6], "attr_set");
	m->attr_clr = u64(f[7], "attr_clr");
	m->uidmap = f[8];
	m->gidmap = f[9];
	m->idmap_tree = -1;
	m->source_fd = -1;
	if (m->destination[0] != '/')
		failx(STEP, "record mount: destination \"%s\" is not absolute",
		      m->destination);
	if ((*m->uidmap != 0) != (*m->gidmap != 0))
		failx(STEP, "record mount %s: uidmap and gidmap go together",
		      m->destination);
}

static void rec_device(struct plan *p, char **f)
{
	struct plan_device *d = xpush(&p->devices, &p->n_devices, sizeof(*d));
	d->path = f[0];
	if (strlen(f[1]) != 1 || !strchr("cbpu", f[1][0]))
		failx(STEP, "record device %s: bad type \"%s\"", f[0], f[1]);
	d->type = f[1][0];
	d->major = u64(f[2], "major");
	d->minor = u64(f[3], "minor");
	d->mode = (mode_t)u32(f[4], "mode");
	d->uid = u32(f[5], "uid");
	d->gid = u32(f[6], "gid");
	d->bind = u64(f[7], "bind") != 0;
	if (d->mode & ~07777U)
		failx(STEP, "record device %s: mode %s has non-permission bits",
		      f[0], f[4]);
}

static void rec_caps(struct plan *p, char **f, size_t n)
{
	int set = -1;
	for (int i = 0; i < CAP_NSETS; i++)
		if (!strcmp(f[0], cap_sets[i]))
			set = i;
	if (set < 0)
		failx(STEP, "record caps: unknown set \"%s\"", f[0]);
	p->has_caps[set] = true;
	p->caps[set] = 0;
	for (size_t i = 1; i < n; i++) {
		uint64_t c = u64(f[i], "capability");
		if (c > 63)
			failx(STEP, "record caps: capability %s out of range", f[i]);
		p->caps[set] |= 1ULL << c;
	}
}

static char **strv(char **f, size_t n)
{
	char **v = xrealloc(NULL, (n + 1) * sizeof(char *));
	memcpy(v, f, n * sizeof(char *));
	v[n] = NULL;
	return v;
}

#define VAR (-1)
static const struct { const char *tag; int nfields; } tags[] = {
	{ "version", 1 }, { "ns", 2 }, { "uidmap", 3 }, { "gidmap", 3 },
	{ "setgroups", 1 }, { "maptool", 2 }, { "timeoffset", 3 }, { "cgroup", 1 },
	{ "rootfs", 1 }, { "rootfs_propagation", 3 }, { "readonly_rootfs", 0 },
	{ "nopivot", 0 }, { "nopivot_hide", 1 }, { "mount", 10 }, { "device", 8 }, { "symlink", 2 },
	{ "masked", 1 }, { "readonly", 1 }, { "sysctl", 2 }, { "hostname", 1 },
	{ "domainname", 1 }, { "rlimit", 3 }, { "oom_score_adj", 1 },
	{ "personality", 1 }, { "scheduler", 7 }, { "ioprio", 2 },
	{ "cpu_affinity", 2 }, { "mempolicy", 3 }, { "user", 2 },
	{ "groups", VAR }, { "umask", 1 }, { "caps", VAR },
	{ "no_new_privs", 0 }, { "terminal", 2 }, { "console_socket", 1 },
	{ "execfifo", 1 }, { "preserve_fds", 1 }, { "cwd", 1 }, { "env", VAR }, { "home", 1 },
	{ "args", VAR }, { "wait", 0 }, { "seccomp", 2 }, { "device_filter", 2 }, { "tmpcopyup", 1 },
	{ "seccomp_agent", VAR }, { "hook", VAR }, { "hooks_sync", 0 }, { "cgroup_sync", 0 },
	{ "state", 3 }, { "apparmor", 1 }, { "selinux", 1 },
	{ "mount_label", 1 }, { "relabel", 2 }, { "remount_ro", 1 }, { "source_by_parent", 1 }, { "hooks_cwd", 2 }, { "hook_process_env", 0 },
};

/* hook PHASE PATH TIMEOUT ARGC ARG... ENV... */
static void rec_hook(struct plan *p, char **f, size_t n)
{
	if (n < 4)
		failx(STEP, "record hook: at least 4 fields expected");
	if (strcmp(f[0], "createContainer") && strcmp(f[0], "startContainer"))
		failx(STEP, "record hook: unknown phase \"%s\"", f[0]);
	if (f[1][0] != '/')
		failx(STEP, "record hook: path \"%s\" is not absolute", f[1]);
	uint64_t argc = u64(f[3], "argc");
	if (argc > n - 4)
		failx(STEP, "record hook: argc %s beyond the record", f[3]);
	struct plan_hook *h = xpush(&p->hooks, &p->n_hooks, sizeof(*h));
	h->phase = f[0];
	h->path = f[1];
	h->timeout = u64(f[2], "timeout");
	h->argv = strv(f + 4, (size_t)argc);
	h->env = strv(f + 4 + argc, n - 4 - (size_t)argc);
}

#define IS(t) (!strcmp(tag, t))

static void record(struct plan *p, const char *tag, char **f, size_t n)
{
	if (IS("version")) {
		if (strcmp(f[0], "2"))
			failx(STEP, "unsupported plan version \"%s\"", f[0]);
	} else if (IS("ns")) {
		rec_ns(p, f);
	} else if (IS("uidmap")) {
		rec_idmap(&p->uidmap, &p->n_uidmap, f);
	} else if (IS("gidmap")) {
		rec_idmap(&p->gidmap, &p->n_gidmap, f);
	} else if (IS("setgroups")) {
		if (strcmp(f[0], "allow") && strcmp(f[0], "deny"))
			failx(STEP, "record setgroups: bad value \"%s\"", f[0]);
		p->setgroups = !strcmp(f[0], "allow");
	} else if (IS("maptool")) {
		if (f[1][0] != '/')
			failx(STEP, "record maptool: \"%s\" is not absolute", f[1]);
		if (!strcmp(f[0], "uid"))
			p->uidmap_tool = f[1];
		else if (!strcmp(f[0], "gid"))
			p->gidmap_tool = f[1];
		else
			failx(STEP, "record maptool: bad kind \"%s\"", f[0]);
	} else if (IS("timeoffset")) {
		struct plan_timeoffset *t = xpush(&p->timeoffsets,
						  &p->n_timeoffsets, sizeof(*t));
		if (strcmp(f[0], "monotonic") && strcmp(f[0], "boottime"))
			failx(STEP, "record timeoffset: bad clock \"%s\"", f[0]);
		t->clock = f[0];
		t->secs = i64(f[1], "secs");
		t->nsecs = i64(f[2], "nanosecs");
	} else if (IS("cgroup")) {
		*(const char **)xpush(&p->cgroups, &p->n_cgroups,
				      sizeof(char *)) = f[0];
	} else if (IS("rootfs")) {
		if (f[0][0] != '/')
			failx(STEP, "record rootfs: \"%s\" is not absolute", f[0]);
		p->rootfs = f[0];
	} else if (IS("rootfs_propagation")) {
		p->has_rootfs_propagation = true;
		p->prop_ns = u64(f[0], "namespace flags");
		p->prop_parent = u64(f[1], "parent flags");
		p->prop_root = u64(f[2], "root flags");
	} else if (IS("readonly_rootfs")) {
		p->readonly_rootfs = true;
	} else if (IS("nopivot")) {
		p->nopivot = true;
	} else if (IS("nopivot_hide")) {
		*(const char **)xpush(&p->nopivot_hide, &p->n_nopivot_hide,
				      sizeof(char *)) = f[0];
	} else if (IS("mount")) {
		rec_mount(p, f);
	} else if (IS("device")) {
		rec_device(p, f);
	} else if (IS("symlink")) {
		struct plan_pair *s = xpush(&p->symlinks, &p->n_symlinks,
					    sizeof(*s));
		s->a = f[0];
		s->b = f[1];
	} else if (IS("masked")) {
		*(const char **)xpush(&p->masked, &p->n_masked,
				      sizeof(char *)) = f[0];
	} else if (IS("readonly")) {
		*(const char **)xpush(&p->readonly, &p->n_readonly,
				      sizeof(char *)) = f[0];
	} else if (IS("sysctl")) {
		struct plan_pair *s = xpush(&p->sysctls, &p->n_sysctls,
					    sizeof(*s));
		s->a = f[0];
		s->b = f[1];
	} else if (IS("hostname")) {
		p->hostname = f[0];
	} else if (IS("domainname")) {
		p->domainname = f[0];
	} else if (IS("rlimit")) {
		struct plan_rlimit *r = xpush(&p->rlimits, &p->n_rlimits,
					      sizeof(*r));
		r->resource = (int)u32(f[0], "resource");
		r->soft = u64(f[1], "soft");
		r->hard = u64(f[2], "hard");
	} else if (IS("oom_score_adj")) {
		p->has_oom_score_adj = true;
		p->oom_score_adj = i64(f[0], "value");
	} else if (IS("personality")) {
		p->has_personality = true;
		p->personality = u64(f[0], "persona");
	} else if (IS("scheduler")) {
		p->has_scheduler = true;
		p->sched.policy = u32(f[0], "policy");
		p->sched.nice = (int32_t)i64(f[1], "nice");
		p->sched.priority = u32(f[2], "priority");
		p->sched.flags = u64(f[3], "flags");
		p->sched.runtime = u64(f[4], "runtime");
		p->sched.deadline = u64(f[5], "deadline");
		p->sched.period = u64(f[6], "period");
	} else if (IS("ioprio")) {
		p->has_ioprio = true;
		p->ioprio_class = (int)u32(f[0], "class");
		p->ioprio_level = (int)u32(f[1], "priority");
	} else if (IS("cpu_affinity")) {
		if (!strcmp(f[0], "initial"))
			p->affinity_initial = f[1];
		else if (!strcmp(f[0], "final"))
			p->affinity_final = f[1];
		else
			failx(STEP, "record cpu_affinity: bad stage \"%s\"", f[0]);
	} else if (IS("mempolicy")) {
		p->has_mempolicy = true;
		p->mempolicy_mode = (int)u32(f[0], "mode");
		p->mempolicy_flags = (int)u32(f[1], "flags");
		p->mempolicy_nodes = f[2];
	} else if (IS("user")) {
		p->has_user = true;
		p->uid = u32(f[0], "uid");
		p->gid = u32(f[1], "gid");
	} else if (IS("groups")) {
		p->has_groups = true;
		p->n_groups = 0;
		for (size_t i = 0; i < n; i++)
			*(gid_t *)xpush(&p->groups, &p->n_groups,
					sizeof(gid_t)) = u32(f[i], "gid");
	} else if (IS("umask")) {
		p->has_umask = true;
		p->umask = (mode_t)(u32(f[0], "mask") & 0777);
	} else if (IS("caps")) {
		if (n < 1)
			failx(STEP, "record caps: missing set name");
		rec_caps(p, f, n);
	} else if (IS("no_new_privs")) {
		p->no_new_privs = true;
	} else if (IS("terminal")) {
		p->terminal = true;
		p->rows = (unsigned short)u32(f[0], "rows");
		p->cols = (unsigned short)u32(f[1], "cols");
	} else if (IS("console_socket")) {
		p->console_socket = f[0];
	} else if (IS("execfifo")) {
		p->execfifo = f[0];
	} else if (IS("preserve_fds")) {
		p->preserve_fds = u32(f[0], "N");
	} else if (IS("cwd")) {
		p->cwd = f[0];
	} else if (IS("env")) {
		p->env = strv(f, n);
	} else if (IS("home")) {
		p->has_home = true;
		p->home_uid = u32(f[0], "uid");
	} else if (IS("args")) {
		if (n < 1)
			failx(STEP, "record args: empty argv");
		p->args = strv(f, n);
	} else if (IS("seccomp")) {
		p->seccomp_flags = u64(f[0], "flags");
		p->seccomp_bpf = f[1];
	} else if (IS("wait")) {
		p->wait = true;
	} else if (IS("tmpcopyup")) {
		/* follows its tmpfs mount record */
		if (!p->n_mounts ||
		    strcmp(p->mounts[p->n_mounts - 1].destination, f[0]) ||
		    strcmp(p->mounts[p->n_mounts - 1].type, "tmpfs"))
			failx(STEP, "record tmpcopyup %s: not after a tmpfs mount of it",
			      f[0]);
		p->mounts[p->n_mounts - 1].copyup = true;
	} else if (IS("relabel")) {
		/* follows its mount record */
		if (!p->n_mounts ||
		    strcmp(p->mounts[p->n_mounts - 1].destination, f[0]))
			failx(STEP, "record relabel %s: not after a mount of it",
			      f[0]);
		p->mounts[p->n_mounts - 1].relabel = f[1];
	} else if (IS("hook_process_env")) {
		/* follows its hook record, which has no env of its own */
		if (!p->n_hooks || p->hooks[p->n_hooks - 1].env[0])
			failx(STEP, "record hook_process_env: not after a hook without env");
		p->hooks[p->n_hooks - 1].process_env = true;
	} else if (IS("hooks_cwd")) {
		if (strcmp(f[0], "createContainer"))
			failx(STEP, "record hooks_cwd: unknown phase \"%s\"", f[0]);
		if (f[1][0] != '/')
			failx(STEP, "record hooks_cwd: \"%s\" is not absolute", f[1]);
		p->create_hooks_cwd = f[1];
	} else if (IS("source_by_parent")) {
		/* follows its bind mount record */
		struct plan_mount *m = p->n_mounts ? &p->mounts[p->n_mounts - 1] : NULL;
		if (!m || strcmp(m->destination, f[0]) || !(m->flags & MS_BIND) || *m->uidmap)
			failx(STEP, "record source_by_parent %s: not after a bind mount of it (idmapped ones excepted)",
			      f[0]);
		m->source_by_parent = true;
	} else if (IS("remount_ro")) {
		/* follows its mount record */
		if (!p->n_mounts ||
		    strcmp(p->mounts[p->n_mounts - 1].destination, f[0]))
			failx(STEP, "record remount_ro %s: not after a mount of it",
			      f[0]);
		p->mounts[p->n_mounts - 1].ro_later = true;
	} else if (IS("mount_label")) {
		p->mount_label = f[0];
	} else if (IS("apparmor")) {
		p->apparmor_profile = f[0];
	} else if (IS("selinux")) {
		p->selinux_label = f[0];
	} else if (IS("device_filter")) {
		struct plan_pair *d = xpush(&p->devfilters, &p->n_devfilters,
					    sizeof(*d));
		d->a = f[0];
		d->b = f[1];
	} else if (IS("seccomp_agent")) {
		if (n < 3)
			failx(STEP, "record seccomp_agent: a path and at least 2 "
			      "parts expected");
		p->seccomp_listener = f[0];
		p->seccomp_message = strv(f + 1, n - 1);
	} else if (IS("hook")) {
		rec_hook(p, f, n);
	} else if (IS("hooks_sync")) {
		p->hooks_sync = true;
	} else if (IS("cgroup_sync")) {
		p->cgroup_sync = true;
	} else if (IS("state")) {
		p->state_head = f[0];
		p->state_mid = f[1];
		p->state_tail = f[2];
	}
}

static char *read_all(int fd, size_t *len)
{
	size_t cap = 16384, off = 0;
	char *buf = xrealloc(NULL, cap);
	for (;;) {
		if (off == cap)
			buf = xrealloc(buf, cap *= 2);
		ssize_t n = read(fd, buf + off, cap - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail(STEP, "read plan fd %d", fd);
		if (n == 0)
			break;
		off += (size_t)n;
	}
	*len = off;
	return buf;
}

void plan_read(int fd, struct plan *p)
{
	size_t len, pos = 0, nrec = 0;
	char *buf = read_all(fd, &len);
	char **fields = NULL;
	size_t fcap = 0;

	memset(p, 0, sizeof(*p));
	p->setgroups = -1;
	p->seccomp_listener_fd = -1;
	if (len == 0 || buf[len - 1] != '\0')
		failx(STEP, "plan is empty or not NUL terminated");

	while (pos < len) {
		const char *tag = buf + pos;
		pos += strlen(tag) + 1;
		cur_tag = tag;
		if (pos >= len)
			failx(STEP, "record %s: missing field count", tag);
		const char *cnt = buf + pos;
		pos += strlen(cnt) + 1;
		uint64_t n = u64(cnt, "field count");
		if (n > len)
			failx(STEP, "record %s: field count %s too large", tag, cnt);
		if (n > fcap)
			fields = xrealloc(fields, (fcap = n) * sizeof(char *));
		for (uint64_t i = 0; i < n; i++) {
			if (pos >= len)
				failx(STEP, "record %s: truncated", tag);
			fields[i] = buf + pos;
			pos += strlen(buf + pos) + 1;
		}
		int want = -2;
		for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
			if (!strcmp(tag, tags[i].tag))
				want = tags[i].nfields;
		if (want == -2)
			failx(STEP, "unknown plan record \"%s\"", tag);
		if (want != VAR && (uint64_t)want != n)
			failx(STEP, "record %s: %d fields expected, got %s", tag,
			      want, cnt);
		if (nrec++ == 0 && strcmp(tag, "version"))
			failx(STEP, "first record must be version, got \"%s\"", tag);
		record(p, tag, fields, (size_t)n);
	}
	if (p->rootfs && !p->has_rootfs_propagation)
		failx(STEP, "record rootfs without rootfs_propagation");
	if (!p->env)
		p->env = strv(NULL, 0);
	free(fields);
}
