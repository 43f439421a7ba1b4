/* json.c - strict JSON reader and JSON.stringify-compatible string writer. */
#define _GNU_SOURCE
#include "json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct reader {
	const char *p;
	char *err;
	size_t errlen;
	int depth;
};

static struct json *parse_value(struct reader *r);

static void *fail_at(struct reader *r, const char *why)
{
	if (r->err && !r->err[0])
		snprintf(r->err, r->errlen, "%s", why);
	return NULL;
}

static void skip_ws(struct reader *r)
{
	while (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')
		r->p++;
}

static struct json *node(enum json_type t)
{
	struct json *j = calloc(1, sizeof(*j));
	if (j)
		j->type = t;
	return j;
}

/* Appends code point cp as UTF-8; a lone surrogate becomes its 3-byte
 * (WTF-8) form so the writer can give back the same \uXXXX escape. */
static size_t put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

static int hex4(const char *p, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* A string literal at r->p (on the opening quote); the decoded bytes are at
 * most as long as the literal, so one allocation of that size is enough. */
static char *parse_string(struct reader *r, size_t *lenp)
{
	const char *start = ++r->p;
	const char *end = start;
	while (*end && *end != '"') {
		if (*end == '\\' && end[1])
			end++;
		end++;
	}
	if (*end != '"')
		return fail_at(r, "unterminated string");
	char *out = malloc((size_t)(end - start) + 1);
	if (!out)
		return fail_at(r, "out of memory");
	size_t n = 0;
	const char *p = start;
	while (p < end) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20) {
			free(out);
			return fail_at(r, "control character in string");
		}
		if (c != '\\') {
			out[n++] = (char)c;
			p++;
			continue;
		}
		p++;
		switch (*p) {
		case '"': out[n++] = '"'; break;
		case '\\': out[n++] = '\\'; break;
		case '/': out[n++] = '/'; break;
		case 'b': out[n++] = '\b'; break;
		case 'f': out[n++] = '\f'; break;
		case 'n': out[n++] = '\n'; break;
		case 'r': out[n++] = '\r'; break;
		case 't': out[n++] = '\t'; break;
		case 'u': {
			uint32_t cp, lo;
			if (p + 4 >= end + 1 || hex4(p + 1, &cp) < 0) {
				free(out);
				return fail_at(r, "bad \\u escape");
			}
			p += 4;
			if (cp >= 0xD800 && cp < 0xDC00 && p + 6 < end && p[1] == '\\' &&
			    p[2] == 'u' && hex4(p + 3, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				p += 6;
			}
			n += put_utf8(out + n, cp);
			break;
		}
		default:
			free(out);
			return fail_at(r, "bad escape in string");
		}
		p++;
	}
	out[n] = '\0';
	*lenp = n;
	r->p = end + 1;
	return out;
}

static int push(struct json *j, char *key, struct json *item)
{
	if ((j->len & (j->len - 1)) == 0) {	/* grow at 0, 1, 2, 4, 8 ... */
		size_t cap = j->len ? j->len * 2 : 1;
		struct json **items = realloc(j->items, cap * sizeof(*items));
		if (!items)
			return -1;
		j->items = items;
		if (j->type == J_OBJ) {
			char **keys = realloc(j->keys, cap * sizeof(*keys));
			if (!keys)
				return -1;
			j->keys = keys;
		}
	}
	if (j->type == J_OBJ)
		j->keys[j->len] = key;
	j->items[j->len++] = item;
	return 0;
}

static struct json *parse_container(struct reader *r, enum json_type t)
{
	char close = t == J_OBJ ? '}' : ']';
	struct json *j = node(t);
	if (!j)
		return fail_at(r, "out of memory");
	if (++r->depth > 64) {
		json_free(j);
		return fail_at(r, "nested too deeply");
	}
	r->p++;
	skip_ws(r);
	if (*r->p == close) {
		r->p++;
		r->depth--;
		return j;
	}
	for (;;) {
		char *key = NULL;
		size_t klen;
		skip_ws(r);
		if (t == J_OBJ) {
			if (*r->p != '"' || !(key = parse_string(r, &klen)))
				goto bad;
			skip_ws(r);
			if (*r->p++ != ':') {
				free(key);
				goto bad;
			}
		}
		struct json *item = parse_value(r);
		if (!item || push(j, key, item) < 0) {
			free(key);
			json_free(item);
			goto bad;
		}
		skip_ws(r);
		if (*r->p == ',') {
			r->p++;
			continue;
		}
		if (*r->p == close) {
			r->p++;
			r->depth--;
			return j;
		}
		goto bad;
	}
bad:
	json_free(j);
	return fail_at(r, t == J_OBJ ? "malformed object" : "malformed array");
}

static struct json *parse_value(struct reader *r)
{
	struct json *j;
	skip_ws(r);
	switch (*r->p) {
	case '{':
		return parse_container(r, J_OBJ);
	case '[':
		return parse_container(r, J_ARR);
	case '"':
		if (!(j = node(J_STR)))
			return fail_at(r, "out of memory");
		if (!(j->str = parse_string(r, &j->len))) {
			free(j);
			return NULL;
		}
		return j;
	case 't':
	case 'f':
	case 'n': {
		static const struct { const char *word; enum json_type t; bool b; } lits[] = {
			{ "true", J_BOOL, true }, { "false", J_BOOL, false }, { "null", J_NULL, false },
		};
		for (size_t i = 0; i < 3; i++) {
			size_t l = strlen(lits[i].word);
			if (strncmp(r->p, lits[i].word, l) == 0) {
				if (!(j = node(lits[i].t)))
					return fail_at(r, "out of memory");
				j->b = lits[i].b;
				r->p += l;
				return j;
			}
		}
		return fail_at(r, "unknown literal");
	}
	default: {
		const char *s = r->p;
		if (*s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return fail_at(r, "unexpected character");
		char *endp;
		double v = strtod(r->p, &endp);
		if (!(j = node(J_NUM)))
			return fail_at(r, "out of memory");
		j->num = v;
		r->p = endp;
		return j;
	}
	}
}

struct json *json_parse(const char *text, char *err, size_t errlen)
{
	struct reader r = { text, err, errlen, 0 };
	if (err && errlen)
		err[0] = '\0';
	struct json *j = parse_value(&r);
	if (!j)
		return NULL;
	skip_ws(&r);
	if (*r.p) {
		json_free(j);
		return fail_at(&r, "trailing characters");
	}
	return j;
}

void json_free(struct json *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->len && j->items; i++) {
		json_free(j->items[i]);
		if (j->keys)
			free(j->keys[i]);
	}
	free(j->items);
	free(j->keys);
	free(j->str);
	free(j);
}

const struct json *json_get(const struct json *j, const char *key)
{
	if (!j || j->type != J_OBJ)
		return NULL;
	/* JSON.parse keeps the last of duplicate names */
	for (size_t i = j->len; i-- > 0;)
		if (strcmp(j->keys[i], key) == 0)
			return j->items[i];
	return NULL;
}

const char *json_str(const struct json *j, const char *key)
{
	const struct json *v = json_get(j, key);
	return v && v->type == J_STR ? v->str : NULL;
}

void json_write_str(FILE *f, const char *s, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': fputs("\\\"", f); continue;
		case '\\': fputs("\\\\", f); continue;
		case '\b': fputs("\\b", f); continue;
		case '\f': fputs("\\f", f); continue;
		case '\n': fputs("\\n", f); continue;
		case '\r': fputs("\\r", f); continue;
		case '\t': fputs("\\t", f); continue;
		}
		if (c < 0x20) {
			fprintf(f, "\\u%04x", c);
			continue;
		}
		/* a lone surrogate (WTF-8 ED A0..BF xx): JSON.stringify escapes it */
		if (c == 0xED && i + 2 < len && ((unsigned char)s[i + 1] & 0xE0) == 0xA0) {
			unsigned cp = ((c & 0x0Fu) << 12) | (((unsigned char)s[i + 1] & 0x3Fu) << 6) |
				      ((unsigned char)s[i + 2] & 0x3Fu);
			fprintf(f, "\\u%04x", cp);
			i += 2;
			continue;
		}
		fputc(c, f);
	}
	fputc('"', f);
}
