/*
 * cred.h - the queue credential: what a task needs to open its queue set.
 *
 * A versioned, compact, validated text encoding, handed out by the prolog
 * (later through PMIx, key "vnb.cred"):
 *
 *   vnb1:mac=02:00:00:20:00:40;vlan=10;q=0;mtu=1500;fs=2048;job=42;step=0;rank=3
 *
 * Every field is required, appears once, and is range-checked; decoding
 * never reads past the string and refuses anything else with a message
 * naming the field.
 */
#ifndef VNB_CRED_CRED_H
#define VNB_CRED_CRED_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define VNB_CRED_MAX 160 /* longest encoding, with NUL */

struct vnb_cred {
	uint8_t mac[6]; /* the vNIC, as the guest sees it */
	uint16_t vlan; /* 0..4094 */
	uint16_t queue; /* 0..1023 */
	uint16_t mtu; /* 68..9216 */
	uint32_t frame_size; /* 512..65536, a power of two */
	uint32_t job; /* 1..2^32-1: the job tag */
	uint32_t step;
	uint32_t rank;
};

/* Returns the length, or -1 with ENOSPC (or EINVAL for a value out of
 * range, which is never encoded). */
int vnb_cred_encode(const struct vnb_cred *c, char *buf, size_t len);
/* -1 with EINVAL and "queue credential: FIELD: what is wrong". */
int vnb_cred_decode(const char *s, struct vnb_cred *c, vnb_error_t *err);

#endif
