/*
 * rel.h - inside libvnb: the wire header of reliable messages (vnb.h,
 * "Reliable messages").  Not installed.
 *
 * It rides at the start of the vnb payload of every frame the
 * reliability layer sends; the vnb header's flags byte carries
 * VNB_HDR_F_REL.  All multi-byte fields in network byte order:
 *
 *   0  type(1)     VNB_REL_DATA or VNB_REL_ACK
 *   1  flags(1)    VNB_REL_FIRST, VNB_REL_LAST (data), VNB_REL_ECHO
 *   2  version(1)  VNB_REL_VERSION
 *   3  reserved(1) 0
 *   4  seq(4)      data: this frame's sequence number, per direction
 *   8  ack(4)      the next sequence number the sender of this frame
 *                  expects from its destination (cumulative ack)
 *  12  total(4)    data: the length of the whole message
 *  16  src(8)      the sender's address key (vnb_rel_addr_key)
 *  24  sack(8)     bit i: frame ack+1+i has arrived too (selective ack)
 *  32  echo(4)     with VNB_REL_ECHO: the sequence number of the data
 *                  frame whose arrival this frame answers (round trips)
 *  36  reserved(4) 0
 *  40  data        data: this fragment of the message
 */
#ifndef VNB_REL_H
#define VNB_REL_H

#include <stdint.h>

#include "vnb/vnb.h"

#define VNB_REL_HDR_LEN 40
#define VNB_REL_VERSION 1

enum { VNB_REL_DATA = 1, VNB_REL_ACK = 2 };
#define VNB_REL_FIRST 0x01
#define VNB_REL_LAST 0x02
#define VNB_REL_ECHO 0x04

struct vnb_rel_hdr {
	uint8_t type, flags, version;
	uint32_t seq, ack, total;
	uint64_t src, sack;
	uint32_t echo;
};

void vnb_rel_hdr_encode(uint8_t out[VNB_REL_HDR_LEN],
			const struct vnb_rel_hdr *h);
void vnb_rel_hdr_decode(const uint8_t in[VNB_REL_HDR_LEN],
			struct vnb_rel_hdr *h);

/* A 64-bit key for an address (FNV-1a over MAC, queue, IPv4, port and
 * shm name; not the VLAN, which all peers share): how a receiver tells
 * its peers apart with any provider. */
uint64_t vnb_rel_addr_key(const struct vnb_addr *a);

#endif
