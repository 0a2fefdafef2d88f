/* battle.c - lm-arena's reader: one JSONL battle (Chatbot Arena's model_a, model_b, winner, and
 * the responses' lengths), the table of models and of battle counts per pair. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "cli.h"
#include "hset.h"

const char *const lm_ar_reason[LM_AR_NREASONS] = {
	"ok", "not JSON", "no model", "bad model name", "no winner", "unknown winner",
	"same model", "bad length", "line too long",
};

/* a model name field into dst: LM_AR_OK or a reason */
static int name(json_t *j, const char *key, char *dst, size_t *len, char *why, size_t whylen)
{
	json_t *v = json_object_get(j, key);
	if (!json_is_string(v)) {
		snprintf(why, whylen, "'%s' %s", key, v ? "is not a string" : "is missing");
		return LM_AR_NO_MODEL;
	}
	size_t n = json_string_length(v);
	const char *s = json_string_value(v);
	if (!n || n > LM_AR_NAME_MAX || memchr(s, 0, n)) {
		snprintf(why, whylen, "'%s' is %s", key, !n ? "empty" : n > LM_AR_NAME_MAX ?
			 "over 256 bytes" : "a name with a NUL");
		return LM_AR_BAD_MODEL;
	}
	memcpy(dst, s, n);
	dst[n] = 0;
	*len = n;
	return LM_AR_OK;
}

/* characters (UTF-8 code points) of a string */
static double chars(json_t *v)
{
	const unsigned char *s = (const unsigned char *)json_string_value(v);
	size_t n = json_string_length(v), k = 0;
	for (size_t i = 0; i < n; i++)
		k += (s[i] & 0xc0) != 0x80;
	return (double)k;
}

/* one side's length: 1 set, 0 absent, -1 malformed */
static int length(json_t *j, const char *lkey, const char *rkey, double *out)
{
	json_t *v = json_object_get(j, lkey);
	if (v) {
		if (!json_is_number(v))
			return -1;
		double x = json_number_value(v);
		if (!(x >= 0) || !isfinite(x))
			return -1;
		*out = x;
		return 1;
	}
	v = json_object_get(j, rkey);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	*out = chars(v);
	return 1;
}

int lm_ar_parse(const char *line, size_t len, lm_ar_battle *b, char *why, size_t whylen)
{
	json_error_t je;
	why[0] = 0;
	json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (!j || !json_is_object(j)) {
		snprintf(why, whylen, "%s", j ? "not an object" : je.text);
		json_decref(j);
		return LM_AR_NOT_JSON;
	}
	int r = name(j, "model_a", b->a, &b->alen, why, whylen);
	if (r == LM_AR_OK)
		r = name(j, "model_b", b->b, &b->blen, why, whylen);
	if (r != LM_AR_OK)
		goto out;
	json_t *w = json_object_get(j, "winner");
	if (!json_is_string(w)) {
		snprintf(why, whylen, "'winner' %s", w ? "is not a string" : "is missing");
		r = LM_AR_NO_WINNER;
		goto out;
	}
	static const char *const winners[] = { "model_a", "model_b", "tie", "tie (bothbad)" };
	const char *ws = json_string_value(w);
	b->winner = -1;
	for (int k = 0; k < 4; k++)
		if (json_string_length(w) == strlen(winners[k]) && !strcmp(ws, winners[k]))
			b->winner = k;
	if (b->winner < 0) {
		snprintf(why, whylen, "'winner' is '%.64s'", ws);
		r = LM_AR_BAD_WINNER;
		goto out;
	}
	if (b->alen == b->blen && !memcmp(b->a, b->b, b->alen)) {
		snprintf(why, whylen, "model_a and model_b are both '%.64s'", b->a);
		r = LM_AR_SAME_MODEL;
		goto out;
	}
	int la = length(j, "len_a", "response_a", &b->len_a);
	int lb = length(j, "len_b", "response_b", &b->len_b);
	if (la < 0 || lb < 0 || la != lb) {
		snprintf(why, whylen, "%s", la < 0 || lb < 0 ?
			 "len_a/len_b not a number >= 0 (or response_a/response_b not a string)" :
			 "a length for one side only");
		r = LM_AR_BAD_LENGTH;
		goto out;
	}
	b->has_len = la > 0;
	if (!b->has_len)
		b->len_a = b->len_b = NAN;
out:
	json_decref(j);
	return r;
}

/* the tables: open addressing, an index + 1 per slot */
static uint64_t name_hash(const char *s, size_t n)
{
	return cm_hset_key(s, n);
}

static uint64_t pair_hash(uint32_t i, uint32_t j)
{
	uint64_t z = ((uint64_t)i << 32 | j) * 0x9e3779b97f4a7c15ULL;
	return z ^ (z >> 29);
}

