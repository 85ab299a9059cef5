/*
 * prov_fake.c - the in-memory fake provider for unit tests (fake.h).
 *
 * Linked into the unit tests only, never into the installed libvnb.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/error.h"
#include "vnb/core.h"
#include "vnb/fake.h"
#include "vnb/prov.h"

enum { F_FREE = 0, F_TX_QUEUED, F_RX_USER, F_RX_POSTED, F_RX_READY };

struct fake_wire {
	struct fake_wire *next;
	char ifname[VNB_IFNAMSIZ];
	struct fake *eps;
};

struct fake_ring {
	uint32_t *v;
	uint32_t cap, head, n;
};

struct fake {
	struct fake *next;
	struct fake_wire *wire;
	struct vnb_ep *ep;
	uint32_t fsize, ntx, nframes;
	uint8_t *mem;
	uint8_t *state; /* per frame: F_* */
	uint32_t *len; /* per frame: bytes received */
	uint64_t *ctx; /* per send frame: context */
	struct fake_ring tx_free, tx_done, rx_posted, rx_ready;
	struct fake_ring tx_pending; /* posted inside a batch, not yet sent */
	struct vnb_addr *pend_dst; /* per send frame: where it goes */
	uint64_t flushes; /* tx_flush calls */
	uint8_t *held; /* a frame held back (reordering) */
	uint32_t held_len;
	bool has_held;
	uint32_t dup_ppm, reorder_ppm;
	uint64_t chaos;
	int efd;
	bool kicked; /* efd may be readable */
};

static pthread_mutex_t wires_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fake_wire *wires;
static uint32_t mac_counter;

static int ring_init(struct fake_ring *r, uint32_t cap)
{
	r->v = calloc(cap, sizeof(*r->v));
	r->cap = cap;
	r->head = r->n = 0;
	return r->v ? 0 : -1;
}

static void ring_push(struct fake_ring *r, uint32_t x)
{
	r->v[(r->head + r->n) % r->cap] = x;
	r->n++;
}

static uint32_t ring_pop(struct fake_ring *r)
{
	uint32_t x = r->v[r->head];

	r->head = (r->head + 1) % r->cap;
	r->n--;
	return x;
}

static void kick(struct fake *f)
{
	uint64_t one = 1;

	f->kicked = true;
	if (write(f->efd, &one, sizeof(one)) < 0) {
		/* the counter cannot overflow in a test; nothing to do */
	}
}

static int deliver_one(struct fake *f, const uint8_t *frame, size_t len)
{
	uint32_t id;

	if (len > f->fsize) {
		errno = EMSGSIZE;
		return -1;
	}
	if (f->rx_posted.n == 0) {
		f->ep->cnt.rx_no_buffer++;
		errno = EAGAIN;
		return -1;
	}
	id = ring_pop(&f->rx_posted);
	memcpy(f->mem + (size_t)id * f->fsize, frame, len);
	f->len[id] = (uint32_t)len;
	f->state[id] = F_RX_READY;
	ring_push(&f->rx_ready, id);
	if (f->rx_ready.n == 1)
		kick(f); /* the fd is readable while anything waits */
	return 0;
}

static bool chance(struct fake *f, uint32_t ppm)
{
	return ppm && vnb_prng_next(&f->chaos) % 1000000 < ppm;
}

static void flush_held(struct fake *f)
{
	if (f->has_held) {
		f->has_held = false;
		deliver_one(f, f->held, f->held_len);
	}
}

static void deliver(struct fake *f, const uint8_t *frame, size_t len)
{
	if (len <= f->fsize && !f->has_held && chance(f, f->reorder_ppm)) {
		memcpy(f->held, frame, len);
		f->held_len = (uint32_t)len;
		f->has_held = true;
		return;
	}
	deliver_one(f, frame, len);
	if (chance(f, f->dup_ppm))
		deliver_one(f, frame, len);
	flush_held(f);
}

static void fake_free(struct fake *f)
{
	if (!f)
		return;
	if (f->efd >= 0)
		close(f->efd);
	free(f->mem);
	free(f->state);
	free(f->len);
	free(f->ctx);
	free(f->tx_free.v);
	free(f->tx_done.v);
	free(f->rx_posted.v);
	free(f->rx_ready.v);
	free(f->tx_pending.v);
	free(f->pend_dst);
	free(f->held);
	free(f);
}

