/* pii.c - finding personal data and secrets in text (see pii.h).
 *
 * One pass over the text, sixteen bytes at a time (SSE2), marks the bytes where something
 * could start or hinge: digits, '@', ':', '=', '_', '-', 'J' ("eyJ"), and 'A' before three
 * capitals (AWS keys). Each mark is looked at once, left to right, and the scan resumes
 * after what it consumed; so the work is linear in the text. What decides:
 *   e-mail   the local part back from '@' (at most 64 bytes), then an anchored pattern with
 *            an alphabetic top-level domain (or xn--)
 *   digits   the run of digits and separators (space . - / ( ) +) a number starts: a cheap
 *            count of its digits and separators says which patterns can apply, then
 *            US SSN (ddd-dd-dddd, valid area, group and serial), payment card (13-19
 *            digits in the usual groupings, Luhn, a card network's prefix), IPv4 (four
 *            octets without leading zeros, not all single digits, not after "version"),
 *            IBAN (two capitals before the digits: country length and mod 97), phone
 *            (+ and 8-15 digits; North American (NXX) NXX-XXXX; national with a trunk 0
 *            and 10-11 digits in 2-5 groups; 7-15 digits after a word such as "phone")
 *   ':'      IPv6 (inet_pton; public: 2000::/3 less documentation and special blocks),
 *            and assignments "key: value"
 *   '='      assignments: a name ending in api_key, secret, token, password ... and a value
 *            of 16-512 key characters with at least 3 bits of entropy a character
 *   others   AWS access key ids, GitHub tokens, Slack tokens, JWTs, PEM private key blocks
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "cli.h"
#include "pii.h"

const char *const pii_kind_name[PII_NKINDS] = { "email", "ip", "phone", "card", "iban", "ssn", "secret" };

enum {
	RE_EMAIL,
	RE_IPV4,
	RE_SSN,
	RE_CARD,
	RE_IBAN,
	RE_PHONE_INTL,
	RE_PHONE_NANP,
	RE_PHONE_NATL,
	RE_PHONE_ANY,
	RE_AWS,
	RE_GITHUB,
	RE_SLACK,
	RE_JWT,
	RE_PEM,
	RE_VALUE,
	NRE
};

/* All anchored (they are tried where a trigger says), all bounded. */
static const char *const patterns[NRE] = {
	[RE_EMAIL] = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}){0,8}"
		     "@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.){1,8}"
		     "(?:[A-Za-z]{2,24}|xn--[A-Za-z0-9-]{1,59})(?![A-Za-z0-9_-]|\\.[A-Za-z0-9])",
	[RE_IPV4] = "(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}"
		    "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?![0-9]|\\.[0-9])",
	[RE_SSN] = "([0-9]{3})-([0-9]{2})-([0-9]{4})(?![0-9]|-[0-9])",
	[RE_CARD] = "[0-9](?:[ -]?[0-9]){12,22}",
	[RE_IBAN] = "[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9])",
	[RE_PHONE_INTL] = "\\+[1-9][0-9]{0,3}(?:[ .-]?\\(?[0-9]{1,5}\\)?){1,6}(?![0-9])",
	[RE_PHONE_NANP] = "(?:\\+?1[ .-]?)?(?:\\([2-9][0-9]{2}\\) ?|[2-9][0-9]{2}([ .-]))[2-9][0-9]{2}([ .-])[0-9]{4}"
			  "(?![0-9]|[ .-][0-9])",
	[RE_PHONE_NATL] = "(?:\\(0[1-9][0-9]{0,4}\\) ?|0[1-9][0-9]{0,4}[ -])[0-9]{2,6}(?:[ -][0-9]{2,6}){0,3}"
			  "(?![0-9]|[ .-][0-9])",
	[RE_PHONE_ANY] = "\\+?\\(?[0-9]{1,5}\\)?(?:[ .-]?\\(?[0-9]{1,5}\\)?){0,6}(?![0-9]|[ .-][0-9])",
	[RE_AWS] = "(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[0-9A-Z]{16}(?![0-9A-Za-z])",
	[RE_GITHUB] = "(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])",
	[RE_SLACK] = "xox[baprs]-[A-Za-z0-9-]{10,250}(?![A-Za-z0-9-])",
	[RE_JWT] = "eyJ[A-Za-z0-9_-]{10,4096}\\.eyJ[A-Za-z0-9_-]{10,8192}\\.[A-Za-z0-9_-]{10,4096}(?![A-Za-z0-9_-])",
	[RE_PEM] = "-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----",
	[RE_VALUE] = " {0,3}[\"']? {0,3}([A-Za-z0-9+/_.=~-]{16,512})(?![A-Za-z0-9+/_.=~-])",
};

/* The longest each can match (its bounds add up to less): the subject given to PCRE2 ends
 * a little past it, so no search inside PCRE2 can run on through the text. */
