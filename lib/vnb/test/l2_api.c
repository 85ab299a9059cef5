/*
 * l2_api.c - the packet and udp providers through the public API, as root
 * across two network namespaces: frames of every size both ways with their
 * contents checked, VLAN 10, forged frames of another job and another
 * queue dropped and counted, a full send queue, and the errors a user
 * sees (missing interface, missing CAP_NET_RAW).
 */
#include "config.h"

#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/tap.h"
#include "vnb/frame.h"
#include "vnb/vnb.h"
#include "vnb/test/l2_netns.h"

#define NFRAMES 256
#define WINDOW 32
#define HOLD 4 /* receive frames held and posted back in reverse order */
#define DEADLINE 10.0 /* seconds without progress before giving up */
#define JOB 42

static struct l2_netns ns;

static struct vnb_ep *api_open(enum vnb_prov p, int side, uint16_t queue,
			       uint16_t vlan, vnb_error_t *err)
{
	struct vnb_ep_attr attr = {.ifname = side ? L2_IF1 : L2_IF0,
				   .queue = queue,
				   .vlan = vlan,
				   .job_tag = JOB,
				   .prov = p,
				   .nframes = NFRAMES};

	l2_netns_enter(&ns, side);
	return vnb_ep_open(&attr, err);
}

struct rx {
	uint32_t got, bad, disorder, next;
	uint32_t held[HOLD], nheld;
	uint32_t sent_done;
};

static void release(struct vnb_ep *ep, struct rx *r)
{
	while (r->nheld)
		if (vnb_post_recv(ep, r->held[--r->nheld], 0) < 0)
			bail_out("post_recv: %s", strerror(errno));
}

/* Poll ep's completions: count sends, check and count receives. */
static void poll_ep(struct vnb_ep *ep, struct rx *r, uint32_t max)
{
	struct vnb_cqe cqe[64];
	int n, i;

	while ((n = vnb_poll_cq(ep, cqe, 64)) > 0) {
		for (i = 0; i < n; i++) {
			const struct vnb_cqe *q = &cqe[i];

			if (q->type == VNB_CQE_SEND) {
				r->sent_done++;
				continue;
			}
			if (q->status != 0 ||
			    q->len != l2_payload_len(q->seq, max) ||
			    l2_payload_check(q->data, q->len, q->seq) < 0)
				r->bad++;
			else
				r->got++;
			if (q->seq != r->next)
				r->disorder++;
			r->next = q->seq + 1;
			r->held[r->nheld++] = q->frame;
			if (r->nheld == HOLD)
				release(ep, r);
		}
	}
	if (n < 0)
		bail_out("poll_cq: %s", strerror(errno));
}

static void exchange(const char *what, struct vnb_ep *a, struct vnb_ep *b,
		     uint32_t n)
{
	struct vnb_ep *ep[2] = {a, b};
	struct vnb_addr addr[2];
	struct rx r[2];
	uint32_t sent[2] = {0, 0};
	uint32_t max = (uint32_t)vnb_ep_max_payload(a);
	uint8_t buf[65536];
	double last = l2_now();
	int s;

	if (vnb_ep_max_payload(b) < max)
		max = (uint32_t)vnb_ep_max_payload(b);
	vnb_ep_addr(a, &addr[0]);
	vnb_ep_addr(b, &addr[1]);
	memset(r, 0, sizeof(r));
	while ((r[0].got + r[0].bad < n || r[1].got + r[1].bad < n ||
		r[0].sent_done < n || r[1].sent_done < n) &&
	       l2_now() - last < DEADLINE) {
		for (s = 0; s < 2; s++) {
			struct rx *peer = &r[!s];
			uint32_t before =
			    peer->got + peer->bad + r[s].sent_done;

			while (sent[s] < n &&
			       sent[s] - (peer->got + peer->bad) < WINDOW) {
				uint32_t len = l2_payload_len(sent[s], max);

				l2_payload_fill(buf, len, sent[s]);
				if (vnb_post_send(ep[s], &addr[!s], buf, len,
						  sent[s]) < 0) {
					if (errno != EAGAIN)
						bail_out("%s: post_send: %s",
							 what,
							 vnb_ep_error(ep[s]));
					break;
				}
				sent[s]++;
			}
			poll_ep(ep[s], &r[s], max);
			poll_ep(ep[!s], peer, max);
			if (peer->got + peer->bad + r[s].sent_done != before)
				last = l2_now();
		}
	}
	release(a, &r[0]);
	release(b, &r[1]);
	is_int(r[1].got, n, "%s: %u frames of 0..%u bytes a->b arrive intact",
	       what, n, max);
	is_int(r[0].got, n, "%s: %u frames b->a arrive intact", what, n);
	ok(r[0].bad + r[1].bad == 0 && r[0].disorder + r[1].disorder == 0,
	   "%s: none corrupt or out of order", what);
	ok(r[0].sent_done == n && r[1].sent_done == n,
	   "%s: every send completes", what);
}

