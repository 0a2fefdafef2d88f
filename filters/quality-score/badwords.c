/* badwords.c - C4's bad-words filter, as datatrove applies it (badwords.h). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <utf8proc.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "badwords.h"
#include "buf.h"
#include "cli.h"
#include "data.h"
#include "utf8.h"

/* datatrove's _BADWORDS_LANGS: en from LDNOOBW commit 25e679f0, the others from 5faf2ba4 */
static const char *const langs[] = {
	"ar", "cs", "da", "de", "en", "eo", "es", "fa", "fi", "fil", "fr", "fr-CA-u-sd-caqc", "hi",
	"hu", "it", "ja", "kab", "ko", "nl", "no", "pl", "pt", "ru", "sv", "th", "tlh", "tr", "zh",
};
#define NLANGS (sizeof(langs) / sizeof(*langs))

/* datatrove's _BADWORDS_ALLOWLIST, every language's taken out of every list */
static const char *const allowed[] = { "sm", "グロ", "女の子", "性" };

struct qs_badwords {
	pcre2_code *re[NLANGS];
	pcre2_match_data *md;
	pcre2_match_context *mc;
	cm_buf low;		/* the text lower-cased */
};

qs_badwords *qs_badwords_new(void)
{
	qs_badwords *b = cm_xcalloc(1, sizeof(*b));

	b->md = pcre2_match_data_create(4, NULL);
	b->mc = pcre2_match_context_create(NULL);
	if (!b->md || !b->mc)
		cm_die("out of memory");
	return b;
}

void qs_badwords_free(qs_badwords *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < NLANGS; i++)
		pcre2_code_free(b->re[i]);
	pcre2_match_data_free(b->md);
	pcre2_match_context_free(b->mc);
	cm_buf_free(&b->low);
	free(b);
}

static int lang_index(const char *lang)
{
	size_t i;

	for (i = 0; i < NLANGS; i++)
		if (strcmp(langs[i], lang) == 0)
			return (int)i;
	return -1;
}

const char *qs_badwords_list(const char *lang)
{
	int i;

	/* CLD2's codes where the list's name differs */
	if (!strcmp(lang, "zh-Hant"))
		lang = "zh";
	else if (!strcmp(lang, "tl"))
		lang = "fil";
	i = lang_index(lang);

	return i < 0 ? NULL : langs[i];
}

/* Python's str.isspace() for the bytes at p: the length of the white space there, or 0 */
static size_t space_at(const char *p, size_t n)
{
	uint32_t c;
	size_t k = cm_utf8_decode(p, n, &c);

	if (!k)
		return 0;
	if (c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f) || c == 0x85 || c == 0xa0 ||
	    c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
	    c == 0x205f || c == 0x3000)
		return k;
	return 0;
}

typedef struct word {
	const char *p;
	size_t n;
} word;

static int word_cmp(const void *a, const void *b)
{
	const word *x = a, *y = b;
	int c = memcmp(x->p, y->p, x->n < y->n ? x->n : y->n);

	return c ? c : (x->n > y->n) - (x->n < y->n);
}

static void add_escaped(cm_buf *pat, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x80 && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			cm_buf_addc(pat, '\\');
		cm_buf_addc(pat, (char)c);
	}
}

