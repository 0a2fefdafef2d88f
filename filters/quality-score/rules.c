/* rules.c - heuristic quality signals and rules: Gopher quality and repetition, C4, FineWeb.
 *
 * Lengths are in characters (code points), as the published rules count them. The words are
 * words.c's (Unicode-aware, punctuation split off), counted into the scratch of words.h; the
 * counting sets are hcount.h's.
 *
 * Memory does not grow with the text past two limits (qs_opts): the words are counted as they
 * come and only the first max_ngram_words are kept for the n-grams (prefix sums, about 45
 * bytes a word with the counting's lists); lines and paragraphs are walked in the text, and
 * the tables of the distinct ones hold at most max_distinct_lines keys; the counting tables
 * grow with the distinct keys, not with the positions counted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "ascii.h"
#include "badwords.h"
#include "cli.h"
#include "data.h"
#include "rules.h"
#include "spacy.h"
#include "words.h"

const char *const qs_family_name[QS_NFAMILIES] = {
	"gopher_repetition", "gopher_quality", "c4", "fineweb", "c4_badwords",
};

void qs_opts_default(qs_opts *o)
{
	int n;

	memset(o, 0, sizeof(*o));
	for (n = 0; n < QS_NFAMILIES; n++)
		o->on[n] = 1;
	o->c4_edit = 1;
	o->english = 1;
	o->min_words = 50;
	o->max_words = 100000;
	o->min_avg_word = 3;
	o->max_avg_word = 10;
	o->max_symbol_ratio = 0.1;
	o->max_bullet_lines = 0.9;
	o->max_ellipsis_lines = 0.3;
	o->min_alpha_words = 0.8;
	o->min_stop_words = 2;
	o->dup_para_frac = 0.3;
	o->dup_para_char_frac = 0.2;
	o->dup_line_frac = 0.3;
	o->dup_line_char_frac = 0.2;
	o->top_ngram[2] = 0.20;
	o->top_ngram[3] = 0.18;
	o->top_ngram[4] = 0.16;
	for (n = 5; n <= 10; n++)
		o->dup_ngram[n] = 0.15 - 0.01 * (n - 5);
	o->c4_terminal_punct = 1;
	o->c4_min_words_line = 3;
	o->c4_min_sentences = 5;
	o->c4_max_word = 1000;
	o->fw_line_punct = 0.12;
	o->fw_short_lines = 0.67;
	o->fw_short_line_len = 30;
	o->fw_dup_chars = 0.01;
	o->fw_newline_words = 0.3;
	o->max_ngram_words = QS_MAX_ITEMS;
	o->max_distinct_lines = QS_MAX_ITEMS;
}

void qs_result_free(qs_result *r)
{
	cm_buf_free(&r->c4_text);
}

/* ---- lines and paragraphs (the words: words.c) ---- */

/* the thread's scratch, reused from text to text */
static _Thread_local scratch S;

/* One pass over the text for what several rules need: the newlines, the continuation bytes,
 * '#' and ellipses ("..." without overlap, as str.count finds them, and U+2026). Sixteen
 * bytes at a time (SSE2); the rare marks one by one. Nothing is kept per newline: the rules
 * walk the lines with memchr, so that memory does not grow with them. */
static void scan_text(scratch *s, const char *text, size_t n)
{
	size_t i = 0, cont = 0, hashes = 0, ell = 0, k = 0, dot_skip = 0;

#define SCAN_DOT(at) do {							\
		size_t p_ = (at);						\
		if (p_ >= dot_skip && p_ + 2 < n && text[p_ + 1] == '.' && text[p_ + 2] == '.') { \
			ell++;							\
			dot_skip = p_ + 3;					\
		}								\
	} while (0)
#define SCAN_E2(at) do {							\
		size_t p_ = (at);						\
		ell += p_ + 2 < n && (unsigned char)text[p_ + 1] == 0x80 && (unsigned char)text[p_ + 2] == 0xa6; \
	} while (0)
#ifdef __SSE2__
	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(text + i));
		unsigned c = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_and_si128(v, _mm_set1_epi8((char)0xc0)),
									_mm_set1_epi8((char)0x80)));
		unsigned mn = (unsigned)_mm_movemask_epi8(eq8(v, '\n'));
		unsigned mh = (unsigned)_mm_movemask_epi8(eq8(v, '#'));
		unsigned md = (unsigned)_mm_movemask_epi8(eq8(v, '.'));
		unsigned me = (unsigned)_mm_movemask_epi8(eq8(v, (char)0xe2));

		if (mn)
			k += cm_popcount16(mn);
		cont += cm_popcount16(c);
		if (mh)
			hashes += cm_popcount16(mh);
		for (; md; md &= md - 1)
			SCAN_DOT(i + (size_t)__builtin_ctz(md));
		for (; me; me &= me - 1)
			SCAN_E2(i + (size_t)__builtin_ctz(me));
	}
#endif
	for (; i < n; i++) {
		unsigned char ch = (unsigned char)text[i];

		k += ch == '\n';
		cont += (ch & 0xc0) == 0x80;
		hashes += ch == '#';
		if (ch == '.')
			SCAN_DOT(i);
		else if (ch == 0xe2)
			SCAN_E2(i);
	}
#undef SCAN_DOT
#undef SCAN_E2
	s->nnl = k;
	s->cont = cont;
	s->hashes = hashes;
	s->ellipses = ell;
}

static int ends_terminal(const char *s, size_t n);

/* The next newline in [p, end), or NULL; an empty line (runs of them) without a call. */
static inline const char *next_newline(const char *p, const char *end)
{
	if (p < end && *p == '\n')
		return p;
	return memchr(p, '\n', (size_t)(end - p));
}

