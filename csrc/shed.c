/* shed.c - gives back the memory a created container's process no longer
 * needs. A created container can wait for `start` for as long as its caller
 * likes (runtime.md#create), and a node holds many; what it keeps resident
 * is what setup touched: the stack of its deepest step and the heap's
 * scratch. Neither is needed to wait. (Code pages are not worth dropping:
 * the kernel maps 64 kB around the next fault, all of tsrun-init's code.) */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "error.h"
#include "shed.h"
#include "util.h"

/* A line of /proc/self/maps: "start-end perms offset dev inode   path". */
static int parse_line(const char *line, uintptr_t *start, uintptr_t *end, const char **path)
{
	char *p;
	errno = 0;
	*start = (uintptr_t)strtoull(line, &p, 16);
	if (errno || *p != '-')
		return -1;
	*end = (uintptr_t)strtoull(p + 1, &p, 16);
	if (errno || *p != ' ')
		return -1;
	/* the path is the sixth field, after perms, offset, dev and inode */
	const char *q = p + 1;
	for (int field = 0; field < 4; field++) {
		q = strchr(q, ' ');
		if (!q)
			return -1;
		while (*q == ' ')
			q++;
	}
	*path = q;
	return 0;
}

/* The pages are anonymous and dead: they read back as zeros if touched. */
static void drop(uintptr_t start, uintptr_t end)
{
	if (madvise((void *)start, end - start, MADV_DONTNEED) < 0)
		fail("shed", "madvise the stack's unused %#lx-%#lx", (unsigned long)start, (unsigned long)end);
}

void shed_memory(void)
{
	/* Without /proc in the container there is nothing to read the layout
	 * from; the process then keeps its pages, which changes nothing else. */
	char *maps = read_file_alloc("/proc/self/maps");
	if (!maps)
		return;
	const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	/* Everything below this frame is dead; two pages of margin hold this
	 * function's own calls (madvise, strtoull) and the red zone. */
	volatile char here = 0;
	const uintptr_t live = ((uintptr_t)&here & ~(page - 1)) - 2 * page;
	for (char *line = maps, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		uintptr_t start, end;
		const char *path;
		if (parse_line(line, &start, &end, &path) < 0)
			continue;
		if (strcmp(path, "[stack]") == 0 && live > start)
			drop(start, live < end ? live : end);
	}
	free(maps);
	malloc_trim(0);
}