static int fake_open(struct vnb_ep *ep, vnb_error_t *err)
{
	static const uint8_t zero[6];
	struct fake_wire *w;
	struct fake *f, *o;
	uint32_t i;

	f = calloc(1, sizeof(*f));
	if (!f)
		goto nomem;
	f->efd = -1;
	f->ep = ep;
	f->fsize = ep->attr.frame_size;
	f->nframes = ep->attr.nframes;
	f->ntx = f->nframes / 2;
	f->mem = calloc(f->nframes, f->fsize);
	f->state = calloc(f->nframes, 1);
	f->len = calloc(f->nframes, sizeof(*f->len));
	f->ctx = calloc(f->ntx, sizeof(*f->ctx));
	f->held = malloc(f->fsize);
	f->pend_dst = calloc(f->ntx, sizeof(*f->pend_dst));
	if (!f->mem || !f->state || !f->len || !f->ctx || !f->held ||
	    !f->pend_dst || ring_init(&f->tx_free, f->ntx) < 0 ||
	    ring_init(&f->tx_pending, f->ntx) < 0 ||
	    ring_init(&f->tx_done, f->ntx) < 0 ||
	    ring_init(&f->rx_posted, f->nframes - f->ntx) < 0 ||
	    ring_init(&f->rx_ready, f->nframes - f->ntx) < 0)
		goto nomem;
	f->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (f->efd < 0) {
		fake_free(f);
		return vnb_errprintf(err, "fake: eventfd: %s", strerror(errno));
	}
	for (i = 0; i < f->ntx; i++)
		ring_push(&f->tx_free, i);
	for (i = f->ntx; i < f->nframes; i++) {
		f->state[i] = F_RX_POSTED;
		ring_push(&f->rx_posted, i);
	}
	f->chaos = vnb_prng_seed(0);

	pthread_mutex_lock(&wires_lock);
	if (memcmp(ep->attr.mac, zero, 6) != 0) {
		memcpy(ep->self.mac, ep->attr.mac, 6);
	} else {
		uint32_t n = ++mac_counter;
		uint8_t m[6] = {0x02,
				0xfa,
				0xce,
				(uint8_t)(n >> 16),
				(uint8_t)(n >> 8),
				(uint8_t)n};

		memcpy(ep->self.mac, m, 6);
	}
	for (w = wires; w; w = w->next)
		if (strcmp(w->ifname, ep->ifname) == 0)
			break;
	if (w) {
		for (o = w->eps; o; o = o->next) {
			if (memcmp(o->ep->self.mac, ep->self.mac, 6) == 0 &&
			    o->ep->attr.queue == ep->attr.queue) {
				pthread_mutex_unlock(&wires_lock);
				fake_free(f);
				errno = EBUSY;
				return vnb_errprintf(err,
						     "queue %u of %s is "
						     "already open: close "
						     "that endpoint or use "
						     "another queue",
						     ep->attr.queue,
						     ep->ifname);
			}
		}
	} else {
		w = calloc(1, sizeof(*w));
		if (!w) {
			pthread_mutex_unlock(&wires_lock);
			goto nomem;
		}
		memcpy(w->ifname, ep->ifname, VNB_IFNAMSIZ);
		w->next = wires;
		wires = w;
	}
	f->wire = w;
	f->next = w->eps;
	w->eps = f;
	pthread_mutex_unlock(&wires_lock);
	ep->prov = f;
	snprintf(ep->mode, sizeof(ep->mode), "fake");
	return 0;
nomem:
	fake_free(f);
	errno = ENOMEM;
	return vnb_errprintf(err, "%s", "fake: out of memory");
}

static void fake_close(struct vnb_ep *ep)
{
	struct fake *f = ep->prov;
	struct fake_wire **wp, *w;
	struct fake **fp;

	if (!f)
		return;
	pthread_mutex_lock(&wires_lock);
	w = f->wire;
	for (fp = &w->eps; *fp; fp = &(*fp)->next)
		if (*fp == f) {
			*fp = f->next;
			break;
		}
	if (!w->eps) {
		for (wp = &wires; *wp; wp = &(*wp)->next)
			if (*wp == w) {
				*wp = w->next;
				break;
			}
		free(w);
	}
	pthread_mutex_unlock(&wires_lock);
	fake_free(f);
	ep->prov = NULL;
}

static uint8_t *fake_tx_frame(struct vnb_ep *ep, uint32_t *id)
{
	struct fake *f = ep->prov;

	/* Peek: the frame is taken by the tx_post that names it. */
	if (f->tx_free.n == 0)
		return NULL;
	*id = f->tx_free.v[f->tx_free.head];
	return f->mem + (size_t)*id * f->fsize;
}

/* Put send frame id (len bytes) on the wire to dst (NULL: everyone). */
static void wire_send(struct fake *f, uint32_t id, uint32_t len,
		      const struct vnb_addr *dst)
{
	const uint8_t *frame = f->mem + (size_t)id * f->fsize;
	struct fake *o;

	pthread_mutex_lock(&wires_lock);
	for (o = f->wire->eps; o; o = o->next) {
		if (o == f)
			continue;
		/* switched by dst, so that a non-l2 stub over the fake
		 * (test/open.c) is delivered too */
		if (dst && !(dst->mac[0] & 1) &&
		    memcmp(dst->mac, o->ep->self.mac, 6) != 0)
			continue;
		deliver(o, frame, len);
	}
	pthread_mutex_unlock(&wires_lock);
	ring_push(&f->tx_done, id);
	if (f->tx_done.n == 1)
		kick(f);
}