/* Duplicates among Gopher's paragraphs: the text, trimmed of white space, cut at runs of two
 * or more newlines. A table of the distinct ones (at most max of them: past that a new one is
 * not remembered, and *full is set); their characters counted only for the duplicates. */
static void paragraph_dups(scratch *s, const char *text, size_t n, size_t max, size_t *count, size_t *dup,
			   size_t *dup_chars, int *full)
{
	size_t b = 0, e = n, start, q, np = 0, d = 0, dc = 0;

	while (b < e && (text[b] == ' ' || text[b] == '\n' || text[b] == '\t' || text[b] == '\r'))
		b++;
	while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\n' || text[e - 1] == '\t' ||
			 text[e - 1] == '\r'))
		e--;
	hc_reset(&s->hc, s->nnl / 2 + 1);
	for (start = q = b;;) {
		const char *nl = memchr(text + q, '\n', e - q);
		size_t end = nl ? (size_t)(nl - text) : e, r = end + 1;

		if (nl) {
			while (r < e && text[r] == '\n')
				r++;
			if (r - end < 2) {	/* one newline: inside the paragraph */
				q = r;
				continue;
			}
		}
		np++;
		if (hc_seen(&s->hc, XXH3_64bits(text + start, end - start) ^ (end - start), max, full)) {
			d++;
			dc += cm_utf8_chars(text + start, end - start);
		}
		if (!nl)
			break;
		start = q = r;
	}
	*count = np;
	*dup = d;
	*dup_chars = dc;
}

/* Gopher's lines (the text cut at runs of newlines) and their duplicates, as paragraph_dups;
 * and FineWeb's line counts, over the same lines less the blank ones (s->fw_*). */
static void line_dups(const qs_opts *o, scratch *s, const char *text, size_t n, size_t *count, size_t *dup,
		      size_t *dup_chars, int *full)
{
	size_t start = 0, nl_count = 0, d = 0, dc = 0, fl = 0, fp = 0, fs = 0, fd = 0;
	const size_t short_len = o->fw_short_line_len;

	hc_reset(&s->hc, s->nnl + 1);
	for (;;) {
		const char *nl = memchr(text + start, '\n', n - start), *a = text + start;
		size_t end = nl ? (size_t)(nl - text) : n, len = end - start, chars = SIZE_MAX, j;
		int seen = hc_seen(&s->hc, XXH3_64bits(a, len) ^ len, o->max_distinct_lines, full);

		nl_count++;
		if (seen) {
			chars = cm_utf8_chars(a, len);
			d++;
			dc += chars;
		}
		for (j = 0; j < len; j++)
			if (a[j] != ' ' && a[j] != '\t' && a[j] != '\r')
				break;
		if (j < len) {	/* not blank: one of FineWeb's */
			fl++;
			fp += (size_t)ends_terminal(a, len);
			if (len <= short_len) {
				fs++;
			} else if (len <= 4 * short_len) {
				/* a character is at most 4 bytes: a longer line is never short */
				if (chars == SIZE_MAX)
					chars = cm_utf8_chars(a, len);
				fs += chars <= short_len;
			}
			if (seen)
				fd += chars;
		}
		if (!nl)
			break;
		for (start = end + 1; start < n && text[start] == '\n'; start++)
			;
	}
	*count = nl_count;
	*dup = d;
	*dup_chars = dc;
	s->fw_lines = fl;
	s->fw_punct = fp;
	s->fw_shorts = fs;
	s->fw_dup_chars = fd;
}

/* ---- the families ---- */

/* A failing check: the family fails with its first one, every one is listed. */
static void fail(qs_result *r, int family, const char *why)
{
	if (r->pass[family]) {
		r->pass[family] = 0;
		r->failed[family] = why;
	}
	if (r->nall < (int)(sizeof(r->all_failed) / sizeof(*r->all_failed)))
		r->all_failed[r->nall++] = why;
}

