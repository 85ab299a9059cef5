/*
 * fakeqemu - stands in for qemu's virtio-serial channels in the agent
 * tests, so that they run without a VM and without root:
 *
 *   fakeqemu RUN_DIR PORTS_DIR NTASKS
 *
 * listens on the host ends RUN_DIR/ctl.sock and RUN_DIR/task.<i>.sock
 * (vnb-exec connects there) and on the guest ends
 * PORTS_DIR/org.vnic-bypass.ctl and PORTS_DIR/org.vnic-bypass.task.<i>
 * (vnb-agent connects there, as it opens a port), and relays bytes both
 * ways, as qemu does:
 *   - one host at a time per channel; the next one waits in the backlog;
 *   - what a host sends while no agent is connected waits for one (qemu
 *     does not read a chardev whose guest port is closed);
 *   - what the agent sends while no host is connected waits (a guest's
 *     write to a port without a host blocks);
 *   - when the host disconnects, the agent's connection is dropped: the
 *     agent sees EOF, as it reads 0 from a port without a host.
 * It closes its stdout once every socket listens.  SIGTERM ends it.
 */
#include "config.h" /* _GNU_SOURCE: accept4 */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAXCH 32
#define BUFSZ 65536

struct half {
	char buf[BUFSZ];
	size_t off, len;
};

struct pair {
	int hl, gl; /* listening */
	int h, g; /* connected host and agent, -1 when none */
	struct half h2g, g2h;
};

static struct pair ch[MAXCH];

static int listen_on(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "fakeqemu: %s: path too long\n", path);
		exit(1);
	}
	strcpy(sa.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 8) < 0) {
		fprintf(stderr, "fakeqemu: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

static void drop(int *fd, struct half *a, struct half *b)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	if (a)
		a->off = a->len = 0;
	if (b)
		b->off = b->len = 0;
}

static void host_gone(struct pair *p)
{
	drop(&p->h, &p->h2g, &p->g2h);
	drop(&p->g, NULL, NULL);
}

/* Read from fd into an empty half; 0 at EOF or on an error. */
static int fill(int fd, struct half *x)
{
	ssize_t n = read(fd, x->buf, sizeof(x->buf));

	if (n < 0 && errno == EINTR)
		return 1;
	if (n <= 0)
		return 0;
	x->off = 0;
	x->len = (size_t)n;
	return 1;
}

static int flush(int fd, struct half *x)
{
	ssize_t n = write(fd, x->buf + x->off, x->len);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n < 0)
		return 0;
	x->off += (size_t)n;
	x->len -= (size_t)n;
	return 1;
}

int main(int argc, char **argv)
{
	struct pollfd pfd[MAXCH * 4];
	char path[4096];
	int n, i, k;

	if (argc != 4 || (n = atoi(argv[3])) < 1 || n >= MAXCH) {
		fprintf(stderr, "usage: fakeqemu RUN_DIR PORTS_DIR NTASKS\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i <= n; i++) {
		if (i == 0)
			snprintf(path, sizeof(path), "%s/ctl.sock", argv[1]);
		else
			snprintf(path, sizeof(path), "%s/task.%d.sock", argv[1],
				 i - 1);
		ch[i].hl = listen_on(path);
		if (i == 0)
			snprintf(path, sizeof(path), "%s/org.vnic-bypass.ctl",
				 argv[2]);
		else
			snprintf(path, sizeof(path),
				 "%s/org.vnic-bypass.task.%d", argv[2], i - 1);
		ch[i].gl = listen_on(path);
		ch[i].h = ch[i].g = -1;
	}
	fclose(stdout);
	for (;;) {
		for (i = 0; i <= n; i++) {
			struct pair *p = &ch[i];
			struct pollfd *f = &pfd[4 * i];

			f[0] =
			    (struct pollfd){p->h < 0 ? p->hl : -1, POLLIN, 0};
			f[1] =
			    (struct pollfd){p->g < 0 ? p->gl : -1, POLLIN, 0};
			f[2] = (struct pollfd){p->h, 0, 0};
			f[3] = (struct pollfd){p->g, 0, 0};
			if (p->g >= 0 && p->h2g.len == 0)
				f[2].events |= POLLIN;
			if (p->g2h.len)
				f[2].events |= POLLOUT;
			if (p->h >= 0 && p->g2h.len == 0)
				f[3].events |= POLLIN;
			if (p->h2g.len)
				f[3].events |= POLLOUT;
		}
		if (poll(pfd, (nfds_t)(4 * (n + 1)), -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("fakeqemu: poll");
			return 1;
		}
		for (i = 0; i <= n; i++) {
			struct pair *p = &ch[i];
			struct pollfd *f = &pfd[4 * i];

			if (f[0].revents & POLLIN)
				p->h = accept4(p->hl, NULL, NULL, SOCK_CLOEXEC);
			if (f[1].revents & POLLIN)
				p->g = accept4(p->gl, NULL, NULL, SOCK_CLOEXEC);
			k = 1;
			if (f[2].revents & POLLOUT)
				k = flush(p->h, &p->g2h);
			if (k && (f[2].revents & POLLIN))
				k = fill(p->h, &p->h2g);
			else if (k && (f[2].revents & (POLLHUP | POLLERR)))
				k = 0;
			if (!k) {
				host_gone(p);
				continue;
			}
			if (f[3].revents & POLLOUT)
				k = flush(p->g, &p->h2g);
			if (k && (f[3].revents & POLLIN))
				k = fill(p->g, &p->g2h);
			else if (k && (f[3].revents & (POLLHUP | POLLERR)))
				k = 0;
			if (!k)
				drop(&p->g, &p->g2h, NULL);
		}
	}
}
