/* 6010-minhash.c - dedup-minhash's parts: normalisation, signatures (equal texts, the
 * estimated Jaccard against the true one), band tables and the exact set through growth. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "lsh.h"
#include "minhash.h"
#include "tap.h"

static const char *norm(const char *s)
{
	static cm_buf b;

	cm_ngram_normalize(s, strlen(s), &b);
	return b.p ? b.p : "";
}

/* true Jaccard of the word 5-gram sets of two normalised texts (small texts: quadratic) */
static double jaccard5(const char *x, const char *y)
{
	char *a[4096], *b[4096], bx[65536], by[65536];
	size_t na = 0, nb = 0, i, j, inter = 0, ua, ub;
	char *s;

	snprintf(bx, sizeof(bx), "%s", x);
	snprintf(by, sizeof(by), "%s", y);
	for (s = strtok(bx, " "); s && na < 4096; s = strtok(NULL, " "))
		a[na++] = s;
	for (s = strtok(by, " "); s && nb < 4096; s = strtok(NULL, " "))
		b[nb++] = s;
	ua = na >= 5 ? na - 4 : 0;
	ub = nb >= 5 ? nb - 4 : 0;
	/* distinct shingles in each: the texts here have none repeated */
	for (i = 0; i < ua; i++)
		for (j = 0; j < ub; j++) {
			int k, same = 1;

			for (k = 0; k < 5 && same; k++)
				same = strcmp(a[i + k], b[j + k]) == 0;
			if (same) {
				inter++;
				break;
			}
		}
	return (double)inter / (double)(ua + ub - inter);
}

int main(void)
{
	tap_rng = 7;
	dm_hasher h;
	uint32_t s1[1024], s2[1024];
	char x[40000], y[40000];
	size_t i, n = 0, worst_i = 0;
	double worst = 0;
	dm_table t = { 0 };
	dm_set128 set = { 0 };
	int ok_all = 1;

	is_str(norm("Héllo, WORLD!  Ça   va?"), "hello world ca va", "lower case, accents, punctuation, spaces");
	is_str(norm("Room 101, 2024-11-26; pi 3.14"), "room 0 0 0 0 pi 0 0", "digit runs to 0");
	is_str(norm("  \t\n "), "", "white space only: empty");
	is_str(norm("Straße ΣΊΣΥΦΟΣ"), "strasse σισυφοσ", "case folding beyond ASCII");
	is_str(norm("日本語のテキスト"), "日本語のテキスト", "CJK kept");
	is_str(norm("a\xff" "b"), "a b", "invalid UTF-8: a space");

	dm_hasher_init(&h, 1024, 5, 1);
	is_int(dm_signature(&h, "", 0, s1), 0, "an empty text: no shingle");
	is_int(dm_signature(&h, "one two", 7, s1), 1, "fewer words than 5: one shingle");
	dm_signature(&h, "a b c d e f g", 13, s1);
	dm_signature(&h, "a b c d e f g", 13, s2);
	ok(memcmp(s1, s2, sizeof(s1)) == 0, "equal texts, equal signatures");
	is_int(dm_signature(&h, "a b c d e f g", 13, s1), 3, "7 words: 3 shingles of 5");

	/* texts of 600 distinct words with a share replaced: the estimate from 1024 hashes
	 * within 0.06 of the true 5-gram Jaccard */
	for (i = 0; i < 40; i++) {
		size_t w, xl = 0, yl = 0, changed = 1 + i * 15;
		double j, e;

		for (w = 0; w < 600; w++) {
			int replace = w % (600 / changed + 1) == 0;

			xl += (size_t)snprintf(x + xl, sizeof(x) - xl, "%sw%zu", w ? " " : "", w);
			yl += (size_t)snprintf(y + yl, sizeof(y) - yl, "%s%s%zu", w ? " " : "", replace ? "r" : "w", w);
		}
		j = jaccard5(x, y);
		dm_signature(&h, x, xl, s1);
		dm_signature(&h, y, yl, s2);
		e = dm_similarity(s1, s2, 1024);
		if ((e > j ? e - j : j - e) > worst) {
			worst = e > j ? e - j : j - e;
			worst_i = i;
		}
	}
	ok(worst < 0.06, "estimated against true Jaccard over 40 pairs: largest error %.3f (pair %zu)", worst, worst_i);
	dm_hasher_free(&h);

	/* a band table and the exact set through many growths */
	for (i = 0; i < 300000; i++) {
		uint64_t k = tap_next();

		if (dm_table_find(&t, k, (uint32_t)i, 1) != -1)
			n++;
	}
	is_int(n, 0, "300,000 random keys: none taken for another");
	tap_rng = 7;
	for (i = 0; i < 300000 && ok_all; i++)
		ok_all = dm_table_find(&t, tap_next(), 0, 0) == (int64_t)i;
	ok(ok_all, "every key found again, with its document");
	ok(t.n == 300000 && 100 * t.n <= 78 * t.size && 100 * t.n >= 60 * t.size, "table %zu of %zu slots full", t.n,
	   t.size);
	tap_rng = 9;
	for (i = 0, n = 0; i < 200000; i++) {
		uint64_t a = tap_next(), b = tap_next();

		n += dm_set128_find_add(&set, a, b, (uint32_t)i) != -1;
	}
	tap_rng = 9;
	for (i = 0, ok_all = n == 0; i < 200000 && ok_all; i++) {
		uint64_t a = tap_next(), b = tap_next();

		ok_all = dm_set128_find_add(&set, a, b, 0) == (int64_t)i;
	}
	ok(ok_all, "the exact set: 200,000 hashes, each found again with its document");
	dm_table_free(&t);
	dm_set128_free(&set);
	return tap_done();
}
