/* signals.h - signal names as `kill` accepts them. */
#ifndef TSRUN_FRONT_SIGNALS_H
#define TSRUN_FRONT_SIGNALS_H

/* A signal by number (0-64; 0 checks the process is there) or name (KILL, SIGKILL, any
 * case); -1 if neither. */
int parse_signal(const char *text);

#endif
