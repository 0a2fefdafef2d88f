/* words.c - quality-score's word splitter: the words of a text counted for Gopher's quality
 * signals, and the first ones kept for the n-gram signals (words.h), as rules.c asks.
 *
 * Words are Unicode-aware: a word is a run of letters, marks, digits and connectors;
 * punctuation and symbols are tokens of their own, as word tokenizers split them off; each
 * Han, Hiragana or Katakana character is a word (CJK is written without spaces). Punctuation
 * comes one mark a token, but for runs of points; a point, comma or colon between digits
 * (3.14, 1,000, 9:30), a hyphen before a digit (GPL-2.0), an apostrophe between letters, e-mail
 * addresses, URLs and a leading slash ("/sys") stay inside a word; English clitics ("n't",
 * "'s") are tokens of their own. Most tokens are found from bit masks over 64 bytes at a time
 * (split_words); next_token cuts every other, and both agree (qs_words_selfcheck).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <utf8proc.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "cli.h"
#include "data.h"
#include "rules.h"
#include "spacy.h"
#include "utf8.h"
#include "words.h"

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

void qs_words_begin(scratch *s, const char *text, size_t n, size_t ng_max)
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

			push_word(s, text, start, cut, 0, alpha, cm_utf8_chars(text + start, cut - start));
			push_word(s, text, cut, i, 0, 1, cm_utf8_chars(text + cut, cl));
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
	qs_words_begin(&a, text, n, 0);
	split_words(&a, text, n);
	qs_words_begin(&b, text, n, 0);
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

void qs_words_split(scratch *s, const char *text, size_t n, int spacy)
{
	if (spacy)
		qs_spacy_words(text, n, spacy_token, s);
	else
		split_words(s, text, n);
}

void qs_words_load(const int32_t *term, size_t nterm)
{
	size_t n = 0;
	const char *p = cm_data("quality/punctuation.txt", &n), *end;

	class_table();
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
	memcpy(punct_cp + npunct, term, nterm * sizeof(*term));
	npunct += nterm;
	qsort(punct_cp, npunct, sizeof(*punct_cp), cmp_cp);
	for (n = 0; n < npunct; n++)
		if (punct_cp[n] >= 0 && punct_cp[n] < 0x80)
			punct_ascii[punct_cp[n]] = 1;
}
