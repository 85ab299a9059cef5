/*
 * fuzz.h - what every fuzz target defines, and how it reports a broken
 * invariant (a crash the fuzzer and the corpus replay both see).
 */
#ifndef VNB_FUZZ_H
#define VNB_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

#endif
