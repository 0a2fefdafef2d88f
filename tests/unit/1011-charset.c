/* 1011-charset.c - unit tests for warc-extract's charset detection and conversion to UTF-8. */
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "extract.h"
#include "tap.h"
#include "utf8.h"

#define S(lit) lit, sizeof(lit) - 1
#define R CM_UTF8_REPLACEMENT

static void test_labels(void)
{
	static const char *const cases[][2] = {
		{ "utf-8", "utf-8" }, { "UTF8", "utf-8" }, { "unicode-1-1-utf-8", "utf-8" }, { " Utf-8\t", "utf-8" },
		{ "iso-8859-1", "windows-1252" }, { "ISO_8859-1:1987", "windows-1252" }, { "latin1", "windows-1252" },
		{ "us-ascii", "windows-1252" }, { "ascii", "windows-1252" }, { "cp1252", "windows-1252" },
		{ "windows-1252", "windows-1252" }, { "l1", "windows-1252" },
		{ "gb2312", "gb18030" }, { "GBK", "gb18030" }, { "x-gbk", "gb18030" }, { "gb18030", "gb18030" },
		{ "cp936", "gb18030" },
		{ "Shift_JIS", "cp932" }, { "shift-jis", "cp932" }, { "sjis", "cp932" }, { "windows-31j", "cp932" },
		{ "x-sjis", "cp932" }, { "ms_kanji", "cp932" },
		{ "EUC-JP", "euc-jp" }, { "x-euc-jp", "euc-jp" }, { "iso-2022-jp", "iso-2022-jp" },
		{ "euc-kr", "cp949" }, { "ks_c_5601-1987", "cp949" }, { "korean", "cp949" },
		{ "big5", "big5-hkscs" }, { "x-x-big5", "big5-hkscs" },
		{ "koi8-r", "koi8-r" }, { "koi8", "koi8-r" }, { "koi8-u", "koi8-u" },
		{ "windows-1251", "windows-1251" }, { "cp1251", "windows-1251" }, { "x-cp1251", "windows-1251" },
		{ "windows-1250", "windows-1250" }, { "windows-1256", "windows-1256" }, { "windows-1258", "windows-1258" },
		{ "iso-8859-9", "windows-1254" }, { "latin5", "windows-1254" }, { "tis-620", "windows-874" },
		{ "iso-8859-11", "windows-874" }, { "iso-8859-2", "iso-8859-2" }, { "latin2", "iso-8859-2" },
		{ "iso8859-5", "iso-8859-5" }, { "cyrillic", "iso-8859-5" }, { "greek", "iso-8859-7" },
		{ "iso-8859-8-i", "iso-8859-8" }, { "iso-8859-15", "iso-8859-15" }, { "l9", "iso-8859-15" },
		{ "iso-8859-16", "iso-8859-16" }, { "ibm866", "ibm866" }, { "mac", "macintosh" },
		{ "x-mac-cyrillic", "mac-cyrillic" },
		{ "utf-16", "utf-16le" }, { "UTF-16LE", "utf-16le" }, { "utf-16be", "utf-16be" },
		{ "unicode", "utf-16le" },
	};
	static const char *const canon[] = {
		"utf-8", "utf-16le", "utf-16be", "ibm866", "iso-8859-2", "iso-8859-3", "iso-8859-4", "iso-8859-5",
		"iso-8859-6", "iso-8859-7", "iso-8859-8", "iso-8859-10", "iso-8859-13", "iso-8859-14",
		"iso-8859-15", "iso-8859-16", "koi8-r", "koi8-u", "macintosh", "windows-874", "windows-1250",
		"windows-1251", "windows-1252", "windows-1253", "windows-1254", "windows-1255", "windows-1256",
		"windows-1257", "windows-1258", "mac-cyrillic", "gb18030", "big5-hkscs", "euc-jp", "iso-2022-jp",
		"cp932", "cp949", "euc-tw", "ibm855",
	};
	size_t i;
	int all = 1, opens = 1;
	iconv_t cd;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_str(charset_canonical(cases[i][0], strlen(cases[i][0])), cases[i][1], "label %s", cases[i][0]);
	for (i = 0; i < sizeof(canon) / sizeof(canon[0]); i++) {
		const char *c = charset_canonical(canon[i], strlen(canon[i]));

		if (!c || strcmp(c, canon[i]))
			all = 0;
		cd = iconv_open("UTF-8", canon[i]);
		if (cd == (iconv_t)-1)
			opens = 0;
		else
			iconv_close(cd);
	}
	ok(all, "every canonical name is its own label");
	ok(opens, "iconv knows every canonical name");
	ok(!charset_canonical(S("x-bogus")), "unknown label");
	ok(!charset_canonical(S("")), "empty label");
	ok(!charset_canonical(S("replacement")), "WHATWG replacement labels are unknown");
	ok(!charset_canonical(S("utf-8utf-8utf-8utf-8utf-8utf-8utf-8")), "overlong label");
	ok(!charset_canonical(S("utf-")), "prefix of a label");
}

