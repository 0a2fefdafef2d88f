/* rules.c - heuristic quality signals and rules: Gopher quality and repetition, C4, FineWeb.
 *
 * Lengths are in characters (code points), as the published rules count them. Words are
 * Unicode-aware: a word is a run of letters, marks, digits and connectors; punctuation and
 * symbols are tokens of their own, as word tokenizers split them off; each Han, Hiragana or
 * Katakana character is a word (CJK is
 * written without spaces). Punctuation comes one mark a token, but for runs of points; a
 * point, comma or colon between digits (3.14, 1,000, 9:30), a hyphen before a digit
 * (GPL-2.0), an apostrophe between letters, e-mail addresses, URLs and a leading slash
 * ("/sys") stay inside a word;
 * English clitics ("n't", "'s") are tokens of their own.
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
#include <strings.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <utf8proc.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "ascii.h"
#include "cli.h"
#include "data.h"
#include "rules.h"
#include "spacy.h"
#include "utf8.h"

const char *const qs_family_name[QS_NFAMILIES] = {
	"gopher_repetition", "gopher_quality", "c4", "fineweb",
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

/* ---- counting sets: 64-bit hash -> count and first position ---- */

/* One slot per key, 16 bytes, in one array: a probe touches one cache line. Key 0 marks
 * an empty slot (keys have their low bit set). */
typedef struct hslot {
	uint64_t key;
	uint32_t count, first;
} hslot;

typedef struct hcount {
	hslot *slot;
	uint32_t *used;		/* the slots taken, to empty them again */
	size_t mask, n, alloc;
} hcount;

static void hc_grow(hcount *h, size_t cap);

/* Keys a table is first made ready for, at most: past that it grows with the distinct keys
 * (a document of many words but few distinct n-grams keeps a small table). */
#define HC_EXPECT_MAX 65536

/* Make the table ready for about `expect` keys (at most HC_EXPECT_MAX; it grows past that):
 * only as large as that needs, and emptied slot by slot where few were taken, so that a
 * small document after a large one does not pay for clearing the large table. */
static void hc_reset(hcount *h, size_t expect)
{
	size_t cap = 64, i;

	if (expect > HC_EXPECT_MAX)
		expect = HC_EXPECT_MAX;
	while (cap < expect * 2)
		cap *= 2;
	if (h->n * 4 < h->mask + 1)
		for (i = 0; i < h->n; i++)
			h->slot[h->used[i]].key = 0;
	else if (h->slot)
		memset(h->slot, 0, (h->mask + 1) * sizeof(*h->slot));
	h->n = 0;
	if (h->alloc < cap)
		hc_grow(h, cap);
	h->mask = cap - 1;
}

/* The slot holding key (already or'ed with 1), or the empty slot where it goes; *at: its
 * index. */
static inline __attribute__((always_inline)) hslot *hc_probe(hcount *h, uint64_t key, size_t *at)
{
	size_t i;

	for (i = key & h->mask;; i = (i + 1) & h->mask)
		if (!h->slot[i].key || h->slot[i].key == key)
			break;
	*at = i;
	return &h->slot[i];
}

/* Put key in the empty slot e (index i) with count 1; 0, or -1 when the table must grow
 * first (nothing put). */
static inline __attribute__((always_inline)) int hc_put(hcount *h, hslot *e, size_t i, uint64_t key,
							 uint32_t pos)
{
	if (2 * (h->n + 1) > h->mask + 1) {	/* more keys than expected */
		hc_grow(h, 2 * (h->mask + 1));
		return -1;
	}
	e->key = key;
	e->count = 1;
	e->first = pos;
	h->used[h->n++] = (uint32_t)i;
	return 0;
}

/* Count one more of key; returns its slot (count 1 the first time). */
static inline __attribute__((always_inline)) hslot *hc_add(hcount *h, uint64_t key, uint32_t pos)
{
	size_t i;
	hslot *e;

	key |= 1;
	e = hc_probe(h, key, &i);
	if (e->key) {
		e->count++;
		return e;
	}
	if (hc_put(h, e, i, key, pos) < 0)
		return hc_add(h, key, pos);
	return e;
}

/* Whether key was counted before (1; counted once more) or not (0): then it is remembered,
 * unless the table holds max keys already (*full is set). */