static const size_t max_len[NRE] = {
	[RE_EMAIL] = 1300, [RE_IPV4] = 15, [RE_SSN] = 11, [RE_CARD] = 45, [RE_IBAN] = 44,
	[RE_PHONE_INTL] = 64, [RE_PHONE_NANP] = 24, [RE_PHONE_NATL] = 40, [RE_PHONE_ANY] = 64,
	[RE_AWS] = 20, [RE_GITHUB] = 266, [RE_SLACK] = 254, [RE_JWT] = 16400, [RE_PEM] = 80,
	[RE_VALUE] = 530,
};

struct pii_scanner {
	pii_opts o;
	pcre2_code *re[NRE];
	pcre2_match_data *md;
	pcre2_match_context *mc;
	pii_match *m;
	size_t nm, cap;
};

pii_scanner *pii_new(const pii_opts *o)
{
	pii_scanner *s = cm_xcalloc(1, sizeof(*s));
	int i;

	s->o = *o;
	for (i = 0; i < NRE; i++) {
		int err;
		PCRE2_SIZE at;

		s->re[i] = pcre2_compile((PCRE2_SPTR)patterns[i], PCRE2_ZERO_TERMINATED,
					 PCRE2_ANCHORED | PCRE2_NO_START_OPTIMIZE, &err, &at, NULL);
		if (!s->re[i]) {
			PCRE2_UCHAR msg[256];

			pcre2_get_error_message(err, msg, sizeof(msg));
			cm_die("pii: pattern %d at %zu: %s", i, (size_t)at, (const char *)msg);
		}
		/* without JIT (a platform without it) the interpreter runs the same patterns */
		(void)pcre2_jit_compile(s->re[i], PCRE2_JIT_COMPLETE);
	}
	s->md = pcre2_match_data_create(8, NULL);
	s->mc = pcre2_match_context_create(NULL);
	if (!s->md || !s->mc)
		cm_die("out of memory");
	/* every pattern is bounded; these only keep a surprise cheap */
	pcre2_set_match_limit(s->mc, 100000);
	pcre2_set_depth_limit(s->mc, 1000);
	return s;
}

void pii_free(pii_scanner *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < NRE; i++)
		pcre2_code_free(s->re[i]);
	pcre2_match_data_free(s->md);
	pcre2_match_context_free(s->mc);
	free(s->m);
	free(s);
}

/* An anchored match of pattern re at text[at..]; returns its end, 0 when none. Group g's
 * bounds in *g0, *g1 when asked. */
static size_t match_at(pii_scanner *s, int re, const char *text, size_t n, size_t at)
{
	size_t end = n - at > max_len[re] + 4 ? at + max_len[re] + 4 : n;
	int rc = pcre2_match(s->re[re], (PCRE2_SPTR)text, end, at, 0, s->md, s->mc);
	PCRE2_SIZE *ov;

	if (rc <= 0)
		return 0;
	ov = pcre2_get_ovector_pointer(s->md);
	return ov[1] > at ? (size_t)ov[1] : 0;
}

static size_t group(const pii_scanner *s, int g, size_t *end)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);

	*end = ov[2 * g + 1];
	return ov[2 * g];
}

/* ---- validators ---- */

