/* relay.c - `run`/`exec -t` in the foreground without --console-socket: the
 * parent takes the pty master itself and copies between it and the caller's
 * terminal, as runc does for a person at a shell. */
#define _GNU_SOURCE
#include "relay.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "error.h"
#include "util.h"

static volatile sig_atomic_t winch;

static void on_winch(int sig)
{
	(void)sig;
	winch = 1;
}

int relay_socketpair(int *parent_end)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		fail("terminal", "socketpair for the terminal relay");
	*parent_end = sv[0];
	return sv[1];
}

static void copy_size(int master)
{
	struct winsize ws;
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row)
		ioctl(master, TIOCSWINSZ, &ws); /* best effort: a size, not a failure */
}

/* write all of buf; false once the other side is gone */
static int write_all(int fd, const char *buf, ssize_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, (size_t)n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return 0;
		buf += w;
		n -= w;
	}
	return 1;
}

void relay_run(int sock)
{
	int master = recv_fd(sock);
	close(sock);
	if (master < 0)
		return;
	struct termios saved;
	int raw = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	if (raw) {
		struct termios t = saved;
		cfmakeraw(&t);
		if (tcsetattr(STDIN_FILENO, TCSANOW, &t) < 0)
			raw = 0;
		copy_size(master);
		struct sigaction sa = { .sa_handler = on_winch };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGWINCH, &sa, NULL);
	}
	struct pollfd fds[2] = { { .fd = master, .events = POLLIN },
				 { .fd = STDIN_FILENO, .events = POLLIN } };
	char buf[8192];
	for (;;) {
		if (winch) {
			winch = 0;
			copy_size(master);
		}
		int n = poll(fds, 2, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(master, buf, sizeof(buf));
			if (r < 0 && errno == EINTR)
				continue;
			/* EIO: every slave fd is closed, the container is done */
			if (r <= 0 || !write_all(STDOUT_FILENO, buf, r))
				break;
		}
		if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0 || !write_all(master, buf, r))
				fds[1].fd = -1; /* stdin closed: keep showing output */
		}
	}
	if (raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	close(master);
}