static const char *detect(const char *http, const char *p, size_t n, int *src)
{
	return charset_detect(http, p, n, src);
}

static void test_detect(void)
{
	/* an HTTP charset, a page, the charset found and where, by the names warc-extract writes in
	 * metadata.warc.charset_source */
	static const struct {
		const char *http, *page;
		size_t len;
		const char *want, *src;
		const char *what;
	} t[] = {
		{ "windows-1251", S("<meta charset=utf-8>"), "windows-1251", "http", "HTTP charset before meta" },
		{ "iso-8859-1", S("plain caf\xE9"), "windows-1252", "http", "HTTP iso-8859-1 is windows-1252" },
		{ "iso-8859-1", S("<meta charset=utf-8>caf\xC3\xA9"), "utf-8", "detector", "HTTP legacy charset on valid non-ASCII UTF-8: utf-8" },
		{ NULL, S("<meta charset=gbk>caf\xC3\xA9"), "utf-8", "detector", "meta legacy charset on valid non-ASCII UTF-8: utf-8" },
		{ "windows-1251", S("<p>plain ASCII</p>"), "windows-1251", "http", "HTTP charset on pure ASCII stays" },
		{ "x-unknown", S("<meta charset=\"gb2312\">"), "gb18030", "meta", "unknown HTTP charset falls through to meta" },
		{ "", S("<meta charset=\"koi8-r\">"), "koi8-r", "meta", "empty HTTP charset falls through" },
		{ "windows-1251", S("\xEF\xBB\xBF<p>caf\xC3\xA9"), "utf-8", "bom", "UTF-8 BOM beats the HTTP charset" },
		{ NULL, S("\xFF\xFE<\0p\0"), "utf-16le", "bom", "UTF-16LE BOM" },
		{ NULL, S("\xFE\xFF\0<\0p"), "utf-16be", "bom", "UTF-16BE BOM" },
		{ NULL, S("<html><head><META CHARSET=Shift_JIS></head>"), "cp932", "meta", "<META CHARSET=...> unquoted, upper case" },
		{ NULL, S("<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\" />"), "windows-1251", "meta", "http-equiv then content" },
		{ NULL, S("<meta content='text/html;charset=gbk' http-equiv='content-type'>"), "gb18030", "meta", "content then http-equiv, single quotes" },
		{ NULL, S("<META http-equiv=Content-Type content=\"text/html; charset = 'euc-jp'\">"), "euc-jp", "meta", "blanks and quotes inside content" },
		{ NULL, S("<meta/charset=big5>"), "big5-hkscs", "meta", "<meta/charset=...>" },
		{ NULL, S("<meta name=\"description\" content=\"about charset=koi8-r\">x"), "utf-8", "default", "content without http-equiv is not a declaration" },
		{ NULL, S("<!-- <meta charset=\"koi8-r\"> --><meta charset=\"iso-8859-2\">"), "iso-8859-2", "meta", "meta inside a comment is skipped" },
		{ NULL, S("<meta charset=\"x-klingon\"><meta charset=\"euc-kr\">"), "cp949", "meta", "unknown meta label: the next meta counts" },
		{ NULL, S("<meta charset=\"utf-16\">"), "utf-8", "meta", "meta utf-16 means utf-8" },
		{ NULL, S("<meta http-equiv=content-type content=\"text/html; charset=koi8-r\" charset=gbk>"), "gb18030", "meta", "charset attribute beats content" },
		{ NULL, S("<metadata charset=gbk><meta charset=koi8-r>"), "koi8-r", "meta", "<metadata> is not <meta>" },
		{ NULL, S("<meta charset=koi8-r"), "utf-8", "default", "tag cut by the end of the input" },
		{ NULL, S("<meta charset=\"gbk"), "utf-8", "default", "unterminated quote" },
		{ NULL, S("<!-- <meta charset=gbk>"), "utf-8", "default", "unterminated comment" },
		{ NULL, S("<p>caf\xC3\xA9 na\xC3\xAFve</p>"), "utf-8", "detector", "valid non-ASCII UTF-8 is detected" },
		{ NULL, S("<p>plain ASCII</p>"), "utf-8", "default", "pure ASCII gets the default" },
		{ NULL, S(""), "utf-8", "default", "empty page gets the default" },
	};
	int src;
	const char *c;
	char *big;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(*t); i++) {
		c = detect(t[i].http, t[i].page, t[i].len, &src);
		ok(!strcmp(c, t[i].want) && !strcmp(wx_charset_sources[src], t[i].src), "%s", t[i].what);
	}

	big = malloc(CHARSET_META_SCAN + 100);
	memset(big, ' ', CHARSET_META_SCAN + 100);
	memcpy(big + CHARSET_META_SCAN - 20, "<meta charset=koi8-r>", 21);
	c = detect(NULL, big, CHARSET_META_SCAN + 100, &src);
	ok(src != CHARSET_SRC_META, "meta past the scan window is not seen");
	memcpy(big + CHARSET_META_SCAN - 30, "<meta charset=koi8-r>", 21);
	c = detect(NULL, big, CHARSET_META_SCAN + 100, &src);
	ok(!strcmp(c, "koi8-r") && src == CHARSET_SRC_META, "meta inside the scan window is seen");
	free(big);
	ok(!strcmp(detect(NULL, S("x"), NULL), "utf-8"), "source may be NULL");
}

