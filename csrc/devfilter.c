/* devfilter.c - cgroup v2 device control: the runtime compiles the device
 * rules into a BPF_PROG_TYPE_CGROUP_DEVICE program; this loads it and
 * attaches it to the container's cgroup before the container exists. */
#define _GNU_SOURCE
#include "devfilter.h"

#include <stdlib.h>

#include "common/devprog.h"
#include "error.h"
#include "util.h"

#define STEP "device_filter"

/* The verifier's account of a refused program; the reason is at its end. */
static char verifier_log[65536];

void devfilter_attach(struct plan *p)
{
	for (size_t i = 0; i < p->n_devfilters; i++) {
		const char *dir = p->devfilters[i].a, *hex = p->devfilters[i].b;
		size_t len;
		unsigned char *code = hex_decode(STEP, hex, &len);
		if (len == 0 || len % 8)
			failx(STEP, "program of %zu bytes is not whole instructions", len);
		const char *what;
		verifier_log[0] = '\0';
		int err = devprog_attach(dir, code, len, &what, verifier_log, sizeof(verifier_log));
		if (err && verifier_log[0])
			fail_errno(err, STEP, "load the device program for %s (verifier: %s)", dir, verifier_log);
		if (err)
			fail_errno(err, STEP, "%s %s", what, dir);
		free(code);
	}
}
