/*
 * Reliable messages over the fake provider: misuse, then streams of
 * messages from 0 bytes to 4 MiB both ways at once, with 1%, 10% and 30%
 * of the frames lost (acks too), and with duplicated and reordered
 * frames: every message arrives exactly once, whole and in order, checked
 * by length and checksum.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/tap.h"
#include "common/util.h"
#include "vnb/core.h"
#include "vnb/fake.h"
#include "vnb/frame.h"
#include "vnb/rel.h"
#include "vnb/test/fakeep.h"
#include "vnb/vnb.h"

#define JOB 7
#define MIB (1u << 20)
#define SRC_LEN (4 * MIB + 4096)
/* streams: frames of 4 KiB, each carrying F bytes of a message */
#define FS 4096
#define F (FS - 30 - VNB_REL_HDR_LEN)

static uint8_t *src; /* the bytes messages are cut from */

static struct vnb_ep *open_fake(const char *ifname, uint8_t last,
				uint32_t nframes, uint32_t frame_size)
{
	const uint8_t mac[6] = {0x02, 0, 0, 0, 0, last};

	return fake_ep(ifname, mac, 0, JOB, nframes, frame_size);
}

/* FNV-1a over 8-byte words (fast enough under valgrind), then the tail */
static uint64_t checksum(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull, w;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	for (; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h ^ n;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_hdr(void)
{
	struct vnb_rel_hdr h = {VNB_REL_DATA,
				VNB_REL_FIRST,
				1,
				0xfffffffe,
				7,
				4 * MIB,
				0x0123456789abcdefull,
				0x8000000000000001ull,
				0xfeedf00d};
	struct vnb_rel_hdr back;
	uint8_t b[VNB_REL_HDR_LEN];
	struct vnb_addr x, y;

	vnb_rel_hdr_encode(b, &h);
	memset(&back, 0, sizeof(back));
	vnb_rel_hdr_decode(b, &back);
	ok(back.type == h.type && back.flags == h.flags &&
	       back.version == h.version && back.seq == h.seq &&
	       back.ack == h.ack && back.total == h.total &&
	       back.src == h.src && back.sack == h.sack && back.echo == h.echo,
	   "reliability header round-trips");
	ok(b[4] == 0xff && b[7] == 0xfe && b[16] == 0x01 && b[23] == 0xef,
	   "reliability header is big-endian");
	memset(&x, 0, sizeof(x));
	y = x;
	y.queue = 1;
	ok(vnb_rel_addr_key(&x) != vnb_rel_addr_key(&y),
	   "address keys differ by queue");
	y = x;
	y.vlan = 5;
	ok(vnb_rel_addr_key(&x) == vnb_rel_addr_key(&y),
	   "address key ignores the VLAN");
	y = x;
	snprintf(y.shm, sizeof(y.shm), "r1");
	ok(vnb_rel_addr_key(&x) != vnb_rel_addr_key(&y),
	   "address keys differ by shm name");
}

static void addrs(struct vnb_ep *a, struct vnb_ep *b, struct vnb_addr t[2])
{
	vnb_ep_addr(a, &t[0]);
	vnb_ep_addr(b, &t[1]);
}

/* Progress both sides; completions stay queued. */
static void pump(struct vnb_rel *ra, struct vnb_rel *rb, int rounds)
{
	int i;

	for (i = 0; i < rounds; i++) {
		vnb_rel_progress(ra, NULL, 0);
		vnb_rel_progress(rb, NULL, 0);
	}
}

static void test_misuse(void)
{
	struct vnb_ep *a = open_fake("relm0", 1, 64, 2048);
	struct vnb_ep *b = open_fake("relm0", 2, 64, 2048);
	struct vnb_rel_attr at = {0};
	struct vnb_addr t[3];
	struct vnb_rel *ra, *rb;
	struct vnb_rel_counters c;
	vnb_error_t err = {{0}};
	uint8_t buf[8192], rbuf[8192];
	size_t peer, len;
	uint64_t done[4];
	double t0;
	int n, got = 0;

	addrs(a, b, t);
	t[2] = t[1];
	ok(vnb_rel_create(a, t, 3, NULL, &err) == NULL && errno == EINVAL,
	   "a peer twice: EINVAL");
	like(err.text, "peer 2", "message names the peer");
	at.window = 5000;
	ok(vnb_rel_create(a, t, 2, &at, &err) == NULL && errno == EINVAL,
	   "window 5000: EINVAL");
	like(err.text, "attr.window", "message names attr.window");
	ok(vnb_rel_create(NULL, t, 2, NULL, &err) == NULL && errno == EINVAL,
	   "no endpoint: EINVAL");

	at.window = 0;
	at.max_msg = 10000;
	at.sq_depth = 2;
	ra = vnb_rel_create(a, t, 2, &at, &err);
	ok(ra != NULL, "create with max_msg 10000, 2 messages per peer");
	at.max_msg = 3000;
	rb = vnb_rel_create(b, t, 2, &at, &err);
	ok(rb != NULL, "peer side with max_msg 3000");
	if (!ra || !rb)
		bail_out("vnb_rel_create: %s", err.text);

	is_int(vnb_rel_wait(ra, 0), 0, "nothing to do: vnb_rel_wait times out");
	ok(vnb_rel_send(ra, 0, buf, 1, 0) == -1 && errno == EINVAL,
	   "to itself: EINVAL");
	ok(vnb_rel_send(ra, 2, buf, 1, 0) == -1 && errno == EINVAL,
	   "peer 2 of 2: EINVAL");
	ok(vnb_rel_send(ra, 1, buf, 10001, 0) == -1 && errno == EMSGSIZE,
	   "10001 bytes: EMSGSIZE");
	memset(buf, 'm', sizeof(buf));
	ok(vnb_rel_send(ra, 1, buf, 2500, 11) == 0, "queue 2500 bytes");
	ok(vnb_rel_send(ra, 1, buf, 5000, 12) == 0,
	   "queue 5000 bytes (more than the peer takes)");
	ok(vnb_rel_send(ra, 1, buf, 1, 13) == -1 && errno == EAGAIN,
	   "a third: EAGAIN (sq_depth 2)");
	is_int(vnb_rel_wait(rb, 10000), 1,
	       "frames arrived: the receiver's vnb_rel_wait returns 1");
	pump(ra, rb, 4);
	ok(vnb_rel_recv(rb, &peer, buf, 100, &len) == -1 && errno == EMSGSIZE,
	   "receive into 100 bytes: EMSGSIZE");
	ok(peer == 0 && len == 2500, "it says from peer 0, 2500 bytes");
	n = vnb_rel_recv(rb, &peer, rbuf, sizeof(rbuf), &len);
	ok(n == 1 && len == 2500 && rbuf[0] == 'm' && rbuf[2499] == 'm',
	   "the message stayed: 2500 bytes received");
	if (n != 1)
		diag("recv: %d errno %d len %zu", n, errno, len);
	pump(ra, rb, 4);
	ok(vnb_rel_recv(rb, &peer, rbuf, sizeof(rbuf), &len) == -1 &&
	       errno == EBADMSG && len == 5000,
	   "5000 bytes beyond the receiver's max_msg: EBADMSG");
	is_int(vnb_rel_recv(rb, &peer, rbuf, sizeof(rbuf), &len), 0,
	       "nothing more");
	/* acks go out within the ack delay: progress until they have (the
	 * time limit only guards against a hang) */
	t0 = now_s();
	while (got < 2 && now_s() - t0 < 10) {
		n = vnb_rel_progress(ra, done + got, 4 - got);
		if (n > 0)
			got += n;
		vnb_rel_progress(rb, NULL, 0);
	}
	ok(got == 2 && done[0] == 11 && done[1] == 12,
	   "both sends completed, in order");
	vnb_rel_counters(ra, &c);
	is_int((long long)c.msgs_sent, 2, "msgs_sent counts them");

	/* forged reliability frames: an unknown sender, a bad version */
	{
		struct vnb_rel_hdr h = {VNB_REL_DATA, 3, 1, 0, 0, 1, 42, 0, 0};
		struct vnb_hdr vh = {
		    1, VNB_HDR_F_REL, VNB_REL_HDR_LEN + 1, JOB, 0, 0, 0};
		struct vnb_rel_counters c0;
		uint8_t f[128];
		size_t off;

		off = vnb_frame_build(f, sizeof(f), true, t[1].mac, t[0].mac, 0,
				      &vh);
		vnb_rel_hdr_encode(f + off, &h);
		f[off + VNB_REL_HDR_LEN] = 'x';
		vnb_rel_counters(rb, &c0);
		vnb_fake_inject(b, f, off + VNB_REL_HDR_LEN + 1);
		h.src = vnb_rel_addr_key(&t[0]);
		h.version = 9;
		vnb_rel_hdr_encode(f + off, &h);
		vnb_fake_inject(b, f, off + VNB_REL_HDR_LEN + 1);
		vh.len = 10;
		vnb_frame_build(f, sizeof(f), true, t[1].mac, t[0].mac, 0, &vh);
		vnb_fake_inject(b, f, off + 10);
		pump(ra, rb, 1);
		vnb_rel_counters(rb, &c);
		is_int((long long)(c.bad_frames - c0.bad_frames), 3,
		       "unknown sender, bad version, short: 3 bad frames");
		is_int(vnb_rel_recv(rb, &peer, rbuf, sizeof(rbuf), &len), 0,
		       "none of them delivered");
	}
	ok(vnb_rel_send(ra, 1, buf, 1, 13) == 0, "room again");
	pump(ra, rb, 1);
	ok(vnb_rel_recv(rb, &peer, rbuf, sizeof(rbuf), &len) == 1 && len == 1,
	   "the 1-byte message after the forged frames");
	vnb_rel_destroy(ra);
	vnb_rel_destroy(rb);
	errno = E2BIG;
	vnb_rel_destroy(NULL);
	is_int(errno, E2BIG, "destroy(NULL) keeps errno");
	vnb_ep_close(a);
	vnb_ep_close(b);
}

/* A receiver that stops taking messages: the sender fills the window
 * and the receiver's slots, frames beyond are dropped and sent again
 * later, and nothing is lost once the receiver takes messages again. */
static void test_slow_receiver(void)
{
	struct vnb_ep *a = open_fake("relslow0", 1, 512, FS);
	struct vnb_ep *b = open_fake("relslow0", 2, 512, FS);
	struct vnb_rel_attr at = {0};
	struct vnb_rel_counters cb;
	struct vnb_addr t[2];
	struct vnb_rel *ra, *rb;
	vnb_error_t err = {{0}};
	uint8_t *rbuf = malloc(MIB);
	size_t peer, len, got = 0, i;
	bool whole = true;
	double t0;

	addrs(a, b, t);
	at.rto_us = 500;
	at.rto_min_us = 100;
	at.max_msg = MIB;
	ra = vnb_rel_create(a, t, 2, &at, &err);
	rb = vnb_rel_create(b, t, 2, &at, &err);
	if (!ra || !rb || !rbuf)
		bail_out("vnb_rel_create: %s", err.text);
	for (i = 0; i < 4; i++)
		if (vnb_rel_send(ra, 1, src + i, 100 * F, i) < 0)
			bail_out("vnb_rel_send: %s", strerror(errno));
	pump(ra, rb, 2000); /* b does not take messages */
	vnb_rel_counters(rb, &cb);
	diag("slow receiver: %llu frames beyond the window dropped",
	     (unsigned long long)cb.out_of_window);
	t0 = now_s();
	while (got < 4 && now_s() - t0 < 20) { /* a hang guard */
		pump(ra, rb, 1);
		if (vnb_rel_recv(rb, &peer, rbuf, MIB, &len) == 1) {
			whole &= len == 100 * F && checksum(rbuf, len) ==
						       checksum(src + got, len);
			got++;
		}
	}
	ok(got == 4 && whole,
	   "slow receiver: all 4 messages arrive whole once it takes them");
	vnb_rel_destroy(ra);
	vnb_rel_destroy(rb);
	vnb_ep_close(a);
	vnb_ep_close(b);
	free(rbuf);
}

/* One direction of a stream: what was sent, what came back. */
struct stream {
	size_t nmsg;
	const size_t *len;
	size_t *off; /* where in src message i starts */
	uint64_t *sum;
	size_t sent, completed, received;
	bool order_ok, data_ok;
};

static void stream_init(struct stream *s, const size_t *len, size_t nmsg,
			uint64_t seed)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->nmsg = nmsg;
	s->len = len;
	s->off = calloc(nmsg, sizeof(*s->off));
	s->sum = calloc(nmsg, sizeof(*s->sum));
	for (i = 0; i < nmsg; i++) {
		s->off[i] =
		    (size_t)((seed + i * 7919) % (SRC_LEN - len[i] + 1));
		s->sum[i] = checksum(src + s->off[i], len[i]);
	}
	s->order_ok = s->data_ok = true;
}

static void stream_free(struct stream *s)
{
	free(s->off);
	free(s->sum);
}

/* Send what fits, collect completions and messages; true when done. */
static bool stream_step(struct vnb_rel *tx, struct vnb_rel *rx,
			struct stream *s, size_t to, uint8_t *rbuf)
{
	uint64_t done[64];
	size_t peer, len;
	int n, i;

	while (s->sent < s->nmsg && vnb_rel_send(tx, to, src + s->off[s->sent],
						 s->len[s->sent], s->sent) == 0)
		s->sent++;
	n = vnb_rel_progress(tx, done, 64);
	for (i = 0; i < n; i++) {
		if (done[i] != s->completed)
			s->order_ok = false;
		s->completed++;
	}
	while (vnb_rel_recv(rx, &peer, rbuf, 4 * MIB, &len) == 1) {
		size_t k = s->received++;

		if (k >= s->nmsg || len != s->len[k] ||
		    checksum(rbuf, len) != s->sum[k]) {
			if (s->data_ok)
				diag("message %zu: %zu bytes, want %zu", k, len,
				     k < s->nmsg ? s->len[k] : 0);
			s->data_ok = false;
		}
	}
	return s->completed == s->nmsg && s->received == s->nmsg;
}

/* Streams both ways (or, one_way, a to b only: acks then travel alone,
 * and the loop sleeps in vnb_rel_wait whenever a round did nothing). */
static void run(const char *name, uint32_t loss_ppm, uint32_t dup_ppm,
		uint32_t reorder_ppm, const size_t *len, size_t nmsg,
		uint64_t seed, bool one_way)
{
	struct vnb_ep *a = open_fake("rel0", 1, 512, FS);
	struct vnb_ep *b = open_fake("rel0", 2, 512, FS);
	struct vnb_rel_attr at = {0};
	struct vnb_rel_counters ca, cb;
	struct vnb_counters ea, eb;
	struct stream ab, ba;
	struct vnb_addr t[2];
	struct vnb_rel *ra, *rb;
	vnb_error_t err = {{0}};
	uint8_t *rbuf_a = malloc(4 * MIB), *rbuf_b = malloc(4 * MIB);
	double t0 = now_s();
	bool fin = false, wait_err = false;
	int waits = 0;

	addrs(a, b, t);
	at.rto_us = 500;
	at.rto_min_us = 100;
	ra = vnb_rel_create(a, t, 2, &at, &err);
	rb = vnb_rel_create(b, t, 2, &at, &err);
	if (!ra || !rb)
		bail_out("vnb_rel_create: %s", err.text);
	vnb_ep_set_rx_loss(a, loss_ppm, seed);
	vnb_ep_set_rx_loss(b, loss_ppm, seed + 1);
	vnb_fake_set_chaos(a, dup_ppm, reorder_ppm, seed + 2);
	vnb_fake_set_chaos(b, dup_ppm, reorder_ppm, seed + 3);
	stream_init(&ab, len, nmsg, seed);
	stream_init(&ba, len, one_way ? 0 : nmsg, seed + 17);
	/* a hang guard, not a timing assertion */
	while (!fin && now_s() - t0 < 25) {
		size_t before =
		    ab.completed + ab.received + ba.completed + ba.received;
		bool x = stream_step(ra, rb, &ab, 1, rbuf_b);
		bool y = stream_step(rb, ra, &ba, 0, rbuf_a);

		fin = x && y;
		if (one_way && !fin &&
		    before == ab.completed + ab.received + ba.completed +
				  ba.received) {
			waits++;
			if (vnb_rel_wait(ra, 2) < 0 || vnb_rel_wait(rb, 2) < 0)
				wait_err = true;
		}
	}
	if (one_way) {
		/* how often it slept depends on the machine: only say */
		diag("%s: vnb_rel_wait called %d times", name, waits);
		ok(!wait_err, "%s: vnb_rel_wait never failed", name);
	}
	diag("%s: %.2f s", name, now_s() - t0);
	ok(fin, "%s: both streams finished", name);
	if (!fin)
		diag("a->b sent %zu completed %zu received %zu; b->a sent %zu "
		     "completed %zu received %zu",
		     ab.sent, ab.completed, ab.received, ba.sent, ba.completed,
		     ba.received);
	ok(ab.data_ok && ba.data_ok,
	   "%s: every message whole, in order, exactly once (length and "
	   "checksum)",
	   name);
	ok(ab.order_ok && ba.order_ok,
	   "%s: send completions in order, once each", name);
	is_int((long long)ab.received, (long long)nmsg,
	       "%s: a->b %zu messages, no extra", name, nmsg);
	vnb_rel_counters(ra, &ca);
	vnb_rel_counters(rb, &cb);
	vnb_ep_counters(a, &ea);
	vnb_ep_counters(b, &eb);
	diag("%s: data %llu+%llu, retransmits %llu+%llu, dups %llu+%llu, "
	     "acks %llu+%llu, out of window %llu+%llu, no buffer %llu+%llu",
	     name, (unsigned long long)ca.data_frames,
	     (unsigned long long)cb.data_frames,
	     (unsigned long long)ca.retransmits,
	     (unsigned long long)cb.retransmits,
	     (unsigned long long)ca.dup_frames,
	     (unsigned long long)cb.dup_frames,
	     (unsigned long long)ca.acks_sent, (unsigned long long)cb.acks_sent,
	     (unsigned long long)ca.out_of_window,
	     (unsigned long long)cb.out_of_window,
	     (unsigned long long)ea.rx_no_buffer,
	     (unsigned long long)eb.rx_no_buffer);
	if (loss_ppm >= 10000)
		ok(ca.retransmits + cb.retransmits > 0,
		   "%s: losses were repaired by retransmission", name);
	if (dup_ppm)
		ok(ca.dup_frames + cb.dup_frames > 0,
		   "%s: duplicates were seen and dropped", name);
	ok(ca.bad_frames == 0 && cb.bad_frames == 0, "%s: no bad frames", name);
	stream_free(&ab);
	stream_free(&ba);
	vnb_rel_destroy(ra);
	vnb_rel_destroy(rb);
	vnb_ep_close(a);
	vnb_ep_close(b);
	free(rbuf_a);
	free(rbuf_b);
}

int main(void)
{
	/* 0 to 4 MiB, exact multiples of F and one byte either side */
	const size_t sizes[] = {
	    0,
	    1,
	    F - 1,
	    F,
	    F + 1,
	    2 * F,
	    3 * F,
	    7 * F + 5,
	    0,
	    64,
	    65536,
	    100000,
	    64 * F,
	    65 * F,
	    MIB,
	    4 * MIB,
	    (4 * MIB / F) * F,
	    1,
	    0,
	};
	const size_t small[] = {0, 1, F, F + 1, 5 * F, 200000, 1, 64 * F};
	/* the sizes above, then 60 drawn at random: small, a few frames,
	 * up to 300 kB */
	size_t many[VNB_ARRAY_SIZE(sizes) + 60], nmany = 0;
	uint32_t x = 12345;
	size_t i;

	src = malloc(SRC_LEN);
	for (i = 0; i < SRC_LEN; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		src[i] = (uint8_t)x;
	}
	for (i = 0; i < VNB_ARRAY_SIZE(sizes); i++)
		many[nmany++] = sizes[i];
	for (i = 0; i < 60; i++) {
		static const size_t range[] = {257, 3 * F, 300000};

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		many[nmany++] = x % range[i % 3];
	}
	test_hdr();
	test_misuse();
	test_slow_receiver();
	run("no loss", 0, 0, 0, many, nmany, 1, false);
	run("1% loss", 10000, 0, 0, many, nmany, 2, false);
	run("10% loss", 100000, 0, 0, many, nmany, 3, false);
	run("30% loss", 300000, 0, 0, many, nmany, 4, false);
	run("duplicates and reordering", 0, 50000, 50000, many, nmany, 5,
	    false);
	run("10% loss, duplicates and reordering", 100000, 20000, 100000, small,
	    VNB_ARRAY_SIZE(small), 6, false);
	run("one way, 10% loss", 100000, 0, 0, small, VNB_ARRAY_SIZE(small), 7,
	    true);
	free(src);
	return done_testing();
}
