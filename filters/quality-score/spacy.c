/* spacy.c - words as spaCy's English tokenizer cuts them: see spacy.h.
 *
 * The steps follow spaCy's Tokenizer (tokenizer.pyx: _split_affixes, _attach_tokens) and
 * its English punctuation rules (lang/punctuation.py, lang/en/punctuation.py,
 * lang/char_classes.py, the URL pattern of lang/tokenizer_exceptions.py). A piece is worked
 * on as code points, with their byte offsets.
 */
#include "spacy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "cli.h"
#include "data.h"
#include "utf8.h"

static void mark_affixed(void);

/* ---- special cases: string -> the byte lengths of its tokens ---- */

#define SPECIAL_TOKS 8

typedef struct special {
	const char *s;
	uint32_t len;
	uint8_t ntok, tok[SPECIAL_TOKS];
	uint8_t affixed;	/* holds a prefix, suffix or infix: looked for again after the cutting */
} special;

static special *spec;
static size_t nspec, spec_mask;
static int32_t *slot;		/* index into spec, -1 empty */
static size_t max_special;	/* bytes of the longest */

static const special *find_special(const char *p, size_t len)
{
	size_t i;

	if (!slot || len > max_special)
		return NULL;
	for (i = XXH3_64bits(p, len) & spec_mask; slot[i] >= 0; i = (i + 1) & spec_mask) {
		const special *e = &spec[slot[i]];

		if (e->len == len && memcmp(e->s, p, len) == 0)
			return e;
	}
	return NULL;
}

void qs_spacy_load(void)
{
	size_t n = 0, cap = 0, i;
	const char *p = cm_data("quality/spacy-en-exceptions.txt", &n), *end = p + n;

	if (!p)
		cm_die("built without data/quality/spacy-en-exceptions.txt");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *q, *tab;
		special e;

		if (!nl)
			nl = end;
		if (*p == '#' || nl == p)
			goto next;
		tab = memchr(p, '\t', (size_t)(nl - p));
		if (!tab)
			goto next;
		e.s = p;
		e.len = (uint32_t)(tab - p);
		e.ntok = 0;
		for (q = tab + 1; q < nl && e.ntok < SPECIAL_TOKS;) {
			const char *t = memchr(q, '\t', (size_t)(nl - q));

			if (!t)
				t = nl;
			e.tok[e.ntok++] = (uint8_t)(t - q);
			q = t + 1;
		}
		if (nspec == cap) {
			cap = cap ? cap * 2 : 2048;
			spec = cm_xrealloc(spec, cap * sizeof(*spec));
		}
		spec[nspec++] = e;
		if (e.len > max_special)
			max_special = e.len;
next:
		p = nl + 1;
	}
	for (spec_mask = 1; spec_mask < nspec * 2; spec_mask *= 2)
		;
	slot = cm_xmalloc(spec_mask * sizeof(*slot));
	memset(slot, 0xff, spec_mask * sizeof(*slot));
	spec_mask--;
	for (i = 0; i < nspec; i++) {
		size_t j;

		for (j = XXH3_64bits(spec[i].s, spec[i].len) & spec_mask; slot[j] >= 0; j = (j + 1) & spec_mask)
			;
		slot[j] = (int32_t)i;
	}
	mark_affixed();
}

/* ---- character classes ---- */

static int in_list(int32_t c, const int32_t *l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (l[i] == c)
			return 1;
	return 0;
}

#define IN(c, l) in_list(c, l, sizeof(l) / sizeof(*l))

/* ASCII members of the lists below, as bits: quick answers for the common case */
enum { C_PUNCT = 1, C_QUOTE = 2, C_CURRENCY = 4 };
static const uint8_t ascii_set[128] = {
	[','] = C_PUNCT | C_QUOTE, [':'] = C_PUNCT, [';'] = C_PUNCT, ['!'] = C_PUNCT, ['?'] = C_PUNCT,
	['('] = C_PUNCT, [')'] = C_PUNCT, ['['] = C_PUNCT, [']'] = C_PUNCT, ['{'] = C_PUNCT, ['}'] = C_PUNCT,
	['<'] = C_PUNCT, ['>'] = C_PUNCT, ['_'] = C_PUNCT, ['#'] = C_PUNCT, ['*'] = C_PUNCT, ['&'] = C_PUNCT,
	['\''] = C_QUOTE, ['"'] = C_QUOTE, ['`'] = C_QUOTE, ['$'] = C_CURRENCY,
};

