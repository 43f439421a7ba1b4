/* commands.h - the commands the front end serves itself.
 *
 * Each returns the exit status, or DELEGATE when the case is one the
 * TypeScript side handles (hooks to run, a state file this reader does not
 * understand, ...): nothing has been changed then, and main() execs Node with
 * the same arguments. */
#ifndef TSRUN_FRONT_COMMANDS_H
#define TSRUN_FRONT_COMMANDS_H

#include <stdbool.h>

#define DELEGATE (-1)

int cmd_state(const char *root, const char *id);
int cmd_start(const char *root, const char *id);
int cmd_kill(const char *root, const char *id, int sig, bool all);
int cmd_delete(const char *root, const char *id, bool force);
/* exec's arguments (after "exec"); self_dir holds tsrun-init */
int cmd_exec(const char *root, const char *self_dir, int argc, char **argv);

/* Reads state.json without the lock. True with *s loaded; false with *rc what the command
 * returns: `does not exist` (logged) or DELEGATE (a file only TypeScript understands). */
struct saved_state;
bool load_unlocked(const char *dir, const char *id, struct saved_state *s, int *rc);

/* Takes the container's lock and reads state.json again. True with *s loaded and *lock held;
 * false with nothing held and *rc what the command returns: DELEGATE, or the exit status after
 * the error is logged (a missing container is `does not exist`, or success if missing_ok). */
bool lock_and_load(const char *dir, const char *id, struct saved_state *s, int *lock,
		   bool missing_ok, int *rc);

/* "<root>/<id>" into buf (size 4096); false if too long. */
bool container_dir(char *buf, const char *root, const char *id);
int not_exist(const char *id);

#endif
