/* state.h - reading state.json (src/state/saved-state.schema.json) and the
 * container's status, the same way src/state/status.ts computes it. */
#ifndef TSRUN_FRONT_STATE_H
#define TSRUN_FRONT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "json.h"

enum load_result {
	LOAD_OK,
	LOAD_MISSING,	/* no state.json: `container "ID" does not exist` */
	LOAD_OTHER,	/* unreadable, corrupt or an unknown format: TypeScript decides */
};

struct saved_state {
	struct json *doc;		/* owns every string below */
	const char *id, *oci_version, *bundle, *rootfs, *created, *owner, *start_time;
	const struct json *annotations;	/* object or NULL */
	pid_t pid;
	bool has_process, shares_mount_ns, creating;
	const struct json *cgroup_dirs;	/* array of strings */
	const char *freezer_dir;	/* NULL without a freezer */
	bool freezer_v1;
	bool hook_start, hook_poststart, hook_poststop;
	bool systemd;			/* a systemd unit holds the cgroup: delete is Node's */
};

enum status { ST_CREATING, ST_CREATED, ST_RUNNING, ST_PAUSED, ST_STOPPED };

enum load_result state_load(const char *dir, struct saved_state *s);
/* The same, and the file's bytes (malloc'd, NUL-terminated) in *bytes and *len on LOAD_OK. */
enum load_result state_load_bytes(const char *dir, struct saved_state *s, char **bytes, size_t *len);
void state_free(struct saved_state *s);

bool state_alive(const struct saved_state *s);
enum status state_status(const char *dir, const struct saved_state *s);
const char *status_name(enum status st);

/* flock(LOCK_EX) on the state dir (docs/STATE-FORMAT.md#locking); -1 with errno. */
int state_lock(const char *dir);

#endif