static void gopher_quality(const qs_opts *o, scratch *s, const char *text, size_t n, qs_result *r)
{
	size_t nonsym = s->nonsym, sumlen = s->sumlen, alpha = s->alpha, stops, hashes, ell, lines = 0,
	       bullets = 0, endell = 0;
	const char *end = text + n, *a = text;

	stops = (size_t)cm_popcount16(s->seen_stop);
	/* lines (as str.splitlines: no empty line after a final newline): starting with a
	 * bullet, ending with an ellipsis */
	for (;;) {
		const char *nl = next_newline(a, end), *le = nl ? nl : end, *b;

		if (!nl && a == end && lines > 0)
			break;
		lines++;
		for (; a < le && (*a == ' ' || *a == '\t' || *a == '\r'); a++)
			;
		for (b = le; b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'); b--)
			;
		if ((b - a >= 1 && *a == '-') ||
		    (b - a >= 3 && (unsigned char)a[0] == 0xe2 && (unsigned char)a[1] == 0x80 &&
		     (unsigned char)a[2] == 0xa2))
			bullets++;
		if ((b - a >= 3 && b[-1] == '.' && b[-2] == '.' && b[-3] == '.') ||
		    (b - a >= 3 && (unsigned char)b[-3] == 0xe2 && (unsigned char)b[-2] == 0x80 &&
		     (unsigned char)b[-1] == 0xa6))
			endell++;
		if (!nl)
			break;
		a = nl + 1;
	}
	hashes = s->hashes;
	ell = s->ellipses;
	r->words = s->nw;
	r->non_symbol_words = nonsym;
	r->stop_words = stops;
	r->lines = lines;
	r->mean_word_length = nonsym ? (double)sumlen / (double)nonsym : 0;
	r->hash_ratio = s->nw ? (double)hashes / (double)s->nw : 0;
	r->ellipsis_ratio = s->nw ? (double)ell / (double)s->nw : 0;
	r->bullet_lines = lines ? (double)bullets / (double)lines : 0;
	r->ellipsis_lines = lines ? (double)endell / (double)lines : 0;
	r->alpha_words = s->nw ? (double)alpha / (double)s->nw : 0;

#define FAIL(why) fail(r, QS_GOPHER_QUAL, why)
	r->pass[QS_GOPHER_QUAL] = 1;
	if (nonsym < o->min_words)
		FAIL("gopher_short_doc");
	if (nonsym > o->max_words)
		FAIL("gopher_long_doc");
	if (o->english && nonsym && r->mean_word_length < o->min_avg_word)
		FAIL("gopher_below_avg_threshold");
	if (o->english && r->mean_word_length > o->max_avg_word)
		FAIL("gopher_above_avg_threshold");
	if (r->hash_ratio > o->max_symbol_ratio)
		FAIL("gopher_too_many_hashes");
	if (r->ellipsis_ratio > o->max_symbol_ratio)
		FAIL("gopher_too_many_ellipsis");
	if (r->bullet_lines > o->max_bullet_lines)
		FAIL("gopher_too_many_bullets");
	if (r->ellipsis_lines > o->max_ellipsis_lines)
		FAIL("gopher_too_many_end_ellipsis");
	if (s->nw && r->alpha_words < o->min_alpha_words)
		FAIL("gopher_below_alpha_threshold");
	if (o->english && stops < o->min_stop_words)
		FAIL("gopher_enough_stop_words");
#undef FAIL
}

static void ngram_prefix(scratch *s)
{
	size_t i;

	s->pow[0] = 1;
	for (i = 1; i <= 10; i++)
		s->pow[i] = s->pow[i - 1] * NG_BASE;
}

static uint64_t ngram_hash(const scratch *s, size_t i, size_t n)
{
	return s->ph[i + n] - s->ph[i] * s->pow[n];
}

static size_t ngram_chars(const scratch *s, size_t i, size_t n, int spaces)
{
	return (size_t)(s->pc[i + n] - s->pc[i]) + (spaces ? n - 1 : 0);
}

/* Count keys[0..n), the n-grams at pos[0..n), in the table. Counts grow one by one, so the
 * largest (the first seen on ties) is known as it comes, and so is "more than once" (at the
 * second sighting the first is marked too). A key seen once is not a candidate for the
 * largest: the caller takes the first n-gram when no count reaches 2. The table's fields
 * are kept in locals (stores to multi[] could otherwise alias them); in a large table the
 * slots a few keys ahead are fetched while this one is counted. */
static void count_keys(hcount *h, uint8_t *multi, const uint64_t *keys, const uint32_t *pos, size_t n,
		       uint32_t *best_count, size_t *best_first)
{
	hslot *slot = h->slot;
	uint32_t *used = h->used;
	size_t mask = h->mask, nused = h->n, j;
	uint32_t bc = *best_count;
	size_t bf = *best_first, ahead = (mask + 1) * sizeof(*slot) > (64 << 10) ? 8 : n;

	for (j = 0; j < n; j++) {
		uint64_t key = keys[j];
		size_t i = key & mask;
		hslot *e;
		uint32_t c;

		if (j + ahead < n)	/* a table past the first-level cache */
			__builtin_prefetch(&slot[keys[j + ahead] & mask]);
		for (;;) {
			e = &slot[i];
			if (e->key == key)
				goto seen;
			if (!e->key)
				break;
			i = (i + 1) & mask;
		}
		if (2 * (nused + 1) > mask + 1) {	/* more keys than expected */
			h->n = nused;
			hc_grow(h, 2 * (mask + 1));
			slot = h->slot;
			used = h->used;
			mask = h->mask;
			j--;
			continue;
		}
		e->key = key;
		e->count = 1;
		e->first = pos[j];
		used[nused++] = (uint32_t)i;
		multi[pos[j]] = 0;
		continue;
seen:
		c = ++e->count;
		multi[pos[j]] = 1;
		if (c == 2)
			multi[e->first] = 1;
		if (c > bc || (c == bc && e->first < bf)) {
			bc = c;
			bf = e->first;
		}
	}
	h->n = nused;
	*best_count = bc;
	*best_first = bf;
}

#define PART_MIN 16384	/* more n-grams than this are counted bucket by bucket */

/* Count the n-grams starting at s->pos[0..np). A long document's counting table would not
 * stay in the caches: there the n-grams are first dealt into buckets by the top bits of
 * their hash (in position order), then counted a bucket at a time in a small table. A
 * key's occurrences all land in one bucket, in the same order: the counts, the first
 * positions and the marks are the same; the best of the buckets is the best. */
static void count_ngrams(scratch *s, size_t k, size_t np, uint32_t *best_count, size_t *best_first)
{
	size_t j, b, nb, bits = 1;
	uint32_t off[4097];
	uint64_t *keys;
	const uint64_t *ph = s->ph, pk = s->pow[k];
	const uint32_t *pos = s->pos;

	if (np > s->cap_part) {
		s->cap_part = np;
		s->keys = cm_xrealloc(s->keys, 2 * s->cap_part * sizeof(*s->keys));
		s->ppos = cm_xrealloc(s->ppos, s->cap_part * sizeof(*s->ppos));
	}
	keys = s->keys;
	for (j = 0; j < np; j++)
		keys[j] = (ph[pos[j] + k] - ph[pos[j]] * pk) | 1;
	if (np <= PART_MIN) {
		hc_reset(&s->hc, np);
		count_keys(&s->hc, s->multi, keys, pos, np, best_count, best_first);
		return;
	}
	while (bits < 12 && (np >> bits) > 4096)
		bits++;
	nb = (size_t)1 << bits;
	memset(off, 0, (nb + 1) * sizeof(*off));
	for (j = 0; j < np; j++)
		off[(keys[j] >> (64 - bits)) + 1]++;
	for (b = 0; b < nb; b++)
		off[b + 1] += off[b];
	{
		uint64_t *pk2 = keys + s->cap_part;
		uint32_t *pp = s->ppos;

		for (j = 0; j < np; j++) {
			uint32_t d = off[keys[j] >> (64 - bits)]++;

			pk2[d] = keys[j];
			pp[d] = pos[j];
		}
		for (b = 0, j = 0; b < nb; b++) {
			size_t end = off[b];	/* now where bucket b ends */

			hc_reset(&s->hc, end - j);
			count_keys(&s->hc, s->multi, pk2 + j, pp + j, end - j, best_count, best_first);
			j = end;
		}
	}
}

static void gopher_repetition(const qs_opts *o, scratch *s, const char *text, size_t n, size_t chars,
			      qs_result *r)
{
	size_t npara, nlines, dup, dupc, k, np, j, nw = s->ng, ng_chars = chars;
	int full = 0;

	ngram_prefix(s);
	paragraph_dups(s, text, n, o->max_distinct_lines, &npara, &dup, &dupc, &full);
	if (full)
		r->limited |= QS_LIMITED_PARAGRAPHS;
	r->paragraphs = npara;
	r->dup_para_frac = npara ? (double)dup / (double)npara : 0;
	r->dup_para_char_frac = chars ? (double)dupc / (double)chars : 0;
	full = 0;
	line_dups(o, s, text, n, &nlines, &dup, &dupc, &full);
	if (full)
		r->limited |= QS_LIMITED_LINES;
	r->dup_line_frac = nlines ? (double)dup / (double)nlines : 0;
	r->dup_line_char_frac = chars ? (double)dupc / (double)chars : 0;
	/* past ng_max words, the n-grams are those of the text up to the last word kept */
	if (s->ng < s->nw) {
		r->limited |= QS_LIMITED_NGRAMS;
		r->ngram_words = s->ng;
		r->ngram_bytes = s->ng_end;
		ng_chars = cm_utf8_chars(text, s->ng_end);
	}

	/* The most frequent 2-, 3- and 4-gram (its characters times its count), and which
	 * 5-grams occur more than once. An n-gram can only occur twice where the (n-1)-gram it
	 * begins with does: each pass counts only the n-grams whose prefix the pass before
	 * found repeated, and the counts it gets are the full counts. */
	if (nw + 1 > s->cap_multi) {	/* and one more: the list's end mark */
		s->cap_multi = nw + 1;
		s->multi = cm_xrealloc(s->multi, s->cap_multi);
		s->pos = cm_xrealloc(s->pos, s->cap_multi * sizeof(*s->pos));
		s->run = cm_xrealloc(s->run, s->cap_multi * sizeof(*s->run));
	}
	np = 0;
	for (k = 2; k <= 5; k++) {
		size_t j, npos = nw >= k ? nw - k + 1 : 0, best_first = SIZE_MAX, m;
		uint32_t best_count = 0;

		/* the positions to count: all for 2-grams, then those the pass before found
		 * repeated (in order; the last ones may be past the end for longer n-grams) */
		if (k == 2)
			for (np = 0; np < npos; np++)
				s->pos[np] = (uint32_t)np;
		while (np && s->pos[np - 1] >= npos)
			s->multi[s->pos[--np]] = 0;
		count_ngrams(s, k, np, &best_count, &best_first);
		/* an (n+1)-gram at p can only repeat where the n-grams at p and p + 1 both do */
		{
			uint32_t *pos = s->pos;
			const uint8_t *mu = s->multi;

			pos[np] = UINT32_MAX;	/* no position follows the last (np < nw) */
			if (k == 5)
				for (j = m = 0; j < np; j++) {
					pos[m] = pos[j];
					m += mu[pos[j]];
				}
			else
				for (j = m = 0; j < np; j++) {
					uint32_t p = pos[j];
					unsigned both = (unsigned)mu[p] & (unsigned)mu[p + 1];

					pos[m] = p;
					m += both & (pos[j + 1] == p + 1);
				}
		}
		np = m;
		if (k > 4)
			break;
		r->top_ngram[k] = 0;
		if (!npos)
			continue;
		if (best_count < 2) {	/* all different: the first one */
			best_count = 1;
			best_first = 0;
		}
		r->top_ngram[k] = ng_chars ? (double)(best_count * ngram_chars(s, best_first, k, 1)) /
				  (double)ng_chars : 0;
	}
	/* characters in duplicated 5..10-grams, counted without overlap, as datatrove walks
	 * them: a repeat is skipped whole, anything else is remembered. Where the 5-gram is
	 * unique no n-gram there can repeat or be repeated: it is stepped over, and only the
	 * positions of repeated 5-grams are visited. */
	/* a k-gram at p can only repeat where the 5-grams at p .. p + k - 5 all do: the runs of
	 * consecutive positions in the list tell */
	for (j = np; j-- > 0;)
		s->run[j] = j + 1 < np && s->pos[j + 1] == s->pos[j] + 1 ? s->run[j + 1] + 1 : 1;
	for (k = 5; k <= 10; k++) {
		size_t i = 0, j, rep = 0;

		r->dup_ngram[k] = 0;
		if (nw < k || !np)
			continue;
		hc_reset(&s->hc, np);
		for (j = 0; j < np; j++) {
			size_t p = s->pos[j];

			if (p < i || s->run[j] < k - 4)
				continue;
			if (p + k > nw)
				break;
			if (hc_add(&s->hc, ngram_hash(s, p, k), (uint32_t)p)->count > 1) {
				rep += ngram_chars(s, p, k, 0);
				i = p + k;
			} else {
				i = p + 1;
			}
		}
		r->dup_ngram[k] = ng_chars ? (double)rep / (double)ng_chars : 0;
	}

	{
		static const char *const top[] = { NULL, NULL, "top_2_gram", "top_3_gram", "top_4_gram" };
		static const char *const dupn[] = {
			NULL, NULL, NULL, NULL, NULL, "duplicated_5_n_grams", "duplicated_6_n_grams",
			"duplicated_7_n_grams", "duplicated_8_n_grams", "duplicated_9_n_grams",
			"duplicated_10_n_grams",
		};

		if (n == 0)
			fail(r, QS_GOPHER_REP, "empty");
		if (r->dup_para_frac > o->dup_para_frac)
			fail(r, QS_GOPHER_REP, "dup_para_frac");
		if (r->dup_para_char_frac > o->dup_para_char_frac)
			fail(r, QS_GOPHER_REP, "dup_para_char_frac");
		if (r->dup_line_frac > o->dup_line_frac)
			fail(r, QS_GOPHER_REP, "dup_line_frac");
		if (r->dup_line_char_frac > o->dup_line_char_frac)
			fail(r, QS_GOPHER_REP, "dup_line_char_frac");
		for (k = 2; k <= 4; k++)
			if (r->top_ngram[k] > o->top_ngram[k])
				fail(r, QS_GOPHER_REP, top[k]);
		for (k = 5; k <= 10; k++)
			if (r->dup_ngram[k] > o->dup_ngram[k])
				fail(r, QS_GOPHER_REP, dupn[k]);
	}
}

/* C4's sentence ends: . ? ! " ' */
static int ends_c4(const char *s, size_t n)
{
	return n > 0 && (s[n - 1] == '.' || s[n - 1] == '?' || s[n - 1] == '!' || s[n - 1] == '"' ||
			 s[n - 1] == '\'');
}

/* FineWeb's sentence ends: the marks of data/quality/terminal-punctuation.txt. */
static int32_t term_cp[256];
static size_t nterm;
static uint8_t term_ascii[128];	/* the ASCII ones, by byte */

static void c4_tables(void);

void qs_load_data(void)
{
	size_t n = 0, i;
	const char *p = cm_data("quality/terminal-punctuation.txt", &n), *end = p + n;

	if (!p)
		cm_die("built without data/quality/terminal-punctuation.txt");
	while (p < end && nterm < sizeof(term_cp) / sizeof(*term_cp)) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			nl = end;
		if (*p != '#' && nl > p) {
			int32_t cp;

			decode(p, (size_t)(nl - p), &cp);
			term_cp[nterm++] = cp;
		}
		p = nl + 1;
	}
	qsort(term_cp, nterm, sizeof(*term_cp), cmp_cp);
	for (i = 0; i < nterm; i++)
		if (term_cp[i] < 0x80)
			term_ascii[term_cp[i]] = 1;
	c4_tables();
	qs_words_load(term_cp, nterm);
	qs_spacy_load();
}