/* LIST_PUNCT (one character each) */
static const int32_t punct[] = {
	0x2026, ',', ':', ';', '!', '?', 0xbf, 0x61f, 0xa1, '(', ')', '[', ']', '{', '}', '<', '>', '_',
	'#', '*', '&', 0x3002, 0xff1f, 0xff01, 0xff0c, 0x3001, 0xff1b, 0xff1a, 0xff5e, 0xb7, 0x964,
	0x60c, 0x6d4, 0x61b, 0x66a,
};
/* LIST_QUOTES */
static const int32_t quotes[] = {
	'\'', '"', 0x201d, 0x201c, '`', 0x2018, 0xb4, 0x2019, 0x201a, ',', 0x201e, 0xbb, 0xab, 0x300c,
	0x300d, 0x300e, 0x300f, 0xff08, 0xff09, 0x3014, 0x3015, 0x3010, 0x3011, 0x300a, 0x300b, 0x3008,
	0x3009, 0x2329, 0x232a, 0x27e6, 0x27e7,
};
/* LIST_CURRENCY, one-character ones ("US$", "C$", "A$" are looked for apart) */
static const int32_t currency[] = {
	'$', 0xa3, 0x20ac, 0xa5, 0xe3f, 0x20bd, 0xfdfc, 0x20b4, 0x20a0, 0x20a1, 0x20a2, 0x20a3, 0x20a4,
	0x20a5, 0x20a6, 0x20a7, 0x20a8, 0x20a9, 0x20aa, 0x20ab, 0x20ad, 0x20ae, 0x20af, 0x20b0, 0x20b1,
	0x20b2, 0x20b3, 0x20b5, 0x20b6, 0x20b7, 0x20b8, 0x20b9, 0x20ba, 0x20bb, 0x20bc, 0x20be, 0x20bf,
};
/* UNITS after a number */
static const char *const units[] = {
	"km", "km\xc2\xb2", "km\xc2\xb3", "m", "m\xc2\xb2", "m\xc2\xb3", "dm", "dm\xc2\xb2", "dm\xc2\xb3",
	"cm", "cm\xc2\xb2", "cm\xc2\xb3", "mm", "mm\xc2\xb2", "mm\xc2\xb3", "ha", "\xc2\xb5m", "nm", "yd",
	"in", "ft", "kg", "g", "mg", "\xc2\xb5g", "t", "lb", "oz", "m/s", "km/h", "kmh", "mph", "hPa",
	"Pa", "mbar", "mb", "MB", "kb", "KB", "gb", "GB", "tb", "TB", "T", "G", "M", "K", "%",
	"км", "км²", "км³", "м", "м²", "м³", "дм", "дм²", "дм³", "см", "см²", "см³", "мм", "мм²",
	"мм³", "нм", "кг", "г", "мг", "м/с", "км/ч", "кПа", "Па", "мбар", "Кб", "КБ", "кб", "Мб", "МБ",
	"мб", "Гб", "ГБ", "гб", "Тб", "ТБ",
};

static int is_punct(int32_t c)
{
	return c < 0x80 ? (ascii_set[c] & C_PUNCT) != 0 : IN(c, punct);
}

static int is_quote(int32_t c)
{
	return c < 0x80 ? (ascii_set[c] & C_QUOTE) != 0 : IN(c, quotes);
}

static int is_currency(int32_t c)
{
	return c < 0x80 ? (ascii_set[c] & C_CURRENCY) != 0 : IN(c, currency);
}