void lm_ar_table_init(lm_ar_table *t, size_t max_models)
{
	memset(t, 0, sizeof *t);
	t->max_models = max_models;
	t->mmask = 63;
	t->mslot = cm_xcalloc(t->mmask + 1, sizeof *t->mslot);
	t->cmask = 255;
	t->cslot = cm_xcalloc(t->cmask + 1, sizeof *t->cslot);
}

void lm_ar_table_free(lm_ar_table *t)
{
	for (size_t i = 0; i < t->nm; i++)
		free(t->m[i].name);
	free(t->m);
	free(t->c);
	free(t->mslot);
	free(t->cslot);
	memset(t, 0, sizeof *t);
}

long lm_ar_model_find(const lm_ar_table *t, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = name_hash(s, n) & t->mmask; t->mslot[i]; i = (i + 1) & t->mmask)
		if (!strcmp(t->m[t->mslot[i] - 1].name, s))
			return (long)t->mslot[i] - 1;
	return -1;
}

long lm_ar_model_index(lm_ar_table *t, const char *s, size_t n)
{
	size_t i;
	for (i = name_hash(s, n) & t->mmask; t->mslot[i]; i = (i + 1) & t->mmask)
		if (!strcmp(t->m[t->mslot[i] - 1].name, s))
			return (long)t->mslot[i] - 1;
	if (t->nm >= t->max_models)
		return -1;
	t->m = cm_xrealloc(t->m, (t->nm + 1) * sizeof *t->m);
	t->m[t->nm] = (lm_ar_model){ .name = cm_xstrdup(s) };
	t->mslot[i] = (uint32_t)++t->nm;
	if (2 * t->nm > t->mmask) {	/* grow: at most half full */
		size_t mask = 2 * t->mmask + 1;
		uint32_t *slot = cm_xcalloc(mask + 1, sizeof *slot);
		for (size_t k = 0; k < t->nm; k++) {
			const char *nk = t->m[k].name;
			size_t p = name_hash(nk, strlen(nk)) & mask;
			while (slot[p])
				p = (p + 1) & mask;
			slot[p] = (uint32_t)k + 1;
		}
		free(t->mslot);
		t->mslot = slot;
		t->mmask = mask;
	}
	return (long)t->nm - 1;
}

static lm_ar_cell *cell(lm_ar_table *t, uint32_t i, uint32_t j)
{
	size_t p;
	for (p = pair_hash(i, j) & t->cmask; t->cslot[p]; p = (p + 1) & t->cmask) {
		lm_ar_cell *c = &t->c[t->cslot[p] - 1];
		if (c->i == i && c->j == j)
			return c;
	}
	if (t->nc == t->cap_c) {
		t->cap_c = t->cap_c ? 2 * t->cap_c : 64;
		t->c = cm_xrealloc(t->c, t->cap_c * sizeof *t->c);
	}
	t->c[t->nc] = (lm_ar_cell){ i, j, { 0, 0, 0 } };
	t->cslot[p] = (uint32_t)++t->nc;
	if (2 * t->nc > t->cmask) {
		size_t mask = 2 * t->cmask + 1;
		uint32_t *slot = cm_xcalloc(mask + 1, sizeof *slot);
		for (size_t k = 0; k < t->nc; k++) {
			size_t q = pair_hash(t->c[k].i, t->c[k].j) & mask;
			while (slot[q])
				q = (q + 1) & mask;
			slot[q] = (uint32_t)k + 1;
		}
		free(t->cslot);
		t->cslot = slot;
		t->cmask = mask;
	}
	return &t->c[t->nc - 1];
}

int lm_ar_add(lm_ar_table *t, const lm_ar_battle *b, long *ia, long *ib)
{
	long x = lm_ar_model_index(t, b->a, b->alen), y = x < 0 ? -1 : lm_ar_model_index(t, b->b, b->blen);
	if (x < 0 || y < 0)
		return -1;
	*ia = x;
	*ib = y;
	int swap = x > y;
	lm_ar_cell *c = cell(t, (uint32_t)(swap ? y : x), (uint32_t)(swap ? x : y));
	if (b->winner >= LM_AR_TIE) {
		c->w[2]++;
		t->m[x].ties++;
		t->m[y].ties++;
	} else {
		int a_won = b->winner == LM_AR_WIN_A;
		c->w[a_won != swap ? 0 : 1]++;
		t->m[a_won ? x : y].wins++;
	}
	t->m[x].battles++;
	t->m[y].battles++;
	t->battles++;
	return 0;
}

size_t lm_ar_first_by_name(const lm_ar_table *t)
{
	size_t f = 0;
	for (size_t i = 1; i < t->nm; i++)
		if (strcmp(t->m[i].name, t->m[f].name) < 0)
			f = i;
	return f;
}
