/* mountinfo.c - /proc/self/mountinfo parsed line by line
 * (proc(5): ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE
 * SOURCE SUPEROPTS). */
#define _GNU_SOURCE
#include "mountinfo.h"

#include <string.h>

#include "util.h"

bool mountinfo_next(char **cursor, struct mountinfo *m)
{
	while (**cursor) {
		char *line = *cursor, *end = strchrnul(line, '\n');
		*cursor = *end ? end + 1 : end;
		*end = '\0';
		char *f[5] = { 0 }, *save, *tok = strtok_r(line, " ", &save);
		int i = 0;
		for (; tok && i < 5; tok = strtok_r(NULL, " ", &save))
			f[i++] = tok;
		m->shared = false;
		/* tok is OPTIONS; the optional fields run up to "-" */
		while (tok && strcmp(tok, "-")) {
			if (!strncmp(tok, "shared:", 7))
				m->shared = true;
			tok = strtok_r(NULL, " ", &save);
		}
		m->fstype = strtok_r(NULL, " ", &save);
		m->source = strtok_r(NULL, " ", &save);
		m->superopts = strtok_r(NULL, " ", &save);
		if (i < 5 || !m->superopts)
			continue;
		mountinfo_unescape(f[3]);
		mountinfo_unescape(f[4]);
		m->root = f[3];
		m->mountpoint = f[4];
		return true;
	}
	return false;
}
