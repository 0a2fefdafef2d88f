/* minhash.c - normalised text, shingles and MinHash signatures (see minhash.h). */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "cli.h"
#include "minhash.h"
#include "ngram.h"
#include "rand.h"

#define MERSENNE ((1ULL << 61) - 1)

void dm_hasher_init(dm_hasher *h, unsigned k, unsigned ngram, uint64_t seed)
{
	unsigned i;

	h->k = k;
	h->ngram = ngram;
	h->a = cm_xmalloc(k * sizeof(*h->a));
	h->b = cm_xmalloc(k * sizeof(*h->b));
	for (i = 0; i < k; i++) {
		h->a[i] = cm_splitmix64(&seed) % (MERSENNE - 1) + 1;
		h->b[i] = cm_splitmix64(&seed) % MERSENNE;
	}
}

void dm_hasher_free(dm_hasher *h)
{
	free(h->a);
	free(h->b);
}

/* (a x + b) mod 2^61 - 1, x < 2^61 */
static inline uint64_t permute(uint64_t a, uint64_t b, uint64_t x)
{
	unsigned __int128 p = (unsigned __int128)a * x + b;
	uint64_t r = (uint64_t)(p & MERSENNE) + (uint64_t)(p >> 61);

	return r >= MERSENNE ? r - MERSENNE : r;
}

static void add_shingle(const dm_hasher *h, uint64_t x, uint32_t *sig)
{
	unsigned i;

	x %= MERSENNE;
	for (i = 0; i < h->k; i++) {
		uint32_t v = (uint32_t)permute(h->a[i], h->b[i], x);

		if (v < sig[i])
			sig[i] = v;
	}
}

struct shingler {
	const dm_hasher *h;
	uint32_t *sig;
};

static void shingle(void *ctx, const char *p, size_t len)
{
	struct shingler *sh = ctx;

	add_shingle(sh->h, cm_ngram_hash(p, len), sh->sig);
}

size_t dm_signature(const dm_hasher *h, const char *s, size_t n, uint32_t *sig)
{
	struct shingler sh = { h, sig };
	size_t count;

	memset(sig, 0xff, h->k * sizeof(*sig));
	if (!n)
		return 0;
	if (!(count = cm_ngrams(s, n, h->ngram, shingle, &sh))) {	/* fewer words than n: the whole text */
		add_shingle(h, cm_ngram_hash(s, n), sig);
		count = 1;
	}
	return count;
}

uint64_t dm_band_hash(const uint32_t *sig, unsigned b, unsigned r)
{
	return XXH3_64bits_withSeed(sig + (size_t)b * r, r * sizeof(*sig), b);
}

double dm_similarity(const uint32_t *x, const uint32_t *y, unsigned k)
{
	unsigned i, same = 0;

	for (i = 0; i < k; i++)
		same += x[i] == y[i];
	return k ? (double)same / (double)k : 0;
}
