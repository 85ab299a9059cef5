/*
 * l2_ops.c - the packet and udp providers through their ops tables, as
 * root across two network namespaces: frames of every size both ways,
 * out-of-order receive posts, a full send ring, VLAN separation on the
 * packet path, misuse.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/tap.h"
#include "vnb/frame.h"
#include "vnb/prov.h"
#include "vnb/test/l2_netns.h"

#define NFRAMES 256
#define FRAME_SIZE 2048
#define WINDOW 32
#define HOLD 4 /* receive frames held and posted back in reverse order */
#define DEADLINE 10.0 /* seconds without progress before giving up */

static struct l2_netns ns;

/* What the core's try_open does before a provider's open. */
static struct vnb_ep *ops_open_geom(const struct vnb_prov_ops *ops, int side,
				    const char *ifname, uint16_t queue,
				    uint16_t vlan, uint32_t nframes,
				    uint32_t frame_size, vnb_error_t *err)
{
	struct vnb_ep *ep = calloc(1, sizeof(*ep));

	if (!ep)
		bail_out("out of memory");
	l2_netns_enter(&ns, side);
	ep->ops = ops;
	snprintf(ep->ifname, sizeof(ep->ifname), "%s", ifname);
	ep->attr.ifname = ep->ifname;
	ep->attr.queue = queue;
	ep->attr.vlan = vlan;
	ep->attr.job_tag = 42;
	ep->attr.prov = ops->id;
	ep->attr.frame_size = frame_size;
	ep->attr.nframes = nframes;
	ep->hdr_len = (ops->l2 ? 14u + (vlan ? 4u : 0u) : 0u) + VNB_HDR_LEN;
	ep->max_payload = frame_size - ep->hdr_len;
	if (ep->max_payload > UINT16_MAX)
		ep->max_payload = UINT16_MAX;
	if (ops->open(ep, err) < 0) {
		int e = errno;

		free(ep);
		errno = e;
		return NULL;
	}
	ep->self.vlan = vlan;
	ep->self.queue = queue;
	return ep;
}

static struct vnb_ep *ops_open_if(const struct vnb_prov_ops *ops, int side,
				  const char *ifname, uint16_t queue,
				  uint16_t vlan, vnb_error_t *err)
{
	return ops_open_geom(ops, side, ifname, queue, vlan, NFRAMES,
			     FRAME_SIZE, err);
}

static struct vnb_ep *ops_open(const struct vnb_prov_ops *ops, int side,
			       uint16_t queue, uint16_t vlan, vnb_error_t *err)
{
	return ops_open_if(ops, side, side ? L2_IF1 : L2_IF0, queue, vlan, err);
}

static void ops_close(struct vnb_ep *ep)
{
	if (ep)
		ep->ops->close(ep);
	free(ep);
}

/* Build and queue frame seq from a to b; 1 queued, 0 ring full. */
static int send_one(struct vnb_ep *a, const struct vnb_ep *b, uint32_t seq,
		    uint32_t len)
{
	struct vnb_hdr h = {.version = VNB_HDR_VERSION,
			    .len = (uint16_t)len,
			    .job = a->attr.job_tag,
			    .src_q = a->attr.queue,
			    .dst_q = b->attr.queue,
			    .seq = seq};
	uint8_t *f;
	uint32_t id;
	size_t off, flen;

	f = a->ops->tx_frame(a, &id);
	if (!f)
		return 0;
	off = vnb_frame_build(f, a->attr.frame_size, a->ops->l2, b->self.mac,
			      a->self.mac, a->attr.vlan, &h);
	if (!off)
		bail_out("vnb_frame_build: no room");
	l2_payload_fill(f + off, len, seq);
	flen = off + len;
	if (a->ops->l2 && flen < 60) {
		memset(f + flen, 0, 60 - flen);
		flen = 60;
	}
	if (a->ops->tx_post(a, id, (uint32_t)flen, &b->self, seq) < 0)
		bail_out("tx_post seq %u: %s", seq, strerror(errno));
	return 1;
}

struct rx_stats {
	uint32_t got; /* good frames */
	uint32_t bad; /* wrong length or content */
	uint32_t other; /* not parsed as ours */
	uint32_t next; /* expected seq */
	uint32_t disorder; /* seq out of order */
	uint16_t vlan; /* VLAN of the last frame */
	uint32_t held[HOLD];
	uint32_t nheld;
};