static int ends_terminal(const char *s, size_t n)
{
	size_t i = n;
	int32_t cp;

	if (!n)
		return 0;
	while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80 && n - i < 3)
		i--;
	if (i > 0)
		i--;
	if ((unsigned char)s[i] < 0x80)
		return term_ascii[(unsigned char)s[i]];
	decode(s + i, n - i, &cp);
	return bsearch(&cp, term_cp, nterm, sizeof(*term_cp), cmp_cp) != NULL;
}

/* What C4 looks for in a line, in any case. The whole text is searched once: a phrase is
 * compared only where its first two letters stand (a table lookup a byte, rarely a hit). */
enum { C4_LOREM = 1, C4_JS = 2, C4_POLICY = 4 };

static const struct {
	const char *s;
	size_t len;
	int what;
} c4_phrase[] = {
	{ "lorem ipsum", 11, C4_LOREM }, { "javascript", 10, C4_JS },
	{ "terms of use", 12, C4_POLICY }, { "privacy policy", 14, C4_POLICY },
	{ "cookie policy", 13, C4_POLICY }, { "uses cookies", 12, C4_POLICY },
	{ "use of cookies", 14, C4_POLICY }, { "use cookies", 11, C4_POLICY },
};
#define C4_NPHRASES (sizeof(c4_phrase) / sizeof(*c4_phrase))