static int is_space(int32_t c)	/* Python's str.isspace */
{
	return (c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
	       c == 0x3000;
}

static int is_digit(int32_t c)
{
	return c >= '0' && c <= '9';
}

static int cjk_alpha(int32_t c)	/* spaCy's _cjk, _kana, _hangul: letters in its classes */
{
	return (c >= 0x3000 && c <= 0x303f) || (c >= 0x3040 && c <= 0x30ff) || (c >= 0x3400 && c <= 0x4dbf) ||
	       (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xf900 && c <= 0xfaff) || (c >= 0xfe30 && c <= 0xfe4f) ||
	       (c >= 0x2e80 && c <= 0x2fff) || (c >= 0x31c0 && c <= 0x33ff) || (c >= 0xac00 && c <= 0xd7af) ||
	       (c >= 0x1100 && c <= 0x11ff) || (c >= 0x20000 && c <= 0x2fa1f) || (c >= 0x1f200 && c <= 0x1f2ff);
}

enum { A_NONE, A_LOWER, A_UPPER, A_UNCASED };

static int alpha_case(int32_t c)
{
	if (c < 0x80) {
		if (c >= 'a' && c <= 'z')
			return A_LOWER;
		if (c >= 'A' && c <= 'Z')
			return A_UPPER;
		return A_NONE;
	}
	if (cjk_alpha(c))
		return A_UNCASED;
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_LL: return A_LOWER;
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LT: return A_UPPER;
	case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: return A_UNCASED;
	default: return A_NONE;
	}
}

static int alpha(int32_t c) { return alpha_case(c) != A_NONE; }
static int alpha_lower(int32_t c) { int k = alpha_case(c); return k == A_LOWER || k == A_UNCASED; }
static int alpha_upper(int32_t c) { int k = alpha_case(c); return k == A_UPPER || k == A_UNCASED; }

static int icon(int32_t c)	/* _other_symbols: symbols, other (So) */
{
	return c >= 0x80 && utf8proc_category(c) == UTF8PROC_CATEGORY_SO;
}

/* ---- one piece (no white space), as code points ---- */

typedef struct piece {
	const char *text;
	const int32_t *cp;
	const size_t *off;	/* byte offset of each code point, and of the end */
	size_t (*tok)[2];	/* the piece's tokens so far: byte offsets */
	size_t ntok, cap;
} piece;

static void add_token(piece *pc, size_t off, size_t end)
{
	if (pc->ntok == pc->cap) {
		pc->cap = pc->cap ? pc->cap * 2 : 64;
		pc->tok = cm_xrealloc(pc->tok, pc->cap * sizeof(*pc->tok));
	}
	pc->tok[pc->ntok][0] = off;
	pc->tok[pc->ntok][1] = end;
	pc->ntok++;
}

static void emit(piece *pc, size_t a, size_t b)
{
	if (b > a)
		add_token(pc, pc->off[a], pc->off[b]);
}

static const special *special_at(const piece *pc, size_t a, size_t b)
{
	return b > a ? find_special(pc->text + pc->off[a], pc->off[b] - pc->off[a]) : NULL;
}

static void emit_special(piece *pc, size_t a, const special *e)
{
	size_t off = pc->off[a], k;

	for (k = 0; k < e->ntok; k++) {
		add_token(pc, off, off + e->tok[k]);
		off += e->tok[k];
	}
}

static int bytes_are(const piece *pc, size_t a, size_t b, const char *s)
{
	size_t len;

	if (b <= a || pc->text[pc->off[a]] != s[0])	/* most differ at once (digits, in numbers) */
		return 0;
	len = strlen(s);

	return pc->off[b] - pc->off[a] == len && memcmp(pc->text + pc->off[a], s, len) == 0;
}

/* Code points in the prefix at a (0: none). */
static size_t prefix_len(const piece *pc, size_t a, size_t b)
{
	int32_t c = pc->cp[a];

	if (c == 0xa7 || c == '%' || c == '=' || c == 0x2014 || c == 0x2013)
		return 1;
	if (c == '+')
		return a + 1 < b && is_digit(pc->cp[a + 1]) ? 0 : 1;
	if (is_punct(c))
		return 1;
	if (c == '.') {
		size_t k = a;

		while (k < b && pc->cp[k] == '.')
			k++;
		return k - a >= 2 ? k - a : 0;
	}
	if (is_quote(c) || is_currency(c))
		return 1;
	if ((c == 'U' && b - a >= 3 && pc->cp[a + 1] == 'S' && pc->cp[a + 2] == '$'))
		return 3;
	if ((c == 'C' || c == 'A') && b - a >= 2 && pc->cp[a + 1] == '$')
		return 2;
	return icon(c) ? 1 : 0;
}

