/* charset.c - find the character encoding of a page and convert it to UTF-8. */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <uchardet/uchardet.h>

#include "ascii.h"
#include "buf.h"
#include "charset.h"
#include "utf8.h"

#define LABEL_MAX 32	/* longer labels are unknown; the longest known is 19 bytes */
#define OTHER_SLOTS 4	/* converters kept for names iconv knows and the table does not */

struct enc {
	const char *name;
	unsigned char ascii;	/* ASCII bytes stand for themselves (fast path) */
	unsigned char single;	/* one byte per character: converted by table */
	unsigned char unit;	/* bytes to skip past an invalid sequence */
};

/* UTF-8 for the bytes 0x80 to 0xFF of a single-byte encoding, learnt from iconv. */
struct byte_table {
	unsigned char len[128];	/* 0: undefined byte */
	char utf8[128][4];
};

struct label {
	const char *label;
	unsigned char enc;
};

/* Canonical names, all known to glibc's iconv. */
enum enc_id {
	E_UTF_8,
	E_UTF_16LE,
	E_UTF_16BE,
	E_IBM866,
	E_ISO_8859_2,
	E_ISO_8859_3,
	E_ISO_8859_4,
	E_ISO_8859_5,
	E_ISO_8859_6,
	E_ISO_8859_7,
	E_ISO_8859_8,
	E_ISO_8859_10,
	E_ISO_8859_13,
	E_ISO_8859_14,
	E_ISO_8859_15,
	E_ISO_8859_16,
	E_KOI8_R,
	E_KOI8_U,
	E_MACINTOSH,
	E_WINDOWS_874,
	E_WINDOWS_1250,
	E_WINDOWS_1251,
	E_WINDOWS_1252,
	E_WINDOWS_1253,
	E_WINDOWS_1254,
	E_WINDOWS_1255,
	E_WINDOWS_1256,
	E_WINDOWS_1257,
	E_WINDOWS_1258,
	E_MAC_CYRILLIC,
	E_GB18030,
	E_BIG5_HKSCS,
	E_EUC_JP,
	E_ISO_2022_JP,
	E_CP932,
	E_CP949,
	E_EUC_TW,
	E_IBM855,
	E_COUNT
};

static const struct enc encs[E_COUNT] = {
	[E_UTF_8] = { "utf-8", 1, 0, 1 },
	[E_UTF_16LE] = { "utf-16le", 0, 0, 2 },
	[E_UTF_16BE] = { "utf-16be", 0, 0, 2 },
	[E_IBM866] = { "ibm866", 1, 1, 1 },
	[E_ISO_8859_2] = { "iso-8859-2", 1, 1, 1 },
	[E_ISO_8859_3] = { "iso-8859-3", 1, 1, 1 },
	[E_ISO_8859_4] = { "iso-8859-4", 1, 1, 1 },
	[E_ISO_8859_5] = { "iso-8859-5", 1, 1, 1 },
	[E_ISO_8859_6] = { "iso-8859-6", 1, 1, 1 },
	[E_ISO_8859_7] = { "iso-8859-7", 1, 1, 1 },
	[E_ISO_8859_8] = { "iso-8859-8", 1, 1, 1 },
	[E_ISO_8859_10] = { "iso-8859-10", 1, 1, 1 },
	[E_ISO_8859_13] = { "iso-8859-13", 1, 1, 1 },
	[E_ISO_8859_14] = { "iso-8859-14", 1, 1, 1 },
	[E_ISO_8859_15] = { "iso-8859-15", 1, 1, 1 },
	[E_ISO_8859_16] = { "iso-8859-16", 1, 1, 1 },
	[E_KOI8_R] = { "koi8-r", 1, 1, 1 },
	[E_KOI8_U] = { "koi8-u", 1, 1, 1 },
	[E_MACINTOSH] = { "macintosh", 1, 1, 1 },
	[E_WINDOWS_874] = { "windows-874", 1, 1, 1 },
	[E_WINDOWS_1250] = { "windows-1250", 1, 1, 1 },
	[E_WINDOWS_1251] = { "windows-1251", 1, 1, 1 },
	[E_WINDOWS_1252] = { "windows-1252", 1, 1, 1 },
	[E_WINDOWS_1253] = { "windows-1253", 1, 1, 1 },
	[E_WINDOWS_1254] = { "windows-1254", 1, 1, 1 },
	[E_WINDOWS_1255] = { "windows-1255", 1, 1, 1 },
	[E_WINDOWS_1256] = { "windows-1256", 1, 1, 1 },
	[E_WINDOWS_1257] = { "windows-1257", 1, 1, 1 },
	[E_WINDOWS_1258] = { "windows-1258", 1, 1, 1 },
	[E_MAC_CYRILLIC] = { "mac-cyrillic", 1, 1, 1 },
	[E_GB18030] = { "gb18030", 1, 0, 1 },
	[E_BIG5_HKSCS] = { "big5-hkscs", 1, 0, 1 },
	[E_EUC_JP] = { "euc-jp", 1, 0, 1 },
	[E_ISO_2022_JP] = { "iso-2022-jp", 0, 0, 1 },
	[E_CP932] = { "cp932", 1, 0, 1 },
	[E_CP949] = { "cp949", 1, 0, 1 },
	[E_EUC_TW] = { "euc-tw", 1, 0, 1 },
	[E_IBM855] = { "ibm855", 1, 1, 1 },
};

