/* devfilter.h - cgroup v2 device programs. */
#ifndef TSRUN_DEVFILTER_H
#define TSRUN_DEVFILTER_H

#include "plan.h"

/* parent: load each device_filter program and attach it to its cgroup */
void devfilter_attach(struct plan *p);

#endif
