/* client.h - calls through the warm TypeScript server (docs/CLIENT-SERVER.md). */
#ifndef TSRUN_CLIENT_CLIENT_H
#define TSRUN_CLIENT_CLIENT_H

#include <stdbool.h>

/* The call was not made: run it cold (exec Node). */
#define CLIENT_COLD (-2)

/* Where Node and the bundle are: node (the interpreter dist/tsrun.js names) and js. */
struct node_paths {
	char self[4096]; /* build/Release: this binary, tsrun-init, the addon */
	char node[4096 + 64];
	char js[4096 + 32];
};

/* Runs argv through the server of root (an absolute path): its exit status, or CLIENT_COLD
 * when there is no server to take it, which with start is then started in the background for
 * the next calls (a systemd service where systemd runs). A call the server took and
 * did not finish is an error (1), never made again. With launch (create, run, exec), the
 * client starts tsrun-init itself and hands the server its plan and sync sockets. */
int client_call(const struct node_paths *p, const char *root, char **argv, bool start,
		bool launch);

#endif