/* Receive what is there; hold frames and post them back in reverse. */
static void drain(struct vnb_ep *ep, struct rx_stats *st, uint32_t max_payload)
{
	uint8_t *data;
	uint32_t len, id;

	while (ep->ops->rx_next(ep, &data, &len, &id) == 1) {
		struct vnb_frame_info fi;

		if (vnb_frame_parse(data, len, ep->ops->l2, &fi) !=
		    VNB_FRAME_OK) {
			st->other++;
		} else {
			uint32_t seq = fi.hdr.seq;

			st->vlan = fi.vlan;
			if (fi.hdr.len != l2_payload_len(seq, max_payload) ||
			    l2_payload_check(data + fi.payload, fi.hdr.len,
					     seq) < 0)
				st->bad++;
			else
				st->got++;
			if (seq != st->next)
				st->disorder++;
			st->next = seq + 1;
		}
		st->held[st->nheld++] = id;
		if (st->nheld == HOLD) {
			while (st->nheld)
				if (ep->ops->rx_post(ep,
						     st->held[--st->nheld]) < 0)
					bail_out("rx_post: %s",
						 strerror(errno));
		}
	}
}

static void release_held(struct vnb_ep *ep, struct rx_stats *st)
{
	while (st->nheld)
		ep->ops->rx_post(ep, st->held[--st->nheld]);
}

static uint32_t reap_all(struct vnb_ep *ep)
{
	uint64_t ctx[64];
	uint32_t n = 0;
	int k;

	while ((k = ep->ops->tx_reap(ep, ctx, 64)) > 0)
		n += (uint32_t)k;
	return n;
}

/* n frames each way between a and b, sizes 0..max, a window at a time. */
static void exchange(const char *what, struct vnb_ep *a, struct vnb_ep *b,
		     uint32_t n)
{
	struct vnb_ep *ep[2] = {a, b};
	struct rx_stats st[2];
	uint32_t sent[2] = {0, 0}, done[2] = {0, 0};
	uint32_t max =
	    a->max_payload < b->max_payload ? a->max_payload : b->max_payload;
	double last = l2_now();
	int s;

	memset(st, 0, sizeof(st));
	while ((st[0].got + st[0].bad < n || st[1].got + st[1].bad < n) &&
	       l2_now() - last < DEADLINE) {
		for (s = 0; s < 2; s++) {
			struct rx_stats *peer = &st[!s];
			uint32_t before = peer->got + peer->bad + st[s].got;

			while (sent[s] < n &&
			       sent[s] - (peer->got + peer->bad) < WINDOW &&
			       send_one(ep[s], ep[!s], sent[s],
					l2_payload_len(sent[s], max)))
				sent[s]++;
			done[s] += reap_all(ep[s]);
			drain(ep[!s], peer, max);
			if (peer->got + peer->bad + st[s].got != before)
				last = l2_now();
		}
	}
	for (s = 0; s < 2; s++) {
		done[s] += reap_all(ep[s]);
		release_held(ep[!s], &st[!s]);
	}
	is_int(st[1].got, n, "%s: %u frames of 0..%u bytes a->b arrive intact",
	       what, n, max);
	is_int(st[0].got, n, "%s: %u frames b->a arrive intact", what, n);
	ok(st[0].bad + st[1].bad == 0 && st[0].other + st[1].other == 0,
	   "%s: no corrupt or foreign frame (bad %u+%u, other %u+%u)", what,
	   st[0].bad, st[1].bad, st[0].other, st[1].other);
	ok(st[0].disorder + st[1].disorder == 0, "%s: in order", what);
	ok(done[0] == n && done[1] == n, "%s: every send completes (%u, %u)",
	   what, done[0], done[1]);
}

/* Fill the send ring without reaping: then NULL; reap: room again. */
static void send_queue_full(const char *what, struct vnb_ep *a,
			    struct vnb_ep *b)
{
	struct rx_stats st;
	uint32_t queued = 0, reaped = 0, id;
	double t0;

	memset(&st, 0, sizeof(st));
	while (queued <= NFRAMES &&
	       send_one(a, b, queued, l2_payload_len(queued, 64)))
		queued++;
	is_int(queued, NFRAMES / 2, "%s: the send ring takes %u frames", what,
	       NFRAMES / 2);
	ok(a->ops->tx_frame(a, &id) == NULL, "%s: then tx_frame says full",
	   what);
	t0 = l2_now();
	while (reaped < queued && l2_now() - t0 < DEADLINE) {
		reaped += reap_all(a);
		drain(b, &st, 64);
	}
	is_int(reaped, queued, "%s: every queued frame completes", what);
	ok(a->ops->tx_frame(a, &id) != NULL, "%s: and the ring has room again",
	   what);
	t0 = l2_now();
	while (st.got < queued && l2_now() - t0 < 2.0)
		drain(b, &st, 64);
	release_held(b, &st);
	diag("%s: %u of %u frames of a full burst arrived", what, st.got,
	     queued);
}

