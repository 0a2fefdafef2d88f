/* utf8.h - strict UTF-8 validation, decoding, encoding and repair. */
#ifndef CM_UTF8_H
#define CM_UTF8_H

#include <stddef.h>
#include <stdint.h>

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

#endif
