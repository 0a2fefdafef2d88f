/* 1010-http.c - unit tests for warc-extract's HTTP head parser and body decoders. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <brotli/encode.h>
#include <zlib.h>
#include <zstd.h>

#include "http.h"
#include "tap.h"

#define S(lit) lit, sizeof(lit) - 1

static int parse(const char *s, struct http_head *h)
{
	return http_parse(s, strlen(s), h);
}

/* A Common Crawl head (CC-MAIN-2020-34, from resiliparse's warcfile.warc). */
static const char cc_head[] =
	"HTTP/1.1 200 OK\r\n"
	"Server: nginx/1.16.1\r\n"
	"Date: Sat, 08 Aug 2020 18:31:11 GMT\r\n"
	"Content-Type: text/html; charset=windows-1251\r\n"
	"X-Crawler-Transfer-Encoding: chunked\r\n"
	"Connection: keep-alive\r\n"
	"X-Powered-By: PHP/5.6.40\r\n"
	"Expires: Fri, 07 Jun 1974 04:00:00 GMT\r\n"
	"X-Bitrix-Composite: Cache (200)\r\n"
	"X-Crawler-Content-Encoding: gzip\r\n"
	"Content-Length: 104567\r\n"
	"\r\n"
	"<!DOCTYPE html>\r\n";

/* Lower-case headers as HTTP/2 delivers them (CC-MAIN-2024-22, whirlwind.warc, shortened). */
static const char cc2_head[] =
	"HTTP/1.1 200 OK\r\n"
	"date: Sat, 18 May 2024 01:58:10 GMT\r\n"
	"x-content-type-options: nosniff\r\n"
	"accept-ch: \r\n"
	"content-type: text/html; charset=UTF-8\r\n"
	"X-Crawler-content-encoding: gzip\r\n"
	"set-cookie: WMF-DP=1a6;Path=/;HttpOnly;secure;Expires=Sat, 18 May 2024 00:00:00 GMT\r\n"
	"X-Crawler-transfer-encoding: chunked\r\n"
	"Content-Length: 72848\r\n"
	"\r\n"
	"<!DOCTYPE html>\n";

static void test_parse_real(void)
{
	struct http_head h;
	size_t n = sizeof(cc_head) - 1;

	is_int(http_parse(cc_head, n, &h), 0, "CC head parses");
	is_int(h.status, 200, "CC head: status");
	is_int(h.version, 11, "CC head: version");
	is_int(h.body_off, n - 17, "CC head: body offset");
	is_mem(h.content_type, h.content_type_len, "text/html; charset=windows-1251", "CC head: Content-Type value");
	is_str(h.mime, "text/html", "CC head: MIME type");
	is_str(h.charset, "windows-1251", "CC head: charset");
	is_int(h.crawler, HTTP_CRAWLER_TE | HTTP_CRAWLER_CE, "CC head: X-Crawler-Transfer/Content-Encoding seen");
	ok(!h.transfer_encoding && !h.content_encoding, "CC head: no live codings");
	ok(!http_is_chunked(&h) && !http_is_encoded(&h), "CC head: nothing to undo");

	n = sizeof(cc2_head) - 1;
	is_int(http_parse(cc2_head, n, &h), 0, "lower-case head parses");
	is_str(h.mime, "text/html", "lower-case head: MIME type");
	is_str(h.charset, "utf-8", "lower-case head: charset lower-cased");
	is_int(h.crawler, HTTP_CRAWLER_TE | HTTP_CRAWLER_CE, "lower-case head: mixed-case X-Crawler- names");
	is_mem(cc2_head + h.body_off, n - h.body_off, "<!DOCTYPE html>\n", "lower-case head: body");

	is_int(parse("HTTP/1.1 200 OK\r\nX-Crawler-Content-Length: 5\r\nContent-Encoding: gzip\r\n\r\n", &h), 0,
	       "X-Crawler-Content-Length head parses");
	ok(h.crawler == HTTP_CRAWLER_CL && http_is_encoded(&h), "X-Crawler-Content-Length alone: still encoded");
}

