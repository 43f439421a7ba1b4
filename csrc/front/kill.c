/* kill.c - `kill [--all] ID [SIGNAL]`, as killContainer() in
 * src/container/lifecycle.ts. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "commands.h"
#include "log.h"
#include "state.h"

static int send(const pid_t *pids, size_t n, int sig)
{
	for (size_t i = 0; i < n; i++)
		if (kill(pids[i], sig) < 0 && errno != ESRCH)
			return log_error("kill %d: kill %s", (int)pids[i], strerrorname_np(errno));
	return 0;
}

/* As killLocked() in src/container/lifecycle.ts: --all signals what is in the cgroup, of a
 * stopped container too; a running one is frozen around it. */
static int kill_all(const struct saved_state *s, enum status st, int sig)
{
	char err[4200];
	pid_t *pids = malloc(MAX_PIDS * sizeof(*pids));
	if (!pids)
		return log_error("kill: out of memory");
	/* frozen, no process can fork a new one between reading the list and signalling it;
	 * without a usable freezer the signal goes out unfrozen */
	bool frozen = st == ST_RUNNING && cgroup_freeze(s, true, err, sizeof(err)) == 0;
	size_t n = cgroup_pids(s, pids, MAX_PIDS);
	if (n == 0 && st != ST_STOPPED) {
		pids[0] = s->pid; /* no cgroup (--cgroup-manager disabled): pid 1 at least */
		n = 1;
	}
	int rc = send(pids, n, sig);
	free(pids);
	/* a cgroup its manager removed once emptied (a systemd scope) needs no thaw */
	if (frozen && cgroup_freeze(s, false, err, sizeof(err)) < 0 && access(s->freezer_dir, F_OK) == 0)
		rc = log_error("%s", err);
	return rc;
}

int cmd_kill(const char *root, const char *id, int sig, bool all)
{
	char dir[4096];
	struct saved_state s;
	if (!container_dir(dir, root, id))
		return DELEGATE;
	int lock, rc = 0;
	if (!lock_and_load(dir, id, &s, &lock, false, &rc))
		return rc;
	enum status st = state_status(dir, &s);
	if (all)
		rc = kill_all(&s, st, sig);
	/* pid 0 would signal this process group: a create that never got a pid has no process;
	 * a frozen cgroup says "paused" even once pid 1 is gone, and its pid may be reused */
	else if (st == ST_STOPPED || !state_alive(&s))
		rc = log_error("container not running");
	else
		rc = send(&s.pid, 1, sig);
	/* a frozen process dies of SIGKILL only once thawed: a paused container killed is thawed
	 * (a failed thaw is a warning, not the kill's error) */
	char err[4200];
	if (rc == 0 && st == ST_PAUSED && sig == SIGKILL && cgroup_freeze(&s, false, err, sizeof(err)) < 0)
		log_warning("%s", err);
	state_free(&s);
	close(lock);
	return rc;
}
