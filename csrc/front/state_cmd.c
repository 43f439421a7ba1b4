/* state_cmd.c - `state`: runc's state JSON, printed as the TypeScript side
 * does (JSON.stringify(describe(...), null, 2)). */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

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
	if (!container_dir(dir, root, id))
		return DELEGATE;
	switch (state_load(dir, &s)) {
	case LOAD_MISSING:
		return not_exist(id);
	case LOAD_OTHER:
		return DELEGATE;
	case LOAD_OK:
		break;
	}
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