static void test_parse_status(void)
{
	struct http_head h;

	ok(parse("HTTP/2 200\r\ncontent-type: text/html; charset=utf-8\r\n\r\nx", &h) == 0 &&
	   h.status == 200 && h.version == 20 && !strcmp(h.charset, "utf-8"), "HTTP/2 200 without reason");
	ok(parse("HTTP/2.0 301 Moved\r\n\r\n", &h) == 0 && h.status == 301 && h.version == 20, "HTTP/2.0");
	ok(parse("HTTP/1.0 404 Not Found\n\n", &h) == 0 && h.status == 404 && h.version == 10, "HTTP/1.0, LF only");
	ok(parse("HTTP/1.1 503\r\n\r\n", &h) == 0 && h.status == 503, "missing reason phrase");
	ok(parse("HTTP/1.1 200 \r\n\r\n", &h) == 0 && h.status == 200, "empty reason phrase");
	ok(parse("http/1.1 200 ok\r\n\r\n", &h) == 0 && h.status == 200, "lower-case protocol name");
	ok(parse("HTTP/1.1 200", &h) == 0 && h.status == 200 && h.body_off == 12, "status line alone, no line end");

	is_int(parse("", &h), -1, "empty block is not HTTP");
	is_int(parse("<html><body>hi", &h), -1, "HTML is not an HTTP head");
	is_int(parse("GET / HTTP/1.1\r\n\r\n", &h), -1, "a request is not a response");
	is_int(parse("HTTP/1.1 20\r\n\r\n", &h), -1, "two-digit status");
	is_int(parse("HTTP/1.1 2000 OK\r\n\r\n", &h), -1, "four-digit status");
	is_int(parse("HTTP/1.1 099 X\r\n\r\n", &h), -1, "status below 100");
	is_int(parse("HTTP/x.1 200 OK\r\n\r\n", &h), -1, "bad version");
	is_int(parse("HTTP/1.1200 OK\r\n\r\n", &h), -1, "no space before the status");
	is_int(parse("HTTP/1.", &h), -1, "cut status line");
}

