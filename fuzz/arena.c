/* arena.c - libFuzzer target: lm-arena's battle reader (lm_ar_parse) on each line of any bytes,
 * the battles it accepts counted into a table of at most 8 models: a refusal always names a
 * reason and says why, an accepted battle has two different names within the limit, a known
 * winner and lengths >= 0, and the table's counts add up. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lm_ar_table t;
	lm_ar_table_init(&t, 8);
	uint64_t accepted = 0;
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		lm_ar_battle b;
		char why[400];
		int r = lm_ar_parse(p, len, &b, why, sizeof why);
		if (r < 0 || r >= LM_AR_NREASONS || r == LM_AR_LONG_LINE)
			abort();
		if (r != LM_AR_OK && !why[0])
			abort();
		if (r == LM_AR_OK) {
			if (!b.alen || b.alen > LM_AR_NAME_MAX || !b.blen || b.blen > LM_AR_NAME_MAX ||
			    strlen(b.a) != b.alen || strlen(b.b) != b.blen || !strcmp(b.a, b.b) ||
			    b.winner < LM_AR_WIN_A || b.winner > LM_AR_BOTHBAD)
				abort();
			if (b.has_len && (!(b.len_a >= 0) || !(b.len_b >= 0)))
				abort();
			long ia, ib;
			if (lm_ar_add(&t, &b, &ia, &ib) == 0) {
				accepted++;
				if (ia == ib || lm_ar_model_find(&t, b.a) != ia || lm_ar_model_find(&t, b.b) != ib)
					abort();
			} else if (t.nm < 7) {
				abort();	/* refused only when the table is full */
			}
		}
		p += len + 1;
	}
	double sum = 0;
	uint64_t battles = 0;
	for (size_t k = 0; k < t.nc; k++)
		sum += t.c[k].w[0] + t.c[k].w[1] + t.c[k].w[2];
	for (size_t i = 0; i < t.nm; i++)
		battles += t.m[i].battles;
	if (t.battles != accepted || sum != (double)accepted || battles != 2 * accepted)
		abort();
	lm_ar_table_free(&t);
	return 0;
}
