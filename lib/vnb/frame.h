/*
 * frame.h - the vnb wire format: pure encode and decode.
 *
 *   Ethernet  dst(6) src(6) [0x8100 TCI(2)] 0x88B5      (l2 providers)
 *   vnb       version(1) flags(1) len(2) job(4) src_q(2) dst_q(2) seq(4)
 *   payload   len bytes
 *
 * All multi-byte fields in network byte order.
 */
#ifndef VNB_FRAME_H
#define VNB_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vnb_hdr {
	uint8_t version;
	uint8_t flags;
	uint16_t len; /* payload bytes */
	uint32_t job;
	uint16_t src_q;
	uint16_t dst_q;
	uint32_t seq;
};

void vnb_hdr_encode(uint8_t out[16], const struct vnb_hdr *h);
void vnb_hdr_decode(const uint8_t in[16], struct vnb_hdr *h);

/* Write the headers (Ethernet and VLAN when l2) at buf; returns their
 * length, or 0 when cap is too small. */
size_t vnb_frame_build(uint8_t *buf, size_t cap, bool l2, const uint8_t dst[6],
		       const uint8_t src[6], uint16_t vlan,
		       const struct vnb_hdr *h);

struct vnb_frame_info {
	struct vnb_hdr hdr;
	uint8_t src[6], dst[6];
	uint16_t vlan; /* 0 untagged */
	size_t payload; /* offset of the payload */
};

enum vnb_frame_verdict {
	VNB_FRAME_OK = 0,
	VNB_FRAME_NOT_VNB, /* another EtherType: not ours */
	VNB_FRAME_MALFORMED, /* short, bad version, len beyond the frame */
};

/* Decode a received frame of len bytes.  Never reads past len. */
enum vnb_frame_verdict vnb_frame_parse(const uint8_t *buf, size_t len, bool l2,
				       struct vnb_frame_info *info);

#endif
