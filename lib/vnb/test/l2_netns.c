/*
 * l2_netns.c - network namespaces and payloads for the l2 provider tests.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/tap.h"
#include "vnb/test/l2_netns.h"

static void skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	fflush(stdout);
	exit(0);
}

static int new_netns(void)
{
	if (unshare(CLONE_NEWNET) < 0)
		return -1;
	return open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
}

int l2_netns_sh(const struct l2_netns *n, int side, const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	l2_netns_enter(n, side);
	st = system(cmd);
	return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

void l2_netns_up(struct l2_netns *n)
{
	const char *path = getenv("PATH");
	char newpath[1024];
	int side;

	if (geteuid() != 0)
		skip_all("needs root");
	/* ip lives in sbin, which a user's PATH may lack. */
	snprintf(newpath, sizeof(newpath), "%s:/usr/sbin:/sbin",
		 path ? path : "/usr/bin:/bin");
	setenv("PATH", newpath, 1);
	if (system("ip -V >/dev/null 2>&1") != 0)
		skip_all("needs ip (iproute2)");
	n->home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	n->fd[0] = new_netns();
	n->fd[1] = n->home >= 0 && n->fd[0] >= 0 ? new_netns() : -1;
	if (n->fd[1] < 0)
		skip_all("cannot create network namespaces");
	/* Created in side 1, its peer moved to side 0 through a path to
	 * side 0's namespace that the command inherits. */
	fcntl(n->fd[0], F_SETFD, 0);
	if (l2_netns_sh(n, 1,
			"ip link add " L2_IF1 " address 02:00:0a:e7:00:02 "
			"type veth peer name " L2_IF0
			" address 02:00:0a:e7:00:01 netns /proc/self/fd/%d",
			n->fd[0]) != 0)
		skip_all("cannot create a veth pair");
	fcntl(n->fd[0], F_SETFD, FD_CLOEXEC);
	for (side = 0; side < 2; side++) {
		const char *ifn = side ? L2_IF1 : L2_IF0;
		const char *ip = side ? L2_IP1 : L2_IP0;

		if (l2_netns_sh(n, side,
				"ip link set lo up && ip link set %s up && "
				"ip addr add %s/24 dev %s",
				ifn, ip, ifn) != 0)
			bail_out("cannot configure %s", ifn);
	}
}

void l2_netns_enter(const struct l2_netns *n, int side)
{
	if (setns(n->fd[side], CLONE_NEWNET) < 0)
		bail_out("setns side %d: %s", side, strerror(errno));
}

void l2_netns_down(struct l2_netns *n)
{
	if (n->home >= 0 && setns(n->home, CLONE_NEWNET) < 0)
		bail_out("setns home: %s", strerror(errno));
	close(n->fd[0]);
	close(n->fd[1]);
	close(n->home);
	n->fd[0] = n->fd[1] = n->home = -1;
}

uint32_t l2_payload_len(uint32_t seq, uint32_t max)
{
	if (seq % 97 == 0)
		return 0;
	if (seq % 97 == 1)
		return max;
	return (uint32_t)(((uint64_t)seq * 7919) % (max + 1));
}

static uint8_t pattern(uint32_t seq, uint32_t k)
{
	uint32_t x = seq * 2654435761u + k * 40503u;

	return (uint8_t)(x >> 13 ^ x);
}

void l2_payload_fill(uint8_t *buf, uint32_t len, uint32_t seq)
{
	uint32_t k;

	for (k = 0; k < len; k++)
		buf[k] = pattern(seq, k);
}

int l2_payload_check(const uint8_t *buf, uint32_t len, uint32_t seq)
{
	uint32_t k;

	for (k = 0; k < len; k++)
		if (buf[k] != pattern(seq, k))
			return -1;
	return 0;
}

double l2_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}
