/* child.h - the cloned child that becomes the container's pid 1. */
#ifndef TSRUN_CHILD_H
#define TSRUN_CHILD_H

#include "plan.h"

_Noreturn void child_main(struct plan *p, int sync_fd, int release_fd,
			  int console_fd);

#endif
