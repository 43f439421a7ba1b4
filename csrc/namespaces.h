/* namespaces.h - joining, creating and mapping namespaces (parent side). */
#ifndef TSRUN_NAMESPACES_H
#define TSRUN_NAMESPACES_H

#include <sys/types.h>

#include "plan.h"

/* open every ns path of the plan (host paths, before anything changes) */
void ns_open_paths(struct plan *p);
/* setns into every namespace given by path except mount: user first */
void ns_join_paths(struct plan *p);
/* new time namespace: unshare it and write the offsets */
void ns_new_time(struct plan *p);
/* clone flags for the new namespaces (cgroup and time excepted) */
unsigned long ns_clone_flags(struct plan *p);
/* write setgroups, uid_map and gid_map of pid's new user namespace */
void ns_write_id_maps(struct plan *p, pid_t pid);
/* write pid into every cgroup.procs of the plan */
/* open each cgroup.procs before any namespace is joined */
void ns_open_cgroups(struct plan *p);
void ns_join_cgroups(struct plan *p, pid_t pid);

/* child side: join a mount ns given by path, unshare a new cgroup ns */
void ns_child_enter(struct plan *p);

/* write "c h s\n" lines from a "c h s[,c h s...]" list to path */
void ns_write_map_list(const char *step, const char *path, const char *list);

#endif