/* Phrases (bit k: c4_phrase[k]) whose first, and second, letter is the byte, any case. */
static uint8_t c4_first[256], c4_second[256];

static void c4_tables(void)
{
	size_t k;

	for (k = 0; k < C4_NPHRASES; k++) {
		unsigned a = (unsigned char)c4_phrase[k].s[0], b = (unsigned char)c4_phrase[k].s[1];

		c4_first[a] |= (uint8_t)(1u << k);
		c4_first[a - 32] |= (uint8_t)(1u << k);
		c4_second[b] |= (uint8_t)(1u << k);
		c4_second[b - 32] |= (uint8_t)(1u << k);
	}
}

typedef struct c4_hit {
	size_t pos;
	int what;
} c4_hit;

/* Where the phrases are: into hits (grown as needed), or, without hits, only which were found
 * (mask). */
typedef struct c4_hits {
	c4_hit *hit;
	size_t n, cap;
	int mask;
} c4_hits;

static void c4_try(const char *a, size_t n, size_t i, c4_hits *h, int keep);

/* The phrases that start in a[lo..hi) of a[0..n), in order of position: into h->hit when
 * keep, else only their kinds into h->mask. */
static void c4_find(const char *a, size_t n, size_t lo, size_t hi, c4_hits *h, int keep)
{
	size_t i = lo;

	h->n = 0;
	h->mask = 0;
#ifdef __SSE2__
	/* where a first letter (l j t p c u) stands before a second one (o a e r s) and a third
	 * (r v i o e), any case */
	for (; i + 16 <= hi && i + 18 <= n; i += 16) {
		__m128i v = _mm_or_si128(_mm_loadu_si128((const __m128i *)(a + i)), _mm_set1_epi8(0x20));
		__m128i w = _mm_or_si128(_mm_loadu_si128((const __m128i *)(a + i + 1)), _mm_set1_epi8(0x20));
		__m128i x = _mm_or_si128(_mm_loadu_si128((const __m128i *)(a + i + 2)), _mm_set1_epi8(0x20));
		__m128i f = _mm_or_si128(_mm_or_si128(_mm_or_si128(eq8(v, 'l'), eq8(v, 'j')),
						      _mm_or_si128(eq8(v, 't'), eq8(v, 'p'))),
					 _mm_or_si128(eq8(v, 'c'), eq8(v, 'u')));
		__m128i g = _mm_or_si128(_mm_or_si128(_mm_or_si128(eq8(w, 'o'), eq8(w, 'a')),
						      _mm_or_si128(eq8(w, 'e'), eq8(w, 'r'))), eq8(w, 's'));
		__m128i h3 = _mm_or_si128(_mm_or_si128(_mm_or_si128(eq8(x, 'r'), eq8(x, 'v')),
						       _mm_or_si128(eq8(x, 'i'), eq8(x, 'o'))), eq8(x, 'e'));
		unsigned bits = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_and_si128(f, g), h3));

		while (bits) {
			size_t j = i + (size_t)__builtin_ctz(bits);

			bits &= bits - 1;
			c4_try(a, n, j, h, keep);
		}
	}