static int hc_seen(hcount *h, uint64_t key, size_t max, int *full)
{
	size_t i;
	hslot *e;

	key |= 1;
	e = hc_probe(h, key, &i);
	if (e->key) {
		e->count++;
		return 1;
	}
	if (h->n >= max) {
		*full = 1;
		return 0;
	}
	if (hc_put(h, e, i, key, 0) < 0)
		return hc_seen(h, key, max, full);
	return 0;
}

/* A larger table, the keys kept. */
static void hc_grow(hcount *h, size_t cap)
{
	hcount t = { cm_xcalloc(cap, sizeof(*t.slot)), cm_xmalloc(cap / 2 * sizeof(*t.used)), cap - 1, 0, cap };
	size_t i;

	for (i = 0; i < h->n; i++) {
		const hslot *e = &h->slot[h->used[i]];
		size_t j;

		for (j = e->key & t.mask; t.slot[j].key; j = (j + 1) & t.mask)
			;
		t.slot[j] = *e;
		t.used[t.n++] = (uint32_t)j;
	}
	free(h->slot);
	free(h->used);
	*h = t;
}

static void hc_free(hcount *h)
{
	free(h->slot);
	free(h->used);
	memset(h, 0, sizeof(*h));
}

/* ---- text pieces ---- */

/* A word as qs_words_selfcheck compares the splitters' (the rules keep none). */
typedef struct word {
	uint32_t off, len;	/* bytes in the text */
	uint32_t chars;		/* characters */
	uint64_t hash;
	uint8_t alpha;		/* holds a letter */
	uint8_t symbol;		/* punctuation or symbols only */
} word;

typedef struct scratch {
	size_t text_len;	/* of the text being split */
	const char *text;
	/* the words: counted as they come; the first ng_max kept for the n-grams, as prefix
	 * sums of their hashes and characters (ph, pc: ng + 1 entries) */
	size_t nw, nonsym, sumlen, alpha;
	unsigned seen_stop;	/* Gopher's stop words seen (bit k: gopher_stop[k]) */
	size_t ng, ng_max, ng_end;	/* words kept, at most, and where the last kept ends */
	uint64_t *ph, pow[11];	/* n-gram prefix hashes */
	uint64_t *pc;		/* prefix character counts */
	size_t cap_prefix;
	int recording;		/* every word into rec (qs_words_selfcheck) */
	word *rec;
	size_t nrec, cap_rec;
	hcount hc;
	uint8_t *multi;		/* the n-gram starting at a word occurs more than once */
	uint32_t *pos;		/* the words where such n-grams start */
	uint32_t *run;		/* consecutive positions in pos from there on */
	size_t nnl;		/* newlines */
	size_t cont;		/* continuation bytes in the text */
	size_t hashes, ellipses;	/* '#' and "..." or U+2026 in the text */
	uint64_t *keys;		/* n-gram hashes; then, dealt into buckets, again */
	uint32_t *ppos;		/* their positions, dealt into buckets */
	size_t cap_part;
	size_t cap_multi;
	/* FineWeb's lines (non-blank), counted with Gopher's */
	size_t fw_lines, fw_punct, fw_shorts, fw_dup_chars;
} scratch;

static _Thread_local scratch S;

/* Bits set in a 16-bit mask (no popcnt instruction in the x86-64 baseline). */
static inline unsigned popcount16(unsigned x)
{
	x = x - ((x >> 1) & 0x5555);
	x = (x & 0x3333) + ((x >> 2) & 0x3333);
	x = (x + (x >> 4)) & 0x0f0f;
	return (x + (x >> 8)) & 0x1f;
}

/* Characters: bytes less UTF-8 continuation bytes (10xxxxxx), sixteen bytes at a time (SSE2),
 * then eight, then one. */
static size_t chars_of(const char *p, size_t n)
{
	const uint64_t hi = 0x8080808080808080ULL, ones = 0x0101010101010101ULL;
	size_t i = 0, cont = 0;

#ifdef __SSE2__
	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_and_si128(_mm_loadu_si128((const __m128i *)(p + i)), _mm_set1_epi8((char)0xc0));

		cont += popcount16((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8((char)0x80))));
	}
#endif
	for (; i + 8 <= n; i += 8) {
		uint64_t x;

		memcpy(&x, p + i, 8);
		x = x & ~(x << 1) & hi;		/* bit 7 set, bit 6 clear */
		cont += (size_t)(((x >> 7) * ones) >> 56);
	}
	for (; i < n; i++)
		cont += ((unsigned char)p[i] & 0xc0) == 0x80;
	return n - cont;
}

