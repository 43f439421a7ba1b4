/* caps.h - capabilities and the user switch. */
#ifndef TSRUN_CAPS_H
#define TSRUN_CAPS_H

#include "plan.h"

/* bounding drop, then groups/gid/uid keeping caps, then the exact
 * effective/permitted/inheritable sets and the ambient set */
void caps_and_user(struct plan *p);

#endif
