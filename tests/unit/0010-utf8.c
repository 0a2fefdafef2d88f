/* 0010-utf8.c - unit tests for libcommon/utf8.c: validation, decoding, encoding, repair. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "utf8.h"

#define S(lit) lit, sizeof(lit) - 1
#define R CM_UTF8_REPLACEMENT

static void test_valid(void)
{
	static const struct {
		const char *s;
		size_t n;
		int valid;
		const char *what;
	} cases[] = {
		{ S(""), 1, "empty" },
		{ S("plain ASCII text, longer than sixteen bytes"), 1, "ASCII" },
		{ S("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), 1, "2, 3 and 4 byte characters" },
		{ S("\xC2\x80\xDF\xBF"), 1, "U+0080 and U+07FF" },
		{ S("\xE0\xA0\x80\xEF\xBF\xBF"), 1, "U+0800 and U+FFFF" },
		{ S("\xED\x9F\xBF\xEE\x80\x80"), 1, "U+D7FF and U+E000 around the surrogates" },
		{ S("\xF0\x90\x80\x80\xF4\x8F\xBF\xBF"), 1, "U+10000 and U+10FFFF" },
		{ S("\x00"), 1, "NUL is valid" },
		{ S("\xC0\x80"), 0, "overlong NUL" },
		{ S("\xC1\xBF"), 0, "overlong 2 byte" },
		{ S("\xE0\x9F\xBF"), 0, "overlong 3 byte" },
		{ S("\xF0\x8F\xBF\xBF"), 0, "overlong 4 byte" },
		{ S("\xED\xA0\x80"), 0, "high surrogate" },
		{ S("\xED\xBF\xBF"), 0, "low surrogate" },
		{ S("\xF4\x90\x80\x80"), 0, "above U+10FFFF" },
		{ S("\xF5\x80\x80\x80"), 0, "lead byte F5" },
		{ S("\xFF"), 0, "byte FF" },
		{ S("\x80"), 0, "lone continuation byte" },
		{ S("abc\xE2\x82"), 0, "truncated at the end" },
		{ S("\xE2\x82\x41"), 0, "continuation replaced by ASCII" },
	};
	char buf[64];
	size_t i, j;
	int all = 1;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(cm_utf8_valid(cases[i].s, cases[i].n), cases[i].valid, "valid: %s", cases[i].what);

	/* a bad byte at every position around the 16-byte fast path */
	for (j = 0; j < 48; j++) {
		memset(buf, 'a', 48);
		buf[j] = (char)0x80;
		if (cm_utf8_valid(buf, 48) || cm_utf8_valid_len(buf, 48) != j)
			all = 0;
		buf[j] = 'a';
		if (!cm_utf8_valid(buf + (j % 8), 48 - (j % 8)))
			all = 0;
	}
	ok(all, "valid_len finds a bad byte at each of 48 positions, at any alignment");
	is_int(cm_utf8_valid_len(S("ab\xC3\xA9\xE2\x82")), 4, "valid_len stops before a cut character");
	is_int(cm_utf8_ascii_len(S("0123456789abcdefghij\xC3\xA9")), 20, "ascii_len");
	is_int(cm_utf8_ascii_len(S("")), 0, "ascii_len of nothing");
}

static void test_decode_encode(void)
{
	uint32_t cp, c;
	char buf[4], *s = buf;	/* a pointer, for tap.h's NULL checks */
	size_t n, k;
	int all = 1;

	n = cm_utf8_decode(S("\xF0\x9F\x98\x80"), &cp);
	ok(n == 4 && cp == 0x1F600, "decode U+1F600");
	n = cm_utf8_decode(S("\xC3\xA9x"), &cp);
	ok(n == 2 && cp == 0xE9, "decode U+00E9");
	n = cm_utf8_decode(S("\xE0\x80\x80"), &cp);
	ok(n == 1 && cp == CM_UTF8_INVALID, "overlong E0 80: subpart of 1");
	n = cm_utf8_decode(S("\xE2\x82"), &cp);
	ok(n == 2 && cp == CM_UTF8_INVALID, "cut E2 82: subpart of 2");
	n = cm_utf8_decode(S("\xF0\x90\x80\x41"), &cp);
	ok(n == 3 && cp == CM_UTF8_INVALID, "F0 90 80 then ASCII: subpart of 3");
	is_int(cm_utf8_decode("", 0, &cp), 0, "decode of nothing");

	is_int(cm_utf8_encode(0x41, s), 1, "encode U+0041 length");
	n = cm_utf8_encode(0x20AC, s);
	is_mem(s, n, "\xE2\x82\xAC", "encode U+20AC");
	n = cm_utf8_encode(0xD800, s);
	is_mem(s, n, R, "encode of a surrogate gives U+FFFD");
	n = cm_utf8_encode(0x110000, s);
	is_mem(s, n, R, "encode above U+10FFFF gives U+FFFD");

	for (c = 0; c <= 0x10FFFF; c++) {
		if (c >= 0xD800 && c <= 0xDFFF)
			continue;
		n = cm_utf8_encode(c, s);
		k = cm_utf8_decode(s, n, &cp);
		if (k != n || cp != c || !cm_utf8_valid(s, n)) {
			all = 0;
			break;
		}
	}
	ok(all, "every scalar value encodes, validates and decodes back");
}

