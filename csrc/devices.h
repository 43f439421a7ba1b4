/* devices.h - device nodes and symlinks inside the rootfs. */
#ifndef TSRUN_DEVICES_H
#define TSRUN_DEVICES_H

#include "plan.h"

void devices_apply(struct plan *p, int rootfd);
void symlinks_apply(struct plan *p, int rootfd);

#endif