/* A batch of 100 from a to b (packet: one send() for all; udp: one
 * sendto each) arrives whole and in order, and every frame completes. */
static void batch(const char *what, struct vnb_ep *a, struct vnb_ep *b)
{
	struct vnb_msg m[100];
	struct vnb_addr to;
	struct vnb_cqe c[64];
	uint32_t pay[100], seq0 = 0;
	int i, n, got = 0, done = 0, order = 0;
	double end = l2_now() + DEADLINE;

	vnb_ep_addr(b, &to);
	for (i = 0; i < 100; i++) {
		pay[i] = 0xba000000u + (uint32_t)i;
		m[i].buf = &pay[i];
		m[i].len = sizeof(pay[i]);
		m[i].context = (uint64_t)i;
	}
	is_int(vnb_post_send_batch(a, &to, m, 100), 100,
	       "%s: a batch of 100 is queued", what);
	while ((got < 100 || done < 100) && l2_now() < end) {
		n = vnb_poll_cq(b, c, 64);
		for (i = 0; i < n; i++) {
			uint32_t v;

			if (c[i].type != VNB_CQE_RECV)
				continue;
			memcpy(&v, c[i].data, sizeof(v));
			if (got == 0)
				seq0 = c[i].seq;
			if (c[i].len != sizeof(v) || got >= 100 ||
			    v != pay[got] || c[i].seq != seq0 + (uint32_t)got)
				order++;
			got++;
			vnb_post_recv(b, c[i].frame, 0);
		}
		n = vnb_poll_cq(a, c, 64);
		for (i = 0; i < n; i++)
			done += c[i].type == VNB_CQE_SEND;
	}
	is_int(got, 100, "%s: the batch arrives whole", what);
	is_int(order, 0, "%s: ... in order", what);
	is_int(done, 100, "%s: ... and every frame completes", what);
}

/* A frame from side 0 that nobody's endpoint owns: raw on the wire for
 * the packet provider, a datagram for udp. */
static void forge(enum vnb_prov p, const struct vnb_addr *dst,
		  const uint8_t src[6], uint32_t job, uint16_t dst_q,
		  uint8_t version, uint32_t seq)
{
	uint32_t len = l2_payload_len(seq, 8);
	struct vnb_hdr h = {.version = VNB_HDR_VERSION,
			    .len = (uint16_t)len,
			    .job = job,
			    .src_q = 0,
			    .dst_q = dst_q,
			    .seq = seq};
	uint8_t f[128];
	size_t off;
	int fd;

	l2_netns_enter(&ns, 0);
	memset(f, 0, sizeof(f));
	off = vnb_frame_build(f, sizeof(f), p == VNB_PROV_PACKET, dst->mac, src,
			      dst->vlan, &h);
	f[off - VNB_HDR_LEN] = version;
	l2_payload_fill(f + off, len, seq);
	if (p == VNB_PROV_PACKET) {
		struct sockaddr_ll sll = {.sll_family = AF_PACKET,
					  .sll_ifindex =
					      (int)if_nametoindex(L2_IF0),
					  .sll_halen = 6};

		memcpy(sll.sll_addr, dst->mac, 6);
		fd = socket(AF_PACKET, SOCK_RAW, 0);
		if (fd < 0 || sendto(fd, f, off + len < 60 ? 60 : off + len, 0,
				     (struct sockaddr *)&sll, sizeof(sll)) < 0)
			bail_out("forge: AF_PACKET: %s", strerror(errno));
	} else {
		struct sockaddr_in sin = {.sin_family = AF_INET,
					  .sin_port = htons(dst->port),
					  .sin_addr.s_addr = dst->ip4};

		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0 || sendto(fd, f, off + len, 0,
				     (struct sockaddr *)&sin, sizeof(sin)) < 0)
			bail_out("forge: udp: %s", strerror(errno));
	}
	close(fd);
}

