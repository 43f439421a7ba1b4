/* cgroup.h - the container's cgroups as state.json names them: its processes,
 * the freezer, removal. Same rules as src/cgroups/{manage,freezer}.ts. */
#ifndef TSRUN_FRONT_CGROUP_H
#define TSRUN_FRONT_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct saved_state;

bool cgroup_frozen(const struct saved_state *s);
/* Freezes or thaws and waits for the kernel; 0, or -1 with the reason in err. */
int cgroup_freeze(const struct saved_state *s, bool frozen, char *err, size_t errlen);
/* How many pids kill --all and delete read from a cgroup at once. */
#define MAX_PIDS 65536

/* The pids of the first readable cgroup and its sub-cgroups; how many (at most max). */
size_t cgroup_pids(const struct saved_state *s, pid_t *pids, size_t max);
/* rmdir of every cgroup dir with its sub-cgroups, deepest first (EBUSY
 * retried); 0, or logs the error and returns 1. */
int cgroup_remove(const struct saved_state *s);

void sleep_ms(unsigned ms);

#endif
