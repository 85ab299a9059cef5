/*
 * stream.h - the byte streams the agent tests send through the channels:
 * byte o of stream SEED is byte o % 8 (little-endian) of
 * splitmix64(SEED, o / 8), so that a receiver checks every byte at its
 * offset, in pieces of any size, and says where a loss or a reordering
 * happened.
 */
#ifndef VNB_AGENT_TEST_STREAM_H
#define VNB_AGENT_TEST_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t stream_word(uint64_t seed, uint64_t k)
{
	uint64_t z = seed * 0x9e3779b97f4a7c15ull + k + 1;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint8_t stream_byte(uint64_t seed, uint64_t off)
{
	return (uint8_t)(stream_word(seed, off / 8) >> (8 * (off % 8)));
}

/* Fill p with n bytes of the stream from offset off. */
static inline void stream_fill(uint64_t seed, uint64_t off, uint8_t *p,
			       size_t n)
{
	while (n > 0 && off % 8) {
		*p++ = stream_byte(seed, off++);
		n--;
	}
	while (n >= 8) {
		uint64_t w = stream_word(seed, off / 8);
		uint8_t b[8];
		int i;

		for (i = 0; i < 8; i++)
			b[i] = (uint8_t)(w >> (8 * i));
		memcpy(p, b, 8);
		p += 8;
		off += 8;
		n -= 8;
	}
	while (n > 0) {
		*p++ = stream_byte(seed, off++);
		n--;
	}
}

struct stream_check {
	uint64_t seed;
	uint64_t off; /* bytes checked */
	bool bad;
	uint64_t bad_at; /* the first wrong byte */
};

static inline void stream_check(struct stream_check *c, const uint8_t *p,
				size_t n)
{
	uint8_t want[4096];

	while (n > 0 && !c->bad) {
		size_t k = n < sizeof(want) ? n : sizeof(want), i;

		stream_fill(c->seed, c->off, want, k);
		if (memcmp(want, p, k) != 0) {
			for (i = 0; want[i] == p[i]; i++)
				;
			c->bad = true;
			c->bad_at = c->off + i;
			return;
		}
		c->off += k;
		p += k;
		n -= k;
	}
}

#endif
