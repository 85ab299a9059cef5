/*
 * prov_udp.c - the udp provider: the kernel's UDP sockets, the conventional
 * path that the others are measured against, and the last resort.
 *
 * One nonblocking UDP socket bound to the interface's first IPv4 address
 * and port attr.udp_port (0: 4791 + queue).  Registered frames are one
 * buffer pool allocated at open: ids 0..nrx-1 receive, nrx..nframes-1
 * send (nrx = nframes - nframes / 2).  A frame is the vnb header and the
 * payload, one datagram.
 *
 * How this file reads the contract of prov.h (report changes to the
 * core):
 * - tx_frame peeks at the next free send frame; tx_post of that id
 *   sendto()s it at once and its completion is ready for tx_reap; the
 *   frame is free again when tx_reap has returned its context.  When the
 *   socket's send buffer is full tx_post fails with EAGAIN, other send
 *   errors with their errno; either way nothing is queued and the frame
 *   stays free.  tx_post of any other id fails with EINVAL.
 * - rx_next receives with one recvmmsg(MSG_DONTWAIT) into up to 32 posted
 *   buffers, in the order they were posted, and hands the datagrams out
 *   one by one.  With no buffer posted, datagrams wait in the socket.  A
 *   datagram longer than a frame is cut to the frame (the core sees a
 *   short frame).
 * - The interface has no IPv4 address: EPROTONOSUPPORT (this provider is
 *   not available on it).  The port is taken: EBUSY.  SO_BINDTODEVICE is
 *   set when the process may (CAP_NET_RAW) and skipped otherwise.
 * - attr.vlan is recorded in the address only: a vNIC in a tenant VLAN is
 *   an IP interface on that VLAN, and the kernel does the tagging.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/error.h"
#include "vnb/l2_if.h"
#include "vnb/prov.h"

#define UDP_PORT_BASE 4791
#define RX_BATCH 32
#define UDP_MAX_DGRAM 65507 /* over IPv4 */

enum rx_state {
	RX_HELD, /* handed out by rx_next: the core's */
	RX_POSTED, /* waiting for a datagram */
	RX_READY, /* received, not yet handed out */
};

struct udp {
	int fd;
	uint8_t *pool;
	size_t pool_len;
	uint32_t fs; /* frame size */
	uint32_t nrx, ntx;
	/* receive: posted frames in order (a ring of nrx ids) */
	uint32_t *posted;
	uint32_t posted_head, posted_n;
	uint8_t *state; /* per RX id: enum rx_state */
	/* received and not yet handed out */
	uint32_t ready_id[RX_BATCH], ready_len[RX_BATCH];
	uint32_t ready_i, ready_n;
	struct mmsghdr mm[RX_BATCH];
	struct iovec iov[RX_BATCH];
	/* send: free frames in order, then sent ones waiting for tx_reap
	 * (both rings of ntx) */
	uint32_t *free_id;
	uint32_t free_head, free_n;
	uint32_t *done_id;
	uint64_t *done_ctx;
	uint32_t done_head, done_n;
};

static uint8_t *frame(const struct udp *u, uint32_t id)
{
	return u->pool + (size_t)id * u->fs;
}

static void udp_free(struct udp *u)
{
	int saved = errno;

	if (!u)
		return;
	if (u->fd >= 0)
		close(u->fd);
	if (u->pool)
		munmap(u->pool, u->pool_len);
	free(u->posted);
	free(u->state);
	free(u->free_id);
	free(u->done_id);
	free(u->done_ctx);
	free(u);
	errno = saved;
}

/* Make the receive buffer hold the receive frames, as far as allowed. */
static void size_rcvbuf(int fd, size_t bytes)
{
	int v = bytes > (1u << 30) ? 1 << 30 : (int)bytes;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
}

