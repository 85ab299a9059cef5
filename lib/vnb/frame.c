/*
 * frame.c - the vnb wire format (frame.h): pure encode and decode.
 */
#include <string.h>

#include "vnb/core.h"
#include "vnb/frame.h"
#include "vnb/vnb.h"

#define ETH_ALEN_ 6
#define ETH_HLEN_ 14
#define VLAN_HLEN_ 4
#define ETHERTYPE_VLAN_ 0x8100

_Static_assert(VNB_FRAME_ETHERTYPE_ == VNB_ETHERTYPE &&
		   VNB_FRAME_VERSION_ == VNB_HDR_VERSION,
	       "frame.h's inline parser follows vnb.h");

void vnb_hdr_encode(uint8_t out[16], const struct vnb_hdr *h)
{
	out[0] = h->version;
	out[1] = h->flags;
	vnb_put16(out + 2, h->len);
	vnb_put32(out + 4, h->job);
	vnb_put16(out + 8, h->src_q);
	vnb_put16(out + 10, h->dst_q);
	vnb_put32(out + 12, h->seq);
}

void vnb_hdr_decode(const uint8_t in[16], struct vnb_hdr *h)
{
	h->version = in[0];
	h->flags = in[1];
	h->len = vnb_get16(in + 2);
	h->job = vnb_get32(in + 4);
	h->src_q = vnb_get16(in + 8);
	h->dst_q = vnb_get16(in + 10);
	h->seq = vnb_get32(in + 12);
}

size_t vnb_frame_build(uint8_t *buf, size_t cap, bool l2, const uint8_t dst[6],
		       const uint8_t src[6], uint16_t vlan,
		       const struct vnb_hdr *h)
{
	size_t off = 0;

	if (l2) {
		size_t need = ETH_HLEN_ + (vlan ? VLAN_HLEN_ : 0) + VNB_HDR_LEN;

		if (cap < need)
			return 0;
		memcpy(buf, dst, ETH_ALEN_);
		memcpy(buf + ETH_ALEN_, src, ETH_ALEN_);
		off = 2 * ETH_ALEN_;
		if (vlan) {
			vnb_put16(buf + off, ETHERTYPE_VLAN_);
			/* priority 0, DEI 0, the 12-bit VLAN id */
			vnb_put16(buf + off + 2, vlan & 0x0fff);
			off += VLAN_HLEN_;
		}
		vnb_put16(buf + off, VNB_ETHERTYPE);
		off += 2;
	} else if (cap < VNB_HDR_LEN) {
		return 0;
	}
	vnb_hdr_encode(buf + off, h);
	return off + VNB_HDR_LEN;
}
