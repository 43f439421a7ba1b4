/* hooks.h - the hooks the container's own process runs (createContainer,
 * startContainer) and the `hooks` sync step. */
#ifndef TSRUN_HOOKS_H
#define TSRUN_HOOKS_H

#include "plan.h"

/* run the plan's hooks of `phase` in order, state on stdin; fails on the
 * first hook that cannot start, exits non-zero, dies or times out */
void hooks_run(const struct plan *p, const char *phase, const char *status);
/* `hooks` on the sync fd, then wait for `continue` (the runtime's prestart
 * and createRuntime hooks have run); anything else: exit quietly, the
 * runtime reports its own error and kills us */
void hooks_sync(int sync_fd);

#endif
