/* utf8.h - strict UTF-8 validation, decoding, encoding and repair. */
#ifndef CM_UTF8_H
#define CM_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "buf.h"

#define CM_UTF8_REPLACEMENT "\xEF\xBF\xBD"	/* U+FFFD in UTF-8 */
#define CM_UTF8_INVALID UINT32_MAX	/* what cm_utf8_decode() yields for ill-formed input */

/*
 * Well-formed means Unicode's Table 3-7: no overlong forms, no surrogates,
 * nothing above U+10FFFF.
 */
int cm_utf8_valid(const char *p, size_t n);

/* Length of the longest well-formed prefix of p. */
size_t cm_utf8_valid_len(const char *p, size_t n);

/* Length of the leading run of ASCII bytes (< 0x80) of p. */
size_t cm_utf8_ascii_len(const char *p, size_t n);

/*
 * Decode the character at p (n > 0) into *cp and return its length. On
 * ill-formed input set *cp to CM_UTF8_INVALID and return the length of the
 * maximal subpart (1 to 3 bytes), which is where decoding should resume.
 * Returns 0 only when n is 0.
 */
size_t cm_utf8_decode(const char *p, size_t n, uint32_t *cp);

/* Encode cp into s (room for 4 bytes); surrogates and cp > U+10FFFF become U+FFFD. Returns bytes written. */
size_t cm_utf8_encode(uint32_t cp, char *s);

/*
 * Append p to out, each maximal ill-formed subpart replaced by U+FFFD (the
 * Unicode and WHATWG practice), and return how many were replaced. Valid
 * input is one copy.
 */
size_t cm_utf8_repair(const char *p, size_t n, cm_buf *out);

/* Bits set in a 16-bit mask (no popcnt instruction in the x86-64 baseline). */
static inline unsigned cm_popcount16(unsigned x)
{
	x = x - ((x >> 1) & 0x5555);
	x = (x & 0x3333) + ((x >> 2) & 0x3333);
	x = (x + (x >> 4)) & 0x0f0f;
	return (x + (x >> 8)) & 0x1f;
}

/* Characters of UTF-8 text: bytes less continuation bytes (10xxxxxx), sixteen bytes at a
 * time (SSE2), then eight, then one. */
static inline size_t cm_utf8_chars(const char *p, size_t n)
{
	const uint64_t hi = 0x8080808080808080ULL, ones = 0x0101010101010101ULL;
	size_t i = 0, cont = 0;

#ifdef __SSE2__
	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_and_si128(_mm_loadu_si128((const __m128i *)(p + i)), _mm_set1_epi8((char)0xc0));

		cont += cm_popcount16((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8((char)0x80))));
	}
#endif
	for (; i + 8 <= n; i += 8) {
		uint64_t x;

		memcpy(&x, p + i, 8);
		x = x & ~(x << 1) & hi;		/* bit 7 set, bit 6 clear */
		cont += (size_t)(((x >> 7) * ones) >> 56);
	}
	for (; i < n; i++)
		cont += ((unsigned char)p[i] & 0xc0) == 0x80;
	return n - cont;
}

#endif
