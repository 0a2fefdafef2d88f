/* hset.c - sets of strings by their hashes (hset.h). */
#include <stdlib.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "cli.h"
#include "hset.h"

uint64_t cm_hset_key(const void *p, size_t n)
{
	uint64_t h = XXH3_64bits(p, n);

	return h ? h : 1;	/* 0 marks an empty slot */
}

/* cap slots (a power of two), the keys put again. */
static void resize(cm_hset *s, size_t cap)
{
	size_t oldmask = s->mask, k, i;
	uint64_t *old = s->slot;

	s->slot = cm_xcalloc(cap, sizeof(*s->slot));
	s->mask = cap - 1;
	for (k = 0; old && k <= oldmask; k++) {
		if (!old[k])
			continue;
		for (i = old[k] & s->mask; s->slot[i]; i = (i + 1) & s->mask)
			;
		s->slot[i] = old[k];
	}
	free(old);
	s->limit = cap / 2;
}

/* Twice the slots when half are taken (256 at first). */
static void grow(cm_hset *s)
{
	resize(s, s->slot ? (s->mask + 1) * 2 : 256);
}

void cm_hset_reserve(cm_hset *s, size_t n)
{
	size_t cap = 256;

	while (cap / 8 * 5 < n)
		cap *= 2;
	if (s->slot && cap <= s->mask + 1)
		return;
	resize(s, cap);
	s->limit = cap / 8 * 5;
}

void cm_hset_put(cm_hset *s, uint64_t key)
{
	size_t i;

	if (!s->slot || s->n + 1 > s->limit)
		grow(s);
	for (i = key & s->mask; s->slot[i]; i = (i + 1) & s->mask)
		if (s->slot[i] == key)
			return;
	s->slot[i] = key;
	s->n++;
}

void cm_hset_put_many(cm_hset *s, const uint64_t *keys, size_t n)
{
	size_t k, i;

	while (!s->slot || s->n + n > s->limit)
		grow(s);
	for (k = 0; k < n; k++)
		__builtin_prefetch(&s->slot[keys[k] & s->mask], 1);
	for (k = 0; k < n; k++) {
		for (i = keys[k] & s->mask; s->slot[i] && s->slot[i] != keys[k]; i = (i + 1) & s->mask)
			;
		if (!s->slot[i]) {
			s->slot[i] = keys[k];
			s->n++;
		}
	}
}

void cm_hset_free(cm_hset *s)
{
	free(s->slot);
	s->slot = NULL;
	s->mask = s->n = s->limit = 0;
}
