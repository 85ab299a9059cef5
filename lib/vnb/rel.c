/*
 * rel.c - reliable, ordered messages over any endpoint (vnb.h,
 * "Reliable messages"; the wire header is in rel.h, the protocol in
 * doc/libvnb.md).
 *
 * Per peer, the sender keeps a queue of messages (the caller's buffers,
 * not copied) and a window of frame slots: sequence number, which bytes
 * of which message, when sent, how often.  A frame is resent from the
 * caller's buffer when its timeout expires or when a selective ack shows
 * it missing behind later frames.  The receiver keeps a window of frame
 * slots for frames that arrive early, and one buffer of max_msg bytes in
 * which it puts the current message together, in order.  All of it is
 * allocated in vnb_rel_create.
 */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "vnb/core.h"
#include "vnb/prov.h"
#include "vnb/rel.h"
#include "vnb/vnb.h"

#define DEF_MAX_MSG (4u << 20)
#define DEF_WINDOW 64
#define MAX_WINDOW 1024
#define DEF_SQ_DEPTH 64
#define MAX_SQ_DEPTH 65536
#define DEF_RTO_US 1000
#define DEF_RTO_MIN_US 200
#define DEF_ACK_DELAY_US 20
#define RTO_MAX_NS 1000000000ull
#define POLL_BATCH 32
#define POLL_MAX 256 /* receive completions handled per progress call */

struct txmsg {
	const uint8_t *buf;
	size_t len, next_off; /* next_off: bytes cut into frames so far */
	uint64_t ctx;
	uint32_t last_seq; /* valid once cut */
	bool cut; /* every byte is in a frame */
};

struct txslot {
	size_t off; /* in the message */
	uint64_t sent_ns;
	uint32_t msg; /* index in the peer's send queue ring */
	uint32_t len, total, retries;
	uint8_t flags;
	bool need_tx, sacked, sampled;
};

struct rxslot {
	uint32_t len, total;
	uint8_t flags;
	bool present;
};

struct peer {
	struct vnb_addr addr;
	uint64_t key;
	bool self;
	/* sending */
	struct txmsg *sq;
	uint32_t sq_head, sq_n, sq_cut; /* sq_cut: messages fully cut */
	struct txslot *tx;
	uint32_t snd_una, snd_nxt;
	uint64_t srtt, rttvar, rto; /* ns */
	uint64_t deadline; /* earliest timeout of a frame in flight */
	uint64_t rack; /* latest send time of a frame known to have arrived */
	bool pending_tx; /* a slot has need_tx set */
	/* receiving */
	struct rxslot *rx;
	uint8_t *rxmem; /* window * frag bytes */
	uint32_t rcv_nxt, asm_nxt;
	uint8_t *msg;
	size_t msg_len, msg_total;
	bool msg_active, msg_ready, msg_err;
	bool ack_pending;
	uint64_t ack_due; /* when the ack owed must go out alone */
	uint32_t unacked; /* data frames since the last ack sent */
	uint32_t echo; /* the last data frame received, to echo */
	bool echo_valid;
};