static int is_cjk(int32_t cp)
{
	return (cp >= 0x3040 && cp <= 0x30ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
	       (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xf900 && cp <= 0xfaff) ||
	       (cp >= 0x20000 && cp <= 0x2ffff);
}

enum { K_SPACE, K_WORD, K_SYMBOL, K_CJK };

/* ASCII: the kind, and whether a letter (bit 2). */
#define ASCII_LETTER 4
static const uint8_t ascii_class[128] = {
#define W K_WORD
#define L (K_WORD | ASCII_LETTER)
#define S K_SYMBOL
#define _ K_SPACE
	_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _,
	_, S, S, S, S, S, S, S, S, S, S, S, S, S, S, S, W, W, W, W, W, W, W, W, W, W, S, S, S, S, S, S,
	S, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, S, S, S, S, W,
	S, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, S, S, S, S, _,
#undef W
#undef L
#undef S
#undef _
};

#ifdef __SSE2__
/* Sixteen bytes at a time (SSE2, in every x86-64): masks with bit i for byte i. */
static inline __m128i eq8(__m128i v, char c)
{
	return _mm_cmpeq_epi8(v, _mm_set1_epi8(c));
}

/* bytes in [lo, lo + span] (unsigned) */
static inline __m128i in_range(__m128i v, char lo, char span)
{
	__m128i d = _mm_sub_epi8(v, _mm_set1_epi8(lo));

	return _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(span)), d);
}

/* ASCII letters (*letters) and letters, digits and '_' (returned) */
static inline unsigned word_bytes16(const char *p, unsigned *letters)
{
	__m128i v = _mm_loadu_si128((const __m128i *)p);
	__m128i l = in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 25);
	__m128i w = _mm_or_si128(_mm_or_si128(l, in_range(v, '0', 9)), eq8(v, '_'));

	*letters = (unsigned)_mm_movemask_epi8(l);
	return (unsigned)_mm_movemask_epi8(w);
}
#endif

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
			k += popcount16(mn);
		cont += popcount16(c);
		if (mh)
			hashes += popcount16(mh);
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

static int kind_of_cp(int32_t cp)
{
	if (is_cjk(cp))
		return K_CJK;
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO: case UTF8PROC_CATEGORY_PC:
		return K_WORD;
	case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
	case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF:
		return K_SPACE;
	default:
		return K_SYMBOL;
	}
}

static int is_letter_cp(int32_t cp)
{
	utf8proc_category_t c = utf8proc_category(cp);

	return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO;
}

/* Below U+0800 (ASCII, Latin, Greek, Cyrillic, Hebrew, Arabic, ...): the kind and whether a
 * letter (ASCII_LETTER), from a table that qs_load_data fills. */
static uint8_t class2[0x800];

static void class_table(void)
{
	int32_t cp;

	for (cp = 0; cp < 0x800; cp++)
		class2[cp] = cp < 0x80 ? ascii_class[cp] :
			     (uint8_t)(kind_of_cp(cp) | (is_letter_cp(cp) ? ASCII_LETTER : 0));
}

static inline int kind_of(int32_t cp)
{
	if (cp < 0x800)
		return class2[cp] & 3;
	return kind_of_cp(cp);
}

static inline int is_letter(int32_t cp)
{
	if (cp < 0x800)
		return (class2[cp] & ASCII_LETTER) != 0;
	return is_letter_cp(cp);
}

static inline size_t decode(const char *p, size_t n, int32_t *cp)
{
	uint32_t c;
	size_t k;

	if ((unsigned char)*p < 0x80) {
		*cp = (unsigned char)*p;
		return 1;
	}
	/* two bytes, well formed (no overlong form) */
	if (n >= 2 && (unsigned char)*p >= 0xc2 && (unsigned char)*p < 0xe0 && ((unsigned char)p[1] & 0xc0) == 0x80) {
		*cp = ((unsigned char)*p & 0x1f) << 6 | ((unsigned char)p[1] & 0x3f);
		return 2;
	}
	k = cm_utf8_decode(p, n, &c);
	*cp = c == CM_UTF8_INVALID ? 0xfffd : (int32_t)c;
	return k ? k : 1;
}

/* A word's hash: words of up to 16 bytes (nearly all) from two unaligned loads, masked
 * (near the end of the text, from a copy); XXH3 for the others. */