int pii_luhn(const char *d, size_t n)
{
	size_t i, k = 0;
	unsigned sum = 0;

	for (i = n; i-- > 0;) {
		unsigned v;

		if (d[i] < '0' || d[i] > '9')
			continue;
		v = (unsigned)(d[i] - '0');
		if (k++ & 1) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	return k > 0 && sum % 10 == 0;
}

/* IBAN lengths by country (the SWIFT registry) */
static const struct {
	char cc[3];
	unsigned char len;
} iban_len[] = {
	{ "AD", 24 }, { "AE", 23 }, { "AL", 28 }, { "AT", 20 }, { "AZ", 28 }, { "BA", 20 }, { "BE", 16 },
	{ "BG", 22 }, { "BH", 22 }, { "BI", 27 }, { "BR", 29 }, { "BY", 28 }, { "CH", 21 }, { "CR", 22 },
	{ "CY", 28 }, { "CZ", 24 }, { "DE", 22 }, { "DJ", 27 }, { "DK", 18 }, { "DO", 28 }, { "EE", 20 },
	{ "EG", 29 }, { "ES", 24 }, { "FI", 18 }, { "FK", 18 }, { "FO", 18 }, { "FR", 27 }, { "GB", 22 },
	{ "GE", 22 }, { "GI", 23 }, { "GL", 18 }, { "GR", 27 }, { "GT", 28 }, { "HR", 21 }, { "HU", 28 },
	{ "IE", 22 }, { "IL", 23 }, { "IQ", 23 }, { "IS", 26 }, { "IT", 27 }, { "JO", 30 }, { "KW", 30 },
	{ "KZ", 20 }, { "LB", 28 }, { "LC", 32 }, { "LI", 21 }, { "LT", 20 }, { "LU", 20 }, { "LV", 21 },
	{ "LY", 25 }, { "MC", 27 }, { "MD", 24 }, { "ME", 22 }, { "MK", 19 }, { "MN", 20 }, { "MR", 27 },
	{ "MT", 31 }, { "MU", 30 }, { "NI", 28 }, { "NL", 18 }, { "NO", 15 }, { "OM", 23 }, { "PK", 24 },
	{ "PL", 28 }, { "PS", 29 }, { "PT", 25 }, { "QA", 29 }, { "RO", 24 }, { "RS", 22 }, { "RU", 33 },
	{ "SA", 24 }, { "SC", 31 }, { "SD", 18 }, { "SE", 24 }, { "SI", 19 }, { "SK", 24 }, { "SM", 27 },
	{ "SO", 23 }, { "ST", 25 }, { "SV", 28 }, { "TL", 23 }, { "TN", 24 }, { "TR", 26 }, { "UA", 29 },
	{ "VA", 22 }, { "VG", 24 }, { "XK", 20 },
};

static size_t iban_length(const char *cc)
{
	size_t i;

	for (i = 0; i < sizeof(iban_len) / sizeof(*iban_len); i++)
		if (iban_len[i].cc[0] == cc[0] && iban_len[i].cc[1] == cc[1])
			return iban_len[i].len;
	return 0;
}

/* mod 97 of the rearranged IBAN (country and check digits moved to the end, letters as
 * 10..35) is 1 */
static int iban_mod97(const char *c, size_t n)
{
	unsigned r = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		char ch = c[(i + 4) % n];

		if (ch >= '0' && ch <= '9')
			r = (r * 10 + (unsigned)(ch - '0')) % 97;
		else if (ch >= 'A' && ch <= 'Z')
			r = (r * 100 + (unsigned)(ch - 'A' + 10)) % 97;
		else
			return 0;
	}
	return r == 1;
}

int pii_iban_valid(const char *s, size_t n)
{
	char c[40];
	size_t k = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] == ' ')
			continue;
		if (k == sizeof(c))
			return 0;
		c[k++] = s[i];
	}
	return k >= 4 && iban_length(c) == k && iban_mod97(c, k);
}

/* Python's ipaddress is_global, as datatrove decides (IPv4), and for IPv6 the global
 * unicast block 2000::/3 less what is reserved in it. */
static int ipv4_public(const unsigned char *a)
{
	uint32_t x = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
	static const struct {
		uint32_t net;
		int bits;
	} priv[] = {
		{ 0x00000000, 8 }, { 0x0a000000, 8 }, { 0x64400000, 10 }, { 0x7f000000, 8 }, { 0xa9fe0000, 16 },
		{ 0xac100000, 12 }, { 0xc0000000, 29 }, { 0xc00000aa, 31 }, { 0xc0000200, 24 },
		{ 0xc0a80000, 16 }, { 0xc6120000, 15 }, { 0xc6336400, 24 }, { 0xcb007100, 24 },
		{ 0xf0000000, 4 }, { 0xffffffff, 32 },
	};
	size_t i;

	for (i = 0; i < sizeof(priv) / sizeof(*priv); i++) {
		uint32_t mask = priv[i].bits ? ~(uint32_t)0 << (32 - priv[i].bits) : 0;

		if ((x & mask) == priv[i].net)
			return 0;
	}
	return 1;
}

static int ipv6_public(const unsigned char *a)
{
	if ((a[0] & 0xe0) != 0x20)
		return 0;	/* not global unicast */
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
		return 0;	/* documentation */
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] < 0x02)
		return 0;	/* 2001::/23, IETF protocol assignments */
	if (a[0] == 0x20 && a[1] == 0x02)
		return 0;	/* 6to4 */
	return 1;
}

int pii_ip_public(const char *s, size_t n)
{
	char t[64];
	unsigned char a[16];

	if (n == 0 || n >= sizeof(t))
		return -1;
	memcpy(t, s, n);
	t[n] = '\0';
	if (inet_pton(AF_INET, t, a) == 1)
		return ipv4_public(a);
	if (inet_pton(AF_INET6, t, a) == 1)
		return ipv6_public(a);
	return -1;
}

/* ---- the scan ---- */

