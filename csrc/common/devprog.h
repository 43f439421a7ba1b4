/* devprog.h - loading a cgroup v2 device program (BPF_PROG_TYPE_CGROUP_DEVICE) and attaching
 * it to a cgroup: tsrun-init does it for create (csrc/devfilter.c), the addon for restore,
 * whose tasks CRIU puts in a cgroup tsrun made. The program is TypeScript's
 * (src/cgroups/device-filter.ts). */
#ifndef TSRUN_COMMON_DEVPROG_H
#define TSRUN_COMMON_DEVPROG_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Loads code (len bytes of whole instructions) and attaches it to the cgroup dir dir, beside any
 * a parent has (BPF_F_ALLOW_MULTI). 0, or an errno with *what saying the failed step ("load the
 * device program for", "open cgroup", "attach the device program to": the dir follows); a refused load leaves the end of the verifier's log in vlog (size > 0). */
int devprog_attach(const char *dir, const unsigned char *code, size_t len, const char **what,
		   char *vlog, size_t vlog_size);

#ifdef __cplusplus
}
#endif

#endif