#endif
	for (; i < hi && i + 1 < n; i++)
		c4_try(a, n, i, h, keep);
}

static void c4_try(const char *a, size_t n, size_t i, c4_hits *h, int keep)
{
	unsigned m = c4_first[(unsigned char)a[i]] & c4_second[(unsigned char)a[i + 1]];

	while (m) {
		size_t k = (size_t)__builtin_ctz(m);

		m &= m - 1;
		if (c4_phrase[k].len <= n - i && cm_eq_ci(a + i, c4_phrase[k].len, c4_phrase[k].s)) {
			h->mask |= c4_phrase[k].what;
			if (!keep)
				continue;
			if (h->n == h->cap) {
				h->cap = h->cap ? h->cap * 2 : 16;
				h->hit = cm_xrealloc(h->hit, h->cap * sizeof(*h->hit));
			}
			h->hit[h->n].pos = i;
			h->hit[h->n].what = c4_phrase[k].what;
			h->n++;
		}
	}
}

static int c4_phrases(const char *a, size_t n)
{
	c4_hits h = { NULL, 0, 0, 0 };

	c4_find(a, n, 0, n, &h, 0);
	return h.mask;
}

/* Sentences in a line, the default way: ends of ., ! or ? followed by a space or the end (at
 * least one). With --words spacy, spaCy's sentencizer's (qs_spacy_sentences). */
static size_t sentences_in(const char *s, size_t n)
{
	size_t i, c = 0;

	static const uint8_t end[256] = { ['.'] = 1, ['!'] = 1, ['?'] = 1 };

	i = 0;
#ifdef __SSE2__
	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(s + i));
		unsigned bits = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(eq8(v, '.'), eq8(v, '!')),
									  eq8(v, '?')));

		while (bits) {
			size_t j = i + (size_t)__builtin_ctz(bits);

			bits &= bits - 1;
			if ((j + 1 == n || s[j + 1] == ' ') && !(j >= 2 && s[j - 1] == '.' && s[j - 2] == '.'))
				c++;
		}
	}
#endif
	for (; i < n; i++)
		if (end[(unsigned char)s[i]] && (i + 1 == n || s[i + 1] == ' ') &&
		    !(i >= 2 && s[i - 1] == '.' && s[i - 2] == '.'))
			c++;
	return c ? c : 1;
}

/* The line without citation marks: [12], [], [edit], [citation needed]. */
static void strip_citations(cm_buf *out, const char *a, size_t n)
{
	size_t i = 0;

	cm_buf_reset(out);
	cm_buf_grow(out, n);
	while (i < n) {
		if (a[i] == '[') {
			size_t j = i + 1;

			while (j < n && a[j] >= '0' && a[j] <= '9')
				j++;
			if (j < n && a[j] == ']') {
				i = j + 1;
				continue;
			}
			if (n - i >= 6 && memcmp(a + i, "[edit]", 6) == 0) {
				i += 6;
				continue;
			}
			if (n - i >= 17 && memcmp(a + i, "[citation needed]", 17) == 0) {
				i += 17;
				continue;
			}
		}
		out->p[out->len++] = a[i++];
	}
	out->p[out->len] = '\0';
}

/* C4's lines are Python's str.splitlines(): the next line break in [p, end) (\n, \r, \r\n,
 * \v, \f, \x1c to \x1e, U+0085, U+2028, U+2029), its length in *len; NULL if none. */
