/*
 * fake.h - the in-memory fake provider, for unit tests only.
 *
 * Open it with attr.flags |= VNB_EP_FAKE (core.h).  Fake endpoints of one
 * process that share attr.ifname sit on one fake wire, a learning-free
 * switch: a frame goes to every other endpoint whose MAC is the MAC of
 * the destination address given to tx_post (all of them for a group
 * MAC), and every queue of that MAC sees it, as every AF_PACKET socket of
 * an interface does.  Two endpoints with the same ifname, MAC
 * and queue: the second gets EBUSY.
 *
 * Half of attr.nframes are send frames, half receive frames.  A send
 * completes at once (it is copied to the receivers), but its frame is
 * free again only when reaped, so an endpoint that does not poll fills
 * its send queue.  A receiver with no posted buffer drops the frame and
 * counts rx_no_buffer.
 */
#ifndef VNB_FAKE_H
#define VNB_FAKE_H

#include <stddef.h>
#include <stdint.h>

#include "vnb/vnb.h"

/* Put len raw bytes on ep's receive queue as if the wire had delivered
 * them (forged frames).  0, or -1 with EAGAIN (no posted receive buffer,
 * counted in rx_no_buffer) or EMSGSIZE (longer than a frame). */
int vnb_fake_inject(struct vnb_ep *ep, const void *frame, size_t len);

/* How many times the core flushed ep's batches (tx_flush).  Inside a
 * batch the fake holds the frames until the flush, as xdp and packet do
 * until their kick. */
uint64_t vnb_fake_flushes(const struct vnb_ep *ep);

/* Disorder what ep receives, from a deterministic generator: each frame
 * is delivered twice with probability dup_ppm/1e6, and held back behind
 * the next one with probability reorder_ppm/1e6. */
void vnb_fake_set_chaos(struct vnb_ep *ep, uint32_t dup_ppm,
			uint32_t reorder_ppm, uint64_t seed);

#endif
