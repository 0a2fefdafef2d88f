/* hset.h - a set of strings kept as their 64-bit XXH3 hashes in an open-addressing table: a
 * list of millions of words or domains loads in a second and a lookup is a probe or two (two
 * different strings share a hash with odds of about n / 2^64: none in practice). */
#ifndef CM_HSET_H
#define CM_HSET_H
#include <stddef.h>
#include <stdint.h>

typedef struct cm_hset {
	uint64_t *slot;		/* hashes; 0: an empty slot */
	size_t mask;
	size_t n;		/* strings held */
	size_t limit;		/* n past which the table grows (0: at the first key) */
} cm_hset;

/* A string's key: its hash, never 0. */
uint64_t cm_hset_key(const void *p, size_t n);
void cm_hset_put(cm_hset *s, uint64_t key);
/* Room for n keys without growing, at most 5/8 of the slots taken (a set about to receive a
 * list of known length: no re-insertion while it loads, and a table no larger than it needs). */
void cm_hset_reserve(cm_hset *s, size_t n);
/* cm_hset_put for n keys, their slots fetched ahead: a list of millions loads about twice as
 * fast as key by key, where nearly every key's slot is a cache miss. */
void cm_hset_put_many(cm_hset *s, const uint64_t *keys, size_t n);
void cm_hset_free(cm_hset *s);

/* The slot that holds key (0..mask: a table of values beside the set may be indexed by it,
 * stable while the set does not grow), or -1. */
static inline ptrdiff_t cm_hset_slot(const cm_hset *s, uint64_t key)
{
	size_t i;

	if (!s->n)
		return -1;
	for (i = key & s->mask; s->slot[i]; i = (i + 1) & s->mask)
		if (s->slot[i] == key)
			return (ptrdiff_t)i;
	return -1;
}

static inline int cm_hset_has(const cm_hset *s, uint64_t key)
{
	return cm_hset_slot(s, key) >= 0;
}

static inline void cm_hset_add(cm_hset *s, const void *p, size_t n)
{
	cm_hset_put(s, cm_hset_key(p, n));
}

static inline int cm_hset_find(const cm_hset *s, const void *p, size_t n)
{
	return s->n && cm_hset_has(s, cm_hset_key(p, n));
}
#endif
