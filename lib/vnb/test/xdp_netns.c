/*
 * xdp_netns.c - ping, attach checks and a private bpffs for the xdp
 * provider tests.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vnb/test/xdp_netns.h"

static uint16_t inet_sum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		s += (uint32_t)b[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}

bool xn_ping(const struct l2_netns *n, int side, const char *ip)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	struct icmphdr req, *rep;
	uint8_t buf[1500];
	struct pollfd pfd;
	bool answered = false;
	int fd, tries;

	l2_netns_enter(n, side);
	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (fd < 0)
		return false;
	inet_pton(AF_INET, ip, &to.sin_addr);
	memset(&req, 0, sizeof(req));
	req.type = ICMP_ECHO;
	req.un.echo.id = htons((uint16_t)getpid());
	req.un.echo.sequence = htons(1);
	req.checksum = inet_sum(&req, sizeof(req));
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&to,
		   sizeof(to)) < 0)
		goto out;
	pfd.fd = fd;
	pfd.events = POLLIN;
	/* 20 waits of 100 ms: other ICMP (our own request) may come first */
	for (tries = 0; tries < 20 && !answered; tries++) {
		ssize_t got;
		size_t ihl;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		got = recv(fd, buf, sizeof(buf), 0);
		if (got < (ssize_t)sizeof(struct iphdr))
			continue;
		ihl = (size_t)(buf[0] & 0xf) * 4;
		if ((size_t)got < ihl + sizeof(*rep))
			continue;
		rep = (struct icmphdr *)(buf + ihl);
		answered = rep->type == ICMP_ECHOREPLY &&
			   rep->un.echo.id == req.un.echo.id;
	}
out:
	close(fd);
	return answered;
}

bool xn_xdp_attached(const struct l2_netns *n, int side, const char *ifname)
{
	return l2_netns_sh(n, side, "ip link show dev %s | grep -q ' xdp'",
			   ifname) == 0;
}

bool xn_bpffs(void)
{
	return unshare(CLONE_NEWNS) == 0 &&
	       mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
	       mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") == 0;
}