/* The lookbehind of spaCy's "a point after ..." suffix: digits, lower-case letters, % ² - +,
 * the punctuation and quotes (and the characters "|(?:)" its class happens to hold). */
static int point_after(int32_t c)
{
	return is_digit(c) || alpha_lower(c) || c == '%' || c == 0xb2 || c == '-' || c == '+' ||
	       is_punct(c) || is_quote(c) || c == '|' || c == '(' || c == '?' || c == ':' || c == ')';
}

/* Code points in the suffix ending at b (0: none): the leftmost of spaCy's suffix patterns
 * that reaches the end. */
static size_t suffix_len(const piece *pc, size_t a, size_t b)
{
	size_t p, k;

	for (p = b - 1 > a + 8 ? b - 9 : a; p < b; p++) {
		int32_t c = pc->cp[p];
		size_t rest = b - p;

		if (rest == 1 && (is_punct(c) || is_quote(c) || c == 0x2014 || c == 0x2013 || icon(c)))
			return 1;
		if (c == '.' && rest >= 2) {
			for (k = p; k < b && pc->cp[k] == '.'; k++)
				;
			if (k == b)
				return rest;
		}
		if (rest == 2 && c == 0x2026 && pc->cp[p + 1] == 0x2026)
			return 2;
		if (rest == 2 && (c == '\'' || c == 0x2019) && (pc->cp[p + 1] == 's' || pc->cp[p + 1] == 'S'))
			return 2;
		/* a unit or currency after a number (none starts with a digit) */
		if (p > a && is_digit(pc->cp[p - 1]) && !is_digit(c)) {
			if (rest == 1 && c == '+')
				return 1;
			if ((rest == 1 && is_currency(c)) || bytes_are(pc, p, b, "US$") || bytes_are(pc, p, b, "C$") ||
			    bytes_are(pc, p, b, "A$"))
				return rest;
			for (k = 0; k < sizeof(units) / sizeof(*units); k++)
				if (bytes_are(pc, p, b, units[k]))
					return rest;
		}
		if (rest == 1 && c == '.' && p > a) {
			int32_t q = pc->cp[p - 1];

			if (p >= a + 2 && pc->cp[p - 2] == 0xb0 && (q == 'F' || q == 'f' || q == 'C' || q == 'c' ||
								    q == 'K' || q == 'k'))
				return 1;
			if (point_after(q))
				return 1;
			if (p >= a + 2 && alpha_upper(q) && alpha_upper(pc->cp[p - 2]))
				return 1;
		}
	}
	return 0;
}

/* spaCy's URL pattern, anchored at both ends, on [a, b). */
static int host_label_char(int32_t c, int inner)
{
	return (c < 0x80 && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))) ||
	       (c >= 0xa1 && c <= 0xffff) || (inner && (c == '_' || c == '-'));
}

static int url_tail(const piece *pc, size_t p, size_t b)	/* (:port)? ([/?#]\S*)? $ */
{
	if (p < b && pc->cp[p] == ':') {
		size_t k = p + 1;

		while (k < b && is_digit(pc->cp[k]))
			k++;
		if (k - p - 1 >= 2 && k - p - 1 <= 5)
			p = k;
		else
			return 0;
	}
	return p == b || pc->cp[p] == '/' || pc->cp[p] == '?' || pc->cp[p] == '#';
}

static int url_host(const piece *pc, size_t p, size_t b)
{
	size_t labels = 0;

	/* (label.)+ then a top-level domain of 2 to 63 lower-case letters: tried at every point
	 * that ends a label (as the pattern backtracks) */
	while (p < b) {
		size_t k = p, t;

		while (k < b && host_label_char(pc->cp[k], 1) && k - p < 64)
			k++;
		if (k == p || k >= b || pc->cp[k] != '.' || !host_label_char(pc->cp[p], 0) ||
		    !host_label_char(pc->cp[k - 1], 0))
			return 0;
		labels++;
		p = k + 1;
		for (t = p; t < b && alpha_lower(pc->cp[t]) && t - p < 63; t++)
			;
		for (; t >= p + 2; t--)
			if (url_tail(pc, t, b))
				return 1;
	}
	return 0;
}

