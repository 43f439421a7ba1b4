/* args.c - see args.h. */
#define _GNU_SOURCE
#include "args.h"

#include <string.h>

bool parse_flags(int argc, char **argv, int start, const struct flag *flags, size_t nflags,
		 struct parsed *p)
{
	memset(p, 0, sizeof(*p));
	if (nflags > ARGS_MAX_FLAGS)
		return false;
	int i = start;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (strlen(a) < 2 || a[0] != '-')
			break;
		const char *name = a + (a[1] == '-' ? 2 : 1);
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		size_t f;
		for (f = 0; f < nflags; f++) {
			const char *const *n = flags[f].names;
			if ((strlen(n[0]) == len && strncmp(n[0], name, len) == 0) ||
			    (n[1] && strlen(n[1]) == len && strncmp(n[1], name, len) == 0))
				break;
		}
		if (f == nflags)
			return false;
		if (flags[f].value) {
			if (eq)
				p->values[f] = eq + 1;
			else if (i + 1 < argc)
				p->values[f] = argv[++i];
			else
				return false;
		} else if (!eq || strcmp(eq + 1, "true") == 0 || strcmp(eq + 1, "1") == 0) {
			p->values[f] = "1";
		} else if (strcmp(eq + 1, "false") == 0 || strcmp(eq + 1, "0") == 0) {
			p->values[f] = NULL;
		} else {
			return false;
		}
	}
	p->first_arg = i;
	return true;
}
