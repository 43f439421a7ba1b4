/* lsm.h - AppArmor and SELinux labels (the plan's `apparmor`, `selinux`
 * and `relabel` records). */
#ifndef TSRUN_LSM_H
#define TSRUN_LSM_H

#include "plan.h"

/* write the exec labels of the process: they take effect at its execve */
void lsm_exec_labels(struct plan *p);
/* give the root of the mount at destination (inside rootfd) an SELinux
 * file label */
void lsm_relabel(int rootfd, const char *destination, const char *label);

#endif
