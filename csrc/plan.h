/* plan.h - the launch plan (docs/PLAN-FORMAT.md) parsed into one struct.
 * Strings point into the plan buffer, which lives as long as the process. */
#ifndef TSRUN_PLAN_H
#define TSRUN_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum cap_set { CAP_BOUNDING, CAP_EFFECTIVE, CAP_INHERITABLE, CAP_PERMITTED,
	       CAP_AMBIENT, CAP_NSETS };

struct plan_ns {
	int flag;          /* CLONE_NEW* */
	const char *type;  /* as written in the plan */
	const char *path;  /* NULL = create a new one */
	int fd;            /* opened by the parent when path is set */
};

struct plan_idmap { uint32_t container, host, size; };

struct plan_timeoffset { const char *clock; int64_t secs, nsecs; };

struct plan_mount {
	const char *source, *destination, *type, *data, *uidmap, *gidmap;
	unsigned long flags, propagation;
	uint64_t attr_set, attr_clr;
	int idmap_tree;    /* idmapped: detached tree made by the parent */
	bool copyup;       /* tmpcopyup: fill the tmpfs with what it covers */
	bool ro_later;     /* remount_ro: made read-only after pivot_root */
	bool source_by_parent; /* the parent opens the source for the child */
	int source_fd;     /* that fd (O_PATH), received before the release */
	const char *relabel; /* SELinux file label of its root, or NULL */
};

struct plan_device {
	const char *path;
	char type;
	uint64_t major, minor;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	bool bind;
};

struct plan_pair { const char *a, *b; };  /* symlink target/link, sysctl k/v */

struct plan_rlimit { int resource; uint64_t soft, hard; };

struct plan_sched {
	uint32_t policy, priority;
	int32_t nice;
	uint64_t flags, runtime, deadline, period;
};

/* a hook the C core runs itself (createContainer, startContainer) */
struct plan_hook {
	const char *phase, *path;
	uint64_t timeout;               /* seconds; 0 = none */
	char **argv, **env;             /* NULL terminated */
	bool process_env;               /* hook_process_env: the process's env instead */
};

struct plan {
	struct plan_ns ns[8];
	size_t n_ns;
	struct plan_idmap *uidmap, *gidmap;
	size_t n_uidmap, n_gidmap;
	int setgroups;                  /* -1 unset, 0 deny, 1 allow */
	const char *uidmap_tool, *gidmap_tool; /* newuidmap/newgidmap, or NULL */
	struct plan_timeoffset *timeoffsets;
	size_t n_timeoffsets;
	const char **cgroups;
	int *cgroup_fds;                /* opened by the parent, same order */
	size_t n_cgroups;
	struct plan_pair *devfilters;   /* cgroup v2 dir, hex BPF program */
	size_t n_devfilters;

	const char *rootfs;
	/* MS_* propagation flags for "/" of the mount namespace, the rootfs'
	 * parent mount if shared, and the container's "/" at the end (0: none) */
	bool has_rootfs_propagation;
	unsigned long prop_ns, prop_parent, prop_root;
	bool readonly_rootfs, nopivot;
	const char **nopivot_hide;      /* fs types detached before MS_MOVE */
	size_t n_nopivot_hide;
	struct plan_mount *mounts;
	size_t n_mounts;
	struct plan_device *devices;
	size_t n_devices;
	struct plan_pair *symlinks, *sysctls;
	size_t n_symlinks, n_sysctls;
	const char **masked, **readonly;
	size_t n_masked, n_readonly;
	const char *hostname, *domainname;
	const char *mount_label;        /* context= of our own tmpfs mounts */
	const char *apparmor_profile;   /* AppArmor profile at execve */
	const char *selinux_label;      /* SELinux label at execve */

	struct plan_rlimit *rlimits;
	size_t n_rlimits;
	bool has_oom_score_adj, has_personality, has_scheduler, has_ioprio;
	bool has_mempolicy, has_user, has_groups, has_umask;
	int64_t oom_score_adj;
	unsigned long personality;
	struct plan_sched sched;
	int ioprio_class, ioprio_level;
	const char *affinity_initial, *affinity_final;
	int mempolicy_mode, mempolicy_flags;
	const char *mempolicy_nodes;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t n_groups;
	mode_t umask;
	bool has_caps[CAP_NSETS];
	uint64_t caps[CAP_NSETS];
	bool no_new_privs;
	uint64_t seccomp_flags;
	const char *seccomp_bpf;        /* hex; NULL = no filter */
	const char *seccomp_listener;   /* socket path; NULL = no notify fd */
	char **seccomp_message;         /* cut around the pid; NULL terminated */
	int seccomp_listener_fd;        /* connected by the parent, or -1 */

	struct plan_hook *hooks;
	size_t n_hooks;
	bool hooks_sync;                /* stop before pivot_root for TS hooks */
	bool cgroup_sync;               /* after "pid", wait while TS places the child */
	const char *create_hooks_cwd;   /* hooks_cwd createContainer, or NULL */
	const char *state_head, *state_mid, *state_tail;
	pid_t host_pid;                 /* the child's pid as the runtime sees it */

	bool terminal;
	unsigned short rows, cols;
	const char *console_socket;
	const char *execfifo;
	unsigned preserve_fds;
	const char *cwd;
	char **env;                     /* NULL terminated */
	bool has_home;                  /* add HOME from /etc/passwd (passwd.c) */
	uid_t home_uid;
	char **args;                    /* NULL terminated */
	bool wait;
};

/* read the plan from fd until EOF and parse it; fails on any error */
void plan_read(int fd, struct plan *p);
/* the plan_ns of a type flag, or NULL */
struct plan_ns *plan_find_ns(struct plan *p, int flag);

#endif
