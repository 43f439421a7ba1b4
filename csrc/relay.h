/* relay.h - the caller's terminal as the container's, without a console socket. */
#ifndef TSRUN_RELAY_H
#define TSRUN_RELAY_H

/* a socketpair standing in for the console socket: returns the child's end */
int relay_socketpair(int *parent_end);
/* receive the pty master on sock and copy between it and our stdio until
 * the container's side of the terminal is closed */
void relay_run(int sock);

#endif
