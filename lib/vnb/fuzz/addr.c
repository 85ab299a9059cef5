/*
 * Fuzz target: endpoint addresses in text form (vnb_addr_parse), as a
 * peer's address arrives through PMIx.
 *
 * Invariants: parsing never reads past the string; an address that
 * parses formats, and the text formatted parses back to the same
 * address and formats to the same text.
 */
#include <string.h>

#include "vnb/fuzz/fuzz.h"
#include "vnb/vnb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vnb_addr a, b;
	char *s, t1[256], t2[256];
	vnb_error_t err;

	s = fuzz_cstr(data, size);
	if (!s)
		return 0;
	if (vnb_addr_parse(s, &a, &err) == 0) {
		FUZZ_CHECK(vnb_addr_format(&a, t1, sizeof(t1)) > 0);
		FUZZ_CHECK(vnb_addr_parse(t1, &b, &err) == 0);
		FUZZ_CHECK(memcmp(&a, &b, sizeof(a)) == 0);
		FUZZ_CHECK(vnb_addr_format(&b, t2, sizeof(t2)) > 0);
		FUZZ_CHECK(strcmp(t1, t2) == 0);
	} else {
		FUZZ_CHECK(strncmp(err.text, "endpoint address: ", 18) == 0);
	}
	free(s);
	return 0;
}
