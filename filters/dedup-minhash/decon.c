/* decon.c - decontamination against evaluation sets (see decon.h). The sets' n-grams are kept
 * as XXH3-64 hashes with a mask of the sets that hold them; a string of fewer words than n is
 * left out (it cannot be told from common phrases). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "buf.h"
#include "cli.h"
#include "decon.h"
#include "input.h"
#include "minhash.h"

struct dm_decon {
	unsigned n;
	uint64_t *key;		/* 0: empty */
	uint32_t *mask;
	size_t size, used;
	char *names[DM_MAX_SETS];
	uint64_t items[DM_MAX_SETS], ngrams[DM_MAX_SETS];
	unsigned nsets;
	cm_buf norm;
};

dm_decon *dm_decon_new(unsigned n)
{
	dm_decon *d = cm_xcalloc(1, sizeof(*d));

	d->n = n;
	return d;
}

void dm_decon_free(dm_decon *d)
{
	unsigned k;

	if (!d)
		return;
	for (k = 0; k < d->nsets; k++)
		free(d->names[k]);
	free(d->key);
	free(d->mask);
	cm_buf_free(&d->norm);
	free(d);
}

static void put(dm_decon *d, uint64_t h, uint32_t bit);

static void grow(dm_decon *d)
{
	uint64_t *key = d->key;
	uint32_t *mask = d->mask;
	size_t size = d->size, i;

	d->size = size ? 2 * size : 1 << 16;
	d->key = cm_xcalloc(d->size, sizeof(*d->key));
	d->mask = cm_xcalloc(d->size, sizeof(*d->mask));
	d->used = 0;
	for (i = 0; i < size; i++)
		if (key[i])
			put(d, key[i], mask[i]);
	free(key);
	free(mask);
}

static void put(dm_decon *d, uint64_t h, uint32_t bit)
{
	size_t j;

	if (!h)
		h = 1;
	if (!d->size || 2 * (d->used + 1) > d->size)
		grow(d);
	for (j = h & (d->size - 1); d->key[j]; j = (j + 1) & (d->size - 1))
		if (d->key[j] == h) {
			d->mask[j] |= bit;
			return;
		}
	d->key[j] = h;
	d->mask[j] = bit;
	d->used++;
}

static uint32_t get(const dm_decon *d, uint64_t h)
{
	size_t j;

	if (!h)
		h = 1;
	if (!d->size)
		return 0;
	for (j = h & (d->size - 1); d->key[j]; j = (j + 1) & (d->size - 1))
		if (d->key[j] == h)
			return d->mask[j];
	return 0;
}

struct adder {
	dm_decon *d;
	uint32_t bit;
	uint64_t count;
};

static void add_one(void *p, const char *g, size_t len)
{
	struct adder *a = p;

	put(a->d, cm_ngram_hash(g, len), a->bit);
	a->count++;
}

static void walk(dm_decon *d, json_t *v, struct adder *a)
{
	size_t i;
	const char *k;
	json_t *x;

	if (json_is_string(v)) {
		uint64_t before = a->count;

		cm_ngram_normalize(json_string_value(v), json_string_length(v), &d->norm);
		cm_ngrams(d->norm.p ? d->norm.p : "", d->norm.len, d->n, add_one, a);
		d->items[d->nsets] += a->count > before;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			walk(d, x, a);
	} else if (json_is_object(v)) {
		json_object_foreach(v, k, x)
			walk(d, x, a);
	}
}

int dm_decon_load(dm_decon *d, const char *path, char *err, size_t errlen)
{
	struct adder a = { d, 0, 0 };
	cm_input *in;
	char *line;
	size_t len, lineno = 0;
	const char *base = strrchr(path, '/');
	char *name;
	int r;

	if (d->nsets == DM_MAX_SETS) {
		snprintf(err, errlen, "at most %d evaluation sets", DM_MAX_SETS);
		return -1;
	}
	if (!(in = cm_input_open_err(path, err, errlen)))
		return -1;
	name = cm_xstrdup(base ? base + 1 : path);
	name[strcspn(name, ".")] = '\0';	/* "arc_easy.jsonl.gz": arc_easy */
	a.bit = 1u << d->nsets;
	while ((r = cm_input_line(in, &line, &len, 1 << 26)) != 0) {
		json_error_t je;
		json_t *v;

		lineno++;
		if (r < 0 || !(v = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je))) {
			if (r > 0 && len == 0)
				continue;
			snprintf(err, errlen, "%s:%zu: %s", path, lineno, r < 0 ? "line too long" : je.text);
			cm_input_close(in);
			free(name);
			return -1;
		}
		walk(d, v, &a);
		json_decref(v);
	}
	cm_input_close(in);
	d->names[d->nsets] = name;
	d->ngrams[d->nsets] = a.count;
	d->nsets++;
	return 0;
}

struct checker {
	const dm_decon *d;
	uint32_t found;
};

static void check_one(void *p, const char *g, size_t len)
{
	struct checker *c = p;

	c->found |= get(c->d, cm_ngram_hash(g, len));
}

uint32_t dm_decon_check(const dm_decon *d, const char *norm, size_t n)
{
	struct checker c = { d, 0 };

	if (d->used)
		cm_ngrams(norm, n, d->n, check_one, &c);
	return c.found;
}

size_t dm_decon_sets(const dm_decon *d, const char *const **names)
{
	*names = (const char *const *)d->names;
	return d->nsets;
}

void dm_decon_counts(const dm_decon *d, unsigned k, uint64_t *items, uint64_t *ngrams_out)
{
	*items = d->items[k];
	*ngrams_out = d->ngrams[k];
}
