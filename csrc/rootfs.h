/* rootfs.h - the container's root: propagation, self bind, pivot_root. */
#ifndef TSRUN_ROOTFS_H
#define TSRUN_ROOTFS_H

#include "plan.h"

/* propagation on "/", then on the rootfs' parent mount if shared; bind the
 * rootfs on itself; returns an O_PATH dirfd of the rootfs mount */
int rootfs_prepare(struct plan *p);
/* pivot_root (or MS_MOVE + chroot) into rootfd; closes it */
void rootfs_enter(struct plan *p, int rootfd);
/* remount "/" read-only (after pivot) */
void rootfs_readonly(void);
/* the plan's propagation for the container's "/", last: an unbindable root
 * would refuse the binds of masked and read-only paths */
void rootfs_propagation(struct plan *p);

/* paths.c: masked and readonly paths, after pivot */
void paths_masked(struct plan *p);
void paths_readonly(struct plan *p);

#endif
