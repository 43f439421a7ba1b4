/* args.h - runc-style flags, read as src/cli/args.ts reads them. */
#ifndef TSRUN_CLIENT_ARGS_H
#define TSRUN_CLIENT_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#define ARGS_MAX_FLAGS 20

struct flag {
	const char *names[2];
	bool value;
};

struct parsed {
	const char *values[ARGS_MAX_FLAGS];	/* by flag index: the value, "1" for a set boolean */
	int first_arg;				/* index of the first positional argument */
};

/* Flags from argv[start] up to the first positional argument; false on anything
 * src/cli/args.ts would report as a usage error (Node words those). */
bool parse_flags(int argc, char **argv, int start, const struct flag *flags, size_t nflags,
		 struct parsed *p);

#endif
