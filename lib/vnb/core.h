/*
 * core.h - inside libvnb: what the core (ep.c) offers to rel.c, to the
 * fake provider and to the unit tests.  Not installed.
 */
#ifndef VNB_CORE_H
#define VNB_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "vnb/prov.h"
#include "vnb/vnb.h"

/* Test only: attr.flags bit that makes vnb_ep_open use the in-memory fake
 * provider (prov_fake.c, linked into the unit tests only; a libvnb without
 * it answers EPROTONOSUPPORT).  attr.prov is then ignored. */
#define VNB_EP_FAKE 0x80000000u

/* vnb header flags (the second byte of the vnb header). */
#define VNB_HDR_F_REL 0x01 /* the payload starts with a reliability header */

/* Big-endian (network order) fields of the wire headers. */
static inline void vnb_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void vnb_put32(uint8_t *p, uint32_t v)
{
	vnb_put16(p, (uint16_t)(v >> 16));
	vnb_put16(p + 2, (uint16_t)v);
}

static inline uint16_t vnb_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t vnb_get32(const uint8_t *p)
{
	return (uint32_t)vnb_get16(p) << 16 | vnb_get16(p + 2);
}

/* Like vnb_post_send, with the payload in two pieces (a header and the
 * data, either may be empty) and the vnb header flags byte given. */
int vnb_ep_send2(struct vnb_ep *ep, const struct vnb_addr *dst, uint8_t flags,
		 const void *h, size_t hlen, const void *buf, size_t len,
		 uint64_t context);

/* The deterministic generator behind vnb_ep_set_rx_loss: splitmix64
 * seeding an xorshift64* state.  Never returns 0 state. */
uint64_t vnb_prng_seed(uint64_t seed);
uint64_t vnb_prng_next(uint64_t *state);

#endif