static int udp_open(struct vnb_ep *ep, vnb_error_t *err)
{
	const struct vnb_ep_attr *a = &ep->attr;
	struct sockaddr_in sin;
	struct udp *u = NULL;
	char ips[INET_ADDRSTRLEN];
	uint32_t ip4, i, port;

	if (a->nframes < 2 || a->frame_size < 64 || a->frame_size > 65536) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "%u frames of %u bytes: "
				     "need at least 2 frames of 64 to 65536 "
				     "bytes",
				     a->nframes, a->frame_size);
	}
	port = a->udp_port ? a->udp_port : UDP_PORT_BASE + (uint32_t)a->queue;
	if (port > 65535) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "queue %u gives port %u, "
				     "beyond 65535: set udp_port",
				     a->queue, port);
	}
	if (vnb_l2_if_find(ep, err) < 0)
		return -1;
	if (vnb_l2_if_ip4(ep->ifname, &ip4) < 0) {
		errno = EPROTONOSUPPORT;
		return vnb_errprintf(err,
				     "interface '%s' has no IPv4 "
				     "address: give it one (ip addr add) or "
				     "choose another provider",
				     ep->ifname);
	}
	inet_ntop(AF_INET, &ip4, ips, sizeof(ips));

	u = calloc(1, sizeof(*u));
	if (!u)
		goto nomem;
	u->fd = -1;
	u->fs = a->frame_size;
	u->nrx = a->nframes - a->nframes / 2;
	u->ntx = a->nframes / 2;
	u->pool_len = (size_t)a->nframes * a->frame_size;
	u->pool = mmap(NULL, u->pool_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (u->pool == MAP_FAILED) {
		u->pool = NULL;
		goto nomem;
	}
	u->posted = calloc(u->nrx, sizeof(*u->posted));
	u->state = calloc(u->nrx, 1);
	u->free_id = calloc(u->ntx, sizeof(*u->free_id));
	u->done_id = calloc(u->ntx, sizeof(*u->done_id));
	u->done_ctx = calloc(u->ntx, sizeof(*u->done_ctx));
	if (!u->posted || !u->state || !u->free_id || !u->done_id ||
	    !u->done_ctx)
		goto nomem;
	for (i = 0; i < u->nrx; i++) {
		u->posted[i] = i;
		u->state[i] = RX_POSTED;
	}
	u->posted_n = u->nrx;
	for (i = 0; i < u->ntx; i++)
		u->free_id[i] = u->nrx + i;
	u->free_n = u->ntx;

	u->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u->fd < 0)
		goto syserr;
	/* Needs CAP_NET_RAW; the address alone picks the interface
	 * otherwise. */
	(void)setsockopt(u->fd, SOL_SOCKET, SO_BINDTODEVICE, ep->ifname,
			 (socklen_t)strlen(ep->ifname));
	size_rcvbuf(u->fd, (size_t)u->nrx * u->fs);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = ip4;
	sin.sin_port = htons((uint16_t)port);
	if (bind(u->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		if (errno == EADDRINUSE) {
			udp_free(u);
			errno = EBUSY;
			return vnb_errprintf(err,
					     "%s port %u on '%s' "
					     "is taken (another endpoint on "
					     "queue %u?): choose another queue "
					     "or udp_port",
					     ips, port, ep->ifname, a->queue);
		}
		goto syserr;
	}
	for (i = 0; i < RX_BATCH; i++) {
		u->mm[i].msg_hdr.msg_iov = &u->iov[i];
		u->mm[i].msg_hdr.msg_iovlen = 1;
	}

	ep->prov = u;
	ep->self.ip4 = ip4;
	ep->self.port = (uint16_t)port;
	if (ep->max_payload > UDP_MAX_DGRAM - VNB_HDR_LEN)
		ep->max_payload = UDP_MAX_DGRAM - VNB_HDR_LEN;
	snprintf(ep->mode, sizeof(ep->mode), "udp");
	return 0;

nomem:
	udp_free(u);
	errno = ENOMEM;
	return vnb_errprintf(err,
			     "cannot allocate %u frames of %u "
			     "bytes: lower nframes or frame_size",
			     a->nframes, a->frame_size);
syserr:
	udp_free(u);
	return vnb_errprintf(err, "socket on %s port %u: %s", ips, port,
			     strerror(errno));
}

