/* 6011-xsort.c - dedup-minhash's external sort: in memory and spilled to many runs, against
 * qsort, with many equal keys; and the introsort on its worst orders. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "xsort.h"

static int cmp(const void *x, const void *y)
{
	const dm_rec *a = x, *b = y;

	if (a->a != b->a)
		return a->a < b->a ? -1 : 1;
	if (a->b != b->b)
		return a->b < b->b ? -1 : 1;
	return a->c < b->c ? -1 : a->c > b->c;
}

/* n records with keys from a small range (many equal a and b) through a sorter of mem bytes */
static void check(size_t n, size_t mem, unsigned range, const char *what)
{
	dm_rec *want = malloc(n * sizeof(*want));
	dm_sorter *s = dm_sorter_new(mem, getenv("TMPDIR"));
	const dm_rec *r;
	size_t i, bad = 0;

	for (i = 0; i < n; i++) {
		want[i].a = tap_next() % range;
		want[i].b = tap_next() % range;
		want[i].c = tap_next();
		dm_sorter_add(s, want[i].a, want[i].b, want[i].c);
	}
	qsort(want, n, sizeof(*want), cmp);
	for (i = 0; (r = dm_sorter_next(s)); i++)
		if (i >= n || cmp(r, &want[i]) != 0)
			bad++;
	ok(i == n && bad == 0, "%s: %zu records in order (%zu runs spilled), %zu out of place", what, i,
	   dm_sorter_runs(s), bad);
	is_int(dm_sorter_count(s), n, "%s: counted", what);
	dm_sorter_free(s);
	free(want);
}

int main(void)
{
	tap_rng = 11;
	size_t i, n = 100000, bad = 0;
	dm_rec *r = malloc(n * sizeof(*r));
	dm_sorter *s;

	check(0, 1 << 20, 10, "empty");
	check(1, 1 << 20, 10, "one record");
	check(50000, 64 << 20, 1000, "in memory");
	check(200000, 65536, 50, "spilled to many runs");
	check(200000, 65536, 1u << 31, "spilled, keys all different");
	/* already sorted, reversed, all equal: the orders that undo a naive quicksort */
	for (i = 0; i < n; i++)
		r[i] = (dm_rec){ i / 3, 0, i };
	dm_rec_sort(r, n);
	for (i = 1; i < n; i++)
		bad += cmp(&r[i - 1], &r[i]) > 0;
	for (i = 0; i < n; i++)
		r[i] = (dm_rec){ n - i, 5, 0 };
	dm_rec_sort(r, n);
	for (i = 1; i < n; i++)
		bad += cmp(&r[i - 1], &r[i]) > 0;
	for (i = 0; i < n; i++)
		r[i] = (dm_rec){ 1, 1, 1 };
	dm_rec_sort(r, n);
	ok(bad == 0, "sorted, reversed and equal inputs sorted (%zu pairs out of order)", bad);
	free(r);
	s = dm_sorter_new(0, "/nonexistent-dir");
	dm_sorter_add(s, 1, 2, 3);
	ok(dm_sorter_next(s) != NULL, "a sorter that never spills needs no temporary directory");
	dm_sorter_free(s);
	return tap_done();
}
