/* state_cmd.c - `state`: runc's state JSON, printed as the TypeScript side
 * does (JSON.stringify(describe(...), null, 2)). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "json.h"
#include "log.h"
#include "state.h"

bool container_dir(char *buf, const char *root, const char *id)
{
	return snprintf(buf, 4096, "%s/%s", root, id) < 4096;
}

int not_exist(const char *id)
{
	return log_error("container \"%s\" does not exist", id);
}

/* What a read gives the command: true when loaded, else *rc is its result. */
static bool loaded(enum load_result r, const char *id, bool missing_ok, int *rc)
{
	if (r == LOAD_OK)
		return true;
	if (r == LOAD_OTHER)
		*rc = DELEGATE;
	else
		*rc = missing_ok ? 0 : not_exist(id); /* missing: never was, or a concurrent delete won */
	return false;
}

bool load_unlocked(const char *dir, const char *id, struct saved_state *s, int *rc)
{
	return loaded(state_load(dir, s), id, false, rc);
}

bool lock_and_load(const char *dir, const char *id, struct saved_state *s, int *lock,
		   bool missing_ok, int *rc)
{
	*lock = state_lock(dir);
	if (*lock < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return loaded(LOAD_MISSING, id, missing_ok, rc);
		*rc = log_error("lock %s: %s", dir, strerror(errno));
		return false;
	}
	if (loaded(state_load(dir, s), id, missing_ok, rc))
		return true;
	close(*lock);
	return false;
}

static void field(FILE *f, const char *key, const char *value, bool last)
{
	fprintf(f, "  \"%s\": ", key);
	json_write_str(f, value, strlen(value));
	fputs(last ? "\n" : ",\n", f);
}

int cmd_state(const char *root, const char *id)
{
	char dir[4096];
	struct saved_state s;
	int rc = 0;
	if (!container_dir(dir, root, id))
		return DELEGATE;
	if (!load_unlocked(dir, id, &s, &rc))
		return rc;
	enum status st = state_status(dir, &s);
	FILE *out = stdout;
	fputs("{\n", out);
	field(out, "ociVersion", s.oci_version, false);
	field(out, "id", s.id, false);
	fprintf(out, "  \"pid\": %d,\n", st == ST_STOPPED ? 0 : (int)s.pid);
	field(out, "status", status_name(st), false);
	field(out, "bundle", s.bundle, false);
	field(out, "rootfs", s.rootfs, false);
	field(out, "created", s.created, false);
	if (s.annotations && s.annotations->len) {
		fputs("  \"annotations\": {\n", out);
		for (size_t i = 0; i < s.annotations->len; i++) {
			const struct json *v = s.annotations->items[i];
			fputs("    ", out);
			json_write_str(out, s.annotations->keys[i], strlen(s.annotations->keys[i]));
			fputs(": ", out);
			json_write_str(out, v->str, v->len);
			fputs(i + 1 < s.annotations->len ? ",\n" : "\n", out);
		}
		fputs("  },\n", out);
	}
	field(out, "owner", s.owner, true);
	fputs("}\n", out);
	state_free(&s);
	return fflush(out) == 0 ? 0 : 1;
}