static void test_repair(void)
{
	/* bytes, the replacements made and the text (NULL: not checked) */
	static const struct {
		const char *in;
		size_t len, n;
		const char *n_what, *out, *out_what;
	} t[] = {
		{ S("caf\xC3\xA9"), 0, "repair of valid text replaces nothing", "caf\xC3\xA9", "repair of valid text copies it" },
		/* Unicode 15, table 3-8 */
		{ S("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64"), 6, "table 3-8: six replacements",
		  "a" R R R "b" R "c" R R "d", "table 3-8: maximal subparts" },
		{ S("\xED\xA0\x80"), 3, "surrogate: one replacement per byte", NULL, NULL },
		{ S("\xF4\x90\x80\x80"), 4, "above U+10FFFF: one replacement per byte", NULL, NULL },
		{ S("\xC0\xAF"), 2, "overlong: one replacement per byte", NULL, NULL },
		{ S("ab\xE2\x82"), 1, "cut character: one replacement", "ab" R, "cut character replaced" },
	};
	cm_buf b = CM_BUF_INIT;
	size_t n, i;

	for (i = 0; i < sizeof(t) / sizeof(*t); i++) {
		cm_buf_reset(&b);
		n = cm_utf8_repair(t[i].in, t[i].len, &b);
		is_int(n, t[i].n, "%s", t[i].n_what);
		if (t[i].out)
			is_mem(b.p, b.len, t[i].out, "%s", t[i].out_what);
	}

	cm_buf_reset(&b);
	cm_buf_adds(&b, "x:");
	n = cm_utf8_repair(S("\xFF" "y"), &b);
	ok(n == 1 && b.len == 6 && !memcmp(b.p, "x:" R "y", 6) && b.p[6] == '\0',
	   "repair appends and keeps the NUL");
	cm_buf_free(&b);
}

/* repair must agree with decode, and always give valid UTF-8 */
static void test_repair_random(void)
{
	cm_buf b = CM_BUF_INIT, ref = CM_BUF_INIT;
	char in[300], s[4];
	uint32_t x = 12345, cp;
	size_t i, k, n, bad, refbad;
	int t, all = 1;
	static const unsigned char bytes[] = { 'a', 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC2, 0xDF,
					       0xE0, 0xE1, 0xED, 0xEF, 0xF0, 0xF1, 0xF4, 0xF5, 0xFF };

	for (t = 0; t < 2000; t++) {
		n = t % 300;
		for (i = 0; i < n; i++) {
			x = x * 1103515245 + 12345;
			in[i] = (char)bytes[(x >> 16) % sizeof(bytes)];
		}
		cm_buf_reset(&b);
		cm_buf_reset(&ref);
		bad = cm_utf8_repair(in, n, &b);
		refbad = 0;
		for (i = 0; i < n; i += k) {
			k = cm_utf8_decode(in + i, n - i, &cp);
			if (cp == CM_UTF8_INVALID) {
				refbad++;
				cm_buf_add(&ref, R, 3);
			} else {
				cm_buf_add(&ref, s, cm_utf8_encode(cp, s));
			}
		}
		if (bad != refbad || b.len != ref.len || (b.len && memcmp(b.p, ref.p, b.len)) ||
		    !cm_utf8_valid(b.p, b.len))
			all = 0;
	}
	ok(all, "repair of 2000 random strings matches decode and is valid");
	cm_buf_free(&b);
	cm_buf_free(&ref);
}

int main(void)
{
	test_valid();
	test_decode_encode();
	test_repair();
	test_repair_random();
	return tap_done();
}
