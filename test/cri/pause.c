/* The pod sandbox's pause process: holds the pod's namespaces, reaps orphans (it is the pod's
 * PID 1 when the pod shares a PID namespace), exits 0 on SIGTERM/SIGINT. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void quit(int sig) { (void)sig; _exit(0); }
static void reap(int sig) { (void)sig; while (waitpid(-1, NULL, WNOHANG) > 0) {} }

int main(void) {
  struct sigaction q = { .sa_handler = quit }, r = { .sa_handler = reap, .sa_flags = SA_NOCLDSTOP };
  if (sigaction(SIGTERM, &q, NULL) < 0 || sigaction(SIGINT, &q, NULL) < 0 || sigaction(SIGCHLD, &r, NULL) < 0) {
    fprintf(stderr, "pause: sigaction: %s (errno %d)\n", strerror(errno), errno);
    return 1;
  }
  for (;;) pause();
}
