/*
 * fuzz.h - what every fuzz target defines, and how it reports a broken
 * invariant (a crash the fuzzer and the corpus replay both see).
 */
#ifndef VNB_FUZZ_H
#define VNB_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

/* The input as a NUL-terminated string in a heap buffer of exactly
 * size + 1 bytes (a read past the end shows under ASan); NULL when out
 * of memory.  Free it. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s) {
		if (size)
			memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

#endif
