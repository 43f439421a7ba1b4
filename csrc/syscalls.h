/* syscalls.h - raw system calls that glibc (2.36 and older) may not wrap.
 * Kept as inline functions over syscall(2) so the binary does not depend on
 * the glibc version it is built with. */
#ifndef TSRUN_SYSCALLS_H
#define TSRUN_SYSCALLS_H

#include <linux/openat2.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

/* new mount API constants (linux/mount.h clashes with glibc's sys/mount.h) */
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC 02000000
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif
#ifndef FSOPEN_CLOEXEC
#define FSOPEN_CLOEXEC 0x00000001
#endif
#ifndef FSMOUNT_CLOEXEC
#define FSMOUNT_CLOEXEC 0x00000001
#endif
#ifndef FSCONFIG_SET_FLAG
#define FSCONFIG_SET_FLAG 0
#define FSCONFIG_SET_STRING 1
#define FSCONFIG_CMD_CREATE 6
#endif
#define TSR_MOUNT_ATTR_RDONLY 0x00000001
#define TSR_MOUNT_ATTR_NOSUID 0x00000002
#define TSR_MOUNT_ATTR_NODEV 0x00000004
#define TSR_MOUNT_ATTR_NOEXEC 0x00000008
#define TSR_MOUNT_ATTR_IDMAP 0x00100000
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

struct tsr_mount_attr {
	uint64_t attr_set;
	uint64_t attr_clr;
	uint64_t propagation;
	uint64_t userns_fd;
};

/* sched_setattr(2) argument, VER1 layout (56 bytes). */
struct tsr_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
	uint32_t sched_util_min;
	uint32_t sched_util_max;
};

static inline int sys_openat2(int dirfd, const char *path, uint64_t flags,
			      uint64_t mode, uint64_t resolve)
{
	struct open_how how = { .flags = flags, .mode = mode, .resolve = resolve };
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

static inline int sys_open_tree(int dirfd, const char *path, unsigned flags)
{
	return (int)syscall(SYS_open_tree, dirfd, path, flags);
}

static inline int sys_move_mount(int from_dirfd, const char *from_path,
				 int to_dirfd, const char *to_path,
				 unsigned flags)
{
	return (int)syscall(SYS_move_mount, from_dirfd, from_path, to_dirfd,
			    to_path, flags);
}

static inline int sys_mount_setattr(int dirfd, const char *path,
				    unsigned flags, struct tsr_mount_attr *attr)
{
	return (int)syscall(SYS_mount_setattr, dirfd, path, flags, attr,
			    sizeof(*attr));
}

static inline int sys_fsopen(const char *fsname, unsigned flags)
{
	return (int)syscall(SYS_fsopen, fsname, flags);
}

static inline int sys_fsconfig(int fd, unsigned cmd, const char *key,
			       const void *value, int aux)
{
	return (int)syscall(SYS_fsconfig, fd, cmd, key, value, aux);
}

static inline int sys_fsmount(int fd, unsigned flags, unsigned attr)
{
	return (int)syscall(SYS_fsmount, fd, flags, attr);
}

static inline int sys_pivot_root(const char *new_root, const char *put_old)
{
	return (int)syscall(SYS_pivot_root, new_root, put_old);
}

static inline int sys_sched_setattr(struct tsr_sched_attr *attr)
{
	return (int)syscall(SYS_sched_setattr, 0, attr, 0);
}

static inline int sys_ioprio_set(int which, int who, int ioprio)
{
	return (int)syscall(SYS_ioprio_set, which, who, ioprio);
}

static inline long sys_set_mempolicy(int mode, const unsigned long *mask,
				     unsigned long maxnode)
{
	return syscall(SYS_set_mempolicy, mode, mask, maxnode);
}

static inline int sys_close_range(unsigned first, unsigned last,
				  unsigned flags)
{
	return (int)syscall(SYS_close_range, first, last, flags);
}

/* fork-like clone with namespace flags; returns like fork(2). With
 * CLONE_PIDFD, *pidfd receives a pidfd of the child. */
static inline long sys_clone(unsigned long flags, int *pidfd)
{
	/* x86_64/aarch64 order: flags, stack, parent_tid, child_tid, tls */
	return syscall(SYS_clone, flags, 0, pidfd, 0, 0);
}

#endif