/* UTF-8 text converted to charset with iconv, for test input. */
static size_t encode_as(const char *charset, const char *utf8, char *out, size_t cap)
{
	iconv_t cd = iconv_open(charset, "UTF-8");
	char *in = (char *)utf8, *o = out;
	size_t inleft = strlen(utf8), oleft = cap;

	if (cd == (iconv_t)-1)
		return 0;
	if (iconv(cd, &in, &inleft, &o, &oleft) == (size_t)-1)
		o = out;
	iconv_close(cd);
	return (size_t)(o - out);
}

static const char russian[] =
	"<html><head><title>Новости</title></head><body>\n"
	"<p>Москва - столица России, город федерального значения, административный центр "
	"Центрального федерального округа и центр Московской области, в состав которой не входит. "
	"Крупнейший по численности населения город России и её субъект - 13 010 112 человек, "
	"самый населённый из городов, полностью расположенных в Европе, занимает 22 место среди "
	"городов мира по численности населения, крупнейший русскоязычный город в мире.</p>\n"
	"<p>Центр Московской городской агломерации. Историческая столица Великого княжества "
	"Московского, Русского царства, Российской империи (в 1728-1730 годах), Советской России "
	"и СССР. Город-герой. В Москве находятся федеральные органы государственной власти "
	"Российской Федерации (за исключением Конституционного суда), посольства иностранных "
	"государств, штаб-квартиры большинства крупнейших российских коммерческих организаций "
	"и общественных объединений.</p></body></html>\n";

static const char chinese[] =
	"<html><body><p>北京市，简称京，是中华人民共和国的首都，是全国的政治中心、文化中心，"
	"是世界著名古都和现代化国际城市。北京位于华北平原的北部，背靠燕山，毗邻天津市和河北省。"
	"北京是一座有三千余年建城历史、八百六十余年建都史的历史文化名城，拥有众多历史名胜古迹"
	"和人文景观。</p></body></html>\n";

static void test_detector(void)
{
	char in[8192];
	size_t n;
	int src;
	const char *c;

	n = encode_as("WINDOWS-1251", russian, in, sizeof(in));
	c = detect(NULL, in, n, &src);
	ok(n > 900 && !strcmp(c, "windows-1251") && src == CHARSET_SRC_DETECTOR,
	   "uchardet finds windows-1251 in Russian text");
	n = encode_as("GB2312", chinese, in, sizeof(in));
	c = detect(NULL, in, n, &src);
	ok(n > 200 && !strcmp(c, "gb18030") && src == CHARSET_SRC_DETECTOR, "uchardet finds gb18030 in Chinese text");
	n = encode_as("KOI8-R", russian, in, sizeof(in));
	c = detect(NULL, in, n, &src);
	ok(n > 900 && !strcmp(c, "koi8-r") && src == CHARSET_SRC_DETECTOR, "uchardet finds koi8-r");
}

static int conv(const char *charset, const char *p, size_t n, cm_buf *b, size_t *bad)
{
	cm_buf_reset(b);
	return charset_to_utf8(charset, p, n, b, bad);
}