static void misuse(const char *what, struct vnb_ep *a, const struct vnb_ep *b)
{
	uint32_t id;
	uint8_t *f;

	errno = 0;
	ok(a->ops->rx_post(a, 0) < 0 && errno == EINVAL,
	   "%s: rx_post of a posted frame: EINVAL", what);
	errno = 0;
	ok(a->ops->rx_post(a, NFRAMES + 7) < 0 && errno == EINVAL,
	   "%s: rx_post of no frame: EINVAL", what);
	f = a->ops->tx_frame(a, &id);
	ok(f != NULL, "%s: tx_frame", what);
	errno = 0;
	ok(a->ops->tx_post(a, id + 1, 64, &b->self, 0) < 0 && errno == EINVAL,
	   "%s: tx_post of another frame than tx_frame's: EINVAL", what);
	errno = 0;
	ok(a->ops->tx_post(a, id, FRAME_SIZE + 1, &b->self, 0) < 0 &&
	       errno == EMSGSIZE,
	   "%s: tx_post longer than a frame: EMSGSIZE", what);
	ok(a->ops->tx_frame(a, &id) == f, "%s: the frame is still free", what);
}

static void fd_readable(const char *what, struct vnb_ep *a, struct vnb_ep *b)
{
	struct pollfd pfd = {.fd = b->ops->fd(b), .events = POLLIN};
	struct rx_stats st;
	int rc = 0;
	double t0 = l2_now();

	memset(&st, 0, sizeof(st));
	ok(pfd.fd >= 0, "%s: fd", what);
	send_one(a, b, 5, l2_payload_len(5, 10));
	while (rc == 0 && l2_now() - t0 < DEADLINE)
		rc = poll(&pfd, 1, 100);
	ok(rc == 1 && (pfd.revents & POLLIN), "%s: fd polls readable", what);
	drain(b, &st, 10);
	release_held(b, &st);
	is_int(st.got, 1, "%s: the frame is there", what);
	reap_all(a);
}

static void test_provider(const struct vnb_prov_ops *ops, const char *what)
{
	vnb_error_t err = {{0}};
	struct vnb_ep *a, *b;

	a = ops_open(ops, 0, 0, 0, &err);
	ok(a != NULL, "%s: open side 0: %s", what, a ? "ok" : err.text);
	b = ops_open(ops, 1, 0, 0, &err);
	ok(b != NULL, "%s: open side 1: %s", what, b ? "ok" : err.text);
	if (!a || !b)
		bail_out("cannot go on without endpoints");
	is_str(a->ifname, L2_IF0, "%s: ifname", what);
	ok(memcmp(a->self.mac, "\x02\x00\x0a\xe7\x00\x01", 6) == 0,
	   "%s: self.mac is the interface's", what);
	ok(a->max_payload > 1000 && a->max_payload <= FRAME_SIZE - VNB_HDR_LEN,
	   "%s: max payload %u", what, a->max_payload);
	exchange(what, a, b, 3000);
	send_queue_full(what, a, b);
	misuse(what, a, b);
	fd_readable(what, a, b);
	ops_close(a);
	ops_close(b);
}

/* Ring shapes: the smallest, an odd count, the default, jumbo frames;
 * one frame of the largest payload each way. */
static void geometry(const struct vnb_prov_ops *ops, const char *what)
{
	static const uint32_t shape[][2] = {
	    {4, 256}, {37, 2048}, {4096, 2048}, {64, 65536}, {6, 9000}};
	size_t i;

	for (i = 0; i < sizeof(shape) / sizeof(shape[0]); i++) {
		vnb_error_t err = {{0}};
		struct vnb_ep *a, *b;
		struct rx_stats st;
		uint32_t max, k;
		double t0;

		a = ops_open_geom(ops, 0, L2_IF0, 0, 0, shape[i][0],
				  shape[i][1], &err);
		b = ops_open_geom(ops, 1, L2_IF1, 0, 0, shape[i][0],
				  shape[i][1], &err);
		ok(a && b, "%s: %u frames of %u bytes: open: %s", what,
		   shape[i][0], shape[i][1], a && b ? "ok" : err.text);
		if (!a || !b) {
			ops_close(a);
			ops_close(b);
			continue;
		}
		max = a->max_payload;
		memset(&st, 0, sizeof(st));
		st.next = 1;
		for (k = 0; k < 2; k++) {
			send_one(a, b, 1, max);
			t0 = l2_now();
			while (st.got + st.bad < k + 1 &&
			       l2_now() - t0 < DEADLINE) {
				reap_all(a);
				drain(b, &st, max);
			}
			release_held(b, &st);
			st.next = 1;
		}
		ok(st.got == 2 && st.bad == 0,
		   "%s: %u frames of %u bytes: %u-byte payloads arrive", what,
		   shape[i][0], shape[i][1], max);
		ops_close(a);
		ops_close(b);
	}
}