static void test_parse_headers(void)
{
	struct http_head h;
	static const char mixed[] = "HTTP/1.1 200 OK\r\nServer: x\nCONTENT-TYPE:text/plain;charset=ISO-8859-1\r\n"
				    "\nbody\r\n";
	static const char noend[] = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nServer: x";
	static const char folded[] = "HTTP/1.1 200 OK\r\nContent-Type: text/html;\r\n\tcharset=\"Shift_JIS\"\r\n"
				     "Transfer-Encoding: gzip,\r\n chunked\r\n\r\n";
	char big[HTTP_HEAD_MAX + 1000], *p;
	size_t i;

	ok(http_parse(S(mixed), &h) == 0 && h.body_off == sizeof(mixed) - 7, "mixed CRLF and LF: body offset");
	is_str(h.mime, "text/plain", "upper-case name, no space after the colon: MIME");
	is_str(h.charset, "iso-8859-1", "upper-case name, no space after the colon: charset");
	is_mem(h.content_type, h.content_type_len, "text/plain;charset=ISO-8859-1", "Content-Type value trimmed");

	ok(http_parse(S(noend), &h) == 0 && h.body_off == sizeof(noend) - 1, "head without blank line: empty body");
	is_str(h.mime, "text/html", "head without blank line: last headers still read");

	is_int(http_parse(S(folded), &h), 0, "folded head parses");
	is_str(h.charset, "shift_jis", "folded Content-Type: charset from the continuation line");
	ok(http_is_chunked(&h), "folded Transfer-Encoding: gzip, chunked ends in chunked");

	ok(parse("HTTP/1.1 200 OK\r\nContent-Type : text/html ; charset = 'koi8-r' \r\n\r\n", &h) == 0 &&
	   !strcmp(h.mime, "text/html") && !strcmp(h.charset, "koi8-r"), "blanks around colon, =, single quotes");
	ok(parse("HTTP/1.1 200 OK\r\nContent-Type: text/html; Charset=\"gb2312\"; x=y\r\n\r\n", &h) == 0 &&
	   !strcmp(h.charset, "gb2312"), "quoted charset among parameters");
	ok(parse("HTTP/1.1 200 OK\r\nContent-Type: TEXT/HTML; format=flowed\r\n\r\n", &h) == 0 &&
	   !strcmp(h.mime, "text/html") && h.charset[0] == '\0', "no charset parameter");
	/* real (resiliparse warcfile.warc): the second header drops the charset of the first */
	ok(parse("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 15261\r\n"
		 "Content-Type: text/html\r\n\r\n", &h) == 0 && !strcmp(h.charset, "utf-8") &&
	   h.content_type_len == 9, "repeated Content-Type of the same type keeps the charset");
	ok(parse("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
		 "Content-Type: text/html\r\n\r\n", &h) == 0 && !strcmp(h.mime, "text/html") && h.charset[0] == '\0',
	   "a different type resets the charset");
	ok(parse("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=big5\r\nContent-Type: nonsense\r\n\r\n", &h) == 0 &&
	   !strcmp(h.charset, "big5") && h.content_type_len == 23, "an invalid Content-Type is ignored");
	ok(parse("HTTP/1.1 200 OK\r\nContent-Type: text/html, text/html; charset=euc-jp\r\n\r\n", &h) == 0 &&
	   !strcmp(h.charset, "euc-jp"), "comma-joined Content-Type values");
	ok(parse("HTTP/1.1 200 OK\r\nno colon here\r\n: empty name\r\nContent-Type: text/html\r\n\r\n", &h) == 0 &&
	   !strcmp(h.mime, "text/html"), "junk header lines are skipped");
	ok(parse("HTTP/1.1 200 OK\r\n folded first line\r\nContent-Encoding: br\r\n\r\n", &h) == 0 &&
	   http_is_encoded(&h), "continuation without a header before it is skipped");

	memset(big, 0, sizeof(big));
	memcpy(big, "HTTP/1.1 200 OK\r\nX: \0\xff\r\nContent-Type: text/html\r\n\r\n", 49);
	ok(http_parse(big, 49, &h) == 0 && !strcmp(h.mime, "text/html"), "binary bytes in a header value");

	p = big;
	p += sprintf(p, "HTTP/1.1 200 OK\r\n");
	for (i = 0; p - big < HTTP_HEAD_MAX + 100; i++)
		p += sprintf(p, "X-Filler-%zu: %0100d\r\n", i, 0);
	p += sprintf(p, "\r\nbody");
	is_int(http_parse(big, (size_t)(p - big), &h), -2, "head over 64 KiB is an error");
	ok(http_parse(big, 1000, &h) == 0 && h.body_off == 1000, "its first 1000 bytes: head cut by the block end");
	memset(big + 17, 'x', sizeof(big) - 17);
	is_int(http_parse(big, sizeof(big), &h), -2, "64 KiB line without a line end is an error");

	{
		static const char pre[] = "HTTP/1.1 200 OK\r\nContent-Type: a/";
		char head[400];
		size_t k = sizeof(pre) - 1;

		memcpy(head, pre, k);
		memset(head + k, 'b', 250);
		memcpy(head + k + 250, "; charset=", 10);
		memset(head + k + 260, 'c', 30);
		memcpy(head + k + 290, "\r\n\r\n", 4);
		ok(http_parse(head, k + 294, &h) == 0 && strlen(h.mime) == sizeof(h.mime) - 1 &&
		   !memcmp(h.mime, "a/bbb", 5) && strlen(h.charset) == 30, "a long MIME type is truncated");
		memset(head + k + 260, 'c', 60);
		memcpy(head + k + 320, "\r\n\r\n", 4);
		ok(http_parse(head, k + 324, &h) == 0 && strlen(h.charset) == sizeof(h.charset) - 1,
		   "a long charset is truncated");
	}

	ok(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n", &h) == 0 && http_is_chunked(&h),
	   "Transfer-Encoding: Chunked");
	ok(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", &h) == 0 && !http_is_chunked(&h),
	   "chunked not last is not chunked framing");
	ok(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Crawler-Transfer-Encoding: chunked\r\n\r\n",
		 &h) == 0 && !http_is_chunked(&h), "X-Crawler-Transfer-Encoding wins over Transfer-Encoding");
	ok(parse("HTTP/1.1 200 OK\r\nContent-Encoding: identity\r\n\r\n", &h) == 0 && !http_is_encoded(&h),
	   "Content-Encoding: identity needs no decoding");
	ok(parse("HTTP/1.1 200 OK\r\nContent-Encoding: GZIP\r\n\r\n", &h) == 0 && http_is_encoded(&h) &&
	   h.content_encoding_len == 4, "Content-Encoding: GZIP");
}

/* b holds exactly want (and the NUL that cm_buf keeps after it) */
static int holds(const cm_buf *b, const char *want)
{
	return b->len == strlen(want) && (!b->len || (!memcmp(b->p, want, b->len) && b->p[b->len] == '\0'));
}

