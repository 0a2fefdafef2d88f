/* utf8.c - strict UTF-8 validation, decoding, encoding and repair. */
#include <string.h>

#include "utf8.h"

#define HIGH_BITS 0x8080808080808080ull

static int ascii16(const unsigned char *s)
{
	uint64_t a, b;

	memcpy(&a, s, 8);
	memcpy(&b, s + 8, 8);
	return !((a | b) & HIGH_BITS);
}

/*
 * Length of the well-formed non-ASCII sequence at s (s[0] >= 0x80, n > 0),
 * or 0 with *sub set to the length of its maximal subpart.
 */
static size_t seq_len(const unsigned char *s, size_t n, size_t *sub)
{
	unsigned c = s[0], lo = 0x80, hi = 0xBF;
	size_t len, i;

	if (c < 0xC2 || c > 0xF4) {
		*sub = 1;
		return 0;
	}
	if (c < 0xE0) {
		len = 2;
	} else if (c < 0xF0) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;	/* overlong */
		else if (c == 0xED)
			hi = 0x9F;	/* surrogates */
	} else {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;	/* overlong */
		else if (c == 0xF4)
			hi = 0x8F;	/* above U+10FFFF */
	}
	for (i = 1; i < len; i++) {
		if (i >= n || s[i] < lo || s[i] > hi) {
			*sub = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xBF;
	}
	return len;
}

size_t cm_utf8_valid_len(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0, k, sub;

	while (n - i >= 16 && ascii16(s + i))
		i += 16;
	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			/* after ASCII, more ASCII is likely: check 16 at a time */
			while (n - i >= 16 && ascii16(s + i))
				i += 16;
			continue;
		}
		k = seq_len(s + i, n - i, &sub);
		if (!k)
			break;
		i += k;
	}
	return i;
}

int cm_utf8_valid(const char *p, size_t n)
{
	return cm_utf8_valid_len(p, n) == n;
}

size_t cm_utf8_ascii_len(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0;

	while (n - i >= 16 && ascii16(s + i))
		i += 16;
	while (i < n && s[i] < 0x80)
		i++;
	return i;
}

size_t cm_utf8_decode(const char *p, size_t n, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t k, sub;

	if (!n) {
		*cp = CM_UTF8_INVALID;
		return 0;
	}
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	k = seq_len(s, n, &sub);
	switch (k) {
	case 2:
		*cp = (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
		return 2;
	case 3:
		*cp = (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
		return 3;
	case 4:
		*cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
		      (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
		return 4;
	}
	*cp = CM_UTF8_INVALID;
	return sub;
}

size_t cm_utf8_encode(uint32_t cp, char *s)
{
	if (cp < 0x80) {
		s[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		s[0] = (char)(0xC0 | cp >> 6);
		s[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		cp = 0xFFFD;
	if (cp < 0x10000) {
		s[0] = (char)(0xE0 | cp >> 12);
		s[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		s[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	s[0] = (char)(0xF0 | cp >> 18);
	s[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	s[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	s[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

size_t cm_utf8_repair(const char *p, size_t n, cm_buf *out)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0, k, sub, bad = 0;

	for (;;) {
		k = cm_utf8_valid_len(p + i, n - i);
		cm_buf_add(out, p + i, k);
		i += k;
		if (i >= n)
			break;
		seq_len(s + i, n - i, &sub);
		cm_buf_add(out, CM_UTF8_REPLACEMENT, 3);
		bad++;
		i += sub;
	}
	return bad;
}