/* A vNIC in VLAN 10 sees its VLAN only; an untagged one sees no tags. */
static void test_packet_vlan(void)
{
	vnb_error_t err = {{0}};
	struct vnb_ep *a10, *a0, *b10, *b0;
	struct rx_stats s10, s0;
	uint32_t i;
	double t0;

	a10 = ops_open(&vnb_prov_packet, 0, 0, 10, &err);
	a0 = ops_open(&vnb_prov_packet, 0, 1, 0, &err);
	b10 = ops_open(&vnb_prov_packet, 1, 0, 10, &err);
	b0 = ops_open(&vnb_prov_packet, 1, 1, 0, &err);
	if (!a10 || !a0 || !b10 || !b0)
		bail_out("packet vlan: open: %s", err.text);
	exchange("packet vlan 10", a10, b10, 1000);

	memset(&s10, 0, sizeof(s10));
	memset(&s0, 0, sizeof(s0));
	for (i = 0; i < 50; i++) {
		while (!send_one(a10, b10, i, l2_payload_len(i, 100)))
			reap_all(a10);
		while (!send_one(a0, b0, i, l2_payload_len(i, 100)))
			reap_all(a0);
	}
	t0 = l2_now();
	while ((s10.got < 50 || s0.got < 50) && l2_now() - t0 < DEADLINE) {
		reap_all(a10);
		reap_all(a0);
		drain(b10, &s10, 100);
		drain(b0, &s0, 100);
	}
	/* Frames that should not arrive get a moment to (not) do so. */
	t0 = l2_now();
	while (l2_now() - t0 < 0.2) {
		drain(b10, &s10, 100);
		drain(b0, &s0, 100);
	}
	release_held(b10, &s10);
	release_held(b0, &s0);
	is_int(s10.got + s10.bad + s10.other, 50,
	       "packet vlan: the VLAN 10 endpoint gets the 50 tagged frames "
	       "and none of the untagged");
	is_int(s10.vlan, 10, "packet vlan: and sees their tag");
	is_int(s0.got + s0.bad + s0.other, 50,
	       "packet vlan: the untagged endpoint gets the 50 untagged "
	       "frames and none of VLAN 10");
	ops_close(a10);
	ops_close(a0);
	ops_close(b10);
	ops_close(b0);
}

/* The udp path on an 802.1Q sub-interface, where the kernel has them. */
static void test_udp_vlan(void)
{
	vnb_error_t err = {{0}};
	struct vnb_ep *a, *b;
	int side;

	if (l2_netns_sh(&ns, 0,
			"ip link add link " L2_IF0 " name " L2_IF0
			".10 type vlan id 10 2>/dev/null") != 0) {
		ok(1, "# SKIP udp vlan: no 802.1Q (CONFIG_VLAN_8021Q) here");
		return;
	}
	for (side = 0; side < 2; side++)
		if (l2_netns_sh(&ns, side,
				"{ [ %d = 0 ] || ip link add link vnbl%d name "
				"vnbl%d.10 type vlan id 10; } && "
				"ip link set vnbl%d.10 up && "
				"ip addr add 10.231.10.%d/24 dev vnbl%d.10",
				side, side, side, side, side + 1, side) != 0)
			bail_out("cannot configure vnbl%d.10", side);
	a = ops_open_if(&vnb_prov_udp, 0, L2_IF0 ".10", 0, 10, &err);
	b = ops_open_if(&vnb_prov_udp, 1, L2_IF1 ".10", 0, 10, &err);
	if (!a || !b)
		bail_out("udp vlan: open: %s", err.text);
	exchange("udp vlan 10", a, b, 1000);
	ops_close(a);
	ops_close(b);
}

int main(void)
{
	l2_netns_up(&ns);
	test_provider(&vnb_prov_packet, "packet");
	geometry(&vnb_prov_packet, "packet");
	test_packet_vlan();
	test_provider(&vnb_prov_udp, "udp");
	geometry(&vnb_prov_udp, "udp");
	test_udp_vlan();
	l2_netns_down(&ns);
	return done_testing();
}
