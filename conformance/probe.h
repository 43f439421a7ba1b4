/* probe.h: what probe-util.c gives probe.c. */
#ifndef PROBE_H
#define PROBE_H
#include <stddef.h>

/* A streaming JSON writer on stdout: commas are placed automatically. */
void begin(char c); /* '{' or '[' */
void end(char c);   /* '}' or ']' */
void key(const char *k);
void jstrn(const char *s, size_t n);
void jstr(const char *s); /* NULL prints null */
void jnum(long long v);
void jerr(int e); /* {"errno": "ENAME"} */

/* A file (at most its first MiB) into a NUL-terminated malloc'd buffer; NULL with errno set
 * on failure. */
char *read_file(const char *path, size_t *len);
/* The value after "Name:" in a /proc status text, copied into out; NULL if absent. */
const char *status_field(const char *status, const char *name, char *out, size_t outlen);
/* Decodes mountinfo's \ooo escapes in place. */
char *unescape(char *s);
/* Each line of a text file as a JSON string array, or an errno object. */
void lines_of(const char *path);

#endif
