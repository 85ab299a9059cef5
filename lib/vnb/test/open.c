/*
 * Choosing a provider, with stub providers this test defines in place of
 * the real ones (ep.c refers to them weakly): an xdp that is refused for
 * lack of privilege (or finds no interface), no packet and no shm, and a
 * udp that works: the fake provider without Ethernet headers.  It also
 * runs the core's non-l2 data path.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/tap.h"
#include "vnb/core.h"
#include "vnb/prov.h"
#include "vnb/vnb.h"

static int xdp_opens, udp_opens;

static int xdp_open(struct vnb_ep *ep, vnb_error_t *err)
{
	xdp_opens++;
	if (strcmp(ep->ifname, "nodev0") == 0) {
		errno = ENODEV;
		return vnb_errprintf(err, "%s", "no interface nodev0");
	}
	errno = EPERM;
	return vnb_errprintf(err, "%s", "AF_XDP socket: permission denied");
}

const struct vnb_prov_ops vnb_prov_xdp = {
    .size = sizeof(struct vnb_prov_ops),
    .id = VNB_PROV_XDP,
    .l2 = true,
    .open = xdp_open,
};

static int udp_open(struct vnb_ep *ep, vnb_error_t *err)
{
	udp_opens++;
	if (vnb_prov_fake.open(ep, err) < 0)
		return -1;
	snprintf(ep->mode, sizeof(ep->mode), "udp (stub)");
	return 0;
}

static void udp_close(struct vnb_ep *ep)
{
	vnb_prov_fake.close(ep);
}

static uint8_t *udp_tx_frame(struct vnb_ep *ep, uint32_t *id)
{
	return vnb_prov_fake.tx_frame(ep, id);
}

static int udp_tx_post(struct vnb_ep *ep, uint32_t id, uint32_t len,
		       const struct vnb_addr *dst, uint64_t ctx)
{
	return vnb_prov_fake.tx_post(ep, id, len, dst, ctx);
}

static int udp_tx_reap(struct vnb_ep *ep, uint64_t *ctx, int max)
{
	return vnb_prov_fake.tx_reap(ep, ctx, max);
}

static int udp_rx_next(struct vnb_ep *ep, uint8_t **data, uint32_t *len,
		       uint32_t *id)
{
	return vnb_prov_fake.rx_next(ep, data, len, id);
}

static int udp_rx_post(struct vnb_ep *ep, uint32_t id)
{
	return vnb_prov_fake.rx_post(ep, id);
}

static int udp_fd(const struct vnb_ep *ep)
{
	return vnb_prov_fake.fd(ep);
}

const struct vnb_prov_ops vnb_prov_udp = {
    .size = sizeof(struct vnb_prov_ops),
    .id = VNB_PROV_UDP,
    .l2 = false,
    .open = udp_open,
    .close = udp_close,
    .tx_frame = udp_tx_frame,
    .tx_post = udp_tx_post,
    .tx_reap = udp_tx_reap,
    .rx_next = udp_rx_next,
    .rx_post = udp_rx_post,
    .fd = udp_fd,
};

static struct vnb_ep *open_prov(enum vnb_prov p, const char *ifname,
				uint8_t last, uint16_t queue, vnb_error_t *err)
{
	struct vnb_ep_attr a;

	memset(&a, 0, sizeof(a));
	a.ifname = ifname;
	a.mac[0] = 0x02;
	a.mac[5] = last;
	a.queue = queue;
	a.job_tag = 5;
	a.prov = p;
	a.nframes = 16;
	a.frame_size = 512;
	return vnb_ep_open(&a, err);
}

static void test_choice(void)
{
	vnb_error_t err = {{0}};
	struct vnb_ep *ep, *ep2;

	errno = 0;
	ok(open_prov(VNB_PROV_XDP, "wire1", 1, 0, &err) == NULL &&
	       errno == EPERM,
	   "xdp without privilege: EPERM");
	like(err.text, "provider xdp: AF_XDP socket: permission denied",
	     "the provider's reason comes first");
	like(err.text, "CAP_NET_ADMIN and CAP_BPF",
	     "the message names the capability");
	like(err.text, "provider udp opens here",
	     "and the provider that works instead");
	is_int(udp_opens, 1, "udp was tried, to say so");

	ok(open_prov(VNB_PROV_PACKET, "wire1", 1, 0, &err) == NULL &&
	       errno == EPROTONOSUPPORT,
	   "packet not linked in: EPROTONOSUPPORT");
	like(err.text, "provider packet is not built into this libvnb",
	     "message names packet");
	ok(open_prov(VNB_PROV_SHM, "wire1", 1, 0, &err) == NULL &&
	       errno == EPROTONOSUPPORT,
	   "shm not linked in: EPROTONOSUPPORT");

	xdp_opens = udp_opens = 0;
	ep = open_prov(VNB_PROV_AUTO, "wire1", 1, 0, &err);
	ok(ep != NULL, "auto opens");
	ok(ep && vnb_ep_prov(ep) == VNB_PROV_UDP, "auto reports udp");
	is_str(ep ? vnb_ep_mode(ep) : "", "udp (stub)", "and its mode");
	ok(xdp_opens == 1 && udp_opens == 1, "after trying xdp first");

	ep2 = open_prov(VNB_PROV_AUTO, "wire1", 1, 0, &err);
	ok(ep2 == NULL && errno == EBUSY, "auto, same queue again: EBUSY");
	like(err.text, "provider udp: queue 0", "message names the queue");

	xdp_opens = udp_opens = 0;
	ok(open_prov(VNB_PROV_AUTO, "nodev0", 1, 0, &err) == NULL &&
	       errno == ENODEV,
	   "auto, xdp finds no interface: ENODEV");
	ok(xdp_opens == 1 && udp_opens == 0,
	   "auto stops there: udp would not find it either");
	vnb_ep_close(ep);
}

/* Reliable messages where frames carry no MAC: peers are told apart by
 * the address key in the reliability header. */