/* The length of the UTF-8 sequence its lead byte c starts (1 for a stray byte). */
static size_t seq_len(unsigned char c)
{
	return c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

/* The words w[0..n) (sorted, distinct, sharing their first d bytes) as a regex of what follows
 * those d bytes: the alternatives factored by their leading characters, a trie (Perl's
 * Regexp::Trie does the same). It matches the same strings as the plain alternation, so a text
 * holds a match of one iff it holds a match of the other; the search tries far fewer
 * alternatives at each position. */
static void trie(cm_buf *pat, const word *w, size_t n, size_t d, int depth)
{
	size_t i = 0, groups = 0, j;
	int empty = 0;

	if (depth > 1000)
		cm_die("bad words: a word too long");
	if (n && w[0].n == d) {		/* a word ends here */
		empty = 1;
		i = 1;
	}
	for (j = i; j < n; groups++) {	/* count the groups by next character */
		size_t k = seq_len((unsigned char)w[j].p[d]), e = j + 1;

		while (e < n && w[e].n >= d + k && memcmp(w[e].p + d, w[j].p + d, k) == 0)
			e++;
		j = e;
	}
	if (!groups)
		return;
	if (groups > 1 || empty)
		cm_buf_adds(pat, "(?:");
	for (j = i; j < n;) {
		size_t k = seq_len((unsigned char)w[j].p[d]), e = j + 1;

		if (w[j].n < d + k)	/* a cut sequence (not UTF-8): the rest as it is */
			k = w[j].n - d;
		while (e < n && w[e].n >= d + k && memcmp(w[e].p + d, w[j].p + d, k) == 0)
			e++;
		if (j > i)
			cm_buf_addc(pat, '|');
		add_escaped(pat, w[j].p + d, k);
		trie(pat, w + j, e - j, d + k, depth + 1);
		j = e;
	}
	if (groups > 1 || empty)
		cm_buf_adds(pat, empty ? ")?" : ")");
}

/* The pattern datatrove compiles for a list: its words (lines, stripped; a set, less the
 * allow-list) as alternatives, here factored as a trie (trie()); between \W or the ends but in
 * ja, th and zh. datatrove's (?:\W|^)(...)(?:\W|$) is written (?<!\w)(?:...)(?!\w): the same
 * condition on the characters around a word (Python's $ also matches before a final newline,
 * which is \W), and a match that starts at the word lets PCRE2 skip to the characters words
 * start with. */
static pcre2_code *compile(int li)
{
	char name[64];
	size_t n = 0, i, k, nw = 0, cap = 0, u;
	const char *p, *end;
	int nosep = !strcmp(langs[li], "ja") || !strcmp(langs[li], "th") || !strcmp(langs[li], "zh");
	cm_buf pat = CM_BUF_INIT;
	word *w = NULL;
	pcre2_code *re;
	int err;
	PCRE2_SIZE at;

	snprintf(name, sizeof(name), "ldnoobw/%s.txt", langs[li]);
	p = cm_data(name, &n);
	if (!p)
		cm_die("built without data/%s", name);
	for (end = p + n; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *ws = p, *we;

		if (!nl)
			nl = end;
		we = nl;
		p = nl + 1;
		while (ws < we && (k = space_at(ws, (size_t)(we - ws))))
			ws += k;
		for (;;) {	/* trailing white space: try each code point start from the end */
			size_t back;

			for (back = 1; back <= 3 && back <= (size_t)(we - ws); back++)
				if (((unsigned char)we[-(ptrdiff_t)back] & 0xc0) != 0x80)
					break;
			if (back > 3 || back > (size_t)(we - ws) || space_at(we - back, back) != back)
				break;
			we -= back;
		}
		for (i = 0; i < sizeof(allowed) / sizeof(*allowed); i++)
			if (strlen(allowed[i]) == (size_t)(we - ws) && memcmp(allowed[i], ws, (size_t)(we - ws)) == 0)
				break;
		if (i < sizeof(allowed) / sizeof(*allowed))
			continue;
		/* an empty line is an empty word, as in datatrove (the lists have none) */
		if (nw == cap) {
			cap = cap ? 2 * cap : 256;
			w = cm_xrealloc(w, cap * sizeof(*w));
		}
		w[nw].p = ws;
		w[nw++].n = (size_t)(we - ws);
	}
	qsort(w, nw, sizeof(*w), word_cmp);
	for (i = u = 0; i < nw; i++)	/* a set */
		if (!u || word_cmp(&w[u - 1], &w[i]) != 0)
			w[u++] = w[i];
	if (!nosep)
		cm_buf_adds(&pat, "(?<!\\w)(?:");
	trie(&pat, w, u, 0, 0);
	if (!nosep)
		cm_buf_adds(&pat, ")(?!\\w)");
	free(w);
	re = pcre2_compile((PCRE2_SPTR)(pat.len ? pat.p : ""), pat.len,
			   PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &err, &at, NULL);
	if (!re) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(err, msg, sizeof(msg));
		cm_die("bad words (%s): pattern at %zu: %s", langs[li], (size_t)at, (const char *)msg);
	}
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);	/* the interpreter runs it where JIT is not */
	cm_buf_free(&pat);
	return re;
}

/* Python's str.lower(): each code point's lower case (utf8proc's), but U+0130, whose lower
 * case is two code points, "i" and U+0307. Bytes that are not UTF-8 are copied. */
static void lower(cm_buf *out, const char *p, size_t n)
{
	size_t i = 0;

	cm_buf_reset(out);
	cm_buf_grow(out, n + 16);
	while (i < n) {
		uint32_t c;
		size_t k;
		char enc[8];

		if ((unsigned char)p[i] < 0x80) {
			cm_buf_addc(out, p[i] >= 'A' && p[i] <= 'Z' ? (char)(p[i] + 32) : p[i]);
			i++;
			continue;
		}
		k = cm_utf8_decode(p + i, n - i, &c);
		if (c == CM_UTF8_INVALID) {
			cm_buf_add(out, p + i, k);
			i += k;
			continue;
		}
		i += k;
		if (c == 0x130) {
			cm_buf_adds(out, "i\xcc\x87");
			continue;
		}
		c = (uint32_t)utf8proc_tolower((utf8proc_int32_t)c);
		cm_buf_add(out, enc, cm_utf8_encode(c, enc));
	}
}

int qs_badwords_find(qs_badwords *b, const char *lang, const char *text, size_t n)
{
	int li = lang_index(lang), rc;

	if (li < 0)
		return -1;
	if (!b->re[li])
		b->re[li] = compile(li);
	lower(&b->low, text, n);
	/* the patterns cannot backtrack far (literal alternatives between two one-character
	 * classes): a limit in proportion to the text only stops a surprise */
	pcre2_set_match_limit(b->mc, (uint32_t)(b->low.len < 400000000 ? 10 * b->low.len + 1000000 : 4000000000u));
	rc = pcre2_match(b->re[li], (PCRE2_SPTR)(b->low.len ? b->low.p : ""), b->low.len, 0, 0, b->md, b->mc);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	return 1;	/* past the limit: counted as found (a text no one should keep unread) */
}
