/* seccomp.h - loading the plan's seccomp filter. */
#ifndef TSRUN_SECCOMP_H
#define TSRUN_SECCOMP_H

#include "plan.h"

/* decode and check the program (before `ready`, so errors reach the
 * runtime on the sync fd) */
void seccomp_prepare(struct plan *p);
/* parent: connect to the listener socket while the host's paths are
 * reachable; the child inherits the fd */
void seccomp_listener_connect(struct plan *p);
/* before the user switch without no_new_privs (needs CAP_SYS_ADMIN), else
 * right after it; both before `ready`. A notify fd is sent to the listener
 * with the container process state right after the load. */
void seccomp_load(struct plan *p);

#endif