static const char *next_break(const char *p, const char *end, size_t *len)
{
	for (; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if (c > 0x1e && c != 0xc2 && c != 0xe2)
			continue;
		if (c == '\n' || c == 0x0b || c == 0x0c || (c >= 0x1c && c <= 0x1e)) {
			*len = 1;
			return p;
		}
		if (c == '\r') {
			*len = p + 1 < end && p[1] == '\n' ? 2 : 1;
			return p;
		}
		if (c == 0xc2 && p + 1 < end && (unsigned char)p[1] == 0x85) {
			*len = 2;
			return p;
		}
		if (c == 0xe2 && p + 2 < end && (unsigned char)p[1] == 0x80 &&
		    ((unsigned char)p[2] == 0xa8 || (unsigned char)p[2] == 0xa9)) {
			*len = 3;
			return p;
		}
	}
	return NULL;
}

/* Python's str.isspace() of the character at p (< end): its length in bytes, 0 if not white
 * space. */
static size_t space_at(const char *p, const char *end)
{
	unsigned char c = (unsigned char)*p, d, e;

	if (c < 0x80)
		return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
	if (end - p < 2)
		return 0;
	d = (unsigned char)p[1];
	if (c == 0xc2)
		return d == 0x85 || d == 0xa0 ? 2 : 0;
	if (end - p < 3)
		return 0;
	e = (unsigned char)p[2];
	if (c == 0xe1)	/* U+1680 */
		return d == 0x9a && e == 0x80 ? 3 : 0;
	if (c == 0xe2)	/* U+2000..U+200A, U+2028, U+2029, U+202F, U+205F */
		return (d == 0x80 && (e <= 0x8a || e == 0xa8 || e == 0xa9 || e == 0xaf)) ||
		       (d == 0x81 && e == 0x9f) ? 3 : 0;
	if (c == 0xe3)	/* U+3000 */
		return d == 0x80 && e == 0x80 ? 3 : 0;
	return 0;
}

/* The same for the character that ends at b (> a). */
static size_t space_before(const char *a, const char *b)
{
	if (b - a >= 3 && space_at(b - 3, b) == 3)
		return 3;
	if (b - a >= 2 && space_at(b - 2, b) == 2)
		return 2;
	return space_at(b - 1, b) == 1 ? 1 : 0;
}

/* The text is searched for C4's phrases this many bytes at a time (the hits kept stay few). */
#define C4_WINDOW ((size_t)64 << 10)

static void c4(const qs_opts *o, const char *text, size_t n, qs_result *r)
{
	static _Thread_local cm_buf cl;
	static _Thread_local c4_hits hits;
	const char *p = text, *end = text + n;
	size_t kept = 0, removed = 0, sentences = 0, h = 0, hi = 0;
	const char *why = NULL;

	hits.n = 0;
	cm_buf_reset(&r->c4_text);
	r->c4_lorem_ipsum = r->c4_curly_bracket = 0;
	while (p < end && !why) {
		size_t brk = 0;
		const char *nl = next_break(p, end, &brk), *a, *b;
		size_t words = 0;
		int skip = 0, long_word = 0, found, wide = 0;

		if (!nl)
			nl = end;
		for (a = p; a < nl;) {
			size_t k = space_at(a, nl);

			if (!k)
				break;
			a += k;
		}
		for (b = nl; b > a;) {
			size_t k = space_before(a, b);

			if (!k)
				break;
			b -= k;
		}
		p = nl + brk;
		/* words by white space, as C4 splits them (Python's str.split()): where a word
		 * starts; a word can only be over the limit in characters if the line is in bytes */
		{
			const char *q = a;
			int prev_ws = 1;

#ifdef __SSE2__
			for (; q + 16 <= b; q += 16) {
				__m128i v = _mm_loadu_si128((const __m128i *)q);
				unsigned ws = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(eq8(v, ' '), eq8(v, '\t')),
										       eq8(v, 0x1f)));
				unsigned starts = ~ws & ((ws << 1) | (unsigned)prev_ws) & 0xffff;

				if (_mm_movemask_epi8(v)) {	/* non-ASCII: white space too? */
					wide = 1;
					break;
				}
				words += cm_popcount16(starts);
				prev_ws = (int)(ws >> 15);
			}
#endif
			for (; q < b && !wide; q++) {
				int ws = *q == ' ' || *q == '\t' || *q == 0x1f;

				if ((unsigned char)*q >= 0x80) {
					wide = 1;
					break;
				}
				words += (size_t)(prev_ws & !ws);
				prev_ws = ws;
			}
			if (wide || (o->c4_max_word && (size_t)(b - a) > o->c4_max_word)) {
				/* word by word, any white space */
				words = 0;
				for (q = a; q < b;) {
					const char *ws;
					size_t k;

					while (q < b && (k = space_at(q, b)))
						q += k;
					if (q >= b)
						break;
					ws = q;
					while (q < b && !space_at(q, b))
						q++;
					words++;
					if (o->c4_max_word && (size_t)(q - ws) > o->c4_max_word &&
					    cm_utf8_chars(ws, (size_t)(q - ws)) > o->c4_max_word)
						long_word = 1;
				}
			}
		}
		/* the phrases found in the text on this line (none cross a line), the text
		 * searched a window at a time */
		found = 0;
		for (;;) {
			while (h < hits.n && hits.hit[h].pos < (size_t)(nl - text)) {
				if (hits.hit[h].pos >= (size_t)(a - text))
					found |= hits.hit[h].what;
				h++;
			}
			if (h < hits.n || hi >= (size_t)(nl - text))
				break;
			c4_find(text, n, hi, n - hi > C4_WINDOW ? hi + C4_WINDOW : n, &hits, 1);
			hi = n - hi > C4_WINDOW ? hi + C4_WINDOW : n;
			h = 0;
		}
		/* the checks below see the line without its citation marks, and so does the
		 * text kept (the words were counted before, as C4 counts them) */
		if (memchr(a, '[', (size_t)(b - a))) {
			strip_citations(&cl, a, (size_t)(b - a));
			a = cl.p;
			b = cl.p + cl.len;
			found = c4_phrases(a, (size_t)(b - a));
		}
		if (long_word)
			skip = 1;
		else if (o->c4_terminal_punct && (!ends_c4(a, (size_t)(b - a)) ||
						  (b - a >= 3 && b[-1] == '.' && b[-2] == '.' && b[-3] == '.')))
			skip = 1;
		else if (words < o->c4_min_words_line)
			skip = 1;
		else if (found & C4_LOREM) {
			r->c4_lorem_ipsum = 1;
			why = "lorem_ipsum";
		} else if (found & C4_JS)
			skip = 1;
		else if (memchr(a, '{', (size_t)(b - a))) {
			r->c4_curly_bracket = 1;
			why = "curly_bracket";
		} else if (found & C4_POLICY)
			skip = 1;
		if (why)
			break;
		if (skip) {
			removed += b > a;
			continue;
		}
		sentences += o->spacy_words ? qs_spacy_sentences(a, (size_t)(b - a)) : sentences_in(a, (size_t)(b - a));
		if (r->c4_text.len)
			cm_buf_addc(&r->c4_text, '\n');
		cm_buf_add(&r->c4_text, a, (size_t)(b - a));
		kept++;
	}
	r->c4_lines_kept = kept;
	r->c4_lines_removed = removed;
	r->c4_sentences = sentences;
	if (!why && sentences < o->c4_min_sentences)
		why = "too_few_sentences";
	if (why)
		fail(r, QS_C4, why);
}

