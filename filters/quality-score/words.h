/* words.h - quality-score's word splitter (words.c) and the scratch of a text it fills for the
 * rules (rules.c): the words counted as they come, the first ones' n-gram prefix sums; and the
 * small helpers both files use.
 */
#ifndef QS_WORDS_H
#define QS_WORDS_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "hcount.h"
#include "utf8.h"

/* n-gram hashes and lengths in O(1) from prefix sums over the words: a polynomial hash of the
 * word hashes (mod 2^64), and characters. */
#define NG_BASE 0x100000001b3ULL

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

#ifdef __SSE2__
/* Sixteen bytes at a time (SSE2, in every x86-64): masks with bit i for byte i. */
static inline __m128i eq8(__m128i v, char c)
{
	return _mm_cmpeq_epi8(v, _mm_set1_epi8(c));
}
#endif

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

static inline int cmp_cp(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return x < y ? -1 : x > y;
}

/* Before the words of a text: nothing counted, the n-gram sums at 0; at most ng_max words kept
 * for the n-grams. */
void qs_words_begin(scratch *s, const char *text, size_t n, size_t ng_max);
/* The words of text, counted into s: cut by the splitter of words.c, or as spaCy's English
 * tokenizer cuts them (spacy.h). */
void qs_words_split(scratch *s, const char *text, size_t n, int spacy);
/* The tables the splitter reads: the letters and kinds below U+0800, datatrove's punctuation
 * (data/quality/punctuation.txt) with the terminal marks term[0..nterm). Once, before any
 * text (qs_load_data). */
void qs_words_load(const int32_t *term, size_t nterm);
#endif