static void add(pii_scanner *s, size_t off, size_t end, int kind)
{
	/* a find that starts before earlier ones (an address found at its '@' after numbers in
	 * it): it takes the place of those it covers whole, and is dropped if it would cut one */
	while (s->nm && off <= s->m[s->nm - 1].off && end >= s->m[s->nm - 1].off + s->m[s->nm - 1].len)
		s->nm--;
	if (s->nm && off < s->m[s->nm - 1].off + s->m[s->nm - 1].len)
		return;
	if (s->nm == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->m = cm_xrealloc(s->m, s->cap * sizeof(*s->m));
	}
	s->m[s->nm].off = off;
	s->m[s->nm].len = end - off;
	s->m[s->nm].kind = kind;
	s->nm++;
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_alnum(int c)
{
	return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_upper(int c)
{
	return c >= 'A' && c <= 'Z';
}

static int is_local(int c)
{
	return is_alnum(c) || (c && strchr("!#$%&'*+/=?^_`{|}~-.", c) != NULL);
}

/* e-mail around the '@' at at; returns where the scan goes on */
static size_t try_email(pii_scanner *s, const char *t, size_t n, size_t at)
{
	size_t b = at, e;

	while (b > 0 && at - b < 65 && is_local((unsigned char)t[b - 1]))
		b--;
	if (at - b > 64 && b > 0 && is_local((unsigned char)t[b - 1]))
		return at + 1;	/* a longer run: not an address */
	while (b < at && t[b] == '.')
		b++;
	if (b == at)
		return at + 1;
	e = match_at(s, RE_EMAIL, t, n, b);
	if (!e || e <= at)
		return at + 1;
	add(s, b, e, PII_EMAIL);
	return e;
}

/* Whether one of the words (any case, a whole word) stands before at, with at most `gap`
 * bytes between its end and at, none of them a digit or a line break. */
static int word_before(const char *t, size_t at, size_t gap, const char *const *words)
{
	size_t from = at, i;

	while (from > 0 && at - from < gap && t[from - 1] != '\n' && !is_digit((unsigned char)t[from - 1]) &&
	       !((t[from - 1] == '.' || t[from - 1] == ';' || t[from - 1] == '!' || t[from - 1] == '?') &&
		 from < at && t[from] == ' '))
		from--;
	/* a word ending in [from, at] */
	for (; words[0]; words++) {
		size_t k = strlen(*words);

		for (i = from >= k ? from - k : 0; i + k <= at; i++)
			if (strncasecmp(t + i, *words, k) == 0 && (i == 0 || !is_alnum((unsigned char)t[i - 1])) &&
			    !is_alnum((unsigned char)t[i + k]) && t[i + k] != '_' && i + k >= from)
				return 1;
	}
	return 0;
}

static const char *const phone_words[] = { "phone", "tel", "mobile", "cell", "fax", "call", "whatsapp",
					   "telefon", "téléphone", "telefono", NULL };
static const char *const version_words[] = { "version", "ver", "v", "release", "build", "firmware", "update",
					     "kernel", "python", "node", NULL };

static const char *const isbn_words[] = { "isbn", "isbn-10", "isbn-13", "issn", NULL };

/* An ISBN's number: "ISBN" just before it. */
static int isbn_before(const char *t, size_t b)
{
	return word_before(t, b, 4, isbn_words);
}

/* A section number ("8.6.4.10. Patterns"): first on its line, a point after it. */
static int section_number(const char *t, size_t n, size_t b, size_t e)
{
	size_t i = b;

	while (i > 0 && (t[i - 1] == ' ' || t[i - 1] == '\t'))
		i--;
	return (i == 0 || t[i - 1] == '\n') && e < n && t[e] == '.';
}

/* The value of k decimal digits (the text need not end after them). */
static unsigned digits_value(const char *p, size_t k)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; i < k; i++)
		v = v * 10 + (unsigned)(p[i] - '0');
	return v;
}

/* A card number's digits: a network's prefix and length, and the Luhn check. */
static int card_ok(const char *d, size_t k)
{
	unsigned p2 = (unsigned)(d[0] - '0') * 10 + (unsigned)(d[1] - '0');
	unsigned p3 = p2 * 10 + (unsigned)(d[2] - '0'), p4 = p3 * 10 + (unsigned)(d[3] - '0');
	int net = 0;

	if (d[0] == '4')
		net = k == 13 || k == 16 || k == 19;				/* Visa */
	else if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720))
		net = k == 16;							/* Mastercard */
	else if (p2 == 34 || p2 == 37)
		net = k == 15;							/* Amex */
	else if (p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649))
		net = k >= 16 && k <= 19;					/* Discover */
	else if (p4 >= 3528 && p4 <= 3589)
		net = k >= 16 && k <= 19;					/* JCB */
	else if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39)
		net = k >= 14 && k <= 19;					/* Diners */
	else if (p2 == 62)
		net = k >= 16 && k <= 19;					/* UnionPay */
	else if (p2 == 50 || (p2 >= 56 && p2 <= 58) || p2 == 67)
		net = k >= 12 && k <= 19;					/* Maestro */
	return net && pii_luhn(d, k);
}

