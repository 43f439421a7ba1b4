/* log.h - runc's log lines, as src/cli/log.ts writes them.
 *
 * Callers parse these (conmon and containerd read the last error line of
 * --log), so both sides must produce the same bytes: text lines
 *   time="RFC3339" level=LEVEL msg="JSON-escaped"
 * or, with --log-format json, {"level":..,"msg":..,"time":..}. */
#ifndef TSRUN_FRONT_LOG_H
#define TSRUN_FRONT_LOG_H

#include <stdbool.h>

void log_configure(const char *file, bool json);
/* Logs an error and returns 1, the exit status of a failed command. */
int log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