static void test_convert(void)
{
	/* a charset, bytes in it, what charset_to_utf8 returns, the bad sequences replaced (-1: not
	 * checked) and the UTF-8 (NULL: not checked) */
	static const struct {
		const char *charset, *in;
		size_t len;
		int r, bad;
		const char *out;
		const char *what;
	} t[] = {
		{ "windows-1251", S("\xCF\xF0\xE8\xE2\xE5\xF2, \xEC\xE8\xF0!"), 0, 0, "Привет, мир!", "windows-1251" },
		{ "gb18030", S("\xD6\xD0\xCE\xC4 abc"), 0, 0, "中文 abc", "gb2312 bytes as gb18030" },
		{ "iso-8859-1", S("\x93x\x94"), 0, -1, "\xE2\x80\x9Cx\xE2\x80\x9D", "raw label iso-8859-1 maps as windows-1252 too" },
		{ "cp932", S("\x93\xFA\x96\x7B\x8C\xEA C:\\dir ~x \xB1"), 0, 0, "日本語 C:\\dir ~x ｱ", "shift_jis: kanji, 0x5C and 0x7E stay ASCII" },
		{ "Shift_JIS", S("\x82\xA0"), 0, -1, "あ", "label Shift_JIS converts as cp932" },
		{ "euc-jp", S("\xC6\xFC\xCB\xDC\xB8\xEC"), 0, 0, "日本語", "euc-jp" },
		{ "iso-2022-jp", S("\x1B$B$3$s$K$A$O\x1B(B!"), 0, 0, "こんにちは!", "iso-2022-jp" },
		{ "euc-kr", S("\xC7\xD1\xB1\xB9\xBE\xEE"), 0, 0, "한국어", "euc-kr" },
		{ "big5", S("\xA4\xA4\xA4\xE5"), 0, 0, "中文", "big5" },
		{ "koi8-r", S("\xF0\xD2\xC9\xD7\xC5\xD4"), 0, 0, "Привет", "koi8-r" },

		{ "utf-16le", S("\xFF\xFEH\0i\0\x3A\x04"), 0, 0, "Hiк", "utf-16le, BOM dropped" },
		{ "utf-16le", S("\xFE\xFF\0H\0i"), 0, -1, "Hi", "a BE BOM overrides the utf-16le label" },
		{ "windows-1252", S("\xEF\xBB\xBF" "caf\xC3\xA9"), 0, -1, "caf\xC3\xA9", "a UTF-8 BOM overrides windows-1252 and is dropped" },
		{ "utf-8", S("\xEF\xBB\xBFok"), 0, -1, "ok", "utf-8 BOM dropped" },
		{ "utf-16be", S("\0H\xD8\x00\0i\0"), 0, 2, "H" R "i" R, "utf-16be: lone surrogate and odd byte become U+FFFD" },

		{ "utf-8", S("ok\xC3(\xE2\x82\xFF"), 0, 3, "ok" R "(" R R, "utf-8: invalid input repaired and counted" },
		{ NULL, S("a\xFF"), 0, 1, NULL, "NULL charset means utf-8" },
		{ "windows-1252", S("a\x81z"), 0, 1, "a" R "z", "windows-1252: undefined 0x81" },
		{ "cp932", S("a\xFD\xFE\xFF\xFD\xFE\xFF" "b\xFF" "c"), 0, 2, "a" R "b" R "c", "a run of bad bytes gives one U+FFFD" },
		{ "gb18030", S("\xD6\xD0\xD6"), 0, 1, "中" R, "gb18030: cut character at the end" },
		{ "euc-jp", S("\xC6\xFC\xC6"), 0, 1, "日" R, "euc-jp: cut character at the end" },
		{ "x-bogus", S("caf\xC3\xA9\xFF"), 1, 1, "caf\xC3\xA9" R, "unknown charset: 1, read as UTF-8" },
		{ "cp850", S("caf\x82"), 0, 0, "caf\xC3\xA9", "a charset iconv knows beyond the table" },
		{ "windows-1251", S(""), 0, 0, "", "empty input" },
	};
	cm_buf b = CM_BUF_INIT;
	size_t bad = 99, n, i;
	char in[8192];
	int r;

	for (i = 0; i < sizeof(t) / sizeof(*t); i++) {
		r = conv(t[i].charset, t[i].in, t[i].len, &b, &bad);
		ok(r == t[i].r && (t[i].bad < 0 || bad == (size_t)t[i].bad) && cm_utf8_valid(b.p, b.len) &&
		   (!t[i].out || (b.len == strlen(t[i].out) && !memcmp(b.p, t[i].out, b.len))), "%s", t[i].what);
	}
	r = conv(charset_canonical(S("iso-8859-1")), S("\x93quoted\x94 caf\xE9 \x80 5"), &b, &bad);
	ok(r == 0 && bad == 0 && !strcmp(b.p, "\xE2\x80\x9Cquoted\xE2\x80\x9D caf\xC3\xA9 \xE2\x82\xAC 5"),
	   "iso-8859-1 label: 0x93 is U+201C, 0x80 is U+20AC (windows-1252)");
	n = encode_as("WINDOWS-1251", russian, in, sizeof(in));
	r = conv(charset_detect(NULL, in, n, NULL), in, n, &b, &bad);
	ok(r == 0 && bad == 0 && !strcmp(b.p, russian), "detected windows-1251 page converts back exactly");
	r = conv("windows-1251", S("\xCF"), &b, NULL);
	ok(r == 0 && !strcmp(b.p, "П"), "replaced may be NULL");
	cm_buf_reset(&b);
	cm_buf_adds(&b, "x|");
	r = charset_to_utf8("koi8-r", S("\xF0"), &b, &bad);
	ok(r == 0 && !strcmp(b.p, "x|П"), "appends to out");
	cm_buf_free(&b);
}

