/* exec_plan.h - the saved plans of earlier execs (docs/STATE-FORMAT.md#exec-plans), which
 * src/container/exec-plans.ts writes: a plan is used only for the same key, byte for byte. */
#ifndef TSRUN_FRONT_EXEC_PLAN_H
#define TSRUN_FRONT_EXEC_PLAN_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len, cap;
};

/* What a plan is decided from; process is NULL without --process. */
struct exec_inputs {
	const char *dist_main, *init;	/* dist/tsrun-main.js and tsrun-init */
	const char *state, *config, *process;
	size_t state_len, config_len, process_len;
	const char *cwd;		/* NULL unless a relative --console-socket is resolved against it */
	int argc;
	char *const *argv;		/* exec's arguments, the values of --pid-file and --process cut */
};

/* The key text, as execPlanKey() builds it; false if a host fact can't be read. */
bool exec_plan_key(const struct exec_inputs *in, struct buf *key);

struct exec_plan {
	char *file;		/* the entry, whole (owns plan) */
	bool detach;
	int preserve_fds;
	const char *plan;
	size_t plan_len;
};

/* The plan saved in dir (the container's state dir) under this key: false if there is none,
 * or it is not ours alone (owned by this euid, writable by nobody else, no symlink), or its key
 * differs. */
bool exec_plan_find(const char *dir, const struct buf *key, struct exec_plan *out);

void buf_free(struct buf *b);

#endif