/* WHATWG Encoding Standard labels, plus a few seen in the wild; sorted for bsearch (strcmp order). */
static const struct label labels[] = {
	{ "866", E_IBM866 },
	{ "ansi_x3.4-1968", E_WINDOWS_1252 },
	{ "arabic", E_ISO_8859_6 },
	{ "ascii", E_WINDOWS_1252 },
	{ "asmo-708", E_ISO_8859_6 },
	{ "big5", E_BIG5_HKSCS },
	{ "big5-hkscs", E_BIG5_HKSCS },
	{ "chinese", E_GB18030 },
	{ "cn-big5", E_BIG5_HKSCS },
	{ "cp1250", E_WINDOWS_1250 },
	{ "cp1251", E_WINDOWS_1251 },
	{ "cp1252", E_WINDOWS_1252 },
	{ "cp1253", E_WINDOWS_1253 },
	{ "cp1254", E_WINDOWS_1254 },
	{ "cp1255", E_WINDOWS_1255 },
	{ "cp1256", E_WINDOWS_1256 },
	{ "cp1257", E_WINDOWS_1257 },
	{ "cp1258", E_WINDOWS_1258 },
	{ "cp819", E_WINDOWS_1252 },
	{ "cp855", E_IBM855 },
	{ "cp866", E_IBM866 },
	{ "cp932", E_CP932 },
	{ "cp936", E_GB18030 },
	{ "cp949", E_CP949 },
	{ "csbig5", E_BIG5_HKSCS },
	{ "cseuckr", E_CP949 },
	{ "cseucpkdfmtjapanese", E_EUC_JP },
	{ "csgb2312", E_GB18030 },
	{ "csibm866", E_IBM866 },
	{ "csiso2022jp", E_ISO_2022_JP },
	{ "csiso58gb231280", E_GB18030 },
	{ "csiso88596e", E_ISO_8859_6 },
	{ "csiso88596i", E_ISO_8859_6 },
	{ "csiso88598e", E_ISO_8859_8 },
	{ "csiso88598i", E_ISO_8859_8 },
	{ "csisolatin1", E_WINDOWS_1252 },
	{ "csisolatin2", E_ISO_8859_2 },
	{ "csisolatin3", E_ISO_8859_3 },
	{ "csisolatin4", E_ISO_8859_4 },
	{ "csisolatin5", E_WINDOWS_1254 },
	{ "csisolatin6", E_ISO_8859_10 },
	{ "csisolatin9", E_ISO_8859_15 },
	{ "csisolatinarabic", E_ISO_8859_6 },
	{ "csisolatincyrillic", E_ISO_8859_5 },
	{ "csisolatingreek", E_ISO_8859_7 },
	{ "csisolatinhebrew", E_ISO_8859_8 },
	{ "cskoi8r", E_KOI8_R },
	{ "csksc56011987", E_CP949 },
	{ "csmacintosh", E_MACINTOSH },
	{ "csshiftjis", E_CP932 },
	{ "csunicode", E_UTF_16LE },
	{ "cyrillic", E_ISO_8859_5 },
	{ "dos-874", E_WINDOWS_874 },
	{ "ecma-114", E_ISO_8859_6 },
	{ "ecma-118", E_ISO_8859_7 },
	{ "elot_928", E_ISO_8859_7 },
	{ "euc-cn", E_GB18030 },
	{ "euc-jp", E_EUC_JP },
	{ "euc-kr", E_CP949 },
	{ "euc-tw", E_EUC_TW },
	{ "gb18030", E_GB18030 },
	{ "gb2312", E_GB18030 },
	{ "gb_2312", E_GB18030 },
	{ "gb_2312-80", E_GB18030 },
	{ "gbk", E_GB18030 },
	{ "greek", E_ISO_8859_7 },
	{ "greek8", E_ISO_8859_7 },
	{ "hebrew", E_ISO_8859_8 },
	{ "ibm819", E_WINDOWS_1252 },
	{ "ibm855", E_IBM855 },
	{ "ibm866", E_IBM866 },
	{ "iso-10646-ucs-2", E_UTF_16LE },
	{ "iso-2022-jp", E_ISO_2022_JP },
	{ "iso-8859-1", E_WINDOWS_1252 },
	{ "iso-8859-10", E_ISO_8859_10 },
	{ "iso-8859-11", E_WINDOWS_874 },
	{ "iso-8859-13", E_ISO_8859_13 },
	{ "iso-8859-14", E_ISO_8859_14 },
	{ "iso-8859-15", E_ISO_8859_15 },
	{ "iso-8859-16", E_ISO_8859_16 },
	{ "iso-8859-2", E_ISO_8859_2 },
	{ "iso-8859-3", E_ISO_8859_3 },
	{ "iso-8859-4", E_ISO_8859_4 },
	{ "iso-8859-5", E_ISO_8859_5 },
	{ "iso-8859-6", E_ISO_8859_6 },
	{ "iso-8859-6-e", E_ISO_8859_6 },
	{ "iso-8859-6-i", E_ISO_8859_6 },
	{ "iso-8859-7", E_ISO_8859_7 },
	{ "iso-8859-8", E_ISO_8859_8 },
	{ "iso-8859-8-e", E_ISO_8859_8 },
	{ "iso-8859-8-i", E_ISO_8859_8 },
	{ "iso-8859-9", E_WINDOWS_1254 },
	{ "iso-ir-100", E_WINDOWS_1252 },
	{ "iso-ir-101", E_ISO_8859_2 },
	{ "iso-ir-109", E_ISO_8859_3 },
	{ "iso-ir-110", E_ISO_8859_4 },
	{ "iso-ir-126", E_ISO_8859_7 },
	{ "iso-ir-127", E_ISO_8859_6 },
	{ "iso-ir-138", E_ISO_8859_8 },
	{ "iso-ir-144", E_ISO_8859_5 },
	{ "iso-ir-148", E_WINDOWS_1254 },
	{ "iso-ir-149", E_CP949 },
	{ "iso-ir-157", E_ISO_8859_10 },
	{ "iso-ir-58", E_GB18030 },
	{ "iso8859-1", E_WINDOWS_1252 },
	{ "iso8859-10", E_ISO_8859_10 },
	{ "iso8859-11", E_WINDOWS_874 },
	{ "iso8859-13", E_ISO_8859_13 },
	{ "iso8859-14", E_ISO_8859_14 },
	{ "iso8859-15", E_ISO_8859_15 },
	{ "iso8859-2", E_ISO_8859_2 },
	{ "iso8859-3", E_ISO_8859_3 },
	{ "iso8859-4", E_ISO_8859_4 },
	{ "iso8859-5", E_ISO_8859_5 },
	{ "iso8859-6", E_ISO_8859_6 },
	{ "iso8859-7", E_ISO_8859_7 },
	{ "iso8859-8", E_ISO_8859_8 },
	{ "iso8859-9", E_WINDOWS_1254 },
	{ "iso88591", E_WINDOWS_1252 },
	{ "iso885910", E_ISO_8859_10 },
	{ "iso885911", E_WINDOWS_874 },
	{ "iso885913", E_ISO_8859_13 },
	{ "iso885914", E_ISO_8859_14 },
	{ "iso885915", E_ISO_8859_15 },
	{ "iso88592", E_ISO_8859_2 },
	{ "iso88593", E_ISO_8859_3 },
	{ "iso88594", E_ISO_8859_4 },
	{ "iso88595", E_ISO_8859_5 },
	{ "iso88596", E_ISO_8859_6 },
	{ "iso88597", E_ISO_8859_7 },
	{ "iso88598", E_ISO_8859_8 },
	{ "iso88599", E_WINDOWS_1254 },
	{ "iso_8859-1", E_WINDOWS_1252 },
	{ "iso_8859-15", E_ISO_8859_15 },
	{ "iso_8859-1:1987", E_WINDOWS_1252 },
	{ "iso_8859-2", E_ISO_8859_2 },
	{ "iso_8859-2:1987", E_ISO_8859_2 },
	{ "iso_8859-3", E_ISO_8859_3 },
	{ "iso_8859-3:1988", E_ISO_8859_3 },
	{ "iso_8859-4", E_ISO_8859_4 },
	{ "iso_8859-4:1988", E_ISO_8859_4 },
	{ "iso_8859-5", E_ISO_8859_5 },
	{ "iso_8859-5:1988", E_ISO_8859_5 },
	{ "iso_8859-6", E_ISO_8859_6 },
	{ "iso_8859-6:1987", E_ISO_8859_6 },
	{ "iso_8859-7", E_ISO_8859_7 },
	{ "iso_8859-7:1987", E_ISO_8859_7 },
	{ "iso_8859-8", E_ISO_8859_8 },
	{ "iso_8859-8:1988", E_ISO_8859_8 },
	{ "iso_8859-9", E_WINDOWS_1254 },
	{ "iso_8859-9:1989", E_WINDOWS_1254 },
	{ "koi", E_KOI8_R },
	{ "koi8", E_KOI8_R },
	{ "koi8-r", E_KOI8_R },
	{ "koi8-ru", E_KOI8_U },
	{ "koi8-u", E_KOI8_U },
	{ "koi8_r", E_KOI8_R },
	{ "korean", E_CP949 },
	{ "ks_c_5601-1987", E_CP949 },
	{ "ks_c_5601-1989", E_CP949 },
	{ "ksc5601", E_CP949 },
	{ "ksc_5601", E_CP949 },
	{ "l1", E_WINDOWS_1252 },
	{ "l2", E_ISO_8859_2 },
	{ "l3", E_ISO_8859_3 },
	{ "l4", E_ISO_8859_4 },
	{ "l5", E_WINDOWS_1254 },
	{ "l6", E_ISO_8859_10 },
	{ "l9", E_ISO_8859_15 },
	{ "latin1", E_WINDOWS_1252 },
	{ "latin2", E_ISO_8859_2 },
	{ "latin3", E_ISO_8859_3 },
	{ "latin4", E_ISO_8859_4 },
	{ "latin5", E_WINDOWS_1254 },
	{ "latin6", E_ISO_8859_10 },
	{ "logical", E_ISO_8859_8 },
	{ "mac", E_MACINTOSH },
	{ "mac-cyrillic", E_MAC_CYRILLIC },
	{ "macintosh", E_MACINTOSH },
	{ "ms932", E_CP932 },
	{ "ms936", E_GB18030 },
	{ "ms_kanji", E_CP932 },
	{ "shift-jis", E_CP932 },
	{ "shift_jis", E_CP932 },
	{ "sjis", E_CP932 },
	{ "sun_eu_greek", E_ISO_8859_7 },
	{ "tis-620", E_WINDOWS_874 },
	{ "ucs-2", E_UTF_16LE },
	{ "uhc", E_CP949 },
	{ "unicode", E_UTF_16LE },
	{ "unicode-1-1-utf-8", E_UTF_8 },
	{ "unicode11utf8", E_UTF_8 },
	{ "unicode20utf8", E_UTF_8 },
	{ "unicodefeff", E_UTF_16LE },
	{ "unicodefffe", E_UTF_16BE },
	{ "us-ascii", E_WINDOWS_1252 },
	{ "utf-16", E_UTF_16LE },
	{ "utf-16be", E_UTF_16BE },
	{ "utf-16le", E_UTF_16LE },
	{ "utf-8", E_UTF_8 },
	{ "utf8", E_UTF_8 },
	{ "visual", E_ISO_8859_8 },
	{ "windows-1250", E_WINDOWS_1250 },
	{ "windows-1251", E_WINDOWS_1251 },
	{ "windows-1252", E_WINDOWS_1252 },
	{ "windows-1253", E_WINDOWS_1253 },
	{ "windows-1254", E_WINDOWS_1254 },
	{ "windows-1255", E_WINDOWS_1255 },
	{ "windows-1256", E_WINDOWS_1256 },
	{ "windows-1257", E_WINDOWS_1257 },
	{ "windows-1258", E_WINDOWS_1258 },
	{ "windows-31j", E_CP932 },
	{ "windows-874", E_WINDOWS_874 },
	{ "windows-936", E_GB18030 },
	{ "windows-949", E_CP949 },
	{ "x-cp1250", E_WINDOWS_1250 },
	{ "x-cp1251", E_WINDOWS_1251 },
	{ "x-cp1252", E_WINDOWS_1252 },
	{ "x-cp1253", E_WINDOWS_1253 },
	{ "x-cp1254", E_WINDOWS_1254 },
	{ "x-cp1255", E_WINDOWS_1255 },
	{ "x-cp1256", E_WINDOWS_1256 },
	{ "x-cp1257", E_WINDOWS_1257 },
	{ "x-cp1258", E_WINDOWS_1258 },
	{ "x-euc-jp", E_EUC_JP },
	{ "x-gbk", E_GB18030 },
	{ "x-mac-cyrillic", E_MAC_CYRILLIC },
	{ "x-mac-roman", E_MACINTOSH },
	{ "x-mac-ukrainian", E_MAC_CYRILLIC },
	{ "x-sjis", E_CP932 },
	{ "x-unicode20utf8", E_UTF_8 },
	{ "x-x-big5", E_BIG5_HKSCS },
};

