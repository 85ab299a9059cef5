/*
 * vmvnb - libvnb in the guests, bootstrapped by vnb_init() alone (for
 * tests/rig/t0510-vm-vnb.t and bench/run-vm-pingpong):
 *
 *   vmvnb [ITERS]
 *
 * Every rank: vnb_init(NULL, NULL), then an all-to-all of checksummed
 * messages (NMSG to every other rank, of sizes that span several frames)
 * over vnb_rel, then rank 0 and the last rank ping-pong ITERS (default
 * 200) 64-byte messages.  Lines on stdout:
 *
 *   rank R init 12.3 ms: xdp (xdp skb), CRED
 *   rank R all-to-all ok: N messages in, N out, checksums good
 *   pingpong 0<->L: ITERS round trips, median X us, mean Y us
 *
 * or "rank R FAIL: what" and status 1.  VMVNB_CRED=CRED: open that
 * credential instead of this task's (the isolation test); VMVNB_SPIN=1:
 * the ping-pong polls without sleeping.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vnb/vnb.h"
#include "vnb/vnb_pmix.h"

#define NMSG 8
#define MAXMSG 9000
#define SEC 30
#define PING_K UINT32_MAX /* message number of a ping-pong message */

static uint32_t me = UINT32_MAX;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what, const char *why)
{
	printf("rank %d FAIL: %s: %s\n", me == UINT32_MAX ? -1 : (int)me, what,
	       why);
	fflush(stdout);
	return 1;
}

