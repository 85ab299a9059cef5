/*
 * Fuzz target: received-frame decoding, as vnb_poll_cq meets it.
 *
 * Input: byte 0 picks l2 (odd) or not; the rest is the frame, in a heap
 * buffer of exactly its size so that a read past its end is caught.
 * Invariants: an accepted frame's payload lies inside it; the vnb header
 * re-encodes to the same bytes; the headers built again from what was
 * parsed are the frame's own (but for 802.1Q priority bits and a
 * priority-only tag); a reliability header in the payload re-encodes to
 * the same bytes too.
 */
#include <string.h>

#include "vnb/frame.h"
#include "vnb/fuzz/fuzz.h"
#include "vnb/rel.h"
#include "vnb/vnb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vnb_frame_info fi;
	enum vnb_frame_verdict v;
	uint8_t *frame, hb[64];
	size_t len, n;
	bool l2;

	if (size < 1)
		return 0;
	l2 = data[0] & 1;
	len = size - 1;
	frame = malloc(len ? len : 1);
	if (!frame)
		return 0;
	memcpy(frame, data + 1, len);
	v = vnb_frame_parse(frame, len, l2, &fi);
	FUZZ_CHECK(v == VNB_FRAME_OK || v == VNB_FRAME_NOT_VNB ||
		   v == VNB_FRAME_MALFORMED);
	if (v == VNB_FRAME_OK) {
		uint8_t enc[VNB_HDR_LEN];
		size_t tagged =
		    l2 && len >= 14 && frame[12] == 0x81 && frame[13] == 0x00;

		FUZZ_CHECK(fi.payload <= len && fi.hdr.len <= len - fi.payload);
		FUZZ_CHECK(fi.payload == (l2 ? 14 + 4 * tagged : 0) + 16);
		FUZZ_CHECK(fi.hdr.version == VNB_HDR_VERSION);
		vnb_hdr_encode(enc, &fi.hdr);
		FUZZ_CHECK(memcmp(enc, frame + fi.payload - 16, 16) == 0);
		n = vnb_frame_build(hb, sizeof(hb), l2, fi.dst, fi.src, fi.vlan,
				    &fi.hdr);
		if (!tagged || fi.vlan != 0) {
			FUZZ_CHECK(n == fi.payload);
			if (tagged)
				/* priority and DEI bits are not kept */
				hb[14] |= frame[14] & 0xf0;
			FUZZ_CHECK(memcmp(hb, frame, n) == 0);
		}
		if (fi.hdr.len >= VNB_REL_HDR_LEN) {
			struct vnb_rel_hdr rh;
			uint8_t re[VNB_REL_HDR_LEN];

			vnb_rel_hdr_decode(frame + fi.payload, &rh);
			vnb_rel_hdr_encode(re, &rh);
			/* bytes 3 and 36..39 are reserved, written as 0 */
			re[3] = frame[fi.payload + 3];
			memcpy(re + 36, frame + fi.payload + 36, 4);
			FUZZ_CHECK(memcmp(re, frame + fi.payload, sizeof(re)) ==
				   0);
		}
	}
	free(frame);
	return 0;
}