/* Inside a batch (ep->tx_more) frames wait in tx_pending for tx_flush,
 * as a real provider's wait in its TX ring for the kick. */
static int fake_tx_post(struct vnb_ep *ep, uint32_t id, uint32_t len,
			const struct vnb_addr *dst, uint64_t ctx)
{
	struct fake *f = ep->prov;

	if (id >= f->ntx || f->tx_free.n == 0 ||
	    f->tx_free.v[f->tx_free.head] != id || len > f->fsize) {
		errno = EINVAL;
		return -1;
	}
	ring_pop(&f->tx_free);
	f->state[id] = F_TX_QUEUED;
	f->ctx[id] = ctx;
	if (ep->tx_more) {
		f->len[id] = len;
		if (dst)
			f->pend_dst[id] = *dst;
		else
			memset(f->pend_dst[id].mac, 0xff, 6);
		ring_push(&f->tx_pending, id);
		return 0;
	}
	wire_send(f, id, len, dst);
	return 0;
}

static int fake_tx_flush(struct vnb_ep *ep)
{
	struct fake *f = ep->prov;

	f->flushes++;
	while (f->tx_pending.n) {
		uint32_t id = ring_pop(&f->tx_pending);

		wire_send(f, id, f->len[id], &f->pend_dst[id]);
	}
	return 0;
}

static int fake_tx_reap(struct vnb_ep *ep, uint64_t *ctx, int max)
{
	struct fake *f = ep->prov;
	int n = 0;

	while (n < max && f->tx_done.n) {
		uint32_t id = ring_pop(&f->tx_done);

		ctx[n++] = f->ctx[id];
		f->state[id] = F_FREE;
		ring_push(&f->tx_free, id);
	}
	return n;
}

static int fake_rx_next(struct vnb_ep *ep, uint8_t **data, uint32_t *len,
			uint32_t *id)
{
	struct fake *f = ep->prov;
	uint64_t v;

	if (f->rx_ready.n == 0)
		flush_held(f);
	if (f->rx_ready.n == 0) {
		if (f->kicked && read(f->efd, &v, sizeof(v)) < 0) {
			/* EAGAIN: nothing was pending */
		}
		f->kicked = false;
		if (f->tx_done.n)
			kick(f);
		return 0;
	}
	*id = ring_pop(&f->rx_ready);
	f->state[*id] = F_RX_USER;
	*data = f->mem + (size_t)*id * f->fsize;
	*len = f->len[*id];
	return 1;
}

static int fake_rx_post(struct vnb_ep *ep, uint32_t id)
{
	struct fake *f = ep->prov;

	if (id < f->ntx || id >= f->nframes || f->state[id] != F_RX_USER) {
		errno = EINVAL;
		return -1;
	}
	f->state[id] = F_RX_POSTED;
	ring_push(&f->rx_posted, id);
	return 0;
}

static int fake_fd(const struct vnb_ep *ep)
{
	const struct fake *f = ep->prov;

	return f->efd;
}

const struct vnb_prov_ops vnb_prov_fake = {
    .size = sizeof(struct vnb_prov_ops),
    .id = VNB_PROV_AUTO,
    .l2 = true,
    .open = fake_open,
    .close = fake_close,
    .tx_frame = fake_tx_frame,
    .tx_post = fake_tx_post,
    .tx_reap = fake_tx_reap,
    .rx_next = fake_rx_next,
    .rx_post = fake_rx_post,
    .fd = fake_fd,
    .tx_flush = fake_tx_flush,
};

int vnb_fake_inject(struct vnb_ep *ep, const void *frame, size_t len)
{
	struct fake *f;

	if (!ep || ep->ops != &vnb_prov_fake || (len && !frame)) {
		errno = EINVAL;
		return -1;
	}
	f = ep->prov;
	return deliver_one(f, frame, len);
}

uint64_t vnb_fake_flushes(const struct vnb_ep *ep)
{
	const struct fake *f = ep->prov;

	return f->flushes;
}

void vnb_fake_set_chaos(struct vnb_ep *ep, uint32_t dup_ppm,
			uint32_t reorder_ppm, uint64_t seed)
{
	struct fake *f = ep->prov;

	f->dup_ppm = dup_ppm;
	f->reorder_ppm = reorder_ppm;
	f->chaos = vnb_prng_seed(seed);
}
