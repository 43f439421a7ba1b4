/* terminal.c - openpty inside the container, /dev/console, SCM_RIGHTS. */
#define _GNU_SOURCE
#include "terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/un.h>
#include <linux/magic.h>
#include <termios.h>
#include <unistd.h>

#include "error.h"
#include "util.h"
#include "resolve.h"
#include "testpause.h"

#define STEP "terminal"

int console_connect(struct plan *p)
{
	if (!p->console_socket)
		return -1;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int dirfd = -1;
	const char *path = p->console_socket;
	/* a path longer than sun_path goes through its directory's fd */
	if (strlen(path) >= sizeof(addr.sun_path)) {
		char dir[4096];
		const char *slash = strrchr(path, '/');
		size_t dl = slash ? (size_t)(slash - path) : 0;
		if (!slash || dl >= sizeof(dir))
			fail_errno(ENAMETOOLONG, "console_socket", "%s", path);
		memcpy(dir, path, dl);
		dir[dl] = '\0';
		dirfd = open(dl ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0)
			fail("console_socket", "open the directory of %s", path);
		snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/%s",
			 dirfd, slash + 1);
		if (strlen(slash + 1) + 32 >= sizeof(addr.sun_path))
			fail_errno(ENAMETOOLONG, "console_socket", "%s", path);
	} else {
		memcpy(addr.sun_path, path, strlen(path) + 1);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fail("console_socket", "socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		fail("console_socket", "connect %s", path);
	if (dirfd >= 0)
		close(dirfd);
	return fd;
}

/* runc's protocol: the message data names the device, the fd rides along */
static void send_master(int sock, int fd)
{
	static const char name[] = "/dev/ptmx";
	if (send_fd(sock, fd, name, sizeof(name) - 1) < 0)
		fail(STEP, "send the pty master on the console socket");
}

/* The pty slave is bound on /dev/console itself: a symlink there is replaced
 * by an empty file (followed, it would carry the mount elsewhere), and what
 * is mounted on is checked through an O_NOFOLLOW fd (CVE-2025-52565). */
static int console_target(int rootfd)
{
	char name[256];
	int dir = in_root_parent(rootfd, "/dev/console", name, sizeof(name),
				 STEP);
	struct stat st;
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode) && unlinkat(dir, name, 0) < 0)
		fail(STEP, "remove the symlink /dev/console");
	int f = openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW |
					  O_NOCTTY | O_CLOEXEC, 0644);
	if (f < 0 && errno != EEXIST)
		fail(STEP, "create /dev/console");
	if (f >= 0)
		close(f);
	int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		fail(STEP, "open /dev/console");
	if (fstat(fd, &st) < 0)
		fail(STEP, "stat /dev/console");
	if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
		failx(STEP, "/dev/console is neither a file nor a device (mode 0%o)",
		      st.st_mode);
	close(dir);
	return fd;
}

void terminal_setup(struct plan *p, int rootfd, int sock, bool mount_console)
{
	if (sock < 0)
		failx(STEP, "a terminal needs a console_socket record");
	int master = in_root_open(rootfd, "/dev/pts/ptmx", O_RDWR | O_NOCTTY);
	if (master < 0)
		fail(STEP, "open /dev/pts/ptmx in the container");
	/* a node the image put there would open whatever device it names */
	struct statfs sf;
	if (fstatfs(master, &sf) < 0)
		fail(STEP, "statfs /dev/pts/ptmx");
	if (sf.f_type != DEVPTS_SUPER_MAGIC)
		failx(STEP, "/dev/pts/ptmx in the container is not on a devpts filesystem");
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		fail(STEP, "unlock the pty");
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		fail(STEP, "open the pty slave");
	if (p->rows || p->cols) {
		struct winsize ws = { .ws_row = p->rows, .ws_col = p->cols };
		if (ioctl(master, TIOCSWINSZ, &ws) < 0)
			fail(STEP, "set the size %ux%u", p->rows, p->cols);
	}
	if (mount_console) {
		int console = console_target(rootfd);
		test_pause("console");
		if (mount(fd_path(slave), fd_path(console), NULL, MS_BIND, NULL) < 0)
			fail(STEP, "bind the pty slave on /dev/console");
		close(console);
	}
	send_master(sock, master);
	close(master);
	close(sock);
	if (setsid() < 0)
		fail(STEP, "setsid");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		fail(STEP, "make the pty the controlling terminal");
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0)
			fail(STEP, "dup the pty slave on fd %d", i);
	close(slave);
}
