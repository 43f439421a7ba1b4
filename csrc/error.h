/* error.h - one error convention for tsrun-init.
 *
 * tsrun-init is a single-threaded process that gives up on the first failure.
 * Every fallible call is checked; on failure we format
 *     STEP: DETAIL: strerror(errno)
 * (STEP is the plan step, DETAIL names the path or field), send it as
 * "error ...\n" on the sync fd (or to stderr once the sync fd is closed), kill
 * the child we may have cloned, and exit 1.  The mounts we made live in the
 * child's private mount namespace and vanish with it, so nothing is left
 * behind. */
#ifndef TSRUN_ERROR_H
#define TSRUN_ERROR_H

#include <sys/types.h>

/* Where error lines go; -1 means stderr (after `ready`). */
void err_set_sync_fd(int fd);
int err_sync_fd(void);
/* A child to SIGKILL if we fail (0 = none). */
void err_set_child(pid_t pid);

/* errno-carrying failure: "STEP: DETAIL: strerror(errno)". */
_Noreturn void fail(const char *step, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* failure with an explicit errno value. */
_Noreturn void fail_errno(int errnum, const char *step, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* failure without an errno: "STEP: DETAIL". */
_Noreturn void failx(const char *step, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* CHECK(call, step, fmt...): fail with errno when call returns < 0. */
#define CHECK(expr, step, ...) \
	do { if ((expr) < 0) fail(step, __VA_ARGS__); } while (0)

#endif