/* The groups of a card number as written: none, or one separator kind throughout in the
 * usual groupings (4-4-4-4[-3], 4-6-5, 4-6-4) */
static int card_groups_ok(const char *t, size_t b, size_t e)
{
	size_t g[8], ng = 0, run = 0, i;
	char sep = 0;

	for (i = b; i < e; i++) {
		if (is_digit((unsigned char)t[i])) {
			run++;
			continue;
		}
		if (sep && t[i] != sep)
			return 0;
		sep = t[i];
		if (ng == 7)
			return 0;
		g[ng++] = run;
		run = 0;
	}
	g[ng++] = run;
	if (ng == 1)
		return 1;
	if (ng >= 4 && g[0] == 4 && g[1] == 4 && g[2] == 4) {
		for (i = 3; i + 1 < ng; i++)
			if (g[i] != 4)
				return 0;
		return g[ng - 1] >= 1 && g[ng - 1] <= 4;
	}
	return ng == 3 && g[0] == 4 && g[1] == 6 && (g[2] == 5 || g[2] == 4);
}

/* The number starting at b (a digit, '+' or '('), in the run of digits and separators up to
 * e (exclusive). Returns the end of what was found, or 0. */
static size_t try_number(pii_scanner *s, const char *t, size_t n, size_t b, size_t e)
{
	unsigned kinds = s->o.kinds;
	size_t digits = 0, dots = 0, dashes = 0, i, m, g0, g1;
	char d[24];

	for (i = b; i < e; i++) {
		if (is_digit((unsigned char)t[i])) {
			if (digits < sizeof(d))
				d[digits] = t[i];
			digits++;
		} else if (t[i] == '.') {
			dots++;
		} else if (t[i] == '-') {
			dashes++;
		}
	}
	/* IBAN: two capitals, then the check digits */
	if ((kinds & 1u << PII_IBAN) && b >= 2 && is_digit((unsigned char)t[b]) && is_upper((unsigned char)t[b - 1]) &&
	    is_upper((unsigned char)t[b - 2]) && (b == 2 || !is_alnum((unsigned char)t[b - 3])) &&
	    (m = match_at(s, RE_IBAN, t, n, b - 2))) {
		size_t L = iban_length(t + b - 2), k = 0, end = 0;
		char c[40];

		/* the country's length of characters, ending at a group's end */
		for (i = b - 2; i < m && k < L; i++)
			if (t[i] != ' ') {
				c[k++] = t[i];
				end = i + 1;
			}
		if (L && k == L && (end == m || t[end] == ' ') && iban_mod97(c, L)) {
			add(s, b - 2, end, PII_IBAN);
			return end;
		}
	}
	if (digits < 4)
		return 0;
	if (!is_digit((unsigned char)t[b]) && t[b] != '+' && t[b] != '(')
		return 0;
	if ((kinds & 1u << PII_SSN) && digits >= 9 && dashes >= 2 && is_digit((unsigned char)t[b]) &&
	    (m = match_at(s, RE_SSN, t, n, b))) {
		unsigned area = digits_value(t + b, 3), grp = digits_value(t + b + 4, 2), ser = digits_value(t + b + 7, 4);

		if (area != 0 && area != 666 && area < 900 && grp != 0 && ser != 0) {
			add(s, b, m, PII_SSN);
			return m;
		}
	}
	if ((kinds & 1u << PII_CARD) && digits >= 13 && is_digit((unsigned char)t[b]) && !isbn_before(t, b) &&
	    (m = match_at(s, RE_CARD, t, n, b))) {
		int cut;

		/* the longest run the pattern took, then without its last group or two: a card
		 * followed by another number ("4111 1111 1111 1111 2 times") */
		for (cut = 0; cut < 3 && m > b; cut++) {
			size_t k = 0;

			for (i = b; i < m; i++)
				if (is_digit((unsigned char)t[i]) && k < sizeof(d))
					d[k++] = t[i];
			if (k >= 13 && k <= 19 && (m == n || !is_digit((unsigned char)t[m])) && card_groups_ok(t, b, m) &&
			    card_ok(d, k)) {
				add(s, b, m, PII_CARD);
				return m;
			}
			while (m > b && is_digit((unsigned char)t[m - 1]))
				m--;
			while (m > b && !is_digit((unsigned char)t[m - 1]))
				m--;
		}
	}
	if ((kinds & 1u << PII_IP) && dots >= 3 && is_digit((unsigned char)t[b]) && (m = match_at(s, RE_IPV4, t, n, b))) {
		int single = 1, pub = pii_ip_public(t + b, m - b);

		for (i = b; i + 1 < m; i++)
			if (is_digit((unsigned char)t[i]) && is_digit((unsigned char)t[i + 1]))
				single = 0;
		if (!single && pub >= 0 && (pub || s->o.all_ips) && !word_before(t, b, 3, version_words) &&
		    !section_number(t, n, b, m)) {
			add(s, b, m, PII_IP);
			return m;
		}
		return m;	/* an address kept, or a version: not a phone either */
	}
	if (!(kinds & 1u << PII_PHONE) || digits < 7)
		return 0;
	if (t[b] == '+' && (m = match_at(s, RE_PHONE_INTL, t, n, b))) {
		/* 8 to 15 digits: where more came, the groups up to 15 (a number after it) */
		for (;;) {
			size_t k = 0;

			for (i = b; i < m; i++)
				k += is_digit((unsigned char)t[i]);
			if (k >= 8 && k <= 15) {
				add(s, b, m, PII_PHONE);
				return m;
			}
			if (k < 8)
				break;
			while (m > b && is_digit((unsigned char)t[m - 1]))
				m--;
			while (m > b && !is_digit((unsigned char)t[m - 1]))
				m--;
		}
	}
	if (digits >= 10 && (m = match_at(s, RE_PHONE_NANP, t, n, b))) {
		/* the two separators, where both are given, agree */
		size_t s1 = group(s, 1, &g1), s2 = group(s, 2, &g0);

		(void)g1;
		if (s1 == PCRE2_UNSET || t[s1] == t[s2]) {
			add(s, b, m, PII_PHONE);
			return m;
		}
	}
	if (digits >= 10 && (t[b] == '0' || (t[b] == '(' && t[b + 1] == '0')) &&
	    (m = match_at(s, RE_PHONE_NATL, t, n, b))) {
		size_t k = 0, groups = 1;
		char sep = 0;
		int same = 1;

		for (i = b; i < m; i++) {
			if (is_digit((unsigned char)t[i])) {
				k++;
			} else if (t[i] == ' ' || t[i] == '-') {
				groups++;
				if (sep && t[i] != sep && t[i - 1] != ')')
					same = 0;
				if (t[i - 1] != ')')
					sep = t[i];
			}
		}
		if (k >= 10 && k <= 11 && groups >= 2 && same) {
			add(s, b, m, PII_PHONE);
			return m;
		}
	}
	if (!isbn_before(t, b) && word_before(t, b, 16, phone_words) && (m = match_at(s, RE_PHONE_ANY, t, n, b))) {
		size_t k = 0;
		int slash = 0;

		for (i = b; i < m; i++) {
			k += is_digit((unsigned char)t[i]);
			slash |= t[i] == '/';
		}
		if (k >= 7 && k <= 15 && !slash) {
			add(s, b, m, PII_PHONE);
			return m;
		}
	}
	return 0;
}