/* HTML's ASCII whitespace. */
static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static int label_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct label *)elem)->label);
}

/* The encoding (index into encs) named by label s[0..n), or -1. */
static int find_enc(const char *s, size_t n)
{
	char key[LABEL_MAX];
	const struct label *l;
	size_t i;

	while (n && is_space((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && is_space((unsigned char)s[n - 1]))
		n--;
	if (n == 0 || n >= LABEL_MAX)
		return -1;
	for (i = 0; i < n; i++)
		key[i] = (char)cm_lower((unsigned char)s[i]);
	key[n] = '\0';
	l = bsearch(key, labels, sizeof(labels) / sizeof(labels[0]), sizeof(labels[0]), label_cmp);
	return l ? l->enc : -1;
}

const char *charset_canonical(const char *label, size_t n)
{
	int e = find_enc(label, n);

	return e < 0 ? NULL : encs[e].name;
}

static int bom(const char *p, size_t n, size_t *len)
{
	const unsigned char *s = (const unsigned char *)p;

	if (n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) {
		*len = 3;
		return E_UTF_8;
	}
	if (n >= 2 && s[0] == 0xFE && s[1] == 0xFF) {
		*len = 2;
		return E_UTF_16BE;
	}
	if (n >= 2 && s[0] == 0xFF && s[1] == 0xFE) {
		*len = 2;
		return E_UTF_16LE;
	}
	return -1;
}

/* Offset of "charset" in s[0..n) ignoring case, or n. */
static size_t find_charset_word(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i + 7 <= n; i++)
		if (cm_lower((unsigned char)s[i]) == 'c' && cm_eq_ci(s + i, 7, "charset"))
			return i;
	return n;
}

/* WHATWG's "extract a character encoding from a meta element" on a content value. */
static int content_charset(const char *s, size_t n)
{
	size_t i = 0, a, k;
	char q;

	for (;;) {
		k = find_charset_word(s + i, n - i);
		if (k == n - i)
			return -1;
		i += k + 7;
		while (i < n && is_space((unsigned char)s[i]))
			i++;
		if (i >= n || s[i] != '=')
			continue;
		i++;
		while (i < n && is_space((unsigned char)s[i]))
			i++;
		if (i >= n)
			return -1;
		if (s[i] == '"' || s[i] == '\'') {
			q = s[i++];
			a = i;
			while (i < n && s[i] != q)
				i++;
			return i < n ? find_enc(s + a, i - a) : -1;
		}
		a = i;
		while (i < n && !is_space((unsigned char)s[i]) && s[i] != ';')
			i++;
		return find_enc(s + a, i - a);
	}
}

/*
 * Next attribute of a tag at *sp (WHATWG's "get an attribute", simplified):
 * 1 for an attribute, 0 after the closing '>', -1 at the end of the input.
 */
static int attr(const char **sp, const char *e, const char **name, size_t *nn,
		const char **val, size_t *vn)
{
	const char *s = *sp;
	char q;

	while (s < e && (is_space((unsigned char)*s) || *s == '/'))
		s++;
	if (s >= e)
		return -1;
	if (*s == '>') {
		*sp = s + 1;
		return 0;
	}
	*name = s++;
	while (s < e && !is_space((unsigned char)*s) && *s != '/' && *s != '>' && *s != '=')
		s++;
	*nn = (size_t)(s - *name);
	*val = s;
	*vn = 0;
	while (s < e && is_space((unsigned char)*s))
		s++;
	if (s < e && *s == '=') {
		s++;
		while (s < e && is_space((unsigned char)*s))
			s++;
		if (s < e && (*s == '"' || *s == '\'')) {
			q = *s++;
			*val = s;
			while (s < e && *s != q)
				s++;
			if (s >= e)
				return -1;
			*vn = (size_t)(s++ - *val);
		} else {
			*val = s;
			while (s < e && !is_space((unsigned char)*s) && *s != '>')
				s++;
			*vn = (size_t)(s - *val);
		}
	}
	*sp = s;
	return 1;
}

/* The encoding a complete <meta> tag declares (attributes from *sp on), as WHATWG's prescan; -1 if none. */
static int meta_tag(const char **sp, const char *e)
{
	const char *name, *val;
	size_t nn, vn;
	int cs = -2, need_pragma = -1, got_pragma = 0, seen = 0, more, r;

	while ((more = attr(sp, e, &name, &nn, &val, &vn)) > 0) {
		if (CM_EQ_CI(name, nn, "http-equiv") && !(seen & 1)) {
			seen |= 1;
			got_pragma = CM_EQ_CI(val, vn, "content-type");
		} else if (CM_EQ_CI(name, nn, "content") && !(seen & 2)) {
			seen |= 2;
			if (cs == -2 && (r = content_charset(val, vn)) >= 0) {
				cs = r;
				need_pragma = 1;
			}
		} else if (CM_EQ_CI(name, nn, "charset") && !(seen & 4)) {
			seen |= 4;
			cs = find_enc(val, vn);
			need_pragma = 0;
		}
	}
	if (more < 0) {	/* the tag runs past the scan window */
		*sp = e;
		return -1;
	}
	if (need_pragma < 0 || (need_pragma && !got_pragma) || cs < 0)
		return -1;
	/* a page read as ASCII to find this tag cannot be UTF-16 */
	return cs == E_UTF_16LE || cs == E_UTF_16BE ? E_UTF_8 : cs;
}

/* The encoding declared by the first usable <meta> in p[0..n), skipping comments; -1 if none. */
static int meta_charset(const char *p, size_t n)
{
	const char *s = p, *e = p + n, *c;
	int enc;

	while (s < e && (s = memchr(s, '<', (size_t)(e - s)))) {
		size_t left = (size_t)(e - s);

		if (left >= 4 && !memcmp(s, "<!--", 4)) {
			c = memmem(s + 2, left - 2, "-->", 3);
			if (!c)
				return -1;
			s = c + 3;
		} else if (left >= 6 && cm_eq_ci(s + 1, 4, "meta") &&
			   (is_space((unsigned char)s[5]) || s[5] == '/')) {
			s += 6;
			enc = meta_tag(&s, e);
			if (enc >= 0)
				return enc;
		} else {
			s++;
		}
	}
	return -1;
}

/*
 * What the first CHARSET_DETECT_SCAN bytes of p look like: 1 valid UTF-8
 * with non-ASCII characters, 0 pure ASCII, -1 not UTF-8. A character cut by
 * the end of the scan still counts as valid.
 */
static int utf8_text(const char *p, size_t n)
{
	size_t m = n < CHARSET_DETECT_SCAN ? n : CHARSET_DETECT_SCAN, k;
	uint32_t cp;

	k = cm_utf8_valid_len(p, m);
	if (k < m && !(m < n && (unsigned char)p[k] >= 0xC2 && (unsigned char)p[k] <= 0xF4 &&
		       cm_utf8_decode(p + k, m - k, &cp) == m - k))
		return -1;
	return cm_utf8_ascii_len(p, k) < k;
}

static _Thread_local uchardet_t detector;

/* Ask uchardet about the first CHARSET_DETECT_SCAN bytes; -1 if it does not know. */
static int detect(const char *p, size_t n)
{
	const char *name;

	if (!detector && !(detector = uchardet_new()))
		return -1;
	uchardet_reset(detector);
	if (uchardet_handle_data(detector, p, n < CHARSET_DETECT_SCAN ? n : CHARSET_DETECT_SCAN) != 0)
		return -1;
	uchardet_data_end(detector);
	name = uchardet_get_charset(detector);
	return name ? find_enc(name, strlen(name)) : -1;
}

const char *charset_detect(const char *http_charset, const char *p, size_t n, int *source)
{
	size_t len;
	int e, u, src;

	if ((e = bom(p, n, &len)) >= 0) {
		src = CHARSET_SRC_BOM;
	} else if (http_charset && (e = find_enc(http_charset, strlen(http_charset))) >= 0) {
		src = CHARSET_SRC_HTTP;
	} else if ((e = meta_charset(p, n < CHARSET_META_SCAN ? n : CHARSET_META_SCAN)) >= 0) {
		src = CHARSET_SRC_META;
	} else if ((u = utf8_text(p, n)) >= 0) {
		e = E_UTF_8;
		src = u ? CHARSET_SRC_DETECTOR : CHARSET_SRC_DEFAULT;
	} else if ((e = detect(p, n)) >= 0) {
		src = CHARSET_SRC_DETECTOR;
	} else {
		e = E_UTF_8;
		src = CHARSET_SRC_DEFAULT;
	}
	/*
	 * A legacy charset declared for a page that is valid UTF-8 with
	 * non-ASCII text (a server default of iso-8859-1, say) is wrong: by
	 * chance, legacy text is almost never valid UTF-8.
	 */
	if ((src == CHARSET_SRC_HTTP || src == CHARSET_SRC_META) && e != E_UTF_8 &&
	    e != E_UTF_16LE && e != E_UTF_16BE && utf8_text(p, n) > 0) {
		e = E_UTF_8;
		src = CHARSET_SRC_DETECTOR;
	}
	if (source)
		*source = src;
	return encs[e].name;
}

/* Converters, opened once per thread and reused for every record. */
static _Thread_local iconv_t known_cd[E_COUNT];
static _Thread_local signed char known_state[E_COUNT];	/* 0 not tried, 1 open, -1 failed */
static _Thread_local struct {
	char name[LABEL_MAX];
	iconv_t cd;
} other[OTHER_SLOTS];
static _Thread_local unsigned other_next;
static _Thread_local struct byte_table *tables[E_COUNT];

void charset_free(void)
{
	size_t i;

	for (i = 0; i < E_COUNT; i++) {
		if (known_state[i] > 0)
			iconv_close(known_cd[i]);
		known_state[i] = 0;
		free(tables[i]);
		tables[i] = NULL;
	}
	for (i = 0; i < OTHER_SLOTS; i++) {
		if (other[i].name[0] && other[i].cd != (iconv_t)-1)
			iconv_close(other[i].cd);
		other[i].name[0] = '\0';
	}
	if (detector)
		uchardet_delete(detector);
	detector = NULL;
}

/* A converter to UTF-8 for encoding e, or for name when e < 0; (iconv_t)-1 if iconv lacks it. */
static iconv_t converter(int e, const char *name)
{
	size_t i, n;

	if (e >= 0) {
		if (!known_state[e]) {
			known_cd[e] = iconv_open("UTF-8", encs[e].name);
			known_state[e] = known_cd[e] == (iconv_t)-1 ? -1 : 1;
		}
		return known_cd[e];
	}
	n = strlen(name);
	if (n == 0 || n >= LABEL_MAX)
		return (iconv_t)-1;
	for (i = 0; i < OTHER_SLOTS; i++)
		if (!strcmp(other[i].name, name))
			return other[i].cd;
	i = other_next++ % OTHER_SLOTS;
	if (other[i].name[0] && other[i].cd != (iconv_t)-1)
		iconv_close(other[i].cd);
	memcpy(other[i].name, name, n + 1);
	other[i].cd = iconv_open("UTF-8", name);
	return other[i].cd;
}

/*
 * The byte table of single-byte encoding e, built once from cd: glibc's
 * iconv costs about 10 ns a byte, a table lookup well under one.
 */
static const struct byte_table *byte_table(int e, iconv_t cd)
{
	struct byte_table *t = tables[e];
	char in, *ip, *o;
	size_t il, ol;
	int c;

	if (t)
		return t;
	t = calloc(1, sizeof(*t));
	if (!t)
		abort();
	for (c = 0; c < 128; c++) {
		in = (char)(c + 0x80);
		ip = &in;
		il = 1;
		o = t->utf8[c];
		ol = sizeof(t->utf8[c]);
		iconv(cd, NULL, NULL, NULL, NULL);
		if (iconv(cd, &ip, &il, &o, &ol) == (size_t)-1 || il ||
		    iconv(cd, NULL, NULL, &o, &ol) == (size_t)-1)	/* flush: windows-1258 holds back letters */
			continue;
		if (o > t->utf8[c] && cm_utf8_valid(t->utf8[c], (size_t)(o - t->utf8[c])))
			t->len[c] = (unsigned char)(o - t->utf8[c]);
	}
	tables[e] = t;
	return t;
}

/* Append p converted by table t; undefined bytes become U+FFFD, one per run. Returns the U+FFFDs added. */
static size_t convert_table(const struct byte_table *t, const char *p, size_t n, cm_buf *out)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0, k, bad = 0;
	char *o;
	int run = 0;

	if (n > (SIZE_MAX - 16) / 4)
		abort();	/* cannot happen for data held in memory */
	cm_buf_grow(out, 4 * n);
	o = out->p + out->len;
	while (i < n) {
		if (s[i] < 0x80) {
			k = cm_utf8_ascii_len(p + i, n - i);
			memcpy(o, p + i, k);
			o += k;
			i += k;
			run = 0;
			continue;
		}
		k = t->len[s[i++] - 0x80];
		if (k) {
			memcpy(o, t->utf8[s[i - 1] - 0x80], 4);
			o += k;
			run = 0;
		} else if (!run) {
			memcpy(o, CM_UTF8_REPLACEMENT, 3);
			o += 3;
			bad++;
			run = 1;
		}
	}
	out->len = (size_t)(o - out->p);
	out->p[out->len] = '\0';
	return bad;
}