static int url_ip(const piece *pc, size_t p, size_t b)
{
	int oct[4], n = 0;

	while (n < 4) {
		size_t k = p;
		int v = 0;

		while (k < b && is_digit(pc->cp[k]) && k - p < 3)
			v = v * 10 + (pc->cp[k++] - '0');
		if (k == p)
			return 0;
		oct[n++] = v;
		p = k;
		if (n < 4) {
			if (p >= b || pc->cp[p] != '.')
				return 0;
			p++;
		}
	}
	if (oct[0] == 10 || oct[0] == 127 || (oct[0] == 169 && oct[1] == 254) ||
	    (oct[0] == 192 && oct[1] == 168) || (oct[0] == 172 && oct[1] >= 16 && oct[1] <= 31))
		return 0;
	if (oct[0] < 1 || oct[0] > 223 || oct[1] > 255 || oct[2] > 255 || oct[3] < 1 || oct[3] > 254)
		return 0;
	return url_tail(pc, p, b);
}

static int url_match(const piece *pc, size_t a, size_t b)
{
	size_t p = a, k, starts[3], ns = 0, i;

	for (k = a; k < b && pc->cp[k] != '.'; k++)
		;
	if (k == b)	/* a host name or an address has a point */
		return 0;

	/* scheme:// */
	for (k = a; k < b && (alpha(pc->cp[k]) || is_digit(pc->cp[k]) || pc->cp[k] == '_' || pc->cp[k] == '+' ||
			      pc->cp[k] == '-' || pc->cp[k] == '.'); k++)
		;
	if (k - a >= 2 && k + 2 < b && pc->cp[k] == ':' && pc->cp[k + 1] == '/' && pc->cp[k + 2] == '/')
		p = k + 3;
	/* user(:pass)@ : after the last '@', or none */
	starts[ns++] = p;
	for (k = b; k > p; k--)
		if (pc->cp[k - 1] == '@') {
			starts[ns++] = k;
			break;
		}
	for (i = ns; i-- > 0;)
		if ((i == 0 || starts[i] > p + 1) && (url_ip(pc, starts[i], b) || url_host(pc, starts[i], b)))
			return 1;
	return 0;
}

/* Infixes of [a, b), leftmost first: calls back with each [s, e). */
static size_t next_infix(const piece *pc, size_t a, size_t from, size_t b, size_t *e)
{
	size_t p;

	for (p = from; p < b; p++) {
		int32_t c = pc->cp[p], prev = p > a ? pc->cp[p - 1] : -1, next = p + 1 < b ? pc->cp[p + 1] : -1;

		if (c == '.' && next == '.') {
			for (*e = p; *e < b && pc->cp[*e] == '.'; (*e)++)
				;
			return p;
		}
		*e = p + 1;
		if (c == 0x2026 || icon(c))
			return p;
		if (prev < 0)
			continue;
		if ((c == '+' || c == '-' || c == '*' || c == '^') && is_digit(prev) && (is_digit(next) || next == '-'))
			return p;
		if (c == '.' && (alpha_lower(prev) || is_quote(prev)) && next >= 0 &&
		    (alpha_upper(next) || is_quote(next)))
			return p;
		if (c == ',' && alpha(prev) && next >= 0 && alpha(next))
			return p;
		if ((alpha(prev) || is_digit(prev)) && (c == '-' || c == 0x2013 || c == 0x2014 || c == '~')) {
			/* - – — -- --- —— ~, in that order, followed by a letter */
			static const int32_t h[][3] = {
				{ '-', 0, 0 }, { 0x2013, 0, 0 }, { 0x2014, 0, 0 }, { '-', '-', 0 }, { '-', '-', '-' },
				{ 0x2014, 0x2014, 0 }, { '~', 0, 0 },
			};
			size_t j, l;

			for (j = 0; j < sizeof(h) / sizeof(*h); j++) {
				for (l = 0; l < 3 && h[j][l]; l++)
					if (p + l >= b || pc->cp[p + l] != h[j][l])
						break;
				if ((l == 3 || !h[j][l]) && p + l < b && alpha(pc->cp[p + l])) {
					*e = p + l;
					return p;
				}
			}
		}
		if ((c == ':' || c == '<' || c == '>' || c == '=' || c == '/') && (alpha(prev) || is_digit(prev)) &&
		    next >= 0 && alpha(next))
			return p;
	}
	return b;
}