/* The run of digits and separators from the digit at i: returns its end; *start gets where
 * a number there begins ('+' or '(' before the digit). */
static size_t number_run(const char *t, size_t n, size_t i, size_t *start)
{
	size_t b = i, e = i;

	if (b > 0 && t[b - 1] == '(')
		b--;
	if (b > 0 && t[b - 1] == '+')
		b--;
	*start = b;
	while (e < n) {
		unsigned char c = (unsigned char)t[e];

		if (is_digit(c)) {
			e++;
			continue;
		}
		/* a separator only between digits (or a bracket before one) */
		if ((c == ' ' || c == '.' || c == '-' || c == '/' || c == '(' || c == ')') && e + 1 < n &&
		    (is_digit((unsigned char)t[e + 1]) || ((c == ' ' || c == ')') && t[e + 1] == '(') ||
		     (c == ')' && t[e + 1] == ' ' && e + 2 < n && is_digit((unsigned char)t[e + 2])))) {
			e++;
			continue;
		}
		if (c == ')')
			e++;
		break;
	}
	return e;
}

/* IPv6 around the ':' at i: the run of hex digits, ':' and '.' there, between word
 * boundaries. Returns the end of an address taken, else 0. */
static size_t try_ipv6(pii_scanner *s, const char *t, size_t n, size_t i)
{
	size_t b = i, e = i, colons = 0, k;
	int pub;

	while (b > 0 && i - b < 45 && (isxdigit((unsigned char)t[b - 1]) || t[b - 1] == ':'))
		b--;
	while (e < n && e - b < 46 && (isxdigit((unsigned char)t[e]) || t[e] == ':' || t[e] == '.'))
		e++;
	while (e > i && t[e - 1] == '.')
		e--;
	if ((b > 0 && (is_alnum((unsigned char)t[b - 1]) || t[b - 1] == '_' || t[b - 1] == '.')) ||
	    (e < n && (is_alnum((unsigned char)t[e]) || t[e] == '_' || t[e] == ':')))
		return 0;
	for (k = b; k < e; k++)
		colons += t[k] == ':';
	if (colons < 2 || e - b < 3)
		return 0;
	pub = pii_ip_public(t + b, e - b);
	if (pub < 0 || (!pub && !s->o.all_ips))
		return pub < 0 ? 0 : e;
	add(s, b, e, PII_IP);
	return e;
}