static inline uint64_t word_hash(const char *p, size_t len, size_t avail)
{
	/* the bytes of the first and second eight that belong to a word of len bytes */
	static const uint64_t mask_a[17] = {
		0, 0xff, 0xffff, 0xffffff, 0xffffffffULL, 0xffffffffffULL, 0xffffffffffffULL,
		0xffffffffffffffULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL,
	};

	if (len <= 16) {
		uint64_t a, b, h;
		char tail[16];

		if (avail < 16) {
			memset(tail, 0, sizeof(tail));
			memcpy(tail, p, len);
			p = tail;
		}
		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		a &= mask_a[len];
		b &= mask_a[len > 8 ? len - 8 : 0];
		h = (a * 0x9e3779b97f4a7c15ULL) ^ ((b ^ len) * 0xc2b2ae3d27d4eb4fULL);
		h ^= h >> 32;
		h *= 0x165667b19e3779f9ULL;
		return h ^ (h >> 29);
	}
	return XXH3_64bits(p, len);
}

static const char *const gopher_stop[] = { "the", "be", "to", "of", "and", "that", "have", "with" };

/* Which of Gopher's stop words w is (its index), 8 if none: by length and first letter. */
static size_t stop_index(const char *w, size_t len)
{
	size_t k;

	switch (w[0]) {
	case 't': k = len == 3 ? 0 : len == 2 ? 2 : 5; break;
	case 'b': k = 1; break;
	case 'o': k = 3; break;
	case 'a': k = 4; break;
	case 'h': k = 6; break;
	case 'w': k = 7; break;
	default: return 8;
	}
	return strlen(gopher_stop[k]) == len && memcmp(w, gopher_stop[k], len) == 0 ? k : 8;
}

/* n-gram hashes and lengths in O(1) from prefix sums over the words: a polynomial hash of the
 * word hashes (mod 2^64), and characters. */
#define NG_BASE 0x100000001b3ULL

/* Before the words of a text: nothing counted, the n-gram sums at 0. */
static void words_begin(scratch *s, const char *text, size_t n, size_t ng_max)
{
	s->text = text;
	s->text_len = n;
	s->nw = s->nonsym = s->sumlen = s->alpha = 0;
	s->seen_stop = 0;
	s->ng = s->ng_end = 0;
	s->ng_max = ng_max;
	s->nrec = 0;
	if (!s->cap_prefix) {
		s->cap_prefix = 1024;
		s->ph = cm_xrealloc(s->ph, s->cap_prefix * sizeof(*s->ph));
		s->pc = cm_xrealloc(s->pc, s->cap_prefix * sizeof(*s->pc));
	}
	s->ph[0] = 0;
	s->pc[0] = 0;
}

/* Room for the n-gram sums of one more word (at most ng_max + 1 entries). */
static void grow_prefix(scratch *s)
{
	size_t cap = s->cap_prefix * 2;

	if (cap > s->ng_max + 1)
		cap = s->ng_max + 1;
	s->cap_prefix = cap;
	s->ph = cm_xrealloc(s->ph, cap * sizeof(*s->ph));
	s->pc = cm_xrealloc(s->pc, cap * sizeof(*s->pc));
}

/* Every word as it is, for qs_words_selfcheck. */
static __attribute__((noinline)) void record_word(scratch *s, const char *text, size_t off, size_t len,
						  int symbol, int alpha, size_t chars)
{
	word *w;

	if (s->nrec == s->cap_rec) {
		s->cap_rec = s->cap_rec ? s->cap_rec * 2 : 1024;
		s->rec = cm_xrealloc(s->rec, s->cap_rec * sizeof(*s->rec));
	}
	w = &s->rec[s->nrec++];
	w->off = (uint32_t)off;
	w->len = (uint32_t)len;
	w->chars = (uint32_t)chars;
	w->hash = word_hash(text + off, len, s->text_len - off);
	w->symbol = (uint8_t)symbol;
	w->alpha = (uint8_t)alpha;
}

/* One word: counted for Gopher's quality signals; for the n-grams while fewer than ng_max
 * are kept. */