/* Append p converted by cd; bad sequences become U+FFFD, one per run. Returns the U+FFFDs added. */
static size_t convert(iconv_t cd, int ascii, size_t unit, const char *p, size_t n, cm_buf *out)
{
	char *in, *in0, *o, *tmp;
	size_t inleft, oleft, skip, start, bad = 0;
	int run = 0;

	if (ascii) {	/* ASCII before the first high byte is the same in UTF-8 */
		skip = cm_utf8_ascii_len(p, n);
		cm_buf_add(out, p, skip);
		p += skip;
		n -= skip;
		if (!n)
			return 0;
	}
	start = out->len;
	cm_buf_grow(out, n < SIZE_MAX / 4 ? n + n / 2 + 16 : n);
	iconv(cd, NULL, NULL, NULL, NULL);
	in = (char *)p;
	inleft = n;
	while (inleft) {
		o = out->p + out->len;
		oleft = out->cap - out->len - 1;
		in0 = in;
		if (iconv(cd, &in, &inleft, &o, &oleft) != (size_t)-1) {
			out->len = (size_t)(o - out->p);
			break;
		}
		out->len = (size_t)(o - out->p);
		if (in != in0)
			run = 0;
		if (errno == E2BIG) {
			cm_buf_grow(out, inleft < SIZE_MAX / 4 ? 2 * inleft + 64 : inleft);
			continue;
		}
		if (!run) {
			cm_buf_add(out, CM_UTF8_REPLACEMENT, 3);
			bad++;
		}
		run = 1;
		if (errno == EINVAL)	/* incomplete sequence at the end */
			break;
		skip = inleft < unit ? inleft : unit;
		in += skip;
		inleft -= skip;
	}
	for (;;) {	/* flush a stateful decoder */
		o = out->p + out->len;
		oleft = out->cap - out->len - 1;
		if (iconv(cd, NULL, NULL, &o, &oleft) != (size_t)-1 || errno != E2BIG) {
			out->len = (size_t)(o - out->p);
			break;
		}
		cm_buf_grow(out, 64);
	}
	out->p[out->len] = '\0';
	if (!cm_utf8_valid(out->p + start, out->len - start)) {	/* never seen; kept as a guarantee */
		n = out->len - start;
		tmp = malloc(n);
		if (!tmp)
			abort();
		memcpy(tmp, out->p + start, n);
		out->len = start;
		bad += cm_utf8_repair(tmp, n, out);
		free(tmp);
	}
	return bad;
}

int charset_to_utf8(const char *charset, const char *p, size_t n, cm_buf *out, size_t *replaced)
{
	size_t len, bad;
	iconv_t cd;
	int e = charset ? find_enc(charset, strlen(charset)) : E_UTF_8, b, rc = 0;

	if ((b = bom(p, n, &len)) >= 0) {
		e = b;
		p += len;
		n -= len;
	}
	cd = e == E_UTF_8 ? (iconv_t)-1 : converter(e, charset);
	if (cd == (iconv_t)-1) {
		rc = e != E_UTF_8;
		bad = cm_utf8_repair(p, n, out);
	} else if (e >= 0 && encs[e].single) {
		bad = convert_table(byte_table(e, cd), p, n, out);
	} else {
		bad = convert(cd, e >= 0 ? encs[e].ascii : 0, e >= 0 ? encs[e].unit : 1, p, n, out);
	}
	if (replaced)
		*replaced = bad;
	return rc;
}