/* Shannon entropy of a string, bits a character */
static double entropy(const char *p, size_t n)
{
	unsigned cnt[256] = { 0 };
	double h = 0;
	size_t i;

	for (i = 0; i < n; i++)
		cnt[(unsigned char)p[i]]++;
	for (i = 0; i < 256; i++)
		if (cnt[i]) {
			double q = (double)cnt[i] / (double)n;

			h -= q * log2(q);
		}
	return h;
}

/* A credential assignment at the ':' or '=' at i: the name before it ends in one of these
 * (case, '_', '-' and '.' aside), the value after it is long and random. */
static size_t try_assignment(pii_scanner *s, const char *t, size_t n, size_t i)
{
	static const char *const names[] = { "apikey", "accesskey", "secretkey", "privatekey", "secret",
					     "token", "password", "passwd", "pwd", "credentials", "authkey",
					     "clientsecret", NULL };
	char name[64];
	size_t b = i, k = 0, j, m, v0, v1;
	int ok = 0, lower = 0, upper = 0, digit = 0;

	while (b > 0 && i - b < 4 && (t[b - 1] == ' ' || t[b - 1] == '"' || t[b - 1] == '\''))
		b--;
	for (j = b; j > 0 && b - j < 48 && (is_alnum((unsigned char)t[j - 1]) || t[j - 1] == '_' || t[j - 1] == '-' ||
					     t[j - 1] == '.');)
		j--;
	if (j == b)
		return 0;
	for (; j < b && k < sizeof(name) - 1; j++)
		if (is_alnum((unsigned char)t[j]))
			name[k++] = (char)((t[j] >= 'A' && t[j] <= 'Z') ? t[j] + 32 : t[j]);
	name[k] = '\0';
	for (j = 0; names[j] && !ok; j++) {
		size_t l = strlen(names[j]);

		ok = k >= l && memcmp(name + k - l, names[j], l) == 0;
	}
	if (!ok || !(m = match_at(s, RE_VALUE, t, n, i + 1)))
		return 0;
	v0 = group(s, 1, &v1);
	for (j = v0; j < v1; j++) {
		lower |= t[j] >= 'a' && t[j] <= 'z';
		upper |= t[j] >= 'A' && t[j] <= 'Z';
		digit |= is_digit((unsigned char)t[j]);
	}
	if (entropy(t + v0, v1 - v0) < 3.0 || lower + upper + digit < 2)
		return 0;
	add(s, v0, v1, PII_SECRET);
	return v1;
}

/* The secrets that start with a marker; i is the trigger byte. */
static size_t try_secret(pii_scanner *s, const char *t, size_t n, size_t i)
{
	size_t m, b;
	char c = t[i];

	if (c == 'A' && (i == 0 || !is_alnum((unsigned char)t[i - 1])) && (m = match_at(s, RE_AWS, t, n, i))) {
		add(s, i, m, PII_SECRET);
		return m;
	}
	if (c == '_' && i >= 3 && t[i - 3] == 'g' && t[i - 2] == 'h' && (i == 3 || !is_alnum((unsigned char)t[i - 4])) &&
	    (m = match_at(s, RE_GITHUB, t, n, i - 3))) {
		add(s, i - 3, m, PII_SECRET);
		return m;
	}
	if (c == '_' && i >= 6 && n - (i - 6) >= 11 && memcmp(t + i - 6, "github_pat_", 11) == 0 &&
	    (m = match_at(s, RE_GITHUB, t, n, i - 6))) {
		add(s, i - 6, m, PII_SECRET);
		return m;
	}
	if (c == '-' && i >= 4 && t[i - 4] == 'x' && t[i - 3] == 'o' && t[i - 2] == 'x' &&
	    (m = match_at(s, RE_SLACK, t, n, i - 4))) {
		add(s, i - 4, m, PII_SECRET);
		return m;
	}
	if (c == 'J' && i >= 2 && t[i - 2] == 'e' && t[i - 1] == 'y' && (i == 2 || !is_alnum((unsigned char)t[i - 3])) &&
	    (m = match_at(s, RE_JWT, t, n, i - 2))) {
		add(s, i - 2, m, PII_SECRET);
		return m;
	}
	if (c == '-' && n - i >= 16 && memcmp(t + i, "-----BEGIN ", 11) == 0 && (m = match_at(s, RE_PEM, t, n, i))) {
		/* to the matching END line, or to the end of the base64 that follows */
		const char *end = NULL;
		size_t lim = n - m < 65536 ? n - m : 65536;

		b = m;
		end = memmem(t + m, lim, "-----END ", 9);
		if (end) {
			const char *q = memmem(end + 9, n - (size_t)(end + 9 - t) < 64 ? n - (size_t)(end + 9 - t) : 64,
					       "-----", 5);

			m = q ? (size_t)(q + 5 - t) : (size_t)(end + 9 - t);
		} else {
			while (m < n && m - b < 65536 && (is_alnum((unsigned char)t[m]) || t[m] == '+' || t[m] == '/' ||
							  t[m] == '=' || t[m] == '\n' || t[m] == '\r'))
				m++;
		}
		add(s, i, m, PII_SECRET);
		return m;
	}
	return 0;
}

