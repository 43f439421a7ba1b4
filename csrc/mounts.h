/* mounts.h - the plan's mount records, applied inside the rootfs. */
#ifndef TSRUN_MOUNTS_H
#define TSRUN_MOUNTS_H

#include "plan.h"

void mounts_apply(struct plan *p, int rootfd);

/* mountsrc.c, parent before the release: open the `source_by_parent`
 * sources in the child's mount namespace and send them over sock */
void mountsrc_send(struct plan *p, pid_t child, int sock);
/* mountsrc.c, child before the release: receive them into source_fd */
void mountsrc_receive(struct plan *p, int sock);

/* After pivot_root: the mounts of `remount_ro` records made read-only. */
void mounts_remount_ro(struct plan *p);

/* MS_REMOUNT|MS_BIND with flags; on EPERM retry keeping the flags the
 * kernel locked (nosuid, nodev, noexec, atime) as runc does */
void remount_bind(const char *step, const char *path, const char *shown,
		  unsigned long flags);

/* cgroupfs.c: called before a cgroup namespace is unshared */
void cgroupfs_snapshot(void);
/* label: SELinux context of the v1 layout's tmpfs, or NULL */
void cgroupfs_mount(struct plan_mount *m, int rootfd, const char *label);

/* idmap.c, parent: for each idmapped mount, a detached clone of the source
 * with MOUNT_ATTR_IDMAP (made in the runtime's user namespace, where the
 * maps' host IDs mean host IDs) */
void idmap_prepare(struct plan *p);
/* idmap.c, child: attach the prepared tree on dstfd */
void idmap_attach(struct plan_mount *m, int dstfd);

#endif