static inline __attribute__((always_inline)) void push_word(scratch *s, const char *text, size_t off,
							    size_t end, int symbol, int alpha, size_t chars)
{
	size_t len = end - off;

	s->nw++;
	if (!symbol) {
		s->nonsym++;
		s->sumlen += chars;
	}
	s->alpha += (size_t)alpha;
	/* distinct stop words, written as listed (datatrove compares tokens as they are) */
	if (len - 2 <= 2 && s->seen_stop != 0xff) {
		size_t k = stop_index(text + off, len);

		if (k < 8)
			s->seen_stop |= 1u << k;
	}
	if (s->ng < s->ng_max) {
		size_t g = s->ng;

		if (g + 1 >= s->cap_prefix)
			grow_prefix(s);
		s->ph[g + 1] = s->ph[g] * NG_BASE + (word_hash(text + off, len, s->text_len - off) | 1);
		s->pc[g + 1] = s->pc[g] + chars;
		s->ng = g + 1;
		s->ng_end = end;
	}
	if (s->recording)
		record_word(s, text, off, len, symbol, alpha, chars);
}

/* English clitics split off a word, as common tokenizers do: "don't" is "do" "n't". */
static size_t clitic_at(const char *p, size_t n)
{
	static const char *const cl[] = { "n't", "'s", "'re", "'ve", "'ll", "'d", "'m", "’s", "’re", "’ve",
					  "’ll", "’d", "’m", "n’t" };
	size_t i;

	for (i = 0; i < sizeof(cl) / sizeof(*cl); i++) {
		size_t k = strlen(cl[i]);

		if (k <= n && strncasecmp(p + n - k, cl[i], k) == 0 && n > k)
			return k;
	}
	return 0;
}

static int is_digit_at(const char *text, size_t n, size_t i)
{
	return i < n && text[i] >= '0' && text[i] <= '9';
}

static int cmp_cp(const void *a, const void *b);
/* datatrove's punctuation (data/quality/punctuation.txt) and the terminal marks: a word made
 * of these only is a symbol (--words spacy) */
static int32_t punct_cp[512 + 256];
static size_t npunct;
static uint8_t punct_ascii[128];

/* A token from spacy.c: a symbol when every character is datatrove's punctuation, alpha
 * when one is a letter (Python's isalpha). */
static void spacy_token(void *ctx, size_t off, size_t end)
{
	scratch *s = ctx;
	const char *text = s->text;
	size_t i = off, chars = 0;
	int symbol = 1, alpha = 0;

	while (i < end) {
		int32_t cp;

		i += decode(text + i, end - i, &cp);
		chars++;
		if (symbol && !(cp < 0x80 ? punct_ascii[cp] :
				bsearch(&cp, punct_cp, npunct, sizeof(*punct_cp), cmp_cp) != NULL))
			symbol = 0;
		alpha |= is_letter(cp);
	}
	push_word(s, text, off, end, symbol, alpha, chars);
}

/* One token from i (white space first skipped), the general way: returns where the next
 * begins. */
static size_t next_token(scratch *s, const char *text, size_t n, size_t i)
{
	int32_t cp;
	size_t k, start, chars = 0;
	int kind, alpha = 0, apos = 0, email = 0;

	/* ASCII white space, the common case, without decoding; long runs (indentation)
	 * sixteen bytes at a time */
	while (i < n && (unsigned char)text[i] < 0x80 && (ascii_class[(unsigned char)text[i]] & 3) == K_SPACE) {
		i++;
#ifdef __SSE2__
		while (i + 16 <= n && (unsigned char)text[i] <= ' ') {
			__m128i v = _mm_loadu_si128((const __m128i *)(text + i));
			unsigned sp = (unsigned)_mm_movemask_epi8(_mm_or_si128(
				_mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(' ')), v), eq8(v, 0x7f)));

			i += sp == 0xffff ? 16 : (size_t)__builtin_ctz(~sp);
			if (sp != 0xffff)
				break;
		}