static void foreign(const char *what, enum vnb_prov p, struct vnb_ep *a,
		    struct vnb_ep *b)
{
	struct vnb_counters before, after;
	struct vnb_addr aa, ba;
	struct rx r;
	double t0;
	int i;

	vnb_ep_addr(a, &aa);
	vnb_ep_addr(b, &ba);
	vnb_ep_counters(b, &before);
	for (i = 0; i < 20; i++) {
		forge(p, &ba, aa.mac, JOB + 1, ba.queue, VNB_HDR_VERSION, 100);
		forge(p, &ba, aa.mac, JOB, ba.queue + 1, VNB_HDR_VERSION, 100);
	}
	forge(p, &ba, aa.mac, JOB, ba.queue, 9, 100);
	/* Then one for b, which arrives after the others. */
	forge(p, &ba, aa.mac, JOB, ba.queue, VNB_HDR_VERSION, 200);
	memset(&r, 0, sizeof(r));
	r.next = 200;
	t0 = l2_now();
	while (r.got + r.bad == 0 && l2_now() - t0 < DEADLINE)
		poll_ep(b, &r, 8);
	release(b, &r);
	vnb_ep_counters(b, &after);
	is_int(r.got, 1, "%s: only the frame for b is delivered", what);
	is_int(after.rx_foreign_job - before.rx_foreign_job, 20,
	       "%s: 20 frames of another job dropped and counted", what);
	is_int(after.rx_foreign_queue - before.rx_foreign_queue, 20,
	       "%s: 20 frames for another queue dropped and counted", what);
	is_int(after.rx_malformed - before.rx_malformed, 1,
	       "%s: a frame of another version dropped as malformed", what);
	is_int(after.rx_frames - before.rx_frames, 1,
	       "%s: rx_frames counts the one delivered", what);
}

static void queue_full(const char *what, struct vnb_ep *a, struct vnb_ep *b)
{
	struct vnb_counters c;
	struct vnb_addr ba;
	struct rx ra, rb;
	uint8_t buf[64];
	uint32_t queued = 0;
	double t0;
	int rc = 0;

	vnb_ep_addr(b, &ba);
	memset(&ra, 0, sizeof(ra));
	memset(&rb, 0, sizeof(rb));
	while (queued <= NFRAMES) {
		uint32_t len = l2_payload_len(queued, sizeof(buf));

		l2_payload_fill(buf, len, queued);
		rc = vnb_post_send(a, &ba, buf, len, queued);
		if (rc < 0)
			break;
		queued++;
	}
	ok(rc < 0 && errno == EAGAIN,
	   "%s: post_send on a full send queue: EAGAIN after %u", what, queued);
	vnb_ep_counters(a, &c);
	ok(c.tx_queue_full >= 1, "%s: tx_queue_full counted", what);
	t0 = l2_now();
	while ((ra.sent_done < queued || rb.got + rb.bad < queued) &&
	       l2_now() - t0 < DEADLINE) {
		poll_ep(a, &ra, sizeof(buf));
		poll_ep(b, &rb, sizeof(buf));
	}
	release(b, &rb);
	is_int(ra.sent_done, queued, "%s: the queued sends complete", what);
	/* The sender's sequence numbers went on from the exchange: count
	 * arrivals, not contents. */
	diag("%s: %u of %u frames of the burst arrived", what, rb.got + rb.bad,
	     queued);
	ok(vnb_post_send(a, &ba, buf, 0, 0) == 0, "%s: post_send works again",
	   what);
	t0 = l2_now();
	while ((ra.sent_done < queued + 1 || rb.got + rb.bad < queued + 1) &&
	       l2_now() - t0 < DEADLINE) {
		poll_ep(a, &ra, sizeof(buf));
		poll_ep(b, &rb, sizeof(buf));
	}
	release(b, &rb);
	is_int(rb.got + rb.bad, queued + 1, "%s: and the frame arrives", what);
}

