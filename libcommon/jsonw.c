/* jsonw.c - writing JSON: a fast string escaper and a small object/array builder. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "jsonw.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* 0: copy; 1: escape as \uXXXX; else the letter after the backslash. */
static const unsigned char esc[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 'b', 't', 'n', 1, 'f', 'r', 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, '"', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	['\\'] = '\\',
};

#ifndef __SSE2__
/* Nonzero when one of the 8 bytes is < 0x20, '"' or '\\'. */
static inline uint64_t needs_escape(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	uint64_t ctl = (x - ones * 0x20) & ~x;
	uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');

	return (ctl | ((q - ones) & ~q) | ((bs - ones) & ~bs)) & high;
}
#endif

/* Write the escape sequence for byte c at o; returns the new end. */
static inline char *escape_byte(char *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char e = esc[c];

	*o++ = '\\';
	if (e == 1) {
		*o++ = 'u';
		*o++ = '0';
		*o++ = '0';
		*o++ = hex[c >> 4];
		*o++ = hex[c & 15];
	} else {
		*o++ = (char)e;
	}
	return o;
}

void cm_json_escape(cm_buf *b, const char *p, size_t n)
{
	size_t i = 0;
	char *o;

	/* Worst case every byte becomes \u00XX; 16 more for whole-vector stores. */
	if (n > (SIZE_MAX - 32) / 6)
		cm_die("string too long to escape");
	cm_buf_grow(b, n * 6 + 32);
	o = b->p + b->len;
	*o++ = '"';
#ifdef __SSE2__
	{
		const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
		const __m128i ctl = _mm_set1_epi8(0x1f);

		/* Copy 16 bytes at a time; where one needs escaping, keep the bytes before it,
		 * write its escape, and go on right after it. */
		while (i + 16 <= n) {
			__m128i v = _mm_loadu_si128((const __m128i *)(p + i));
			__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote),
							      _mm_cmpeq_epi8(v, bslash)),
						 _mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v));
			unsigned mask = (unsigned)_mm_movemask_epi8(m);

			_mm_storeu_si128((__m128i *)o, v);
			if (!mask) {
				o += 16;
				i += 16;
				continue;
			}
			unsigned k = (unsigned)__builtin_ctz(mask);

			o = escape_byte(o + k, (unsigned char)p[i + k]);
			i += k + 1;
		}
	}
#else
	while (i + 8 <= n) {
		uint64_t x;

		memcpy(&x, p + i, 8);
		if (needs_escape(x))
			break;
		memcpy(o, &x, 8);
		o += 8;
		i += 8;
	}
#endif
	for (; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (esc[c])
			o = escape_byte(o, c);
		else
			*o++ = (char)c;
	}
	*o++ = '"';
	b->len = (size_t)(o - b->p);
	b->p[b->len] = '\0';
}

void cm_jw_init(cm_jw *w, cm_buf *b)
{
	w->b = b;
	w->depth = 0;
	w->count[0] = 0;
}

/* Before a value: a comma unless it is the first in its container (keys add their own). */
static void sep(cm_jw *w)
{
	if (w->depth > 0 && w->count[w->depth] == 2)
		return;		/* value right after its key */
	if (w->depth > 0 && w->count[w->depth])
		cm_buf_addc(w->b, ',');
	if (w->depth > 0)
		w->count[w->depth] = 1;
}

static void after_value(cm_jw *w)
{
	if (w->depth > 0)
		w->count[w->depth] = 1;
}

static void open(cm_jw *w, char c)
{
	sep(w);
	cm_buf_addc(w->b, c);
	if (w->depth + 1 >= (int)sizeof(w->count))
		cm_die("JSON output nested too deeply");
	w->count[++w->depth] = 0;
}

void cm_jw_obj(cm_jw *w)
{
	open(w, '{');
}

void cm_jw_arr(cm_jw *w)
{
	open(w, '[');
}

void cm_jw_end(cm_jw *w, char close)
{
	cm_buf_addc(w->b, close);
	if (w->depth > 0)
		w->depth--;
	after_value(w);
}

void cm_jw_key(cm_jw *w, const char *key)
{
	if (w->count[w->depth])
		cm_buf_addc(w->b, ',');
	cm_json_escape(w->b, key, strlen(key));
	cm_buf_addc(w->b, ':');
	w->count[w->depth] = 2;
}

void cm_jw_strn(cm_jw *w, const char *s, size_t n)
{
	sep(w);
	cm_json_escape(w->b, s, n);
	after_value(w);
}

void cm_jw_str(cm_jw *w, const char *s)
{
	cm_jw_strn(w, s, strlen(s));
}