#endif
	}
	if (i >= n)
		return i;
	k = decode(text + i, n - i, &cp);
	start = i;
	kind = kind_of(cp);

	if (kind == K_SPACE)
		return i + k;
	if (kind == K_CJK) {
		push_word(s, text, i, i + k, 0, 1, 1);
		return i + k;
	}
	/* a slash that opens a word at a token start stays on it ("/sys"), as the common
	 * English tokenizer leaves it */
	if (cp == '/' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t' || text[i - 1] == '\n') &&
	    i + 1 < n && kind_of((unsigned char)text[i + 1]) == K_WORD) {
		kind = K_WORD;
		i += k;
		chars = 1;
	}
	/* a URL is one token */
	if ((cp == 'h' && ((n - i >= 7 && memcmp(text + i, "http://", 7) == 0) ||
			   (n - i >= 8 && memcmp(text + i, "https://", 8) == 0))) ||
	    (cp == 'w' && n - i >= 4 && memcmp(text + i, "www.", 4) == 0)) {
		while (i < n && text[i] != ' ' && text[i] != '\n' && text[i] != '\t' && text[i] != '\r') {
			i += decode(text + i, n - i, &cp);
			chars++;
		}
		push_word(s, text, start, i, 0, 1, chars);
		return i;
	}
	while (i < n) {
		int kk;

		/* the common case first: ASCII letters and digits in a word */
		if (kind == K_WORD) {
			unsigned char c;

#ifdef __SSE2__
			while (i + 16 <= n) {
				unsigned letters, w = word_bytes16(text + i, &letters), run;

				run = w == 0xffff ? 16 : (unsigned)__builtin_ctz(~w);
				alpha |= (letters & ((1u << run) - 1)) != 0;
				i += run;
				chars += run;
				if (run < 16)
					break;
			}
#endif
			while (i < n && (c = (unsigned char)text[i]) < 0x80 && (ascii_class[c] & 3) == K_WORD) {
				alpha |= ascii_class[c] >> 2;
				i++;
				chars++;
			}
			/* ended by the end or by ASCII white space: the word is done */
			if (i >= n || (c < 0x80 && (ascii_class[c] & 3) == K_SPACE))
				break;
		}
		k = decode(text + i, n - i, &cp);
		kk = kind_of(cp);
		if (kind == K_WORD && kk == K_SYMBOL && i > start && i + k < n) {
			int32_t next;

			decode(text + i + k, n - i - k, &next);
			/* an apostrophe between letters stays in the word (don't, l'eau), and
			 * so do a point or comma between digits (3.14, 1,000) */
			if (cp == '@' && kind_of(next) == K_WORD)
				email = 1;
			if (((cp == '\'' || cp == 0x2019) && kind_of(next) == K_WORD && (apos = 1)) ||
			    (email && (cp == '@' || cp == '.' || cp == '-') && kind_of(next) == K_WORD) ||
			    ((cp == '.' || cp == ',' || cp == ':') && is_digit_at(text, n, i - 1) &&
			     is_digit_at(text, n, i + k)) ||
			    (cp == '-' && is_digit_at(text, n, i + k))) {
				i += k;
				chars++;
				continue;
			}
		}
		if (kk != kind)
			break;
		/* punctuation comes one mark a token ("=====" is five), but for runs of
		 * points ("...") */
		if (kind == K_SYMBOL && i > start && !(cp == '.' && text[i - 1] == '.'))
			break;
		alpha |= is_letter(cp);
		i += k;
		chars++;
	}
	if (kind == K_WORD && apos) {
		size_t cl = clitic_at(text + start, i - start);

		if (cl) {
			/* "n't", "'s": a token of their own */
			size_t cut = i - cl;

			push_word(s, text, start, cut, 0, alpha, chars_of(text + start, cut - start));
			push_word(s, text, cut, i, 0, 1, chars_of(text + cut, cl));
			return i;
		}
	}
	push_word(s, text, start, i, kind == K_SYMBOL, alpha, chars);
	return i;
}

#ifdef __SSE2__
/* 64 bytes from p: ASCII word bytes (letters, digits, '_'), ASCII letters, ASCII white space
 * (bytes up to ' ', and DEL), non-ASCII bytes: bit i for byte i */
static inline void block_masks(const char *p, uint64_t *wm, uint64_t *lm, uint64_t *sm, uint64_t *hm)
{
	uint64_t w = 0, l = 0, sp = 0, h = 0;
	int k;

	for (k = 0; k < 4; k++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(p + 16 * k));
		__m128i lt = in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 25);
		__m128i wd = _mm_or_si128(_mm_or_si128(lt, in_range(v, '0', 9)), eq8(v, '_'));
		__m128i ws = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(' ')), v), eq8(v, 0x7f));

		w |= (uint64_t)(unsigned)_mm_movemask_epi8(wd) << (16 * k);
		l |= (uint64_t)(unsigned)_mm_movemask_epi8(lt) << (16 * k);
		sp |= (uint64_t)(unsigned)_mm_movemask_epi8(ws) << (16 * k);
		h |= (uint64_t)(unsigned)_mm_movemask_epi8(v) << (16 * k);
	}
	*wm = w;
	*lm = l;
	*sm = sp;
	*hm = h;
}
#endif