static void attach(piece *pc, size_t a, size_t b)
{
	const special *e;
	size_t start, s, x;

	if (a >= b)
		return;
	if ((e = special_at(pc, a, b))) {
		emit_special(pc, a, e);
		return;
	}
	if (url_match(pc, a, b)) {
		emit(pc, a, b);
		return;
	}
	start = a;
	for (s = next_infix(pc, a, a, b, &x); s < b; s = next_infix(pc, a, x, b, &x)) {
		if (s == a)	/* an infix at the very start does not cut */
			continue;
		emit(pc, start, s);
		emit(pc, s, x);
		start = x;
	}
	emit(pc, start, b);
}

static void split_piece(piece *pc, size_t a, size_t b)
{
	static _Thread_local size_t *pre, *suf, cap;	/* starts of prefixes, of suffixes */
	size_t npre = 0, nsuf = 0, last = 0, i, end = b;
	const special *e;

	if ((e = special_at(pc, a, b))) {
		emit_special(pc, a, e);
		return;
	}
	if (b - a + 1 > cap) {
		cap = b - a + 1;
		pre = cm_xrealloc(pre, cap * sizeof(*pre));
		suf = cm_xrealloc(suf, cap * sizeof(*suf));
	}
	while (a < b && b - a != last) {
		size_t pl, sl;

		if (special_at(pc, a, b))
			break;
		last = b - a;
		pl = prefix_len(pc, a, b);
		if (pl && special_at(pc, a + pl, b)) {
			pre[npre++] = a;
			a += pl;
			break;
		}
		sl = a + pl < b ? suffix_len(pc, a + pl, b) : 0;
		if (sl && special_at(pc, a, b - sl)) {
			suf[nsuf++] = b - sl;
			b -= sl;
			break;
		}
		if (pl && sl && pl + sl <= b - a) {
			pre[npre++] = a;
			suf[nsuf++] = b - sl;
			a += pl;
			b -= sl;
		} else if (pl) {
			pre[npre++] = a;
			a += pl;
		} else if (sl) {
			suf[nsuf++] = b - sl;
			b -= sl;
		}
	}
	for (i = 0; i < npre; i++)
		emit(pc, pre[i], i + 1 < npre ? pre[i + 1] : a);
	attach(pc, a, b);
	for (i = nsuf; i-- > 0;)
		emit(pc, suf[i], i > 0 ? suf[i - 1] : end);
}

/* Which special cases the affix rules would cut (spaCy looks for those again afterwards). */
static void mark_affixed(void)
{
	int32_t cp[256];
	size_t off[257], i;

	for (i = 0; i < nspec; i++) {
		special *e = &spec[i];
		piece pc = { e->s, cp, off, NULL, 0, 0 };
		size_t m = 0, j = 0, x;

		while (j < e->len && m < 255) {
			uint32_t u;
			size_t k = cm_utf8_decode(e->s + j, e->len - j, &u);

			cp[m] = u == CM_UTF8_INVALID ? 0xfffd : (int32_t)u;
			off[m++] = j;
			j += k ? k : 1;
		}
		off[m] = j;
		e->affixed = m && (prefix_len(&pc, 0, m) || suffix_len(&pc, 0, m) || next_infix(&pc, 0, 0, m, &x) < m);
	}
}

/* spaCy's second look for special cases: a run of tokens that together spell one ("):",
 * "''", "z." cut by the affix rules) becomes the special case's tokens; longest first, left
 * to right. */
#define MERGE_MAX 6

static void merge_specials(piece *pc, void (*tok)(void *, size_t, size_t), void *ctx)
{
	size_t i = 0, k;

	while (i < pc->ntok) {
		const special *e = NULL;

		for (k = pc->ntok - i < MERGE_MAX ? pc->ntok - i : MERGE_MAX; k >= 2; k--) {
			size_t off = pc->tok[i][0], end = pc->tok[i + k - 1][1];

			if (end - off <= max_special && (e = find_special(pc->text + off, end - off)) && e->affixed)
				break;
			e = NULL;
		}
		if (e) {
			size_t off = pc->tok[i][0], j;

			for (j = 0; j < e->ntok; j++) {
				tok(ctx, off, off + e->tok[j]);
				off += e->tok[j];
			}
			i += k;
		} else {
			tok(ctx, pc->tok[i][0], pc->tok[i][1]);
			i++;
		}
	}
}