/* Decimal digits of v (printf is a tenth of a microsecond a number: records carry dozens). */
static void add_uint(cm_buf *b, unsigned long long v, int negative)
{
	char d[24];
	size_t k = sizeof(d);

	do {
		d[--k] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (negative)
		d[--k] = '-';
	cm_buf_add(b, d + k, sizeof(d) - k);
}

void cm_jw_int(cm_jw *w, long long v)
{
	sep(w);
	add_uint(w->b, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v, v < 0);
	after_value(w);
}

void cm_jw_uint(cm_jw *w, unsigned long long v)
{
	sep(w);
	add_uint(w->b, v, 0);
	after_value(w);
}

/* printf's "%.9g" for finite v, without printf, where the result is certain to be the same:
 * v scaled to nine digits in long double (one rounding, of at most 2^-64 relative, when
 * long double has 64 bits or more of mantissa) is rounded, unless its fraction is within
 * 1e-6 of a half, where only the exact decimal value decides: those, and magnitudes
 * outside 1e-19..1e36, go to printf. Writes at most 24 bytes at o; returns the length. */
static size_t fmt_g9(char *o, double v)
{
	static const long double p10[] = {
		1e0L, 1e1L, 1e2L, 1e3L, 1e4L, 1e5L, 1e6L, 1e7L, 1e8L, 1e9L, 1e10L, 1e11L, 1e12L, 1e13L,
		1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L, 1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L,
		1e26L, 1e27L,
	};
	long double a = fabs(v), sc, fl, frac;
	char d[10], *start = o;
	unsigned long digits;
	int e, len, i;

	if (LDBL_MANT_DIG < 64 || !(a >= 1e-19 && a < 1e36))
		return (size_t)snprintf(o, 25, "%.9g", v);
	e = (int)floor(log10((double)a));
	for (i = 0; i < 2; i++) {	/* log10 may be one off either way */
		if (8 - e > 27 || e - 8 > 27)
			return (size_t)snprintf(o, 25, "%.9g", v);
		sc = 8 - e >= 0 ? a * p10[8 - e] : a / p10[e - 8];
		if (sc < 1e8L)
			e--;
		else if (sc >= 1e9L)
			e++;
		else
			break;
	}
	if (i == 2)
		return (size_t)snprintf(o, 25, "%.9g", v);
	fl = floorl(sc);
	frac = sc - fl;
	if (fabsl(frac - 0.5L) < 1e-6L)
		return (size_t)snprintf(o, 25, "%.9g", v);
	digits = (unsigned long)fl + (frac > 0.5L);
	if (digits == 1000000000UL) {
		digits = 100000000UL;
		e++;
	}
	for (i = 8; i >= 0; i--) {
		d[i] = (char)('0' + digits % 10);
		digits /= 10;
	}
	for (len = 9; len > 1 && d[len - 1] == '0'; len--)
		;
	if (v < 0)
		*o++ = '-';
	if (e >= -4 && e < 9) {
		if (e >= 0) {
			memcpy(o, d, (size_t)e + 1);
			o += e + 1;
			if (len > e + 1) {
				*o++ = '.';
				memcpy(o, d + e + 1, (size_t)(len - e - 1));
				o += len - e - 1;
			}
		} else {
			*o++ = '0';
			*o++ = '.';
			for (i = -1; i > e; i--)
				*o++ = '0';
			memcpy(o, d, (size_t)len);
			o += len;
		}
	} else {
		*o++ = d[0];
		if (len > 1) {
			*o++ = '.';
			memcpy(o, d + 1, (size_t)len - 1);
			o += len - 1;
		}
		*o++ = 'e';
		*o++ = e < 0 ? '-' : '+';
		if (e < 0)
			e = -e;
		if (e >= 10) {
			*o++ = (char)('0' + e / 10);
			*o++ = (char)('0' + e % 10);
		} else {
			*o++ = '0';
			*o++ = (char)('0' + e);
		}
	}
	return (size_t)(o - start);
}

void cm_jw_double(cm_jw *w, double v)
{
	sep(w);
	if (!isfinite(v))
		cm_buf_adds(w->b, "null");
	else if (fabs(v) < 1e15 && v == (double)(long long)v)
		add_uint(w->b, v < 0 ? (unsigned long long)-(long long)v : (unsigned long long)(long long)v,
			 v < 0);
	else {
		char t[32];

		cm_buf_add(w->b, t, fmt_g9(t, v));
	}
	after_value(w);
}

void cm_jw_bool(cm_jw *w, int v)
{
	sep(w);
	cm_buf_adds(w->b, v ? "true" : "false");
	after_value(w);
}

void cm_jw_null(cm_jw *w)
{
	sep(w);
	cm_buf_adds(w->b, "null");
	after_value(w);
}

void cm_jw_raw(cm_jw *w, const char *json, size_t n)
{
	sep(w);
	cm_buf_add(w->b, json, n);
	after_value(w);
}