struct vnb_rel {
	struct vnb_ep *ep;
	struct peer *peers;
	size_t npeers;
	uint64_t *hkeys; /* open addressing: key -> peer index + 1 */
	uint32_t *hidx;
	size_t hsize;
	uint64_t self_key;
	size_t max_msg;
	uint32_t window, sq_depth, frag;
	uint64_t rto_min;
	uint64_t ack_delay; /* ns */
	uint32_t ack_every; /* frames */
	uint64_t *done; /* completed send contexts, a ring */
	size_t done_cap, done_head, done_n;
	size_t recv_next; /* round robin */
	size_t nready;
	struct vnb_rel_counters cnt;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Sequence arithmetic, modulo 2^32. */
static int32_t seqdiff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

/* --- the wire header --- */

void vnb_rel_hdr_encode(uint8_t out[VNB_REL_HDR_LEN],
			const struct vnb_rel_hdr *h)
{
	out[0] = h->type;
	out[1] = h->flags;
	out[2] = h->version;
	out[3] = 0;
	vnb_put32(out + 4, h->seq);
	vnb_put32(out + 8, h->ack);
	vnb_put32(out + 12, h->total);
	vnb_put32(out + 16, (uint32_t)(h->src >> 32));
	vnb_put32(out + 20, (uint32_t)h->src);
	vnb_put32(out + 24, (uint32_t)(h->sack >> 32));
	vnb_put32(out + 28, (uint32_t)h->sack);
	vnb_put32(out + 32, h->echo);
	vnb_put32(out + 36, 0);
}

void vnb_rel_hdr_decode(const uint8_t in[VNB_REL_HDR_LEN],
			struct vnb_rel_hdr *h)
{
	h->type = in[0];
	h->flags = in[1];
	h->version = in[2];
	h->seq = vnb_get32(in + 4);
	h->ack = vnb_get32(in + 8);
	h->total = vnb_get32(in + 12);
	h->src = (uint64_t)vnb_get32(in + 16) << 32 | vnb_get32(in + 20);
	h->sack = (uint64_t)vnb_get32(in + 24) << 32 | vnb_get32(in + 28);
	h->echo = vnb_get32(in + 32);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

uint64_t vnb_rel_addr_key(const struct vnb_addr *a)
{
	uint8_t q[2] = {(uint8_t)(a->queue >> 8), (uint8_t)a->queue};
	uint8_t port[2] = {(uint8_t)(a->port >> 8), (uint8_t)a->port};
	char shm[sizeof(a->shm)] = {0};
	uint64_t h = 0xcbf29ce484222325ull;

	memcpy(shm, a->shm, strnlen(a->shm, sizeof(shm) - 1));
	h = fnv(h, a->mac, 6);
	h = fnv(h, q, 2);
	h = fnv(h, &a->ip4, 4);
	h = fnv(h, port, 2);
	return fnv(h, shm, sizeof(shm));
}

/* --- the peer table --- */

static int peer_find(const struct vnb_rel *r, uint64_t key, size_t *idx)
{
	size_t i = (size_t)(key ^ (key >> 29)) & (r->hsize - 1);

	while (r->hidx[i]) {
		if (r->hkeys[i] == key) {
			*idx = r->hidx[i] - 1;
			return 0;
		}
		i = (i + 1) & (r->hsize - 1);
	}
	return -1;
}

static int peer_add(struct vnb_rel *r, uint64_t key, size_t idx)
{
	size_t i = (size_t)(key ^ (key >> 29)) & (r->hsize - 1);

	while (r->hidx[i]) {
		if (r->hkeys[i] == key)
			return -1;
		i = (i + 1) & (r->hsize - 1);
	}
	r->hkeys[i] = key;
	r->hidx[i] = (uint32_t)idx + 1;
	return 0;
}

/* --- create and destroy --- */

void vnb_rel_destroy(struct vnb_rel *r)
{
	int e = errno;
	size_t i;

	if (!r)
		return;
	if (r->peers) {
		for (i = 0; i < r->npeers; i++) {
			struct peer *p = &r->peers[i];

			free(p->sq);
			free(p->tx);
			free(p->rx);
			free(p->rxmem);
			free(p->msg);
		}
	}
	free(r->peers);
	free(r->hkeys);
	free(r->hidx);
	free(r->done);
	free(r);
	errno = e;
}

static int check_rel_attr(const struct vnb_rel_attr *a, vnb_error_t *err)
{
	errno = EINVAL;
	if (a->window > MAX_WINDOW)
		return vnb_errprintf(err,
				     "reliable messages: attr.window %u is "
				     "out of range (1 to %u)",
				     a->window, MAX_WINDOW);
	if (a->sq_depth > MAX_SQ_DEPTH)
		return vnb_errprintf(err,
				     "reliable messages: attr.sq_depth %u is "
				     "out of range (1 to %u)",
				     a->sq_depth, MAX_SQ_DEPTH);
	if (a->max_msg > UINT32_MAX)
		return vnb_errprintf(err,
				     "reliable messages: attr.max_msg %zu is "
				     "larger than 4 GiB - 1",
				     a->max_msg);
	errno = 0;
	return 0;
}

struct vnb_rel *vnb_rel_create(struct vnb_ep *ep, const struct vnb_addr *peers,
			       size_t npeers, const struct vnb_rel_attr *attr,
			       vnb_error_t *err)
{
	struct vnb_rel_attr a = {0};
	struct vnb_addr self;
	struct vnb_rel *r;
	size_t i;

	if (!ep || (npeers && !peers) || npeers > UINT32_MAX - 1) {
		errno = EINVAL;
		vnb_errprintf(err, "%s",
			      "reliable messages: no endpoint or no peer "
			      "table");
		return NULL;
	}
	if (attr)
		a = *attr;
	if (check_rel_attr(&a, err) < 0)
		return NULL;
	if (vnb_ep_max_payload(ep) <= VNB_REL_HDR_LEN) {
		errno = EINVAL;
		vnb_errprintf(err,
			      "reliable messages: frames of %zu bytes of "
			      "payload leave no room after the %d-byte "
			      "header: use a larger frame_size",
			      vnb_ep_max_payload(ep), VNB_REL_HDR_LEN);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		goto nomem;
	r->ep = ep;
	r->npeers = npeers;
	r->max_msg = a.max_msg ? a.max_msg : DEF_MAX_MSG;
	r->window = a.window ? a.window : DEF_WINDOW;
	r->sq_depth = a.sq_depth ? a.sq_depth : DEF_SQ_DEPTH;
	r->rto_min =
	    (uint64_t)(a.rto_min_us ? a.rto_min_us : DEF_RTO_MIN_US) * 1000;
	r->ack_delay =
	    (uint64_t)(a.ack_delay_us ? a.ack_delay_us : DEF_ACK_DELAY_US) *
	    1000;
	r->ack_every = r->window / 4 ? r->window / 4 : 1;
	r->frag = (uint32_t)(vnb_ep_max_payload(ep) - VNB_REL_HDR_LEN);
	vnb_ep_addr(ep, &self);
	r->self_key = vnb_rel_addr_key(&self);
	for (r->hsize = 4; r->hsize < 2 * npeers; r->hsize *= 2)
		;
	r->hkeys = calloc(r->hsize, sizeof(*r->hkeys));
	r->hidx = calloc(r->hsize, sizeof(*r->hidx));
	r->peers = calloc(npeers ? npeers : 1, sizeof(*r->peers));
	r->done_cap = npeers * r->sq_depth;
	r->done = calloc(r->done_cap ? r->done_cap : 1, sizeof(*r->done));
	if (!r->hkeys || !r->hidx || !r->peers || !r->done)
		goto nomem;
	for (i = 0; i < npeers; i++) {
		struct peer *p = &r->peers[i];

		p->addr = peers[i];
		p->key = vnb_rel_addr_key(&peers[i]);
		p->self = p->key == r->self_key;
		if (peer_add(r, p->key, i) < 0) {
			vnb_rel_destroy(r);
			errno = EINVAL;
			vnb_errprintf(err,
				      "reliable messages: peer %zu has the "
				      "address of an earlier peer: each peer "
				      "must appear once",
				      i);
			return NULL;
		}
		p->rto = (uint64_t)(a.rto_us ? a.rto_us : DEF_RTO_US) * 1000;
		if (p->self)
			continue;
		p->sq = calloc(r->sq_depth, sizeof(*p->sq));
		p->tx = calloc(r->window, sizeof(*p->tx));
		p->rx = calloc(r->window, sizeof(*p->rx));
		p->rxmem = malloc((size_t)r->window * r->frag);
		p->msg = malloc(r->max_msg ? r->max_msg : 1);
		if (!p->sq || !p->tx || !p->rx || !p->rxmem || !p->msg)
			goto nomem;
	}
	return r;
nomem:
	vnb_rel_destroy(r);
	errno = ENOMEM;
	vnb_errprintf(err,
		      "reliable messages: out of memory for %zu peers "
		      "(each needs max_msg bytes plus a window of "
		      "frames)",
		      npeers);
	return NULL;
}

/* --- sending --- */

static void put_done(struct vnb_rel *r, uint64_t ctx)
{
	r->done[(r->done_head + r->done_n) % r->done_cap] = ctx;
	r->done_n++;
}

/* Cut queued messages into free window slots. */
static void cut(struct vnb_rel *r, struct peer *p)
{
	while (p->sq_cut < p->sq_n && p->snd_nxt - p->snd_una < r->window) {
		uint32_t mi = (p->sq_head + p->sq_cut) % r->sq_depth;
		struct txmsg *m = &p->sq[mi];
		struct txslot *s = &p->tx[p->snd_nxt % r->window];
		size_t left = m->len - m->next_off;
		uint32_t n = left > r->frag ? r->frag : (uint32_t)left;

		memset(s, 0, sizeof(*s));
		s->msg = mi;
		s->off = m->next_off;
		s->len = n;
		s->total = (uint32_t)m->len;
		s->flags = m->next_off == 0 ? VNB_REL_FIRST : 0;
		s->need_tx = true;
		p->pending_tx = true;
		m->next_off += n;
		if (m->next_off == m->len) {
			s->flags |= VNB_REL_LAST;
			m->cut = true;
			m->last_seq = p->snd_nxt;
			p->sq_cut++;
		}
		p->snd_nxt++;
	}
}

/* The selective ack bits of what p has sent us beyond rcv_nxt. */
static uint64_t sack_bits(const struct vnb_rel *r, const struct peer *p)
{
	uint64_t bits = 0;
	uint32_t i;

	for (i = 0; i < 64; i++) {
		uint32_t seq = p->rcv_nxt + 1 + i;

		if (seq - p->asm_nxt >= r->window)
			break;
		if (p->rx[seq % r->window].present)
			bits |= 1ull << i;
	}
	return bits;
}

static void fill_hdr(struct vnb_rel *r, struct peer *p, struct vnb_rel_hdr *h,
		     uint8_t type)
{
	memset(h, 0, sizeof(*h));
	h->type = type;
	h->version = VNB_REL_VERSION;
	h->ack = p->rcv_nxt;
	h->src = r->self_key;
	h->sack = sack_bits(r, p);
	if (p->echo_valid) {
		h->flags |= VNB_REL_ECHO;
		h->echo = p->echo;
	}
}

/* A frame to p went out: it carried the ack owed, and the echo (echoed
 * once: a later frame would measure the wait too). */
static void sent_to(struct peer *p)
{
	p->ack_pending = false;
	p->unacked = 0;
	p->echo_valid = false;
}

static int send_slot(struct vnb_rel *r, struct peer *p, uint32_t seq,
		     uint64_t now)
{
	struct txslot *s = &p->tx[seq % r->window];
	const struct txmsg *m = &p->sq[s->msg];
	uint8_t hb[VNB_REL_HDR_LEN];
	struct vnb_rel_hdr h;

	fill_hdr(r, p, &h, VNB_REL_DATA);
	h.flags |= s->flags;
	h.seq = seq;
	h.total = s->total;
	vnb_rel_hdr_encode(hb, &h);
	/* a 0-byte message may have no buffer at all */
	if (vnb_ep_send2(r->ep, &p->addr, VNB_HDR_F_REL, hb, sizeof(hb),
			 s->len ? m->buf + s->off : NULL, s->len, 0) < 0)
		return -1;
	if (s->sent_ns) {
		s->retries++;
		r->cnt.retransmits++;
	} else {
		r->cnt.data_frames++;
	}
	s->sent_ns = now;
	s->need_tx = false;
	sent_to(p);
	return 0;
}

/* Every frame waits the peer's timeout, which backs off (doubles) while
 * the oldest frame keeps timing out and drops back with the next clean
 * round-trip sample.  (Backing off each frame as well would compound:
 * four times per loss of the oldest frame.) */
static uint64_t slot_timeout(const struct peer *p, const struct txslot *s)
{
	(void)s;
	return p->rto;
}

/* Send what is new and what is overdue.  -1 when the endpoint's send
 * queue is full (try again after reaping) or fails. */
static int transmit(struct vnb_rel *r, struct peer *p, uint64_t now)
{
	uint64_t deadline = UINT64_MAX;
	uint32_t seq;

	cut(r, p);
	if (!p->pending_tx && now < p->deadline)
		return 0;
	for (seq = p->snd_una; seq != p->snd_nxt; seq++) {
		struct txslot *s = &p->tx[seq % r->window];
		bool expired = !s->need_tx && !s->sacked &&
			       now - s->sent_ns >= slot_timeout(p, s);

		/* a timeout backs the peer's timer off too (RFC 6298 5.5),
		 * until a clean sample resets it, or every new frame would
		 * time out again; only for the oldest frame, as TCP's one
		 * timer does */
		if (expired && seq == p->snd_una) {
			p->rto =
			    p->rto * 2 > RTO_MAX_NS ? RTO_MAX_NS : p->rto * 2;
		}
		if ((s->need_tx || expired) && send_slot(r, p, seq, now) < 0) {
			p->deadline = now;
			return -1;
		}
		if (!s->sacked && s->sent_ns + slot_timeout(p, s) < deadline)
			deadline = s->sent_ns + slot_timeout(p, s);
	}
	p->pending_tx = false;
	p->deadline = deadline;
	return 0;
}

int vnb_rel_send(struct vnb_rel *r, size_t peer, const void *buf, size_t len,
		 uint64_t context)
{
	struct txmsg *m;
	struct peer *p;

	if (!r || peer >= r->npeers || (len && !buf) || r->peers[peer].self) {
		errno = EINVAL;
		return -1;
	}
	if (len > r->max_msg) {
		errno = EMSGSIZE;
		return -1;
	}
	p = &r->peers[peer];
	if (p->sq_n == r->sq_depth) {
		errno = EAGAIN;
		return -1;
	}
	m = &p->sq[(p->sq_head + p->sq_n) % r->sq_depth];
	memset(m, 0, sizeof(*m));
	m->buf = buf;
	m->len = len;
	m->ctx = context;
	p->sq_n++;
	/* out at once as far as the window goes; a full send queue is
	 * retried by progress */
	transmit(r, p, now_ns());
	return 0;
}

static void rtt_sample(struct vnb_rel *r, struct peer *p, uint64_t rtt)
{
	uint64_t rto;

	if (!p->srtt) {
		p->srtt = rtt ? rtt : 1;
		p->rttvar = rtt / 2;
	} else {
		uint64_t d = p->srtt > rtt ? p->srtt - rtt : rtt - p->srtt;

		p->rttvar = (3 * p->rttvar + d) / 4;
		p->srtt = (7 * p->srtt + rtt) / 8;
	}
	rto = p->srtt + 4 * p->rttvar;
	if (rto < r->rto_min)
		rto = r->rto_min;
	if (rto > RTO_MAX_NS)
		rto = RTO_MAX_NS;
	p->rto = rto;
}

static void handle_ack(struct vnb_rel *r, struct peer *p, uint32_t ack,
		       uint64_t sack, uint64_t now)
{
	uint64_t newest = 0; /* latest send among frames newly reported */
	uint32_t seq;
	int i;

	if (seqdiff(ack, p->snd_una) < 0 || seqdiff(ack, p->snd_nxt) > 0)
		return; /* old, or beyond what was sent: ignore */
	for (seq = p->snd_una; seq != ack; seq++) {
		const struct txslot *s = &p->tx[seq % r->window];

		if (!s->sacked && s->sent_ns > newest)
			newest = s->sent_ns;
	}
	if (ack != p->snd_una)
		p->deadline = 0; /* recompute on the next transmit */
	p->snd_una = ack;
	/* messages whose last frame is acknowledged are done, in order */
	while (p->sq_cut > 0) {
		struct txmsg *m = &p->sq[p->sq_head];

		if (seqdiff(p->snd_una, m->last_seq) <= 0)
			break;
		put_done(r, m->ctx);
		r->cnt.msgs_sent++;
		p->sq_head = (p->sq_head + 1) % r->sq_depth;
		p->sq_n--;
		p->sq_cut--;
	}
	for (i = 0; i < 64; i++) {
		seq = ack + 1 + (uint32_t)i;
		if (seqdiff(seq, p->snd_nxt) >= 0)
			break;
		if (sack & (1ull << i)) {
			struct txslot *s = &p->tx[seq % r->window];

			if (!s->sacked && s->sent_ns > newest)
				newest = s->sent_ns;
			s->sacked = true;
		}
	}
	if (newest > p->rack)
		p->rack = newest;
	/* RACK (RFC 8985): a frame sent more than a reordering window
	 * (srtt/4) before one that has arrived is lost; resend it now
	 * rather than at its timeout, and again if the resent copy is lost
	 * too */
	for (seq = p->snd_una; p->rack && seq != p->snd_nxt; seq++) {
		struct txslot *s = &p->tx[seq % r->window];

		if (!s->sacked && !s->need_tx && s->sent_ns &&
		    s->sent_ns + p->srtt / 4 < p->rack) {
			s->need_tx = true;
			p->pending_tx = true;
		}
	}
}

/* The frame's echo names the data frame of ours whose arrival made the
 * peer send it: a round trip, if that frame went out once (Karn) and has
 * not been measured yet.  An ack that reports frames late (acks lost, or
 * waiting for a hole) still measures one round trip, not the wait. */
static void echo_sample(struct vnb_rel *r, struct peer *p, uint32_t echo,
			uint64_t now)
{
	struct txslot *s;

	if ((uint32_t)(p->snd_nxt - 1 - echo) >= r->window ||
	    seqdiff(echo, p->snd_nxt) >= 0)
		return; /* not a frame the window still describes */
	s = &p->tx[echo % r->window];
	if (s->retries || s->sampled || !s->sent_ns)
		return;
	s->sampled = true;
	rtt_sample(r, p, now - s->sent_ns);
}

/* --- receiving --- */

static void assemble(struct vnb_rel *r, struct peer *p, uint8_t flags,
		     uint32_t total, const uint8_t *data, uint32_t len)
{
	if (flags & VNB_REL_FIRST) {
		if (p->msg_active)
			r->cnt.bad_frames++; /* the last one never ended */
		p->msg_active = true;
		p->msg_len = 0;
		p->msg_total = total;
		p->msg_err = total > r->max_msg;
	}
	if (!p->msg_active) {
		r->cnt.bad_frames++;
		return;
	}
	if (!p->msg_err) {
		if (p->msg_len + len > p->msg_total)
			p->msg_err = true;
		else
			memcpy(p->msg + p->msg_len, data, len);
	}
	p->msg_len += len;
	if (flags & VNB_REL_LAST) {
		if (p->msg_len != p->msg_total)
			p->msg_err = true;
		p->msg_active = false;
		p->msg_ready = true;
		r->nready++;
	}
}

/* Put frames that waited in slots into the message, in order. */
static void drain(struct vnb_rel *r, struct peer *p)
{
	while (!p->msg_ready && p->asm_nxt != p->rcv_nxt) {
		uint32_t i = p->asm_nxt % r->window;
		struct rxslot *s = &p->rx[i];

		assemble(r, p, s->flags, s->total,
			 p->rxmem + (size_t)i * r->frag, s->len);
		s->present = false;
		p->asm_nxt++;
	}
}

/* Owe p an ack: at once, or within the ack delay (a data frame back to
 * p carries it for free meanwhile). */
static void owe_ack(struct vnb_rel *r, struct peer *p, uint64_t now,
		    bool at_once)
{
	if (!p->ack_pending) {
		p->ack_pending = true;
		p->ack_due = now + r->ack_delay;
	}
	if (at_once)
		p->ack_due = now;
	p->unacked++;
}

static void handle_data(struct vnb_rel *r, struct peer *p,
			const struct vnb_rel_hdr *h, const uint8_t *data,
			uint32_t len, uint64_t now)
{
	uint32_t seq = h->seq;

	p->echo = seq;
	p->echo_valid = true;
	/* a duplicate or an early frame: the sender lost an ack or a
	 * frame, so tell it now (the selective ack shows the hole) */
	owe_ack(r, p, now, seq != p->rcv_nxt);
	if (len > r->frag) {
		r->cnt.bad_frames++;
		return;
	}
	if (seqdiff(seq, p->rcv_nxt) < 0) {
		r->cnt.dup_frames++;
		return;
	}
	if (seq - p->asm_nxt >= r->window) {
		r->cnt.out_of_window++;
		return;
	}
	if (seq == p->asm_nxt && !p->msg_ready) {
		/* in order, and the message buffer is free: no slot */
		assemble(r, p, h->flags, h->total, data, len);
		p->asm_nxt++;
		p->rcv_nxt++;
	} else {
		uint32_t i = seq % r->window;
		struct rxslot *s = &p->rx[i];

		if (s->present) {
			r->cnt.dup_frames++;
			return;
		}
		memcpy(p->rxmem + (size_t)i * r->frag, data, len);
		s->len = len;
		s->total = h->total;
		s->flags = h->flags;
		s->present = true;
	}
	while (p->rcv_nxt - p->asm_nxt < r->window &&
	       p->rx[p->rcv_nxt % r->window].present)
		p->rcv_nxt++;
	drain(r, p);
}

static void handle_frame(struct vnb_rel *r, const struct vnb_cqe *c,
			 uint64_t now)
{
	struct vnb_rel_hdr h;
	struct peer *p;
	size_t idx;

	if (c->len < VNB_REL_HDR_LEN) {
		r->cnt.bad_frames++;
		return;
	}
	vnb_rel_hdr_decode(c->data, &h);
	if (h.version != VNB_REL_VERSION ||
	    (h.type != VNB_REL_DATA && h.type != VNB_REL_ACK) ||
	    peer_find(r, h.src, &idx) < 0 || r->peers[idx].self) {
		r->cnt.bad_frames++;
		return;
	}
	p = &r->peers[idx];
	if (h.flags & VNB_REL_ECHO)
		echo_sample(r, p, h.echo, now);
	handle_ack(r, p, h.ack, h.sack, now);
	if (h.type == VNB_REL_DATA)
		handle_data(r, p, &h,
			    (const uint8_t *)c->data + VNB_REL_HDR_LEN,
			    c->len - VNB_REL_HDR_LEN, now);
}

static int send_ack(struct vnb_rel *r, struct peer *p)
{
	uint8_t hb[VNB_REL_HDR_LEN];
	struct vnb_rel_hdr h;

	fill_hdr(r, p, &h, VNB_REL_ACK);
	vnb_rel_hdr_encode(hb, &h);
	if (vnb_ep_send2(r->ep, &p->addr, VNB_HDR_F_REL, hb, sizeof(hb), NULL,
			 0, 0) < 0)
		return -1;
	r->cnt.acks_sent++;
	sent_to(p);
	return 0;
}

int vnb_rel_progress(struct vnb_rel *r, uint64_t *done, int max)
{
	struct vnb_cqe cqe[POLL_BATCH];
	uint64_t now = now_ns();
	int handled = 0, n, i;
	size_t k;

	if (!r || max < 0 || (max && !done)) {
		errno = EINVAL;
		return -1;
	}
	do {
		n = vnb_poll_cq(r->ep, cqe, POLL_BATCH);
		if (n < 0)
			return -1;
		for (i = 0; i < n; i++) {
			if (cqe[i].type != VNB_CQE_RECV)
				continue;
			handle_frame(r, &cqe[i], now);
			vnb_post_recv(r->ep, cqe[i].frame, 0);
			handled++;
		}
	} while (n == POLL_BATCH && handled < POLL_MAX);
	for (k = 0; k < r->npeers; k++) {
		struct peer *p = &r->peers[k];

		if (p->self)
			continue;
		if (p->sq_n && transmit(r, p, now) < 0 && errno != EAGAIN)
			return -1;
		if (p->ack_pending &&
		    (now >= p->ack_due || p->unacked >= r->ack_every) &&
		    send_ack(r, p) < 0 && errno != EAGAIN)
			return -1;
	}
	for (n = 0; n < max && r->done_n; n++) {
		done[n] = r->done[r->done_head];
		r->done_head = (r->done_head + 1) % r->done_cap;
		r->done_n--;
	}
	return n;
}

int vnb_rel_recv(struct vnb_rel *r, size_t *peer, void *buf, size_t cap,
		 size_t *len)
{
	size_t k;

	if (!r || !peer || !len || (cap && !buf)) {
		errno = EINVAL;
		return -1;
	}
	if (!r->nready)
		return 0;
	for (k = 0; k < r->npeers; k++) {
		size_t i = (r->recv_next + k) % r->npeers;
		struct peer *p = &r->peers[i];
		bool bad;

		if (!p->msg_ready)
			continue;
		*peer = i;
		*len = p->msg_len;
		if (!p->msg_err && p->msg_len > cap) {
			errno = EMSGSIZE;
			return -1;
		}
		bad = p->msg_err;
		if (!bad)
			memcpy(buf, p->msg, p->msg_len);
		p->msg_ready = false;
		r->nready--;
		r->recv_next = (i + 1) % r->npeers;
		drain(r, p); /* may start the next message */
		if (bad) {
			errno = EBADMSG;
			return -1;
		}
		r->cnt.msgs_recv++;
		return 1;
	}
	return 0;
}

int vnb_rel_wait(struct vnb_rel *r, int timeout_ms)
{
	uint64_t now, next = UINT64_MAX, wait_ns;
	struct timespec ts, *tsp = NULL;
	struct pollfd pfd;
	size_t k;
	int rc;

	if (!r) {
		errno = EINVAL;
		return -1;
	}
	if (r->done_n || r->nready)
		return 1;
	now = now_ns();
	for (k = 0; k < r->npeers; k++) {
		const struct peer *p = &r->peers[k];

		if (p->ack_pending && p->ack_due < next)
			next = p->ack_due;
		if (p->snd_una != p->snd_nxt && p->deadline < next)
			next = p->deadline;
		if (p->sq_cut < p->sq_n && p->snd_nxt - p->snd_una < r->window)
			return 1;
	}
	if (next <= now)
		return 1;
	wait_ns = next == UINT64_MAX ? UINT64_MAX : next - now;
	if (timeout_ms >= 0 && (uint64_t)timeout_ms * 1000000 < wait_ns)
		wait_ns = (uint64_t)timeout_ms * 1000000;
	if (wait_ns != UINT64_MAX) {
		ts.tv_sec = (time_t)(wait_ns / 1000000000);
		ts.tv_nsec = (long)(wait_ns % 1000000000);
		tsp = &ts;
	}
	/* ppoll: the timers are finer than poll's milliseconds */
	pfd.fd = vnb_ep_fd(r->ep);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (pfd.fd < 0)
		return 1;
	rc = ppoll(&pfd, 1, tsp, NULL);
	if (rc < 0)
		return -1;
	if (rc > 0)
		return 1;
	/* timed out: a timer of ours is due, or the caller's limit */
	return timeout_ms >= 0 && (uint64_t)timeout_ms * 1000000 == wait_ns ? 0
									    : 1;
}

void vnb_rel_counters(const struct vnb_rel *r, struct vnb_rel_counters *c)
{
	*c = r->cnt;
}
