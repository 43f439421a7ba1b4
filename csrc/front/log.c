/* log.c - error lines in runc's text or json format, to --log or stderr. */
#define _GNU_SOURCE
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"

static const char *log_file;
static bool log_json;

void log_configure(const char *file, bool json)
{
	log_file = file;
	log_json = json;
}

static void write_line(FILE *f, const char *level, const char *msg)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (log_json) {
		fprintf(f, "{\"level\":\"%s\",\"msg\":", level);
		json_write_str(f, msg, strlen(msg));
		fprintf(f, ",\"time\":\"%s\"}\n", when);
	} else {
		fprintf(f, "time=\"%s\" level=%s msg=", when, level);
		json_write_str(f, msg, strlen(msg));
		fputc('\n', f);
	}
}

static void log_line(const char *level, const char *fmt, va_list ap)
{
	char msg[4096];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_file) {
		FILE *f = fopen(log_file, "ae");
		if (f) {
			write_line(f, level, msg);
			fclose(f);
		} else {
			write_line(stderr, level, msg);
		}
		/* with --log, errors also reach stderr as plain text (as the TypeScript side) */
		if (strcmp(level, "error") == 0)
			fprintf(stderr, "%s\n", msg);
	} else {
		write_line(stderr, level, msg);
	}
}

int log_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_line("error", fmt, ap);
	va_end(ap);
	return 1;
}

void log_warning(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_line("warning", fmt, ap);
	va_end(ap);
}
