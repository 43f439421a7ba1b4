/* terminal.h - the container's pty and the console socket. */
#ifndef TSRUN_TERMINAL_H
#define TSRUN_TERMINAL_H

#include <stdbool.h>

#include "plan.h"

/* parent: connect to the console socket (-1 when the plan has none) */
int console_connect(struct plan *p);
/* child: open a pty in the container's devpts, bind its slave on
 * /dev/console (the container's own process only: an exec'd one leaves the
 * container's console alone, as runc), send the master on sock, make the
 * slave our controlling terminal and stdio; rootfd may be a dirfd of "/"
 * without a rootfs */
void terminal_setup(struct plan *p, int rootfd, int sock, bool mount_console);

#endif
