/* sync.h - the line protocol to the runtime and the parent/child release. */
#ifndef TSRUN_SYNC_H
#define TSRUN_SYNC_H

#include <sys/types.h>

/* send one line ("pid N", "ready") on the sync fd */
void sync_send(int fd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* waits for the runtime's "continue" line; exits 1 quietly on EOF or any
 * other reply (the runtime gave up and reports why itself) */
void sync_wait_continue(int fd);

/* parent -> child release channel (a socketpair, both ends CLOEXEC) */
void release_init(int fds[2]);
void release_child(int fd, pid_t pid); /* parent: let the child go */
pid_t release_wait(int fd);            /* child: block; returns its pid */

/* exec fifo: opened O_PATH before pivot_root; released by `start` */
/* the parent makes the fifo; uid/gid: the host ids of the container's root */
void execfifo_create(const char *host_path, uid_t uid, gid_t gid);
int execfifo_open_path(const char *host_path);
/* blocks until `start` opens the fifo; returns the fd to write to */
int execfifo_wait(int pathfd, const char *host_path);
/* writes the start byte (after the startContainer hooks) */
void execfifo_release(int fd, const char *host_path);

#endif
