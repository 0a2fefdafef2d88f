/* hcount.h - quality-score's counting sets: 64-bit hash -> count and first position, for the
 * rules' duplicate lines and paragraphs and their n-grams (rules.c). Header-only, as klib's
 * khash: the probes run in the rules' inner loops.
 */
#ifndef QS_HCOUNT_H
#define QS_HCOUNT_H
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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

static inline void hc_grow(hcount *h, size_t cap);

/* Keys a table is first made ready for, at most: past that it grows with the distinct keys
 * (a document of many words but few distinct n-grams keeps a small table). */
#define HC_EXPECT_MAX 65536

/* Make the table ready for about `expect` keys (at most HC_EXPECT_MAX; it grows past that):
 * only as large as that needs, and emptied slot by slot where few were taken, so that a
 * small document after a large one does not pay for clearing the large table. */
static inline void hc_reset(hcount *h, size_t expect)
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

/* The slot holding key (already or'ed with 1), counted once more; or the empty slot where it
 * goes. *at: its index. */
static inline __attribute__((always_inline)) hslot *hc_count(hcount *h, uint64_t key, size_t *at)
{
	size_t i;

	for (i = key & h->mask;; i = (i + 1) & h->mask)
		if (!h->slot[i].key || h->slot[i].key == key)
			break;
	if (h->slot[i].key)
		h->slot[i].count++;
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
	/* a loop, not a call to itself: always_inline cannot inline a recursive call (the
	 * sanitizer build's gcc refuses it); after hc_put grew the table, probe again */
	for (;;) {
		e = hc_count(h, key, &i);
		if (e->key || hc_put(h, e, i, key, pos) == 0)
			return e;
	}
}

/* Whether key was counted before (1; counted once more) or not (0): then it is remembered,
 * unless the table holds max keys already (*full is set). */
static inline int hc_seen(hcount *h, uint64_t key, size_t max, int *full)
{
	size_t i;
	hslot *e;

	key |= 1;
	e = hc_count(h, key, &i);
	if (e->key)
		return 1;
	if (h->n >= max) {
		*full = 1;
		return 0;
	}
	if (hc_put(h, e, i, key, 0) < 0)
		return hc_seen(h, key, max, full);
	return 0;
}

/* A larger table, the keys kept. */
static inline void hc_grow(hcount *h, size_t cap)
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

static inline void hc_free(hcount *h)
{
	free(h->slot);
	free(h->used);
	memset(h, 0, sizeof(*h));
}
#endif