static void test_rel_non_l2(struct vnb_ep *a, struct vnb_ep *b)
{
	static uint8_t msg[10000], got[10000];
	struct vnb_rel *ra, *rb;
	vnb_error_t err = {{0}};
	struct vnb_addr t[2];
	size_t peer = 9, len = 0, i;
	uint64_t done[2];
	int n = 0, r = 0, k;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 31);
	vnb_ep_addr(a, &t[0]);
	vnb_ep_addr(b, &t[1]);
	ra = vnb_rel_create(a, t, 2, NULL, &err);
	rb = vnb_rel_create(b, t, 2, NULL, &err);
	if (!ra || !rb)
		bail_out("vnb_rel_create: %s", err.text);
	ok(vnb_rel_send(ra, 1, msg, sizeof(msg), 77) == 0,
	   "reliable: 10000 bytes queued (several frames)");
	/* no loss: every frame arrives; only acks wait for their delay,
	 * so loop until done (a hang guard of many rounds) */
	for (k = 0; k < 1000000 && (n == 0 || r == 0); k++) {
		if (n == 0)
			n = vnb_rel_progress(ra, done, 2);
		vnb_rel_progress(rb, NULL, 0);
		if (r == 0)
			r = vnb_rel_recv(rb, &peer, got, sizeof(got), &len);
	}
	ok(r == 1 && peer == 0 && len == sizeof(msg) &&
	       memcmp(got, msg, sizeof(msg)) == 0,
	   "reliable: the message arrives whole, from peer 0");
	ok(n == 1 && done[0] == 77, "reliable: the send completes");
	vnb_rel_destroy(ra);
	vnb_rel_destroy(rb);
}

/* The core without Ethernet headers: 16 bytes of header, steering by job
 * and queue only. */
static void test_non_l2(void)
{
	vnb_error_t err = {{0}};
	struct vnb_ep *a = open_prov(VNB_PROV_UDP, "wire2", 1, 3, &err);
	struct vnb_ep *b = open_prov(VNB_PROV_UDP, "wire2", 2, 4, &err);
	struct vnb_counters c;
	struct vnb_addr to_b, to_other;
	struct vnb_cqe cqe[8];
	int n;

	if (!a || !b)
		bail_out("udp stub: %s", err.text);
	is_int((long long)vnb_ep_max_payload(a), 512 - 16,
	       "non-l2: max payload = frame_size - 16");
	vnb_ep_addr(b, &to_b);
	ok(vnb_post_send(a, &to_b, "abc", 3, 9) == 0, "send 3 bytes");
	n = vnb_poll_cq(b, cqe, 8);
	ok(n == 1 && cqe[0].type == VNB_CQE_RECV && cqe[0].len == 3 &&
	       memcmp(cqe[0].data, "abc", 3) == 0 && cqe[0].src_queue == 3,
	   "received, with the sender's queue");
	if (n == 1)
		vnb_post_recv(b, cqe[0].frame, 0);
	to_other = to_b;
	to_other.queue = 5;
	ok(vnb_post_send(a, &to_other, "abc", 3, 9) == 0,
	   "send to another queue of b's address");
	is_int(vnb_poll_cq(b, cqe, 8), 0, "not delivered");
	vnb_ep_counters(b, &c);
	is_int((long long)c.rx_foreign_queue, 1, "counted as foreign queue");
	test_rel_non_l2(a, b);
	vnb_ep_close(a);
	vnb_ep_close(b);
}

int main(void)
{
	test_choice();
	test_non_l2();
	return done_testing();
}