static uint32_t fnv(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* Message k from a to b: a header, a pattern, and its checksum last. */
static size_t fill(uint8_t *buf, uint32_t a, uint32_t b, uint32_t k)
{
	size_t len = 64 + ((size_t)(a * 7 + b * 13 + k * 1031) % 6000);
	uint32_t h;
	size_t i;

	memcpy(buf, &a, 4);
	memcpy(buf + 4, &b, 4);
	memcpy(buf + 8, &k, 4);
	for (i = 12; i < len - 4; i++)
		buf[i] = (uint8_t)(a + b * 3 + k * 5 + i);
	h = fnv(buf, len - 4);
	memcpy(buf + len - 4, &h, 4);
	return len;
}

/* Progress until pred or the deadline. */
static int progress(struct vnb_rel *rel, uint64_t *acked)
{
	uint64_t done[64];
	int n = vnb_rel_progress(rel, done, 64);

	if (n > 0)
		*acked += (uint64_t)n;
	return n < 0 ? -1 : 0;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static uint8_t out[NMSG * 64][MAXMSG], in[MAXMSG];
	struct vnb_init_attr ia = {getenv("VMVNB_CRED"), NULL, VNB_PROV_AUTO};
	vnb_error_t err = {{0}};
	struct vnb_world *w;
	struct vnb_rel *rel;
	struct vnb_ep *ep;
	uint32_t size, r, k, got = 0, want, sent = 0;
	uint64_t acked = 0;
	int iters = argc > 1 ? atoi(argv[1]) : 200, bad = 0;
	int early_pings = 0; /* pings that came before our all-to-all ended */
	char first_bad[160] = "";
	bool spin = getenv("VMVNB_SPIN") != NULL;
	double t0 = now(), end;
	struct vnb_addr *peers;

	w = vnb_init(ia.cred ? &ia : NULL, &err);
	if (!w)
		return fail("vnb_init", err.text);
	me = vnb_world_rank(w);
	size = vnb_world_size(w);
	ep = vnb_world_ep(w);
	printf("rank %u init %.1f ms: %s (%s), %s\n", me, (now() - t0) * 1e3,
	       vnb_prov_name(vnb_ep_prov(ep)), vnb_ep_mode(ep),
	       vnb_world_cred(w));
	fflush(stdout);
	if (size > 64)
		return fail("setup", "more than 64 ranks");
	peers = calloc(size, sizeof(*peers));
	for (r = 0; r < size; r++)
		peers[r] = *vnb_world_peer(w, r);
	rel = vnb_rel_create(ep, peers, size, NULL, &err);
	if (!rel)
		return fail("vnb_rel_create", err.text);

	/* all-to-all */
	want = (size - 1) * NMSG;
	for (k = 0; k < NMSG; k++)
		for (r = 0; r < size; r++) {
			size_t len;

			if (r == me)
				continue;
			len = fill(out[sent], me, r, k);
			while (vnb_rel_send(rel, r, out[sent], len, sent) < 0) {
				if (errno != EAGAIN)
					return fail("vnb_rel_send",
						    strerror(errno));
				if (progress(rel, &acked) < 0)
					return fail("vnb_rel_progress",
						    strerror(errno));
			}
			sent++;
		}
	end = now() + SEC;
	while ((got < want || acked < sent) && now() < end) {
		size_t from, len;
		int rc;

		if (progress(rel, &acked) < 0)
			return fail("vnb_rel_progress", strerror(errno));
		while ((rc = vnb_rel_recv(rel, &from, in, sizeof(in), &len)) >
		       0) {
			uint32_t a, b, h, k2;

			memcpy(&a, in, 4);
			memcpy(&b, in + 4, 4);
			memcpy(&k2, in + 8, 4);
			memcpy(&h, in + len - 4, 4);
			/* rank 0 starts the ping-pong when its own
			 * all-to-all is done, which may be before ours */
			if (len == 64 && k2 == PING_K && a == from && b == me &&
			    from == 0 && me == size - 1) {
				early_pings++;
				continue;
			}
			if (len < 16 || a != from || b != me ||
			    fnv(in, len - 4) != h) {
				if (!bad++)
					snprintf(first_bad, sizeof(first_bad),
						 "first: %zu bytes from rank "
						 "%zu, header says %u->%u "
						 "message %u (%zu bytes)",
						 len, from, a, b, k2,
						 (size_t)(64 + (a * 7 + b * 13 +
								k2 * 1031) %
								   6000));
			}
			got++;
		}
		if (rc < 0)
			return fail("vnb_rel_recv", strerror(errno));
		if (got < want || acked < sent)
			vnb_rel_wait(rel, 10);
	}
	if (got < want || acked < sent) {
		char why[128];

		snprintf(why, sizeof(why),
			 "%u of %u messages in, %llu of %u acknowledged "
			 "after %d s",
			 got, want, (unsigned long long)acked, sent, SEC);
		return fail("all-to-all", why);
	}
	if (bad) {
		char why[256];

		snprintf(why, sizeof(why), "%d bad checksums; %s", bad,
			 first_bad);
		return fail("all-to-all", why);
	}
	printf("rank %u all-to-all ok: %u messages in, %u out, checksums "
	       "good\n",
	       me, got, sent);
	fflush(stdout);

	/* ping-pong between rank 0 and the last rank */
	if (size > 1 && (me == 0 || me == size - 1)) {
		uint32_t peer = me == 0 ? size - 1 : 0;
		double *rtt = calloc((size_t)iters, sizeof(double));
		uint8_t ping[64] = {0};
		uint32_t pk = PING_K;
		int i;

		memcpy(ping, &me, 4);
		memcpy(ping + 4, &peer, 4);
		memcpy(ping + 8, &pk, 4);

		for (i = 0; i < iters; i++) {
			double t = now();
			size_t from, len;
			int rc = 0;

			if (me == 0 &&
			    vnb_rel_send(rel, peer, ping, sizeof(ping), 0) < 0)
				return fail("ping", strerror(errno));
			end = now() + SEC;
			if (early_pings > 0) {
				early_pings--;
				rc = 1;
			}
			while (rc == 0 &&
			       (rc = vnb_rel_recv(rel, &from, in, sizeof(in),
						  &len)) == 0 &&
			       now() < end) {
				if (progress(rel, &acked) < 0)
					return fail("pingpong",
						    strerror(errno));
				/* VMVNB_SPIN unset: sleep in the endpoint's
				 * wait, so that a guest of one vCPU runs
				 * its network stack (a spinning task gets
				 * it only at the next timer tick) */
				if (!spin)
					vnb_rel_wait(rel, 1);
			}
			if (rc <= 0)
				return fail("pingpong", "no answer");
			if (me != 0 &&
			    vnb_rel_send(rel, peer, ping, sizeof(ping), 0) < 0)
				return fail("pong", strerror(errno));
			rtt[i] = (now() - t) * 1e6;
		}
		if (me == 0 && iters > 0) {
			double sum = 0;

			for (i = 0; i < iters; i++)
				sum += rtt[i];
			qsort(rtt, (size_t)iters, sizeof(double), cmp_d);
			printf("pingpong 0<->%u: %d round trips, median %.1f "
			       "us, mean %.1f us\n",
			       peer, iters, rtt[iters / 2], sum / iters);
		}
		free(rtt);
	}
	/* linger: the peers may still need our acks */
	end = now() + 1.0;
	while (now() < end) {
		progress(rel, &acked);
		vnb_rel_wait(rel, 10);
	}
	fflush(stdout);
	vnb_rel_destroy(rel);
	vnb_world_destroy(w);
	free(peers);
	return 0;
}
