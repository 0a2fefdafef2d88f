/* ngram.h - the normalised text and word n-grams that deduplication (dedup-minhash) and
 * contamination checks (dedup-minhash --against, lm-eval --contamination) share, so that
 * both sides of a comparison cut the same n-grams.
 *
 * Normalisation (datatrove's, for MinHash deduplication): lower case, accents removed
 * (canonical decomposition, marks dropped), every run of digits to "0", punctuation and
 * symbols to a space, white space collapsed to one space, none at the ends.
 */
#ifndef CM_NGRAM_H
#define CM_NGRAM_H

#include <stddef.h>
#include <stdint.h>
#include <xxhash.h>

#include "buf.h"

/* Normalise text into out (replaced). */
void cm_ngram_normalize(const char *text, size_t n, cm_buf *out);

/* Calls fn with each word n-gram of a normalised text (words: the runs between single
 * spaces; n at most 64): its offset and length. Returns how many (none when the text has
 * fewer than n words). */
size_t cm_ngrams(const char *s, size_t len, unsigned n, void (*fn)(void *ctx, const char *p, size_t len),
		 void *ctx);

/* The hash an n-gram is kept and compared by. */
static inline uint64_t cm_ngram_hash(const char *p, size_t len)
{
	return XXH3_64bits(p, len);
}

#endif