static void test_dechunk(void)
{
	/* a body, what http_dechunk returns for it (0 whole, 1 cut short or malformed midway, 2 not
	 * chunked: copied unchanged, -1 over max_out) and the bytes it gives (NULL: the body) */
	static const struct {
		const char *in, *out;
		int r;
		size_t max_out;		/* 0: none */
		const char *what;
	} t[] = {
		{ "4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n", "Wikipedia", 0, 0, "plain chunks" },
		{ "4;name=value\r\nWiki\r\n5 ; x=\"y\"\r\npedia\r\n0\r\nExpires: never\r\nX-T: 1\r\n\r\n", "Wikipedia", 0, 0,
		  "chunk extensions and trailers" },
		{ "4\nWiki\n5\r\npedia\n0\n\n", "Wikipedia", 0, 0, "LF-only and mixed line ends" },
		{ "0000A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n", "0123456789abcdefghij", 0, 0,
		  "hex digits in both cases, leading zeros, no final CRLF" },
		{ "0\r\n\r\n", "", 0, 0, "empty chunked body" },

		{ "4\r\nWiki\r\n5\r\nped", "Wikiped", 1, 0, "truncated inside the data" },
		{ "4\r\nWiki\r\n5", "Wiki", 1, 0, "truncated inside a size line" },
		{ "4\r\nWiki\r\n", "Wiki", 1, 0, "truncated before the last chunk" },
		{ "4\r\nWiki", "Wiki", 1, 0, "truncated right after the data" },
		{ "4\r\nWiki\r\n3\r\npedia\r\n0\r\n\r\n", "Wikiped", 1, 0, "wrong size in the second chunk: malformed midway" },
		{ "4\r\nWiki\r\nzz\r\n", "Wiki", 1, 0, "garbage size line midway" },

		{ "<!doctype html>\n<p>hi", NULL, 2, 0, "not chunked: copied unchanged" },
		{ "4\r\nWikiXX\r\n0\r\n\r\n", NULL, 2, 0, "first chunk not followed by a line end: not chunked" },
		{ "ffffffffffffffffffff\r\nx", NULL, 2, 0, "chunk size overflow: not chunked" },
		{ "face", NULL, 2, 0, "hex word without a line end: not chunked" },
		{ "", NULL, 2, 0, "empty body: nothing" },

		{ "4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n", "Wikipe", -1, 6, "max_out: cut at the limit" },
		{ "4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n", "Wikipedia", 0, 9, "max_out equal to the size is fine" },
		{ "hello", "hel", -1, 3, "max_out applies to an unchanged copy" },
	};
	cm_buf b = CM_BUF_INIT;
	size_t i;
	int r;

	for (i = 0; i < sizeof(t) / sizeof(*t); i++) {
		cm_buf_reset(&b);
		r = http_dechunk(t[i].in, strlen(t[i].in), &b, t[i].max_out ? t[i].max_out : SIZE_MAX);
		ok(r == t[i].r && holds(&b, t[i].out ? t[i].out : t[i].in), "%s", t[i].what);
	}
	cm_buf_reset(&b);
	cm_buf_adds(&b, "head|");
	r = http_dechunk(S("3\r\nabc\r\n0\r\n\r\n"), &b, 3);
	ok(r == 0 && !strcmp(b.p, "head|abc"), "appends; max_out counts only new bytes");
	cm_buf_free(&b);
}

/* Compress s with zlib: wbits 31 gzip, 15 zlib, -15 raw. */
static size_t zpack(const char *s, size_t n, char *dst, size_t cap, int wbits)
{
	z_stream z;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return 0;
	z.next_in = (Bytef *)s;
	z.avail_in = (uInt)n;
	z.next_out = (Bytef *)dst;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		z.total_out = 0;
	deflateEnd(&z);
	return z.total_out;
}

static int decode(const char *coding, const char *p, size_t n, cm_buf *b, size_t max_out)
{
	cm_buf_reset(b);
	return http_decode(coding, coding ? strlen(coding) : 0, p, n, b, max_out);
}