#define PIECE_MAX (1 << 20)

void qs_spacy_words(const char *text, size_t n, void (*tok)(void *ctx, size_t off, size_t end), void *ctx)
{
	static _Thread_local int32_t *cps;
	static _Thread_local size_t *offs, cap;
	static _Thread_local piece pc;
	size_t i = 0;

	while (i < n) {
		size_t m = 0, j;
		int32_t c;
		uint32_t u;

		/* white space */
		for (;;) {
			size_t k;

			if (i >= n)
				return;
			k = cm_utf8_decode(text + i, n - i, &u);
			c = u == CM_UTF8_INVALID ? 0xfffd : (int32_t)u;
			if (!is_space(c))
				break;
			i += k ? k : 1;
		}
		/* a piece: up to the next white space; one over PIECE_MAX bytes is a word as it is
		 * (memory stays bounded, whatever the input) */
		for (j = i; j < n && j - i < PIECE_MAX;) {
			size_t k = cm_utf8_decode(text + j, n - j, &u);

			c = u == CM_UTF8_INVALID ? 0xfffd : (int32_t)u;
			if (is_space(c))
				break;
			if (m + 2 > cap) {
				cap = cap ? cap * 2 : 256;
				cps = cm_xrealloc(cps, cap * sizeof(*cps));
				offs = cm_xrealloc(offs, cap * sizeof(*offs));
			}
			cps[m] = c;
			offs[m++] = j;
			j += k ? k : 1;
		}
		if (j - i >= PIECE_MAX) {
			while (j < n) {
				size_t k = cm_utf8_decode(text + j, n - j, &u);

				c = u == CM_UTF8_INVALID ? 0xfffd : (int32_t)u;
				if (is_space(c))
					break;
				j += k ? k : 1;
			}
			tok(ctx, i, j);
			i = j;
			continue;
		}
		offs[m] = j;
		pc.text = text;
		pc.cp = cps;
		pc.off = offs;
		pc.ntok = 0;
		split_piece(&pc, 0, m);
		merge_specials(&pc, tok, ctx);
		i = j;
	}
}

/* ---- sentences: spaCy's sentencizer ---- */

/* The sentencizer's default end marks (spacy/pipeline/sentencizer.pyx, default_punct_chars),
 * sorted; every one is punctuation (category P*). */
static const int32_t sent_end[] = {
	0x21, 0x2e, 0x3f, 0x589, 0x61f, 0x6d4, 0x700, 0x701, 0x702, 0x7f9, 0x964, 0x965, 0x104a,
	0x104b, 0x1362, 0x1367, 0x1368, 0x166e, 0x1735, 0x1736, 0x1803, 0x1809, 0x1944, 0x1945,
	0x1aa8, 0x1aa9, 0x1aaa, 0x1aab, 0x1b5a, 0x1b5b, 0x1b5e, 0x1b5f, 0x1c3b, 0x1c3c, 0x1c7e,
	0x1c7f, 0x203c, 0x203d, 0x2047, 0x2048, 0x2049, 0x2e2e, 0x2e3c, 0x3002, 0xa4ff, 0xa60e,
	0xa60f, 0xa6f3, 0xa6f7, 0xa876, 0xa877, 0xa8ce, 0xa8cf, 0xa92f, 0xa9c8, 0xa9c9, 0xaa5d,
	0xaa5e, 0xaa5f, 0xaaf0, 0xaaf1, 0xabeb, 0xfe52, 0xfe56, 0xfe57, 0xff01, 0xff0e, 0xff1f,
	0xff61, 0x10a56, 0x10a57, 0x11047, 0x11048, 0x110be, 0x110bf, 0x110c0, 0x110c1, 0x11141,
	0x11142, 0x11143, 0x111c5, 0x111c6, 0x111cd, 0x111de, 0x111df, 0x11238, 0x11239, 0x1123b,
	0x1123c, 0x112a9, 0x1144b, 0x1144c, 0x115c2, 0x115c3, 0x115c9, 0x115ca, 0x115cb, 0x115cc,
	0x115cd, 0x115ce, 0x115cf, 0x115d0, 0x115d1, 0x115d2, 0x115d3, 0x115d4, 0x115d5, 0x115d6,
	0x115d7, 0x11641, 0x11642, 0x1173c, 0x1173d, 0x1173e, 0x11a42, 0x11a43, 0x11a9b, 0x11a9c,
	0x11c41, 0x11c42, 0x16a6e, 0x16a6f, 0x16af5, 0x16b37, 0x16b38, 0x16b44, 0x1bc9f, 0x1da88,
};

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return x < y ? -1 : x > y;
}

