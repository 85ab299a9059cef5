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
#include <string.h>

/* VNB_ETHERTYPE and VNB_HDR_VERSION of vnb.h, for the inline parser. */
#define VNB_FRAME_ETHERTYPE_ 0x88B5
#define VNB_FRAME_VERSION_ 1

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

static inline uint16_t vnb_frame_get16_(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t vnb_frame_get32_(const uint8_t *p)
{
	return (uint32_t)vnb_frame_get16_(p) << 16 | vnb_frame_get16_(p + 2);
}

/* Decode a received frame of len bytes.  Never reads past len.  Inline:
 * the core runs it on every received frame.  Every field of *info is
 * set when the verdict is VNB_FRAME_OK; otherwise only those decoded so
 * far, and the others are 0. */
static inline enum vnb_frame_verdict
vnb_frame_parse(const uint8_t *buf, size_t len, bool l2,
		struct vnb_frame_info *info)
{
	size_t off = 0;

	info->vlan = 0;
	info->payload = 0;
	memset(info->src, 0, 6);
	memset(info->dst, 0, 6);
	memset(&info->hdr, 0, sizeof(info->hdr));
	if (l2) {
		uint16_t type;

		if (len < 14)
			return VNB_FRAME_MALFORMED;
		memcpy(info->dst, buf, 6);
		memcpy(info->src, buf + 6, 6);
		off = 12;
		type = vnb_frame_get16_(buf + off);
		if (type == 0x8100) {
			if (len < 18)
				return VNB_FRAME_MALFORMED;
			info->vlan = vnb_frame_get16_(buf + off + 2) & 0x0fff;
			off += 4;
			type = vnb_frame_get16_(buf + off);
		}
		off += 2;
		if (type != VNB_FRAME_ETHERTYPE_)
			return VNB_FRAME_NOT_VNB;
	}
	if (len - off < 16)
		return VNB_FRAME_MALFORMED;
	info->hdr.version = buf[off];
	info->hdr.flags = buf[off + 1];
	info->hdr.len = vnb_frame_get16_(buf + off + 2);
	info->hdr.job = vnb_frame_get32_(buf + off + 4);
	info->hdr.src_q = vnb_frame_get16_(buf + off + 8);
	info->hdr.dst_q = vnb_frame_get16_(buf + off + 10);
	info->hdr.seq = vnb_frame_get32_(buf + off + 12);
	off += 16;
	info->payload = off;
	if (info->hdr.version != VNB_FRAME_VERSION_ ||
	    info->hdr.len > len - off)
		return VNB_FRAME_MALFORMED;
	return VNB_FRAME_OK;
}

#endif