/* Whether next_token would end the word of ASCII word bytes text[t..e) at the ASCII symbol
 * text[e] (e < n): not where the symbol joins it to what follows (an apostrophe, '@', a
 * point, comma or colon between digits, '-' before a digit) or where a URL starts. */
static inline int word_ends_at(const char *text, size_t n, size_t t, size_t e)
{
	switch (text[e]) {
	case '\'':
	case '@':
		return 0;
	case '.':
	case ',':
	case ':':
		if (is_digit_at(text, n, e - 1) && is_digit_at(text, n, e + 1))
			return 0;
		return !((text[e] == '.' && text[t] == 'w') || (text[e] == ':' && text[t] == 'h'));
	case '-':
		return !is_digit_at(text, n, e + 1);
	default:
		return 1;
	}
}

/* Split text into word and symbol tokens (see the file comment). Most tokens are runs of
 * ASCII letters and digits, or single ASCII marks: those are found from bit masks over 64
 * bytes at a time, with the same result as next_token's; next_token takes every other
 * (non-ASCII, or where marks join words: apostrophes, numbers, e-mail addresses, URLs). */
static void split_words(scratch *s, const char *text, size_t n)
{
	size_t i = 0;

#ifdef __SSE2__
	while (i < n) {
		size_t base = i & ~(size_t)63;
		uint64_t wm, lm, sm, hm;

		if (base + 64 <= n) {
			block_masks(text + base, &wm, &lm, &sm, &hm);
		} else {
			char tail[64];	/* past the end: NULs, white space */

			memset(tail, 0, sizeof(tail));
			memcpy(tail, text + base, n - base);
			block_masks(tail, &wm, &lm, &sm, &hm);
		}
		while (i < base + 64 && i < n) {
			uint64_t ns = ~sm & (~(uint64_t)0 << (i - base));
			size_t t, tb, e;

			if (!ns) {		/* white space to the block's end */
				i = base + 64;
				break;
			}
			tb = (size_t)__builtin_ctzll(ns);
			t = base + tb;
			if (t >= n) {
				i = n;
				break;
			}
			if (wm >> tb & 1) {
				/* a run of word bytes from t: a word of its own where white space, the
				 * end, or a symbol that does not join ends it */
				uint64_t after = ~wm & (~(uint64_t)0 << tb);
				int alpha;

				if (after) {
					size_t eb = (size_t)__builtin_ctzll(after);

					e = base + eb;
					alpha = (lm & (~(uint64_t)0 << tb) & ~(~(uint64_t)0 << eb)) != 0;
					if (sm >> eb & 1) {	/* white space (or the end) after it */
						push_word(s, text, t, e, 0, alpha, e - t);
						i = e;
						continue;
					}
				} else {	/* on past the block */
					unsigned letters;
					unsigned char c;

					alpha = (lm >> tb) != 0;
					for (e = base + 64; e + 16 <= n;) {
						unsigned w = word_bytes16(text + e, &letters), run;

						run = w == 0xffff ? 16 : (unsigned)__builtin_ctz(~w);
						alpha |= (letters & ((1u << run) - 1)) != 0;
						e += run;
						if (run < 16)
							break;
					}
					if (e + 16 > n)
						while (e < n && (c = (unsigned char)text[e]) < 0x80 &&
						       (ascii_class[c] & 3) == K_WORD) {
							alpha |= ascii_class[c] >> 2;
							e++;
						}
				}
				if (e >= n || ((unsigned char)text[e] < 0x80 &&
					       ((ascii_class[(unsigned char)text[e]] & 3) == K_SPACE ||
						word_ends_at(text, n, t, e)))) {
					push_word(s, text, t, e, 0, alpha, e - t);
					i = e;
					continue;
				}
			} else if (!(hm >> tb & 1) && text[t] != '/') {
				/* an ASCII symbol: a token of its own, or a run of points */
				for (e = t + 1; text[t] == '.' && e < n && text[e] == '.'; e++)
					;
				push_word(s, text, t, e, 1, 0, e - t);
				i = e;
				continue;
			}
			i = next_token(s, text, n, t);
		}
	}
#else
	while (i < n)
		i = next_token(s, text, n, i);
#endif
}

/* For tests and fuzzing: whether split_words gives the same words as next_token alone
 * (offsets, lengths, characters, kinds, hashes); 1 when it does. */
