/* json.h - a small JSON reader and string writer for the front end.
 *
 * The front end reads only files that TypeScript wrote (state.json), so the
 * reader is strict RFC 8259 and builds a tree in one allocation pool; the
 * writer escapes strings exactly as JavaScript's JSON.stringify does, because
 * `state` output must be byte-identical whichever side prints it. */
#ifndef TSRUN_FRONT_JSON_H
#define TSRUN_FRONT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum json_type { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct json {
	enum json_type type;
	bool b;
	double num;
	char *str;		/* J_STR: NUL-terminated, WTF-8 (lone surrogates kept) */
	size_t len;		/* J_STR: bytes; J_ARR/J_OBJ: members */
	char **keys;		/* J_OBJ: member names, in file order */
	struct json **items;	/* J_ARR/J_OBJ: members */
};

/* Parses text (NUL-terminated); NULL on malformed input, with a reason in err. */
struct json *json_parse(const char *text, char *err, size_t errlen);
void json_free(struct json *j);

/* Member of an object, or NULL (also when j is not an object). */
const struct json *json_get(const struct json *j, const char *key);
/* A member that is a string, or NULL. */
const char *json_str(const struct json *j, const char *key);

/* Writes s as a JSON string literal, as JSON.stringify would. */
void json_write_str(FILE *f, const char *s, size_t len);

#endif
