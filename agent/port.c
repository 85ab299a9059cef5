#include "config.h" /* _GNU_SOURCE: F_SETOWN_EX, gettid */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/port.h"

/* How often a socket is connected to again, and how often a port with no
 * host is looked at when no SIGIO came. */
#define SOCK_RETRY_NS (50 * 1000 * 1000L)
#define PORT_FALLBACK_S 1

static void nap(long ns)
{
	struct timespec ts = {ns / 1000000000L, ns % 1000000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int sock_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	/* a local connect either succeeds or fails at once (EAGAIN when
	 * the backlog is full: retried like a refusal) */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* 1 when a host is connected to the open port. */
static int port_has_host(int fd)
{
	struct pollfd pfd = {fd, POLLIN, 0};

	if (poll(&pfd, 1, 0) < 0)
		return 0;
	return !(pfd.revents & (POLLHUP | POLLERR | POLLNVAL));
}

static void port_wait(struct vnb_port *p)
{
	struct f_owner_ex own = {F_OWNER_TID, gettid()};
	struct timespec ts = {PORT_FALLBACK_S, 0};
	sigset_t set;
	int fl;

	sigemptyset(&set);
	sigaddset(&set, SIGIO);
	fl = fcntl(p->fd, F_GETFL);
	/* the port signals host connection changes to its owner thread */
	if (fl < 0 || fcntl(p->fd, F_SETOWN_EX, &own) < 0 ||
	    fcntl(p->fd, F_SETFL, fl | O_ASYNC) < 0)
		vnb_agent_log(
		    "%s: no SIGIO (%s); looking for a host every %d s", p->path,
		    strerror(errno), PORT_FALLBACK_S);
	/* a SIGIO that comes between the look and the wait stays pending:
	 * SIGIO is blocked in every thread */
	while (!port_has_host(p->fd))
		sigtimedwait(&set, NULL, &ts);
	if (fl >= 0)
		fcntl(p->fd, F_SETFL, fl & ~O_ASYNC);
	while (sigtimedwait(&set, NULL, &(struct timespec){0, 0}) > 0)
		;
}

void vnb_port_wait_host(struct vnb_port *p)
{
	bool said = false;
	struct stat st;

	while (p->fd < 0) {
		if (stat(p->path, &st) == 0 && S_ISSOCK(st.st_mode)) {
			p->sock = true;
			p->fd = sock_connect(p->path);
		} else {
			p->sock = false;
			p->fd = open(p->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		}
		if (p->fd >= 0)
			break;
		if (!said && !(p->sock && (errno == ECONNREFUSED ||
					   errno == EAGAIN || errno == ENOENT)))
			vnb_agent_log("%s: %s; retrying", p->path,
				      strerror(errno));
		said = true;
		nap(p->sock ? SOCK_RETRY_NS : PORT_FALLBACK_S * 1000000000L);
	}
	if (!p->sock)
		port_wait(p);
}

void vnb_port_lost(struct vnb_port *p)
{
	if (p->sock && p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
	}
}
