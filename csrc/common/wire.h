/* wire.h - the framing between the tsrun client (csrc/client) and the warm TypeScript server
 * (src/server), shared by both sides' C code: the client sends, the addon receives. The whole
 * protocol is described in docs/CLIENT-SERVER.md. */
#ifndef TSRUN_COMMON_WIRE_H
#define TSRUN_COMMON_WIRE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "TSR1": a server of another protocol version closes the connection unanswered. */
#define WIRE_MAGIC 0x31525354u
/* The most fds one request carries: the cwd, stdio and what later stages add. */
#define WIRE_MAX_FDS 64
/* The most bytes of argv and environment one request carries. */
#define WIRE_MAX_PAYLOAD (4u << 20)

/* Sent once, with the fds attached (SCM_RIGHTS); the payload follows. */
struct wire_header {
	uint32_t magic;
	uint32_t nfds;
	uint32_t argc;
	uint32_t payload; /* bytes: argc NUL-terminated args, then NUL-terminated NAME=VALUE */
	uint32_t init;	  /* the pid of the tsrun-init the client started (create, run, exec), or 0 */
};

/* The server's answers: WIRE_PENDING at once, WIRE_ACCEPTED once it holds the whole request (before it does
 * anything), to which the client answers WIRE_CONFIRMED (the server does nothing without it:
 * a client that gave up waiting for WIRE_ACCEPTED closes instead), then WIRE_EXIT followed by the call's exit status (int32, host order). In
 * between, when the client started tsrun-init, the server asks the client, its parent, to:
 *   WIRE_WAIT timeout_ms        wait for it: WIRE_WAITED code (-1: still running)
 *   WIRE_FORWARD pid n sigs...  forward those signals to pid from now on: WIRE_FORWARDING
 *   WIRE_FOREGROUND pid n sigs... wait for it, forwarding those signals: WIRE_WAITED code
 * (each an int32, host order). */
#define WIRE_ACCEPTED 'A'
/* Sent by the server's main thread as soon as it has a connection from this uid, before a
 * worker (which may have to start first) reads the request: the server is not hung. */
#define WIRE_PENDING 'P'
#define WIRE_CONFIRMED 'C'
#define WIRE_EXIT 'X'
#define WIRE_WAIT 'W'
#define WIRE_FORWARD 'F'
#define WIRE_FOREGROUND 'G'
#define WIRE_WAITED 'w'
#define WIRE_FORWARDING 'f'
/* The most signals a WIRE_FORWARD or WIRE_FOREGROUND names. */
#define WIRE_MAX_SIGNALS 32

/* Sends a request: 0, or -1 with errno (the server then did not get it whole). */
int wire_send(int sock, const int *fds, uint32_t nfds, uint32_t argc, const char *payload,
	      uint32_t size, uint32_t init);

/* Receives a request within timeout_ms: 0 with *h, fds[0..h->nfds) (close-on-exec) and
 * *payload (malloc'd, h->payload bytes) set, or -1 with errno and nothing kept (EPROTO for a
 * malformed request, ETIMEDOUT). */
int wire_recv(int sock, int timeout_ms, struct wire_header *h, int *fds, char **payload);

#ifdef __cplusplus
}
#endif

#endif
