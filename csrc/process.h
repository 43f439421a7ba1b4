/* process.h - process attributes applied by the child. */
#ifndef TSRUN_PROCESS_H
#define TSRUN_PROCESS_H

#include "plan.h"

/* process.c */
void process_sysctl(struct plan *p);
/* parent: rlimits (prlimit) and oom_score_adj of the child */
void process_limits_of(struct plan *p, pid_t pid);
void process_personality(struct plan *p);
/* args[0] resolved in the container's PATH; failure reported now */
char *process_find_exec(struct plan *p);
_Noreturn void process_exec(struct plan *p, const char *path);

/* sched.c */
void sched_affinity(const char *step, const char *list);
void sched_apply(struct plan *p);   /* scheduler, ioprio, mempolicy */

#endif