static void udp_close(struct vnb_ep *ep)
{
	udp_free(ep->prov);
	ep->prov = NULL;
}

static uint8_t *udp_tx_frame(struct vnb_ep *ep, uint32_t *id)
{
	struct udp *u = ep->prov;

	if (!u->free_n)
		return NULL;
	*id = u->free_id[u->free_head];
	return frame(u, *id);
}

static int udp_tx_post(struct vnb_ep *ep, uint32_t id, uint32_t len,
		       const struct vnb_addr *dst, uint64_t ctx)
{
	struct udp *u = ep->prov;
	struct sockaddr_in sin;
	uint32_t slot;

	if (!u->free_n || id != u->free_id[u->free_head] || !dst) {
		errno = EINVAL;
		return -1;
	}
	if (len > u->fs || len > UDP_MAX_DGRAM) {
		errno = EMSGSIZE;
		return -1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = dst->ip4;
	sin.sin_port = htons(dst->port);
	if (sendto(u->fd, frame(u, id), len, 0, (struct sockaddr *)&sin,
		   sizeof(sin)) < 0) {
		if (errno == EWOULDBLOCK || errno == ENOBUFS)
			errno = EAGAIN;
		return -1;
	}
	if (++u->free_head == u->ntx)
		u->free_head = 0;
	u->free_n--;
	slot = (u->done_head + u->done_n) % u->ntx;
	u->done_id[slot] = id;
	u->done_ctx[slot] = ctx;
	u->done_n++;
	return 0;
}

static int udp_tx_reap(struct vnb_ep *ep, uint64_t *ctx, int max)
{
	struct udp *u = ep->prov;
	int n = 0;

	while (n < max && u->done_n) {
		ctx[n++] = u->done_ctx[u->done_head];
		u->free_id[(u->free_head + u->free_n) % u->ntx] =
		    u->done_id[u->done_head];
		u->free_n++;
		if (++u->done_head == u->ntx)
			u->done_head = 0;
		u->done_n--;
	}
	return n;
}

static int udp_rx_next(struct vnb_ep *ep, uint8_t **data, uint32_t *len,
		       uint32_t *id)
{
	struct udp *u = ep->prov;
	uint32_t i, n;
	int got;

	if (u->ready_i == u->ready_n) {
		if (!u->posted_n)
			return 0;
		n = u->posted_n < RX_BATCH ? u->posted_n : RX_BATCH;
		for (i = 0; i < n; i++) {
			uint32_t fid = u->posted[(u->posted_head + i) % u->nrx];

			u->iov[i].iov_base = frame(u, fid);
			u->iov[i].iov_len = u->fs;
		}
		got = recvmmsg(u->fd, u->mm, n, MSG_DONTWAIT, NULL);
		if (got <= 0)
			return 0;
		for (i = 0; i < (uint32_t)got; i++) {
			uint32_t fid = u->posted[u->posted_head];

			u->ready_id[i] = fid;
			u->ready_len[i] = u->mm[i].msg_len;
			u->state[fid] = RX_READY;
			if (++u->posted_head == u->nrx)
				u->posted_head = 0;
		}
		u->posted_n -= (uint32_t)got;
		u->ready_i = 0;
		u->ready_n = (uint32_t)got;
	}
	*id = u->ready_id[u->ready_i];
	*len = u->ready_len[u->ready_i];
	*data = frame(u, *id);
	u->state[*id] = RX_HELD;
	u->ready_i++;
	return 1;
}

static int udp_rx_post(struct vnb_ep *ep, uint32_t id)
{
	struct udp *u = ep->prov;

	if (id >= u->nrx || u->state[id] != RX_HELD) {
		errno = EINVAL;
		return -1;
	}
	u->posted[(u->posted_head + u->posted_n) % u->nrx] = id;
	u->posted_n++;
	u->state[id] = RX_POSTED;
	return 0;
}

static int udp_fd(const struct vnb_ep *ep)
{
	const struct udp *u = ep->prov;

	return u->fd;
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
