/* lsh.c - band tables and the exact-hash set (see lsh.h). Linear probing; the home slot is
 * the hash's top 32 bits scaled to the table, so a table of any size can be grown from what
 * it stores. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lsh.h"

#define GROW_AT(n, size) (100 * ((n) + 1) > 78 * (size))
#define NEXT_SIZE(size) ((size) ? (size) + (size) / 5 + 1 : 1024)

static inline size_t home(uint32_t top, size_t size)
{
	return (size_t)(((uint64_t)top * (uint64_t)size) >> 32);
}

static void table_grow(dm_table *t)
{
	dm_table g = { 0 };
	size_t i, j;

	g.size = NEXT_SIZE(t->size);
	g.hi = cm_xmalloc(g.size * sizeof(*g.hi));
	g.mid = cm_xmalloc(g.size * sizeof(*g.mid));
	g.doc = cm_xcalloc(g.size, sizeof(*g.doc));
	g.n = t->n;
	for (i = 0; i < t->size; i++) {
		if (!t->doc[i])
			continue;
		for (j = home(t->hi[i], g.size); g.doc[j]; j = j + 1 == g.size ? 0 : j + 1)
			;
		g.hi[j] = t->hi[i];
		g.mid[j] = t->mid[i];
		g.doc[j] = t->doc[i];
	}
	dm_table_free(t);
	*t = g;
}

int64_t dm_table_find(dm_table *t, uint64_t h, uint32_t doc, int insert)
{
	uint32_t hi = (uint32_t)(h >> 32);
	uint16_t mid = (uint16_t)(h >> 16);
	size_t j;

	if (!t->size || (insert && GROW_AT(t->n, t->size)))
		table_grow(t);
	for (j = home(hi, t->size); t->doc[j]; j = j + 1 == t->size ? 0 : j + 1)
		if (t->hi[j] == hi && t->mid[j] == mid)
			return (int64_t)t->doc[j] - 1;
	if (insert) {
		t->hi[j] = hi;
		t->mid[j] = mid;
		t->doc[j] = doc + 1;
		t->n++;
	}
	return -1;
}

void dm_table_free(dm_table *t)
{
	free(t->hi);
	free(t->mid);
	free(t->doc);
	memset(t, 0, sizeof(*t));
}

size_t dm_table_bytes(const dm_table *t)
{
	return t->size * (sizeof(*t->hi) + sizeof(*t->mid) + sizeof(*t->doc));
}

static void set_grow(dm_set128 *s)
{
	dm_set128 g = { 0 };
	size_t i, j;

	g.size = NEXT_SIZE(s->size);
	g.lo = cm_xmalloc(g.size * sizeof(*g.lo));
	g.hi = cm_xmalloc(g.size * sizeof(*g.hi));
	g.doc = cm_xcalloc(g.size, sizeof(*g.doc));
	g.n = s->n;
	for (i = 0; i < s->size; i++) {
		if (!s->doc[i])
			continue;
		for (j = home((uint32_t)(s->hi[i] >> 32), g.size); g.doc[j]; j = j + 1 == g.size ? 0 : j + 1)
			;
		g.lo[j] = s->lo[i];
		g.hi[j] = s->hi[i];
		g.doc[j] = s->doc[i];
	}
	dm_set128_free(s);
	*s = g;
}

int64_t dm_set128_find_add(dm_set128 *s, uint64_t lo, uint64_t hi, uint32_t doc)
{
	size_t j;

	if (!s->size || GROW_AT(s->n, s->size))
		set_grow(s);
	for (j = home((uint32_t)(hi >> 32), s->size); s->doc[j]; j = j + 1 == s->size ? 0 : j + 1)
		if (s->lo[j] == lo && s->hi[j] == hi)
			return (int64_t)s->doc[j] - 1;
	s->lo[j] = lo;
	s->hi[j] = hi;
	s->doc[j] = doc + 1;
	s->n++;
	return -1;
}

void dm_set128_free(dm_set128 *s)
{
	free(s->lo);
	free(s->hi);
	free(s->doc);
	memset(s, 0, sizeof(*s));
}

size_t dm_set128_bytes(const dm_set128 *s)
{
	return s->size * (sizeof(*s->lo) + sizeof(*s->hi) + sizeof(*s->doc));
}
