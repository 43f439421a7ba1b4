/* hooks.h - the hooks the container's own process runs (createContainer,
 * startContainer), the state JSON they get, and the `hooks` sync step. */
#ifndef TSRUN_HOOKS_H
#define TSRUN_HOOKS_H

#include "plan.h"

/* the runtime's state (runtime.md#state) with this status, from the plan's
 * `state` record and p->host_pid; malloc'd */
char *state_json(const struct plan *p, const char *status);
/* run the plan's hooks of `phase` in order, state on stdin; fails on the
 * first hook that cannot start, exits non-zero, dies or times out */
void hooks_run(const struct plan *p, const char *phase, const char *status);
/* `hooks` on the sync fd, then wait for `continue` (the runtime's prestart
 * and createRuntime hooks have run); anything else: exit quietly, the
 * runtime reports its own error and kills us */
void hooks_sync(int sync_fd);

#endif
