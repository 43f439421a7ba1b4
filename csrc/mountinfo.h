/* mountinfo.h - /proc/self/mountinfo parsed line by line; read it whole
 * with read_file_alloc (a list cut short would hide mounts). */
#ifndef TSRUN_MOUNTINFO_H
#define TSRUN_MOUNTINFO_H

#include <stdbool.h>

/* one line; strings point into the buffer, unescaped */
struct mountinfo {
	const char *root;        /* of the mount within its filesystem */
	const char *mountpoint;
	const char *fstype, *source, *superopts;
	bool shared;             /* has a shared:N peer group */
};

/* parse the line at *cursor in place and move past it; false at the end.
 * Lines without the fields the kernel always writes are skipped */
bool mountinfo_next(char **cursor, struct mountinfo *m);

#endif
