/* maptool.h - newuidmap/newgidmap for maps an unprivileged runtime cannot write itself. */
#ifndef TSRUN_MAPTOOL_H
#define TSRUN_MAPTOOL_H

#include <sys/types.h>

#include "plan.h"

/* run `tool pid c h s ...` for pid's new user namespace; fails the step
 * unless it exits 0 */
void maptool_run(const char *step, const char *tool, pid_t pid,
		 const struct plan_idmap *m, size_t n);

#endif
