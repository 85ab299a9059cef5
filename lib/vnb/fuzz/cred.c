/*
 * Fuzz target: queue credentials (vnb_cred_decode in lib/cred), as a
 * task receives one through PMIx or its environment.
 *
 * Invariants: decoding never reads past the string; a credential that
 * decodes is in range, encodes, and the encoding decodes back to the
 * same credential.
 */
#include <string.h>

#include "cred/cred.h"
#include "vnb/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vnb_cred a, b;
	char *s, text[VNB_CRED_MAX];
	vnb_error_t err;

	s = fuzz_cstr(data, size);
	if (!s)
		return 0;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (vnb_cred_decode(s, &a, &err) == 0) {
		FUZZ_CHECK(a.vlan <= 4094 && a.queue <= 1023 && a.job != 0);
		FUZZ_CHECK(a.mtu >= 68 && a.mtu <= 9216);
		FUZZ_CHECK(a.frame_size >= 512 && a.frame_size <= 65536 &&
			   (a.frame_size & (a.frame_size - 1)) == 0);
		FUZZ_CHECK(vnb_cred_encode(&a, text, sizeof(text)) > 0);
		FUZZ_CHECK(vnb_cred_decode(text, &b, &err) == 0);
		FUZZ_CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	} else {
		FUZZ_CHECK(strncmp(err.text, "queue credential: ", 18) == 0);
	}
	free(s);
	return 0;
}
