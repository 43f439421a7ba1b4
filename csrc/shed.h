/* shed.h - what a created container's process gives back while it waits. */
#ifndef TSRUN_SHED_H
#define TSRUN_SHED_H

/* Drop the pages setup touched and the wait does not need: the stack below
 * the caller's frame and the heap's free top. */
void shed_memory(void);

#endif