static void test_provider(enum vnb_prov p, const char *what, const char *mode)
{
	vnb_error_t err = {{0}};
	struct vnb_ep *a, *b;
	struct vnb_addr addr;

	a = api_open(p, 0, 0, 0, &err);
	ok(a != NULL, "%s: open side 0: %s", what, a ? "ok" : err.text);
	b = api_open(p, 1, 0, 0, &err);
	ok(b != NULL, "%s: open side 1: %s", what, b ? "ok" : err.text);
	if (!a || !b)
		bail_out("cannot go on without endpoints");
	is_str(vnb_ep_mode(a), mode, "%s: mode", what);
	ok(vnb_ep_prov(a) == p, "%s: vnb_ep_prov", what);
	vnb_ep_addr(b, &addr);
	ok(memcmp(addr.mac, "\x02\x00\x0a\xe7\x00\x02", 6) == 0,
	   "%s: address has the interface's MAC", what);
	if (p == VNB_PROV_UDP)
		ok(addr.ip4 == htonl(0x0ae70002) && addr.port == 4791,
		   "%s: address has the interface's IPv4 and port 4791", what);
	if (p == VNB_PROV_UDP) {
		struct vnb_ep *c;

		errno = 0;
		c = api_open(p, 0, 0, 0, &err);
		ok(c == NULL && errno == EBUSY,
		   "%s: a second endpoint on the queue: EBUSY", what);
		like(err.text, "taken", "%s: the message says so", what);
		vnb_ep_close(c);
	}
	exchange(what, a, b, 3000);
	batch(what, a, b);
	queue_full(what, a, b);
	foreign(what, p, a, b);
	vnb_ep_close(a);
	vnb_ep_close(b);
}

static void test_packet_vlan(void)
{
	vnb_error_t err = {{0}};
	struct vnb_ep *a, *b;
	struct vnb_addr addr;

	a = api_open(VNB_PROV_PACKET, 0, 3, 10, &err);
	b = api_open(VNB_PROV_PACKET, 1, 5, 10, &err);
	if (!a || !b)
		bail_out("packet vlan: open: %s", err.text);
	vnb_ep_addr(b, &addr);
	is_int(addr.vlan, 10, "packet vlan: address has VLAN 10");
	exchange("packet vlan 10", a, b, 2000);
	foreign("packet vlan 10", VNB_PROV_PACKET, a, b);
	vnb_ep_close(a);
	vnb_ep_close(b);
}

static void test_errors(enum vnb_prov p, const char *what)
{
	struct vnb_ep_attr attr = {
	    .ifname = "nosuch0", .job_tag = JOB, .prov = p};
	vnb_error_t err = {{0}};
	struct vnb_ep *ep;

	l2_netns_enter(&ns, 0);
	errno = 0;
	ep = vnb_ep_open(&attr, &err);
	ok(ep == NULL && errno == ENODEV, "%s: no such interface: ENODEV",
	   what);
	like(err.text, "nosuch0", "%s: the message names it", what);
	vnb_ep_close(ep);
}

/* Without CAP_NET_RAW the packet provider says so and names udp. */
static void test_eperm(void)
{
	int fd[2], st;
	char msg[600] = "";
	ssize_t n;
	pid_t pid;

	l2_netns_enter(&ns, 0);
	if (pipe(fd) < 0)
		bail_out("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		bail_out("fork: %s", strerror(errno));
	if (pid == 0) {
		struct vnb_ep_attr attr = {.ifname = L2_IF0,
					   .job_tag = JOB,
					   .prov = VNB_PROV_PACKET,
					   .nframes = 16};
		vnb_error_t err = {{0}};
		struct vnb_ep *ep;
		int e;

		if (setresgid(65534, 65534, 65534) < 0 ||
		    setresuid(65534, 65534, 65534) < 0)
			_exit(2);
		ep = vnb_ep_open(&attr, &err);
		e = errno;
		if (write(fd[1], err.text, strlen(err.text)) < 0)
			_exit(2);
		_exit(ep == NULL && e == EPERM ? 0 : 1);
	}
	close(fd[1]);
	n = read(fd[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(fd[0]);
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "packet: without CAP_NET_RAW: EPERM");
	like(msg, "CAP_NET_RAW", "packet: the message names CAP_NET_RAW");
	like(msg, "udp", "packet: and suggests udp");
	diag("%s", msg);
}

int main(void)
{
	l2_netns_up(&ns);
	test_provider(VNB_PROV_PACKET, "packet", "packet tpacket-v2");
	test_packet_vlan();
	test_provider(VNB_PROV_UDP, "udp", "udp");
	test_errors(VNB_PROV_PACKET, "packet");
	test_errors(VNB_PROV_UDP, "udp");
	test_eperm();
	l2_netns_down(&ns);
	return done_testing();
}
