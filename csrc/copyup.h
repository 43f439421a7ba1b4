/* copyup.h - tmpcopyup: fill a new tmpfs with the directory it covers. */
#ifndef TSRUN_COPYUP_H
#define TSRUN_COPYUP_H

/* copy everything in hidden_dir (an fd opened before the mount) into
 * mounted_dir (the new tmpfs), then give it hidden_dir's mode and owner */
void copyup(int hidden_dir, int mounted_dir);

#endif
