/* proc.h - starting and waiting for processes, shared by the addon (csrc/addon) and the client
 * (csrc/client), which both start tsrun-init and wait for it. */
#ifndef TSRUN_COMMON_PROC_H
#define TSRUN_COMMON_PROC_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* posix_spawn of path with child fd i = fds[i] for i < n, default signal dispositions and an
 * empty mask. 0 with *pid set, or an errno; *bad_fd is the source fd that could not be placed,
 * or -1. */
int spawn_fds(const char *path, char *const argv[], char *const envp[], const int *fds, int n,
	      pid_t *pid, int *bad_fd);

/* waitpid, again after each signal handled meanwhile. */
pid_t wait_retrying(pid_t pid, int *status);

/* An exit status as a shell reports it: the code, or 128 + the signal. */
int status_code(int status);

/* Waits up to timeout_ms for pid to exit: 0 with *code set, 1 on timeout, -1 with errno. */
int wait_exit(pid_t pid, int timeout_ms, int *code);

/* From now on each of the n signals this process gets is sent to target (a C handler, so it
 * works whichever thread takes the signal): 0, or -1 with errno and nothing changed. The
 * actions replaced go to old[0..n-1] unless old is NULL. */
struct sigaction;
int forward_signals(pid_t target, const int *sigs, int n, struct sigaction *old);

/* Waits for pid, sending each of the n signals it gets meanwhile to target: 0 with *code set,
 * or -1 with errno (*what names the failing call). */
int wait_forwarding(pid_t pid, pid_t target, const int *sigs, int n, int *code, const char **what);

/* FNV-1a, 64 bits. */
unsigned long long fnv1a64(const unsigned char *p, size_t n);

#ifdef __cplusplus
}
#endif

#endif
