/*
 * pmix_exchange - every rank of a PMIx job opens a libvnb endpoint,
 * exchanges addresses with vnb_pmix_exchange, checks the table, and pings
 * each peer once over libvnb.  For tests/rig/t0200-pmix-exchange.t:
 *
 *   srun --mpi=pmix -N2 -n4 pmix_exchange [-i IFNAME] [-p PROV] [-n NRANKS]
 *
 * IFNAME defaults to eth0 and PROV to udp.  The queue is the task's local
 * rank on its node (SLURM_LOCALID), so that ranks sharing a node and an
 * interface get distinct queues (and udp ports).  Prints one line
 * "rank R ok: N peers, ..." and exits 0, or names what failed and exits 1.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vnb/vnb.h"
#include "vnb/vnb_pmix.h"

#define PING 1
#define PONG 2

struct msg {
	uint32_t type;
	uint32_t from;
};

static uint32_t myrank = UINT32_MAX;

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	if (myrank == UINT32_MAX)
		fprintf(stderr, "vnic-bypass: pmix_exchange: ");
	else
		fprintf(stderr,
			"vnic-bypass: pmix_exchange: rank %u: ", myrank);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static enum vnb_prov prov_by_name(const char *s)
{
	for (int p = VNB_PROV_AUTO; p <= VNB_PROV_SHM; p++)
		if (strcmp(s, vnb_prov_name((enum vnb_prov)p)) == 0)
			return (enum vnb_prov)p;
	return (enum vnb_prov) - 1;
}

static int send_msg(struct vnb_ep *ep, const struct vnb_addr *to, uint32_t type)
{
	struct msg m = {type, myrank};
	struct vnb_cqe c[16];
	int n;

	for (int tries = 0; tries < 1000; tries++) {
		if (vnb_post_send(ep, to, &m, sizeof(m), type) == 0)
			return 0;
		if (errno != EAGAIN)
			return -1;
		n = vnb_poll_cq(ep, c, 16); /* reap sends */
		for (int i = 0; i < n; i++)
			if (c[i].type == VNB_CQE_RECV)
				vnb_post_recv(ep, c[i].frame, 0);
	}
	return -1;
}

/* Ping every peer and answer every peer's ping: done when each peer has
 * both answered ours and pinged us.  Unanswered pings are sent again. */
static int ping_all(struct vnb_ep *ep, const struct vnb_addr *peers, uint32_t n)
{
	unsigned char *pong = calloc(n, 1), *pinged = calloc(n, 1);
	uint32_t npong = 1, npinged = 1; /* ourselves */
	double deadline = now_s() + 20, resend = 0;
	struct vnb_cqe c[16];
	int rc = -1;

	if (!pong || !pinged)
		goto out;
	pong[myrank] = pinged[myrank] = 1;
	while (npong < n || npinged < n) {
		if (now_s() > deadline) {
			fail("no answer within 20 s: %u of %u pongs, %u of %u "
			     "pings",
			     npong - 1, n - 1, npinged - 1, n - 1);
			goto out;
		}
		if (now_s() >= resend) {
			for (uint32_t r = 0; r < n; r++)
				if (!pong[r] && send_msg(ep, &peers[r], PING)) {
					fail("vnb_post_send: %s",
					     strerror(errno));
					goto out;
				}
			resend = now_s() + 0.5;
		}
		int k = vnb_poll_cq(ep, c, 16);
		if (k < 0) {
			fail("vnb_poll_cq: %s", strerror(errno));
			goto out;
		}
		if (k == 0) {
			vnb_wait(ep, 50);
			continue;
		}
		for (int i = 0; i < k; i++) {
			struct msg m;

			if (c[i].type != VNB_CQE_RECV)
				continue;
			if (c[i].status == 0 && c[i].len == sizeof(m)) {
				memcpy(&m, c[i].data, sizeof(m));
				if (m.from < n && m.type == PONG &&
				    !pong[m.from]) {
					pong[m.from] = 1;
					npong++;
				} else if (m.from < n && m.type == PING) {
					if (send_msg(ep, &peers[m.from],
						     PONG)) {
						fail("vnb_post_send: %s",
						     strerror(errno));
						goto out;
					}
					if (!pinged[m.from]) {
						pinged[m.from] = 1;
						npinged++;
					}
				}
			}
			vnb_post_recv(ep, c[i].frame, 0);
		}
	}
	rc = 0;
out:
	free(pong);
	free(pinged);
	return rc;
}

int main(int argc, char **argv)
{
	struct vnb_ep_attr attr = {.ifname = "eth0", .prov = VNB_PROV_UDP};
	const char *localid = getenv("SLURM_LOCALID");
	struct vnb_addr *peers = NULL;
	vnb_error_t err = {{0}};
	struct vnb_ep *ep;
	uint32_t n = 0;
	long want = -1;
	char(*txt)[160] = NULL;
	int c, rc = 1;

	while ((c = getopt(argc, argv, "i:p:n:")) != -1) {
		switch (c) {
		case 'i':
			attr.ifname = optarg;
			break;
		case 'p':
			attr.prov = prov_by_name(optarg);
			if ((int)attr.prov < 0)
				return fail("unknown provider %s", optarg);
			break;
		case 'n':
			want = strtol(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: pmix_exchange [-i IFNAME] "
					"[-p PROV] [-n NRANKS]\n");
			return 2;
		}
	}
	attr.queue = localid ? (uint16_t)atoi(localid) : 0;
	if (!(ep = vnb_ep_open(&attr, &err)))
		return fail("vnb_ep_open: %s", err.text);
	if (vnb_pmix_exchange(ep, &peers, &n, &myrank, &err) < 0) {
		fail("%s", err.text);
		goto out;
	}
	if (want >= 0 && n != (uint32_t)want) {
		fail("the peer table has %u addresses, not %ld", n, want);
		goto out;
	}
	/* well formed: each one formats and parses back to itself; and
	 * distinct */
	if (!(txt = calloc(n, sizeof(*txt))))
		goto out;
	for (uint32_t r = 0; r < n; r++) {
		struct vnb_addr back;

		memset(&back, 0, sizeof(back));
		if (vnb_addr_format(&peers[r], txt[r], sizeof(txt[r])) < 0 ||
		    vnb_addr_parse(txt[r], &back, &err) < 0 ||
		    memcmp(&back, &peers[r], sizeof(back)) != 0 ||
		    peers[r].ip4 == 0 || peers[r].port == 0) {
			fail("malformed address: %s", txt[r]);
			goto out;
		}
		for (uint32_t q = 0; q < r; q++)
			if (strcmp(txt[q], txt[r]) == 0) {
				fail("two ranks have the address %s", txt[r]);
				goto out;
			}
	}
	{
		struct vnb_addr self;
		char mine[160];

		vnb_ep_addr(ep, &self);
		vnb_addr_format(&self, mine, sizeof(mine));
		if (strcmp(mine, txt[myrank]) != 0) {
			fail("my own entry is not my address %s", mine);
			goto out;
		}
	}
	if (ping_all(ep, peers, n) < 0)
		goto out;
	printf("rank %u ok: %u peers, pinged each over %s, I am %s\n", myrank,
	       n, vnb_ep_mode(ep), txt[myrank]);
	rc = 0;
out:
	free(txt);
	free(peers);
	vnb_ep_close(ep);
	return rc;
}