int qs_words_selfcheck(const char *text, size_t n)
{
	scratch a = { 0 }, b = { 0 };
	size_t i = 0;
	int same;

	a.recording = b.recording = 1;
	words_begin(&a, text, n, 0);
	split_words(&a, text, n);
	words_begin(&b, text, n, 0);
	while (i < n)
		i = next_token(&b, text, n, i);
	same = a.nrec == b.nrec && a.nw == b.nw && a.nonsym == b.nonsym && a.sumlen == b.sumlen &&
	       a.alpha == b.alpha && a.seen_stop == b.seen_stop;
	for (i = 0; same && i < a.nrec; i++)
		same = a.rec[i].off == b.rec[i].off && a.rec[i].len == b.rec[i].len &&
		       a.rec[i].chars == b.rec[i].chars && a.rec[i].hash == b.rec[i].hash &&
		       a.rec[i].symbol == b.rec[i].symbol && a.rec[i].alpha == b.rec[i].alpha;
	free(a.rec);
	free(a.ph);
	free(a.pc);
	free(b.rec);
	free(b.ph);
	free(b.pc);
	return same;
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
			dc += chars_of(text + start, end - start);
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
			chars = chars_of(a, len);
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
					chars = chars_of(a, len);
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

	stops = (size_t)popcount16(s->seen_stop);
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
		ng_chars = chars_of(text, s->ng_end);
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

static int cmp_cp(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return x < y ? -1 : x > y;
}

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
	class_table();
	qsort(term_cp, nterm, sizeof(*term_cp), cmp_cp);
	for (i = 0; i < nterm; i++)
		if (term_cp[i] < 0x80)
			term_ascii[term_cp[i]] = 1;
	c4_tables();
	p = cm_data("quality/punctuation.txt", &n);
	if (!p)
		cm_die("built without data/quality/punctuation.txt");
	for (end = p + n; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			nl = end;
		if (nl - p > 2 && p[0] == 'U' && p[1] == '+' && npunct < sizeof(punct_cp) / sizeof(*punct_cp))
			punct_cp[npunct++] = (int32_t)strtol(p + 2, NULL, 16);
		p = nl + 1;
	}
	memcpy(punct_cp + npunct, term_cp, nterm * sizeof(*term_cp));
	npunct += nterm;
	qsort(punct_cp, npunct, sizeof(*punct_cp), cmp_cp);
	for (n = 0; n < npunct; n++)
		if (punct_cp[n] >= 0 && punct_cp[n] < 0x80)
			punct_ascii[punct_cp[n]] = 1;
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

/* Sentences in a line: ends of ., ! or ? followed by a space or the end (at least one). */
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
		const char *nl = next_newline(p, end), *a, *b;
		size_t words = 0;
		int skip = 0, long_word = 0, found;

		if (!nl)
			nl = end;
		for (a = p; a < nl && (*a == ' ' || *a == '\t' || *a == '\r'); a++)
			;
		for (b = nl; b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'); b--)
			;
		p = nl + 1;
		/* words by white space, as C4 splits them: where a word starts; a word can only be
		 * over the limit in characters if the line is in bytes */
		{
			const char *q = a;
			int prev_ws = 1;

#ifdef __SSE2__
			for (; q + 16 <= b; q += 16) {
				__m128i v = _mm_loadu_si128((const __m128i *)q);
				unsigned ws = (unsigned)_mm_movemask_epi8(_mm_or_si128(eq8(v, ' '), eq8(v, '\t')));
				unsigned starts = ~ws & ((ws << 1) | (unsigned)prev_ws) & 0xffff;

				words += popcount16(starts);
				prev_ws = (int)(ws >> 15);
			}
#endif
			for (; q < b; q++) {
				int ws = *q == ' ' || *q == '\t';

				words += (size_t)(prev_ws & !ws);
				prev_ws = ws;
			}
			if (o->c4_max_word && (size_t)(b - a) > o->c4_max_word)
				for (q = a; q < b;) {
					const char *ws;

					while (q < b && (*q == ' ' || *q == '\t'))
						q++;
					ws = q;
					while (q < b && *q != ' ' && *q != '\t')
						q++;
					if ((size_t)(q - ws) > o->c4_max_word &&
					    chars_of(ws, (size_t)(q - ws)) > o->c4_max_word)
						long_word = 1;
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
		sentences += sentences_in(a, (size_t)(b - a));
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
	words_begin(s, text, n, o->max_ngram_words);
	if (o->spacy_words)
		qs_spacy_words(text, n, spacy_token, s);
	else
		split_words(s, text, n);
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