static void fineweb(const qs_opts *o, scratch *s, size_t chars, qs_result *r)
{
	size_t k = s->fw_lines, newlines = s->nnl, nonnl;	/* lines: line_dups counted them */

	if (k == 0) {
		r->fw_line_punct = r->fw_short_lines = r->fw_dup_chars = r->fw_newline_words = 0;
		fail(r, QS_FINEWEB, "empty");
		return;
	}
	nonnl = chars - newlines;
	r->fw_line_punct = (double)s->fw_punct / (double)k;
	r->fw_short_lines = (double)s->fw_shorts / (double)k;
	r->fw_dup_chars = nonnl ? (double)s->fw_dup_chars / (double)nonnl : 0;
	r->fw_newline_words = s->nw ? (double)newlines / (double)s->nw : (newlines ? 1e9 : 0);
	if (r->fw_line_punct < o->fw_line_punct)
		fail(r, QS_FINEWEB, "line_punct_ratio");
	if (r->fw_short_lines > o->fw_short_lines)
		fail(r, QS_FINEWEB, "short_line_ratio");
	if (r->fw_dup_chars > o->fw_dup_chars)
		fail(r, QS_FINEWEB, "char_dup_ratio");
	if (r->fw_newline_words > o->fw_newline_words)
		fail(r, QS_FINEWEB, "list_ratio");
}

/* Buffers past this many words' worth go back after the document (held between documents,
 * they would keep the memory of the largest one). */
#define TRIM_WORDS ((size_t)1 << 20)

static void scratch_trim(scratch *s)
{
	if (s->cap_prefix > TRIM_WORDS) {
		free(s->ph);
		free(s->pc);
		s->ph = s->pc = NULL;
		s->cap_prefix = 0;
	}
	if (s->cap_multi > TRIM_WORDS) {
		free(s->multi);
		free(s->pos);
		free(s->run);
		s->multi = NULL;
		s->pos = s->run = NULL;
		s->cap_multi = 0;
	}
	if (s->cap_part > TRIM_WORDS) {
		free(s->keys);
		free(s->ppos);
		s->keys = NULL;
		s->ppos = NULL;
		s->cap_part = 0;
	}
	if (s->hc.alloc > 2 * TRIM_WORDS)
		hc_free(&s->hc);
}

void qs_c4_badwords(const qs_opts *o, qs_badwords *b, const char *lang, const char *text, size_t n,
		    qs_result *r)
{
	r->badwords_list = qs_badwords_list(lang);
	r->badwords_found = r->badwords_list ? qs_badwords_find(b, r->badwords_list, text, n) : 0;
	/* datatrove keeps a page with bad words when uniform() < keep_fraction; here the draw
	 * is the text's hash, so that a run is repeatable */
	if (r->badwords_found > 0 &&
	    !(o->c4_badwords_keep > 0 && (double)(XXH3_64bits(text, n) >> 11) * 0x1p-53 < o->c4_badwords_keep))
		fail(r, QS_C4_BADWORDS, "document_removed_with_badwords");
}

void qs_score(const qs_opts *o, const char *text, size_t n, qs_result *r)
{
	scratch *s = &S;
	size_t chars;
	int f;

	scan_text(s, text, n);
	chars = n - s->cont;

	for (f = 0; f < QS_NFAMILIES; f++) {
		r->pass[f] = 1;
		r->failed[f] = NULL;
	}
	r->nall = 0;
	r->limited = 0;
	r->ngram_words = r->ngram_bytes = 0;
	qs_words_begin(s, text, n, o->max_ngram_words);
	qs_words_split(s, text, n, o->spacy_words);
	gopher_quality(o, s, text, n, r);
	gopher_repetition(o, s, text, n, chars, r);
	c4(o, text, n, r);
	fineweb(o, s, chars, r);
	scratch_trim(s);
}

/* For leak checkers: the thread's scratch. */
void qs_free_scratch(void);
void qs_free_scratch(void)
{
	free(S.ph);
	free(S.pc);
	free(S.rec);
	free(S.multi);
	free(S.pos);
	free(S.run);
	free(S.ppos);
	free(S.keys);
	hc_free(&S.hc);
	memset(&S, 0, sizeof(S));
}
