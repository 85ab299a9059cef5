/*
 * prov.h - inside libvnb: the endpoint and the provider ops table.
 *
 * The core (ep.c) owns headers, steering, counters, the completion queue
 * and receive contexts; a provider (one file each: prov_xdp.c,
 * prov_packet.c, prov_udp.c, prov_shm.c, and prov_fake.c for unit tests)
 * owns its rings and registered frames.  A provider lacking an operation
 * returns -1 with ENOSYS.
 */
#ifndef VNB_PROV_H
#define VNB_PROV_H

#include <stdbool.h>
#include <stdint.h>

#include "common/netif.h"
#include "vnb/vnb.h"

struct vnb_prov_ops {
	size_t size; /* sizeof(struct vnb_prov_ops) */
	enum vnb_prov id;
	/* Frames carry Ethernet (+802.1Q) before the vnb header (xdp,
	 * packet); otherwise only the vnb header (udp, shm). */
	bool l2;
	/* Open the queue set for ep->attr: allocate the registered frames
	 * (attr.nframes of attr.frame_size, both already defaulted), post
	 * half of them for receive, fill ep->self (mac, ip4, port, shm),
	 * ep->ifname and ep->mode.  On failure undo everything. */
	int (*open)(struct vnb_ep *ep, vnb_error_t *err);
	void (*close)(struct vnb_ep *ep);
	/* Peek at the next free send frame to build into (frame_size
	 * bytes), or NULL when the send queue is full; *id names it.  It
	 * stays free, and calling again returns the same frame, until the
	 * tx_post that names it takes it; a tx_post that fails leaves it
	 * free. */
	uint8_t *(*tx_frame)(struct vnb_ep *ep, uint32_t *id);
	/* Queue frame id, len bytes from its start, to dst (udp and shm use
	 * dst; l2 providers send the frame as built).  ctx comes back from
	 * tx_reap when the frame is sent and the frame is free again.  While
	 * ep->tx_more is set, a provider with tx_flush may leave its kick
	 * (the system call that makes the kernel send) to tx_flush. */
	int (*tx_post)(struct vnb_ep *ep, uint32_t id, uint32_t len,
		       const struct vnb_addr *dst, uint64_t ctx);
	/* Up to max send completions: their contexts into ctx; a count. */
	int (*tx_reap)(struct vnb_ep *ep, uint64_t *ctx, int max);
	/* The next received frame, if any: 1 with *data, *len (whole frame
	 * as the wire had it) and *id; 0 when none. */
	int (*rx_next)(struct vnb_ep *ep, uint8_t **data, uint32_t *len,
		       uint32_t *id);
	/* Give receive frame id back to the receive queue. */
	int (*rx_post)(struct vnb_ep *ep, uint32_t id);
	/* A pollable fd (readable when frames may have arrived). */
	int (*fd)(const struct vnb_ep *ep);
	/* Optional (NULL: the provider kicks in every tx_post and the core
	 * leaves ep->tx_more unset): make the kernel send what tx_post
	 * queued without a kick while ep->tx_more was set.  0, or -1 with errno; frames a failed
	 * flush leaves queued go out with the next kick (tx_reap kicks). */
	int (*tx_flush)(struct vnb_ep *ep);
};

extern const struct vnb_prov_ops vnb_prov_xdp;
extern const struct vnb_prov_ops vnb_prov_packet;
extern const struct vnb_prov_ops vnb_prov_udp;
extern const struct vnb_prov_ops vnb_prov_shm;
extern const struct vnb_prov_ops vnb_prov_fake;

#define VNB_IFNAMSIZ VNB_NETIF_NAMSIZ

struct vnb_ep {
	const struct vnb_prov_ops *ops;
	void *prov; /* the provider's state */
	struct vnb_ep_attr attr; /* defaults filled; ifname points into
				  * ifname below */
	char ifname[VNB_IFNAMSIZ];
	char shm_name[32];
	char mode[32];
	struct vnb_addr self;
	uint32_t tx_seq;
	bool tx_more; /* set by the core inside a batch: more frames follow
		       * tx_post, then tx_flush (see tx_post) */
	uint32_t hdr_len; /* bytes before the payload in a frame */
	uint32_t max_payload; /* frame_size or MTU bound, minus hdr_len */
	uint64_t *rx_ctx; /* per frame id: context of post_recv */
	struct vnb_counters cnt;
	uint32_t loss_ppm;
	uint64_t loss_state;
};

#endif
