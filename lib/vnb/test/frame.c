/*
 * The vnb wire format: header encode/decode, frame build and parse,
 * including truncated and malformed frames.
 */
#include <stdlib.h>
#include <string.h>

#include "common/tap.h"
#include "common/util.h"
#include "vnb/frame.h"
#include "vnb/vnb.h"

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0xa};
static const uint8_t mac_b[6] = {0x02, 0, 0, 0, 0, 0xb};

static void test_hdr(void)
{
	static const struct vnb_hdr t[] = {
	    {1, 0, 0, 0, 0, 0, 0},
	    {1, 0xff, 0xffff, 0xffffffff, 0xffff, 0xffff, 0xffffffff},
	    {1, 0x01, 1500, 42, 3, 7, 0x01020304},
	    {2, 0x80, 0x1234, 0xdeadbeef, 0x0102, 0x0304, 0},
	};
	static const uint8_t want[16] = {1, 0x01, 0x05, 0xdc, 0, 0, 0, 42,
					 0, 3,	  0,	7,    1, 2, 3, 4};
	uint8_t out[16];
	size_t i;

	for (i = 0; i < VNB_ARRAY_SIZE(t); i++) {
		struct vnb_hdr back;

		vnb_hdr_encode(out, &t[i]);
		vnb_hdr_decode(out, &back);
		ok(memcmp(&back, &t[i], sizeof(back)) == 0,
		   "header %zu round-trips", i);
	}
	vnb_hdr_encode(out, &t[2]);
	ok(memcmp(out, want, 16) == 0,
	   "header fields are in network byte order at their offsets");
}

static void test_build(void)
{
	struct vnb_hdr h = {VNB_HDR_VERSION, 0, 4, 9, 1, 2, 77};
	struct vnb_frame_info fi;
	uint8_t buf[128];
	size_t n;

	n = vnb_frame_build(buf, sizeof(buf), true, mac_b, mac_a, 0, &h);
	is_int((long long)n, 14 + 16, "untagged l2 headers are 30 bytes");
	ok(memcmp(buf, mac_b, 6) == 0 && memcmp(buf + 6, mac_a, 6) == 0,
	   "dst then src MAC");
	ok(buf[12] == 0x88 && buf[13] == 0xb5, "EtherType 0x88B5");
	memcpy(buf + n, "abcd", 4);
	is_int(vnb_frame_parse(buf, n + 4, true, &fi), VNB_FRAME_OK,
	       "untagged frame parses");
	ok(fi.hdr.job == 9 && fi.hdr.src_q == 1 && fi.hdr.dst_q == 2 &&
	       fi.hdr.seq == 77 && fi.hdr.len == 4 && fi.vlan == 0,
	   "fields come back");
	ok(fi.payload == 30 && memcmp(buf + fi.payload, "abcd", 4) == 0,
	   "payload offset");
	ok(memcmp(fi.src, mac_a, 6) == 0 && memcmp(fi.dst, mac_b, 6) == 0,
	   "MACs come back");

	n = vnb_frame_build(buf, sizeof(buf), true, mac_b, mac_a, 10, &h);
	is_int((long long)n, 18 + 16, "802.1Q frame headers are 34 bytes");
	ok(buf[12] == 0x81 && buf[13] == 0x00 && buf[14] == 0 &&
	       buf[15] == 10 && buf[16] == 0x88 && buf[17] == 0xb5,
	   "802.1Q tag with VLAN 10, then 0x88B5");
	is_int(vnb_frame_parse(buf, n + 4, true, &fi), VNB_FRAME_OK,
	       "tagged frame parses");
	ok(fi.vlan == 10 && fi.payload == 34, "VLAN 10, payload at 34");
	n = vnb_frame_build(buf, sizeof(buf), true, mac_b, mac_a, 4094, &h);
	is_int(vnb_frame_parse(buf, n + 4, true, &fi), VNB_FRAME_OK,
	       "VLAN 4094 parses");
	is_int(fi.vlan, 4094, "VLAN 4094 comes back");

	n = vnb_frame_build(buf, sizeof(buf), false, mac_b, mac_a, 10, &h);
	is_int((long long)n, 16, "without l2 only the vnb header");
	is_int(vnb_frame_parse(buf, n + 4, false, &fi), VNB_FRAME_OK,
	       "non-l2 frame parses");
	is_int((long long)fi.payload, 16, "non-l2 payload at 16");

	is_int((long long)vnb_frame_build(buf, 29, true, mac_b, mac_a, 0, &h),
	       0, "cap 29 too small for l2 headers");
	is_int((long long)vnb_frame_build(buf, 33, true, mac_b, mac_a, 5, &h),
	       0, "cap 33 too small for tagged headers");
	is_int((long long)vnb_frame_build(buf, 15, false, mac_b, mac_a, 0, &h),
	       0, "cap 15 too small for the vnb header");
	is_int((long long)vnb_frame_build(buf, 30, true, mac_b, mac_a, 0, &h),
	       30, "cap 30 is exactly enough");
}