#ifdef __SSE2__
static inline __m128i eqb(__m128i v, char c)
{
	return _mm_cmpeq_epi8(v, _mm_set1_epi8(c));
}

static inline __m128i upper16(const char *p)
{
	__m128i d = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)p), _mm_set1_epi8('A'));

	return _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(25)), d);
}
#endif

/* Bit j: t[i + j] is a trigger (see the file comment); i + 19 <= n. */
static inline unsigned triggers16(const char *t, size_t i, unsigned kinds)
{
#ifdef __SSE2__
	__m128i v = _mm_loadu_si128((const __m128i *)(t + i));
	__m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
	__m128i m = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);

	m = _mm_or_si128(m, _mm_or_si128(eqb(v, '@'), eqb(v, ':')));
	if (kinds & 1u << PII_SECRET) {
		__m128i a = _mm_and_si128(eqb(v, 'A'), _mm_and_si128(upper16(t + i + 1),
								   _mm_and_si128(upper16(t + i + 2), upper16(t + i + 3))));

		m = _mm_or_si128(m, _mm_or_si128(_mm_or_si128(eqb(v, '='), eqb(v, '_')),
						 _mm_or_si128(_mm_or_si128(eqb(v, '-'), eqb(v, 'J')), a)));
	}
	return (unsigned)_mm_movemask_epi8(m);
#else
	unsigned m = 0, j;

	for (j = 0; j < 16; j++) {
		char c = t[i + j];

		if (is_digit((unsigned char)c) || c == '@' || c == ':' ||
		    ((kinds & 1u << PII_SECRET) && (c == '=' || c == '_' || c == '-' || c == 'J' || c == 'A')))
			m |= 1u << j;
	}
	return m;
#endif
}

size_t pii_find(pii_scanner *s, const char *t, size_t n, const pii_match **out)
{
	unsigned kinds = s->o.kinds;
	size_t i = 0, next = 0;

	s->nm = 0;
	while (i < n) {
		unsigned mask;
		size_t base = i;

		if (i + 19 <= n) {
			mask = triggers16(t, i, kinds);
			i += 16;
		} else {	/* the last bytes one by one */
			char c = t[i];

			mask = is_digit((unsigned char)c) || c == '@' || c == ':' ||
			       ((kinds & 1u << PII_SECRET) && (c == '=' || c == '_' || c == '-' || c == 'J' || c == 'A'));
			i++;
		}
		for (; mask; mask &= mask - 1) {
			size_t p = base + (size_t)__builtin_ctz(mask), r = 0;
			char c;

			if (p < next)
				continue;	/* inside what was looked at */
			c = t[p];
			if (is_digit((unsigned char)c)) {
				size_t b, e;

				if (p > 0 && (is_alnum((unsigned char)t[p - 1]) && !(p >= 2 && is_upper((unsigned char)t[p - 1]) &&
										       is_upper((unsigned char)t[p - 2]))))
					continue;	/* inside a word ("A380", "x86"), but an IBAN's country */
				e = number_run(t, n, p, &b);
				r = try_number(s, t, n, b, e);
				if (!r && (kinds & 1u << PII_IP) && e < n && t[e] == ':')
					r = try_ipv6(s, t, n, e);
				next = r ? r : e;
				if (next <= p)
					next = p + 1;
				continue;
			}
			if (c == '@' && (kinds & 1u << PII_EMAIL)) {
				next = try_email(s, t, n, p);
				continue;
			}
			if (c == ':') {
				if ((kinds & 1u << PII_IP) && (r = try_ipv6(s, t, n, p))) {
					next = r;
					continue;
				}
				if ((kinds & 1u << PII_SECRET) && (r = try_assignment(s, t, n, p))) {
					next = r;
					continue;
				}
				continue;
			}
			if (!(kinds & 1u << PII_SECRET))
				continue;
			if (c == '=' && (r = try_assignment(s, t, n, p)))
				next = r;
			else if ((r = try_secret(s, t, n, p)))
				next = r;
		}
		if (next > i && next <= n)
			i = next;	/* what a match consumed */
	}
	*out = s->m;
	return s->nm;
}