/* Single-byte encodings go through a table learnt from iconv: it must agree with iconv on every byte. */
static void test_byte_tables(void)
{
	static const char *const names[] = {
		"ibm866", "iso-8859-2", "iso-8859-3", "iso-8859-4", "iso-8859-5", "iso-8859-6", "iso-8859-7",
		"iso-8859-8", "iso-8859-10", "iso-8859-13", "iso-8859-14", "iso-8859-15", "iso-8859-16",
		"koi8-r", "koi8-u", "macintosh", "windows-874", "windows-1250", "windows-1251", "windows-1252",
		"windows-1253", "windows-1254", "windows-1255", "windows-1256", "windows-1257", "windows-1258",
		"mac-cyrillic", "ibm855",
	};
	cm_buf b = CM_BUF_INIT;
	char in, want[8], *ip, *o;
	size_t i, il, ol, bad;
	int c, all = 1, undefined = 0;
	iconv_t cd;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		cd = iconv_open("UTF-8", names[i]);
		if (cd == (iconv_t)-1) {
			all = 0;
			continue;
		}
		for (c = 1; c < 256; c++) {
			in = (char)c;
			ip = &in;
			il = 1;
			o = want;
			ol = sizeof(want);
			iconv(cd, NULL, NULL, NULL, NULL);
			if (iconv(cd, &ip, &il, &o, &ol) == (size_t)-1 || iconv(cd, NULL, NULL, &o, &ol) == (size_t)-1) {
				o = want;
				memcpy(o, R, 3);
				o += 3;
				undefined++;
			}
			*o = '\0';
			cm_buf_reset(&b);
			charset_to_utf8(names[i], &in, 1, &b, &bad);
			if (strcmp(b.p, want) || bad != (strcmp(want, R) == 0)) {
				printf("# %s byte %02x: got '%s' want '%s'\n", names[i], c, b.p, want);
				all = 0;
			}
		}
		iconv_close(cd);
	}
	ok(all, "byte tables of 28 single-byte encodings agree with iconv on every byte");
	ok(undefined > 0 && undefined < 28 * 128 / 4, "some bytes are undefined (%d of 3584)", undefined);
	cm_buf_free(&b);
}

/* Random bytes through every encoding: the output is always valid UTF-8. */
static void test_random(void)
{
	static const char *const names[] = {
		"utf-8", "utf-16le", "utf-16be", "windows-1252", "windows-1251", "gb18030", "big5-hkscs",
		"euc-jp", "iso-2022-jp", "cp932", "cp949", "koi8-r", "iso-8859-8", "euc-tw", "x-bogus", "windows-1258",
	};
	cm_buf b = CM_BUF_INIT;
	char in[4096];
	uint32_t x = 7;
	size_t i, j, bad;
	int valid = 1, counted = 1;

	for (j = 0; j < 40 * sizeof(names) / sizeof(names[0]); j++) {
		size_t n = (j * 97) % sizeof(in);

		for (i = 0; i < n; i++) {
			x = x * 1664525 + 1013904223;
			in[i] = (char)(j & 1 ? x >> 24 : (x >> 24) & 0x9F);
		}
		cm_buf_reset(&b);
		charset_to_utf8(names[j % (sizeof(names) / sizeof(names[0]))], in, n, &b, &bad);
		if (!cm_utf8_valid(b.p, b.len) || strlen(b.p) > b.len)
			valid = 0;
		if (bad && !memmem(b.p, b.len, R, 3))
			counted = 0;
	}
	ok(valid, "random bytes in 16 encodings always give valid UTF-8");
	ok(counted, "replacements counted are in the output");
	cm_buf_free(&b);
}

int main(void)
{
	test_labels();
	test_detect();
	test_detector();
	test_convert();
	test_byte_tables();
	test_random();
	charset_free();
	return tap_done();
}
