/*
 * raw_xdp.c - the floor of bench/pingpong: an AF_XDP socket driven by
 * hand through libxdp's ring helpers, with no libvnb in between.  One
 * UMEM, half of its frames on the fill ring, half a free list for
 * sending; copy mode (veth has no zero copy); skb (generic) XDP, as the
 * reference measurement.  Frames: Ethernet, EtherType 0x88B6, payload.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "pingpong.h"

#define XSK_FRAMES 4096
#define XSK_FRAME 2048
#define XSK_RING 2048
#define XSK_ETHERTYPE 0x88B6
#define ETH_HLEN_ 14

struct xsk_tp {
	struct pp_tp tp;
	void *area;
	struct xsk_umem *umem;
	struct xsk_socket *sk;
	struct xsk_ring_prod fq, tx;
	struct xsk_ring_cons cq, rx;
	int fd;
	uint8_t mac[6], peer[6];
	uint64_t free_tx[XSK_FRAMES / 2];
	uint32_t nfree;
};

static void reap_tx(struct xsk_tp *x)
{
	uint32_t idx, n = xsk_ring_cons__peek(&x->cq, XSK_RING, &idx);

	for (uint32_t i = 0; i < n; i++)
		x->free_tx[x->nfree++] =
		    *xsk_ring_cons__comp_addr(&x->cq, idx + i);
	if (n)
		xsk_ring_cons__release(&x->cq, n);
}

static int xsk_send(struct pp_tp *t, const void *buf, size_t len)
{
	struct xsk_tp *x = (struct xsk_tp *)t;
	struct xdp_desc *d;
	uint8_t *p;
	uint32_t idx;
	uint64_t a;

	if (len > t->max_msg) {
		errno = EMSGSIZE;
		return -1;
	}
	for (int spins = 0;
	     !x->nfree || xsk_ring_prod__reserve(&x->tx, 1, &idx) != 1;
	     spins++) {
		/* copy mode sends only inside sendto(): kick, reap */
		if (sendto(x->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
		    errno != EAGAIN && errno != EBUSY && errno != ENOBUFS)
			return -1;
		reap_tx(x);
		if (spins > 1000000) {
			errno = EAGAIN;
			return -1;
		}
	}
	a = x->free_tx[--x->nfree];
	p = xsk_umem__get_data(x->area, a);
	memcpy(p, x->peer, 6);
	memcpy(p + 6, x->mac, 6);
	p[12] = XSK_ETHERTYPE >> 8;
	p[13] = XSK_ETHERTYPE & 0xff;
	memcpy(p + ETH_HLEN_, buf, len);
	d = xsk_ring_prod__tx_desc(&x->tx, idx);
	d->addr = a;
	d->len = (uint32_t)(ETH_HLEN_ + len < 60 ? 60 : ETH_HLEN_ + len);
	d->options = 0;
	xsk_ring_prod__submit(&x->tx, 1);
	if (sendto(x->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
	    errno != EAGAIN && errno != EBUSY && errno != ENOBUFS)
		return -1;
	reap_tx(x);
	return 0;
}

/* A window at once: n descriptors, one submit, then kicks until the
 * kernel has taken them all (copy mode sends at most 32 per sendto). */
