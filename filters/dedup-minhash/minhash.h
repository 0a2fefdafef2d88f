/* minhash.h - word n-gram shingles and MinHash signatures.
 *
 * Shingles: the word n-grams (ngram.h) of the normalised text (cm_ngram_normalize), hashed
 * with XXH3-64; a text of fewer than n words is one shingle, an empty one none.
 * Signature: k minimums, of h_i(x) = (a_i x + b_i) mod (2^61 - 1) over the shingle hashes x,
 * kept to 32 bits, with a_i, b_i drawn from a seed (a universal family over xxHash, as
 * datasketch's permutations over SHA-1).
 */
#ifndef DM_MINHASH_H
#define DM_MINHASH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ngram.h"

typedef struct dm_hasher {
	unsigned k, ngram;
	uint64_t *a, *b;
} dm_hasher;

void dm_hasher_init(dm_hasher *h, unsigned k, unsigned ngram, uint64_t seed);
void dm_hasher_free(dm_hasher *h);

/* The signature of a normalised text into sig[k]; returns the number of shingles (0: the
 * signature is all 0xffffffff and means nothing). */
size_t dm_signature(const dm_hasher *h, const char *norm, size_t n, uint32_t *sig);

/* Band b's hash (rows r, from sig[b * r]). */
uint64_t dm_band_hash(const uint32_t *sig, unsigned b, unsigned r);

/* The share of equal values of two signatures: the estimated Jaccard similarity. */
double dm_similarity(const uint32_t *x, const uint32_t *y, unsigned k);

#endif
