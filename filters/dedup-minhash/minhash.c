/* minhash.c - normalised text, shingles and MinHash signatures (see minhash.h). */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include <xxhash.h>

#include "cli.h"
#include "minhash.h"
#include "rand.h"
#include "utf8.h"

#define MERSENNE ((1ULL << 61) - 1)

static void put_space(cm_buf *out)
{
	if (out->len && out->p[out->len - 1] != ' ')
		cm_buf_addc(out, ' ');
}

void dm_normalize(const char *t, size_t n, cm_buf *out)
{
	size_t i = 0;
	int digits = 0;		/* in a run of digits: "0" already written */

	cm_buf_reset(out);
	cm_buf_grow(out, n + 1);
	while (i < n) {
		unsigned char c = (unsigned char)t[i];

		if (c < 0x80) {
			i++;
			if (c >= '0' && c <= '9') {
				if (!digits)
					cm_buf_addc(out, '0');
				digits = 1;
				continue;
			}
			digits = 0;
			if (c >= 'A' && c <= 'Z')
				cm_buf_addc(out, (char)(c + 32));
			else if (c >= 'a' && c <= 'z')
				cm_buf_addc(out, (char)c);
			else
				put_space(out);	/* white space, punctuation, symbols, controls */
			continue;
		}
		{
			uint32_t cp;
			size_t k = cm_utf8_decode(t + i, n - i, &cp);
			utf8proc_int32_t buf[8];
			utf8proc_ssize_t m, j;
			const utf8proc_property_t *pr;

			if (!k)
				k = 1;
			i += k;
			if (cp == CM_UTF8_INVALID) {
				digits = 0;
				put_space(out);
				continue;
			}
			pr = utf8proc_get_property((utf8proc_int32_t)cp);
			if (pr->category == UTF8PROC_CATEGORY_ND) {	/* other scripts' digits */
				if (!digits)
					cm_buf_addc(out, '0');
				digits = 1;
				continue;
			}
			digits = 0;
			/* decomposed, case-folded, marks dropped */
			m = utf8proc_decompose_char((utf8proc_int32_t)cp, buf, 8, UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD |
						    UTF8PROC_STRIPMARK, NULL);
			if (m < 0 || m > 8) {
				put_space(out);
				continue;
			}
			for (j = 0; j < m; j++) {
				const utf8proc_property_t *q = utf8proc_get_property(buf[j]);
				unsigned char enc[4];
				utf8proc_ssize_t el;

				switch (q->category) {
				case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
				case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_NL:
				case UTF8PROC_CATEGORY_NO: case UTF8PROC_CATEGORY_MC:
					el = utf8proc_encode_char(buf[j], enc);
					cm_buf_add(out, enc, (size_t)el);
					break;
				case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_ME:
					break;		/* a mark left after decomposition */
				default:
					put_space(out);	/* punctuation, symbols, separators */
				}
			}
		}
	}
	if (out->len && out->p[out->len - 1] == ' ')
		out->p[--out->len] = '\0';
}

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

size_t dm_ngrams(const char *s, size_t len, unsigned n, void (*fn)(void *ctx, const char *p, size_t len),
		 void *ctx)
{
	size_t starts[64], nw = 0, i = 0, count = 0;

	if (n == 0)
		n = 1;
	if (n > 64)
		n = 64;
	/* word starts in a ring of the last n; each full window is an n-gram */
	while (i < len) {
		size_t b = i;

		while (i < len && s[i] != ' ')
			i++;
		starts[nw % n] = b;
		nw++;
		if (nw >= n) {
			size_t first = starts[(nw - n) % n];

			fn(ctx, s + first, i - first);
			count++;
		}
		i++;		/* the space */
	}
	return count;
}

struct shingler {
	const dm_hasher *h;
	uint32_t *sig;
};

static void shingle(void *ctx, const char *p, size_t len)
{
	struct shingler *sh = ctx;

	add_shingle(sh->h, XXH3_64bits(p, len), sh->sig);
}

size_t dm_signature(const dm_hasher *h, const char *s, size_t n, uint32_t *sig)
{
	struct shingler sh = { h, sig };
	size_t count;

	memset(sig, 0xff, h->k * sizeof(*sig));
	if (!n)
		return 0;
	if (!(count = dm_ngrams(s, n, h->ngram, shingle, &sh))) {	/* fewer words than n: the whole text */
		add_shingle(h, XXH3_64bits(s, n), sig);
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
