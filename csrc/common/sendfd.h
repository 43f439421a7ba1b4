/* sendfd.h - one fd sent over a unix socket (SCM_RIGHTS): tsrun-init sends the pty master to
 * --console-socket at create (csrc/terminal.c), the addon the new one at restore. */
#ifndef TSRUN_COMMON_SENDFD_H
#define TSRUN_COMMON_SENDFD_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* one sendmsg of data with fd as SCM_RIGHTS (EINTR retried); sendmsg's result */
ssize_t send_fd(int sock, int fd, const void *data, size_t len);

#ifdef __cplusplus
}
#endif

#endif
