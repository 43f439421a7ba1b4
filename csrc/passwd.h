/* passwd.h - HOME from the container's /etc/passwd (the `home` plan record). */
#ifndef TSRUN_PASSWD_H
#define TSRUN_PASSWD_H

#include "plan.h"

/* With a `home` record, appends HOME=<home of that uid> to the process's env. */
void passwd_home(struct plan *p);

#endif
