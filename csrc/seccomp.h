/* seccomp.h - loading the plan's seccomp filter. */
#ifndef TSRUN_SECCOMP_H
#define TSRUN_SECCOMP_H

#include "plan.h"

/* decode and check the program (before `ready`, so errors reach the
 * runtime on the sync fd) */
void seccomp_prepare(struct plan *p);
/* before the user switch without no_new_privs (needs CAP_SYS_ADMIN), else
 * as the very last step before execve */
void seccomp_load(struct plan *p);

#endif