static int is_sent_end(int32_t c)
{
	if (c < 0x80)
		return c == '.' || c == '!' || c == '?';
	return bsearch(&c, sent_end, sizeof(sent_end) / sizeof(*sent_end), sizeof(*sent_end), cmp_i32) != NULL;
}

static int is_p(int32_t c)	/* Unicode category P* (spaCy's is_punct, a character) */
{
	if (c < 0x80)
		return (c >= '!' && c <= '/' && c != '$' && c != '+') || c == ':' || c == ';' || c == '?' ||
		       c == '@' || c == '[' || c == '\\' || c == ']' || c == '_' || c == '{' || c == '}';
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS:
	case UTF8PROC_CATEGORY_PE: case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF:
	case UTF8PROC_CATEGORY_PO:
		return 1;
	default:
		return 0;
	}
}

typedef struct sent_state {
	const char *base;	/* the piece being cut */
	size_t fires;		/* sentences begun after the first */
	int seen_end;		/* an end mark since the sentence began */
} sent_state;

/* The sentencizer's step at one token: a new sentence at a token that is not all punctuation
 * after an end mark; an end mark seen at a token that is one alone. */
static void sent_step(sent_state *st, int punct, int one_end)
{
	if (st->seen_end && !punct) {
		st->fires++;
		st->seen_end = 0;
	} else if (one_end) {
		st->seen_end = 1;
	}
}

static void sent_tok(void *ctx, size_t off, size_t end)
{
	sent_state *st = ctx;
	size_t i = off, k = 0;
	int32_t c = 0;
	int punct = 1;

	while (i < end && punct) {
		uint32_t u;
		size_t len = cm_utf8_decode(st->base + i, end - i, &u);

		c = u == CM_UTF8_INVALID ? 0xfffd : (int32_t)u;
		punct = is_p(c);
		i += len ? len : 1;
		k++;
	}
	sent_step(st, punct, punct && k == 1 && is_sent_end(c));
}

/* The code point at text[i] (i < n) and its length in bytes. */
static size_t cp_at(const char *text, size_t n, size_t i, int32_t *c)
{
	uint32_t u;
	size_t len;

	if ((unsigned char)text[i] < 0x80) {
		*c = (unsigned char)text[i];
		return 1;
	}
	len = cm_utf8_decode(text + i, n - i, &u);
	*c = u == CM_UTF8_INVALID ? 0xfffd : (int32_t)u;
	return len ? len : 1;
}

/* spaCy cuts each piece between white space on its own, so only the pieces that hold an end
 * mark are cut into tokens here; of any other, all that matters is whether it holds a token
 * that is not all punctuation, that is a character that is not. */
size_t qs_spacy_sentences(const char *text, size_t n)
{
	sent_state st = { text, 0, 0 };
	size_t i = 0;

	if (!n)
		return 0;
	while (i < n) {
		size_t g = i, ps, k;
		int32_t c;
		int end_mark = 0, nonp = 0;

		/* white space: a token of its own unless it is one space after a token */
		while (i < n && is_space((k = cp_at(text, n, i, &c), c)))
			i += k;
		if (i > g && (g == 0 || i - g > 1 || text[g] != ' '))
			sent_step(&st, 0, 0);
		if (i >= n)
			break;
		/* a piece */
		for (ps = i; i < n; i += k) {
			k = cp_at(text, n, i, &c);
			if (is_space(c))
				break;
			end_mark |= is_sent_end(c);
			nonp |= !is_p(c);
		}
		if (end_mark) {
			st.base = text + ps;
			qs_spacy_words(text + ps, i - ps, sent_tok, &st);
		} else {
			sent_step(&st, !nonp, 0);
		}
	}
	return 1 + st.fires;
}
