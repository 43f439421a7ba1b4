/* sched.c - cpu affinity, sched_setattr, ioprio_set, set_mempolicy. */
#define _GNU_SOURCE
#include "process.h"

#include <errno.h>
#include <sched.h>
#include <string.h>

#include "error.h"
#include "syscalls.h"
#include "util.h"

#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_CLASS_SHIFT 13
#define MAX_NODES 1024

void sched_affinity(const char *step, const char *list)
{
	cpu_set_t set;
	if (!list)
		return;
	CPU_ZERO(&set);
	if (parse_bitlist(list, (unsigned long *)&set, CPU_SETSIZE) < 0)
		failx(step, "bad cpu list \"%s\"", list);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		fail(step, "sched_setaffinity \"%s\"", list);
}

void sched_apply(struct plan *p)
{
	if (p->has_scheduler) {
		struct tsr_sched_attr a = {
			.size = sizeof(a),
			.sched_policy = p->sched.policy,
			.sched_flags = p->sched.flags,
			.sched_nice = p->sched.nice,
			.sched_priority = p->sched.priority,
			.sched_runtime = p->sched.runtime,
			.sched_deadline = p->sched.deadline,
			.sched_period = p->sched.period,
		};
		if (sys_sched_setattr(&a) < 0)
			fail("scheduler", "sched_setattr policy %u priority %u "
			     "nice %d", p->sched.policy, p->sched.priority,
			     p->sched.nice);
	}
	if (p->has_ioprio) {
		int prio = p->ioprio_class << IOPRIO_CLASS_SHIFT | p->ioprio_level;
		if (sys_ioprio_set(IOPRIO_WHO_PROCESS, 0, prio) < 0)
			fail("ioprio", "ioprio_set class %d priority %d",
			     p->ioprio_class, p->ioprio_level);
	}
	if (p->has_mempolicy) {
		unsigned long mask[MAX_NODES / (8 * sizeof(unsigned long))];
		const unsigned long *m = NULL;
		unsigned long maxnode = 0;
		if (*p->mempolicy_nodes) {
			if (parse_bitlist(p->mempolicy_nodes, mask, MAX_NODES) < 0)
				failx("mempolicy", "bad node list \"%s\"",
				      p->mempolicy_nodes);
			m = mask;
			maxnode = MAX_NODES + 1;
		}
		if (sys_set_mempolicy(p->mempolicy_mode | p->mempolicy_flags, m,
				      maxnode) < 0)
			fail("mempolicy", "set_mempolicy mode %d flags 0x%x nodes \"%s\"",
			     p->mempolicy_mode, p->mempolicy_flags,
			     p->mempolicy_nodes);
	}
}