/* Build a frame, then break it as the case says. */
static void test_malformed(void)
{
	static const struct {
		const char *name;
		bool l2;
		uint16_t vlan;
		int cut; /* bytes of the frame kept; -1 all */
		int version;
		int len; /* header len field; -1: the real one */
		uint16_t type; /* EtherType written; 0: 0x88B5 */
		int want;
	} t[] = {
	    {"empty l2", true, 0, 0, 1, -1, 0, VNB_FRAME_MALFORMED},
	    {"13 bytes", true, 0, 13, 1, -1, 0, VNB_FRAME_MALFORMED},
	    {"Ethernet only", true, 0, 14, 1, -1, 0, VNB_FRAME_MALFORMED},
	    {"tag cut", true, 5, 16, 1, -1, 0, VNB_FRAME_MALFORMED},
	    {"tag, no vnb header", true, 5, 18, 1, -1, 0, VNB_FRAME_MALFORMED},
	    {"vnb header cut", true, 0, 29, 1, -1, 0, VNB_FRAME_MALFORMED},
	    {"payload cut", true, 0, 31, 1, -1, 0, VNB_FRAME_MALFORMED},
	    {"bad version 0", true, 0, -1, 0, -1, 0, VNB_FRAME_MALFORMED},
	    {"bad version 2", true, 0, -1, 2, -1, 0, VNB_FRAME_MALFORMED},
	    {"len beyond frame", true, 0, -1, 1, 9, 0, VNB_FRAME_MALFORMED},
	    {"len 0xffff", true, 3, -1, 1, 0xffff, 0, VNB_FRAME_MALFORMED},
	    {"IPv4 EtherType", true, 0, -1, 1, -1, 0x0800, VNB_FRAME_NOT_VNB},
	    {"ARP, 14 bytes", true, 0, 14, 1, -1, 0x0806, VNB_FRAME_NOT_VNB},
	    {"len shorter than frame (padding)", true, 0, -1, 1, 2, 0,
	     VNB_FRAME_OK},
	    {"non-l2 empty", false, 0, 0, 1, -1, 0, VNB_FRAME_MALFORMED},
	    {"non-l2 15 bytes", false, 0, 15, 1, -1, 0, VNB_FRAME_MALFORMED},
	    {"non-l2 bad version", false, 0, -1, 7, -1, 0, VNB_FRAME_MALFORMED},
	    {"non-l2 len beyond", false, 0, -1, 1, 5, 0, VNB_FRAME_MALFORMED},
	    {"non-l2 ok", false, 0, -1, 1, -1, 0, VNB_FRAME_OK},
	};
	size_t i;

	for (i = 0; i < VNB_ARRAY_SIZE(t); i++) {
		struct vnb_hdr h = {VNB_HDR_VERSION, 0, 4, 1, 0, 0, 0};
		struct vnb_frame_info fi;
		uint8_t buf[64], *copy;
		size_t n, len;
		int v;

		n = vnb_frame_build(buf, sizeof(buf), t[i].l2, mac_b, mac_a,
				    t[i].vlan, &h);
		memcpy(buf + n, "wxyz", 4);
		len = n + 4;
		buf[n - 16] = (uint8_t)t[i].version;
		if (t[i].len >= 0) {
			buf[n - 14] = (uint8_t)(t[i].len >> 8);
			buf[n - 13] = (uint8_t)t[i].len;
		}
		if (t[i].type) {
			buf[n - 18] = (uint8_t)(t[i].type >> 8);
			buf[n - 17] = (uint8_t)t[i].type;
		}
		if (t[i].cut >= 0)
			len = (size_t)t[i].cut;
		/* an exact-size heap copy, so that a read past len shows
		 * under valgrind and ASan */
		copy = malloc(len ? len : 1);
		memcpy(copy, buf, len);
		v = vnb_frame_parse(copy, len, t[i].l2, &fi);
		is_int(v, t[i].want, "%s: verdict", t[i].name);
		free(copy);
	}
}

int main(void)
{
	test_hdr();
	test_build();
	test_malformed();
	return done_testing();
}