static void test_decode(void)
{
	static const char text[] = "<html><body><p>Hello, compressed world! Hello, compressed world!</p></body></html>\n";
	size_t tn = sizeof(text) - 1, zn, zn2, i;
	char *z = malloc(1 << 16), *big = calloc(1, 1 << 24), *zbig = malloc(1 << 20);
	cm_buf b = CM_BUF_INIT;
	int r, all;

	zn = zpack(text, tn, z, 1 << 16, 31);
	r = decode("gzip", z, zn, &b, SIZE_MAX);
	ok(r == 0 && b.len == tn && !memcmp(b.p, text, tn), "gzip");
	r = decode(" X-GZip ", z, zn, &b, SIZE_MAX);
	ok(r == 0 && b.len == tn, "x-gzip, any case, blanks");
	r = decode("identity, gzip", z, zn, &b, SIZE_MAX);
	ok(r == 0 && b.len == tn, "identity in a list is skipped");
	zn2 = zpack("second member\n", 14, z + zn, (1 << 16) - zn, 31);
	r = decode("gzip", z, zn + zn2, &b, SIZE_MAX);
	ok(r == 0 && b.len == tn + 14 && !memcmp(b.p + tn, "second member\n", 14), "gzip with two members");
	memset(z + zn + zn2, 0, 8);
	r = decode("gzip", z, zn + zn2 + 8, &b, SIZE_MAX);
	ok(r == 0 && b.len == tn + 14, "zero padding after the last member is ignored");
	r = decode("gzip", z, zn - 9, &b, SIZE_MAX);
	ok(r == 1 && b.len <= tn && !memcmp(b.p, text, b.len), "truncated gzip: 1 and a correct prefix");
	r = decode("gzip", z, 5, &b, SIZE_MAX);
	ok(r == 1 && b.len == 0, "gzip cut inside its header");
	z[zn / 2] ^= 0x55;
	z[zn / 2 + 1] ^= 0x55;
	r = decode("gzip", z, zn, &b, SIZE_MAX);
	ok(r == 1, "corrupt gzip: 1");
	r = decode("gzip", S("<html>plain, not gzip</html>"), &b, SIZE_MAX);
	ok(r == 2 && !strcmp(b.p, "<html>plain, not gzip</html>"), "gzip declared on a plain body: copied, 2");
	r = decode("gzip", "", 0, &b, SIZE_MAX);
	ok(r == 0 && b.len == 0, "empty gzip body");

	zn = zpack(text, tn, z, 1 << 16, 15);
	r = decode("deflate", z, zn, &b, SIZE_MAX);
	ok(r == 0 && b.len == tn && !memcmp(b.p, text, tn), "deflate, zlib-wrapped");
	zn = zpack(text, tn, z, 1 << 16, -15);
	r = decode("deflate", z, zn, &b, SIZE_MAX);
	ok(r == 0 && b.len == tn && !memcmp(b.p, text, tn), "deflate, raw");
	r = decode("deflate", z, zn - 3, &b, SIZE_MAX);
	ok(r == 1 && !memcmp(b.p, text, b.len), "truncated raw deflate");
	r = decode("deflate", S("\x78\x01\x00\xFE\xFF\x41\x03\x00"), &b, SIZE_MAX);
	ok(r == 0 && !strcmp(b.p, "A"), "raw deflate that starts like a zlib header");

	zn = 1 << 16;
	ok(BrotliEncoderCompress(5, 22, BROTLI_MODE_TEXT, tn, (const uint8_t *)text, &zn, (uint8_t *)z), "brotli encoder");
	r = decode("br", z, zn, &b, SIZE_MAX);
	ok(r == 0 && b.len == tn && !memcmp(b.p, text, tn), "br");
	r = decode("br", z, zn - 2, &b, SIZE_MAX);
	ok(r == 1, "truncated br");
	r = decode("br", S("not brotli at all, no"), &b, SIZE_MAX);
	ok(r == 1, "corrupt br");

	zn = ZSTD_compress(z, 1 << 16, text, tn, 3);
	zn2 = ZSTD_compress(z + zn, (1 << 16) - zn, "frame two", 9, 3);
	r = decode("zstd", z, zn, &b, SIZE_MAX);
	ok(r == 0 && b.len == tn && !memcmp(b.p, text, tn), "zstd");
	r = decode("zstd", z, zn + zn2, &b, SIZE_MAX);
	ok(r == 0 && b.len == tn + 9 && !memcmp(b.p + tn, "frame two", 9), "zstd, two frames");
	r = decode("zstd", z, zn - 4, &b, SIZE_MAX);
	ok(r == 1, "truncated zstd");
	r = decode("zstd", S("plain text"), &b, SIZE_MAX);
	ok(r == 1, "not zstd");

	r = decode("identity", S("as is"), &b, SIZE_MAX);
	ok(r == 0 && !strcmp(b.p, "as is"), "identity");
	r = decode(NULL, S("as is"), &b, SIZE_MAX);
	ok(r == 0 && !strcmp(b.p, "as is"), "no coding");
	cm_buf_reset(&b);
	cm_buf_adds(&b, "keep");
	r = http_decode(S("compress"), S("x"), &b, SIZE_MAX);
	ok(r == -2 && !strcmp(b.p, "keep"), "unknown coding: -2, out untouched");
	r = decode("gzip, br", S("x"), &b, SIZE_MAX);
	is_int(r, -2, "stacked codings: -2");

	/* bomb guard: 16 MiB of zeros in every coding, allowed 1 MiB */
	zn = zpack(big, 1 << 24, zbig, 1 << 20, 31);
	r = decode("gzip", zbig, zn, &b, 1 << 20);
	for (all = 1, i = 0; i < b.len; i++)
		all &= b.p[i] == 0;
	ok(r == -1 && b.len == 1 << 20 && all && b.p[b.len] == '\0', "gzip bomb: -1, cut at max_out");
	r = decode("gzip", zbig, zn, &b, 1 << 24);
	ok(r == 0 && b.len == 1 << 24, "gzip: max_out equal to the size is fine");
	r = decode("gzip", zbig, zn, &b, (1 << 24) - 1);
	ok(r == -1 && b.len == (1 << 24) - 1, "gzip: one byte over max_out is too much");
	zn = zpack(big, 1 << 24, zbig, 1 << 20, -15);
	r = decode("deflate", zbig, zn, &b, 1 << 20);
	ok(r == -1 && b.len == 1 << 20, "deflate bomb");
	zn = 1 << 20;
	BrotliEncoderCompress(1, 22, BROTLI_MODE_GENERIC, 1 << 24, (const uint8_t *)big, &zn, (uint8_t *)zbig);
	r = decode("br", zbig, zn, &b, 1 << 20);
	ok(r == -1 && b.len == 1 << 20, "br bomb");
	zn = ZSTD_compress(zbig, 1 << 20, big, 1 << 24, 1);
	r = decode("zstd", zbig, zn, &b, 1 << 20);
	ok(r == -1 && b.len == 1 << 20, "zstd bomb");
	r = decode("zstd", zbig, zn, &b, 1 << 24);
	ok(r == 0 && b.len == 1 << 24, "zstd: max_out equal to the size is fine");
	r = decode("identity", S("0123456789"), &b, 4);
	ok(r == -1 && !strcmp(b.p, "0123"), "identity over max_out");
	r = decode("gzip", S("not gzip"), &b, 3);
	ok(r == -1 && !strcmp(b.p, "not"), "plain copy for bad gzip magic over max_out");

	/* a big incompressible-ish body grows the buffer many times */
	for (i = 0; i < 1 << 22; i++)
		big[i] = (char)('a' + (i * 2654435761u >> 20) % 26);
	zn = zpack(big, 1 << 22, zbig, 1 << 20, 31);
	cm_buf_reset(&b);
	cm_buf_adds(&b, "prefix");
	r = http_decode(S("gzip"), zbig, zn, &b, SIZE_MAX);
	ok(zn && r == 0 && b.len == 6 + (1 << 22) && !memcmp(b.p + 6, big, 1 << 22), "4 MiB gzip appended after a prefix");
	cm_buf_free(&b);
	free(z);
	free(big);
	free(zbig);
}

static void test_mime(void)
{
	ok(http_mime_is_html("text/html"), "text/html is HTML");
	ok(http_mime_is_html("application/xhtml+xml"), "application/xhtml+xml is HTML");
	ok(http_mime_is_html("Text/HTML"), "any case");
	ok(!http_mime_is_html("text/plain"), "text/plain is not HTML");
	ok(!http_mime_is_html("text/htmlx"), "text/htmlx is not HTML");
	ok(!http_mime_is_html(""), "empty is not HTML");
}

int main(void)
{
	test_parse_real();
	test_parse_status();
	test_parse_headers();
	test_dechunk();
	test_decode();
	test_mime();
	http_free();
	return tap_done();
}