static int xsk_send_many(struct pp_tp *t, const void *const *bufs, size_t len,
			 int n)
{
	struct xsk_tp *x = (struct xsk_tp *)t;
	uint32_t idx, want = (uint32_t)n;

	if (len > t->max_msg || n <= 0 || want > XSK_RING) {
		errno = n <= 0 ? EINVAL : EMSGSIZE;
		return n == 0 ? 0 : -1;
	}
	reap_tx(x);
	for (int spins = 0; x->nfree < want ||
			    xsk_ring_prod__reserve(&x->tx, want, &idx) != want;
	     spins++) {
		if (sendto(x->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
		    errno != EAGAIN && errno != EBUSY && errno != ENOBUFS)
			return -1;
		reap_tx(x);
		if (spins > 1000000) {
			errno = EAGAIN;
			return -1;
		}
	}
	for (uint32_t i = 0; i < want; i++) {
		struct xdp_desc *d = xsk_ring_prod__tx_desc(&x->tx, idx + i);
		uint64_t a = x->free_tx[--x->nfree];
		uint8_t *p = xsk_umem__get_data(x->area, a);

		memcpy(p, x->peer, 6);
		memcpy(p + 6, x->mac, 6);
		p[12] = XSK_ETHERTYPE >> 8;
		p[13] = XSK_ETHERTYPE & 0xff;
		memcpy(p + ETH_HLEN_, bufs[i], len);
		d->addr = a;
		d->len =
		    (uint32_t)(ETH_HLEN_ + len < 60 ? 60 : ETH_HLEN_ + len);
		d->options = 0;
	}
	xsk_ring_prod__submit(&x->tx, want);
	for (int k = 0; k < 1000; k++) {
		if (sendto(x->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
		    errno != EAGAIN && errno != EBUSY && errno != ENOBUFS)
			return -1;
		if (xsk_prod_nb_free(&x->tx, XSK_RING) >= XSK_RING)
			break;
	}
	reap_tx(x);
	return 0;
}

static int xsk_recv(struct pp_tp *t, void *buf, size_t cap)
{
	struct xsk_tp *x = (struct xsk_tp *)t;
	const struct xdp_desc *d;
	uint32_t idx, fidx, n;
	const uint8_t *p;
	int len = 0;

	n = xsk_ring_cons__peek(&x->rx, 1, &idx);
	if (!n) {
		if (xsk_ring_prod__needs_wakeup(&x->fq))
			recvfrom(x->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		/* a kick that met a busy socket (EBUSY) left frames on the
		 * TX ring: kick again while any is not completed */
		if (x->nfree < XSK_FRAMES / 2) {
			sendto(x->fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
			reap_tx(x);
		}
		return 0;
	}
	d = xsk_ring_cons__rx_desc(&x->rx, idx);
	p = xsk_umem__get_data(x->area, d->addr);
	if (d->len > ETH_HLEN_ && p[12] == (XSK_ETHERTYPE >> 8) &&
	    p[13] == (XSK_ETHERTYPE & 0xff)) {
		len = (int)(d->len - ETH_HLEN_);
		if ((size_t)len > cap)
			len = (int)cap;
		memcpy(buf, p + ETH_HLEN_, (size_t)len);
	}
	/* the frame goes straight back to the fill ring */
	while (xsk_ring_prod__reserve(&x->fq, 1, &fidx) != 1)
		;
	*xsk_ring_prod__fill_addr(&x->fq, fidx) =
	    xsk_umem__extract_addr(d->addr);
	xsk_ring_prod__submit(&x->fq, 1);
	xsk_ring_cons__release(&x->rx, 1);
	return len;
}

static void xsk_close(struct pp_tp *t)
{
	struct xsk_tp *x = (struct xsk_tp *)t;

	if (!x)
		return;
	if (x->sk)
		xsk_socket__delete(x->sk);
	if (x->umem)
		xsk_umem__delete(x->umem);
	if (x->area)
		munmap(x->area, (size_t)XSK_FRAMES * XSK_FRAME);
	free(x);
}

static int if_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), rc;

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	rc = ioctl(fd, SIOCGIFHWADDR, &ifr);
	if (rc == 0)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return rc;
}

/* libbpf and libxdp explain their fallbacks on stderr: not in a table */
static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static int quiet_xdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

struct pp_tp *pp_xsk_open(const char *ifname, char *why, size_t whylen)
{
	struct xsk_umem_config ucfg = {
	    .fill_size = XSK_RING,
	    .comp_size = XSK_RING,
	    .frame_size = XSK_FRAME,
	    .frame_headroom = 0,
	};
	struct xsk_socket_config cfg = {
	    .rx_size = XSK_RING,
	    .tx_size = XSK_RING,
	    .xdp_flags = XDP_FLAGS_SKB_MODE,
	    .bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP,
	};
	struct timespec pause = {0, 20 * 1000 * 1000};
	struct xsk_tp *x = calloc(1, sizeof(*x));
	uint32_t idx;
	int rc;

	libbpf_set_print(quiet);
	libxdp_set_print(quiet_xdp);
	if (!x) {
		snprintf(why, whylen, "no memory");
		return NULL;
	}
	x->tp.send = xsk_send;
	x->tp.send_many = xsk_send_many;
	x->tp.recv = xsk_recv;
	x->tp.close = xsk_close;
	x->tp.max_msg = 1500; /* the veth MTU bounds the frame */
	snprintf(x->tp.mode, sizeof(x->tp.mode), "skb, copy");
	if (if_mac(ifname, x->mac) < 0) {
		snprintf(why, whylen, "%s: %s", ifname, strerror(errno));
		goto fail;
	}
	x->area =
	    mmap(NULL, (size_t)XSK_FRAMES * XSK_FRAME, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->area == MAP_FAILED) {
		x->area = NULL;
		snprintf(why, whylen, "mmap: %s", strerror(errno));
		goto fail;
	}
	rc = xsk_umem__create(&x->umem, x->area,
			      (uint64_t)XSK_FRAMES * XSK_FRAME, &x->fq, &x->cq,
			      &ucfg);
	if (rc) {
		x->umem = NULL;
		snprintf(why, whylen, "xsk_umem__create: %s", strerror(-rc));
		goto fail;
	}
	/* a socket just closed on this queue is released from a workqueue:
	 * a new bind can see EBUSY for a moment */
	for (int i = 0; i < 100; i++) {
		rc = xsk_socket__create(&x->sk, ifname, 0, x->umem, &x->rx,
					&x->tx, &cfg);
		if (rc != -EBUSY)
			break;
		nanosleep(&pause, NULL);
	}
	if (rc) {
		x->sk = NULL;
		snprintf(why, whylen, "xsk_socket__create on %s: %s", ifname,
			 strerror(-rc));
		goto fail;
	}
	x->fd = xsk_socket__fd(x->sk);
	if (xsk_ring_prod__reserve(&x->fq, XSK_FRAMES / 2, &idx) !=
	    XSK_FRAMES / 2) {
		snprintf(why, whylen, "fill ring too small");
		goto fail;
	}
	for (uint32_t i = 0; i < XSK_FRAMES / 2; i++)
		*xsk_ring_prod__fill_addr(&x->fq, idx + i) =
		    (uint64_t)i * XSK_FRAME;
	xsk_ring_prod__submit(&x->fq, XSK_FRAMES / 2);
	for (uint32_t i = XSK_FRAMES / 2; i < XSK_FRAMES; i++)
		x->free_tx[x->nfree++] = (uint64_t)i * XSK_FRAME;
	snprintf(x->tp.addr, sizeof(x->tp.addr),
		 "%02x:%02x:%02x:%02x:%02x:%02x", x->mac[0], x->mac[1],
		 x->mac[2], x->mac[3], x->mac[4], x->mac[5]);
	return &x->tp;
fail:
	xsk_close(&x->tp);
	return NULL;
}

int pp_xsk_peer(struct pp_tp *t, const char *addr)
{
	struct xsk_tp *x = (struct xsk_tp *)t;
	unsigned v[6];

	if (sscanf(addr, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4],
		   &v[5]) != 6) {
		errno = EINVAL;
		return -1;
	}
	for (int i = 0; i < 6; i++)
		x->peer[i] = (uint8_t)v[i];
	return 0;
}
