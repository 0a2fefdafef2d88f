/* dpo.c - preference pairs, DPO losses and the reference log-probabilities' file (dpo.h). */
#include "dpo.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "cli.h"
#include "le.h"
#include "output.h"
#include "rand.h"

const char *const lm_dpo_losses[] = { [LM_DPO_SIGMOID] = "sigmoid", [LM_DPO_IPO] = "ipo",
	[LM_DPO_HINGE] = "hinge", NULL };

int lm_dpo_enc_init(lm_dpo_enc *d, const cm_tok *tok, char *err, size_t errlen)
{
	memset(d, 0, sizeof *d);
	return lm_sft_enc_init(&d->e, tok, err, errlen);
}

void lm_dpo_enc_free(lm_dpo_enc *d)
{
	lm_sft_enc_free(&d->e);
	cm_ids_free(&d->c);
	cm_ids_free(&d->r);
	memset(d, 0, sizeof *d);
}

static size_t common(const cm_ids *a, const cm_ids *b)
{
	size_t i = 0;
	while (i < a->n && i < b->n && a->v[i] == b->v[i])
		i++;
	return i;
}

static void copy_ids(cm_ids *dst, const cm_ids *src)
{
	dst->n = 0;
	for (size_t i = 0; i < src->n; i++)
		cm_ids_push(dst, src->v[i]);
}

/* the text a + b encoded into out (cleared first), then the end-of-text token when eot */
static void encode_text(lm_dpo_enc *d, const char *a, size_t na, const char *b, size_t nb,
			int eot, cm_ids *out)
{
	lm_sft_enc *e = &d->e;
	if (na + nb + 1 > e->buf_cap) {
		e->buf_cap = (na + nb) * 2 + 64;
		e->buf = cm_xrealloc(e->buf, e->buf_cap);
	}
	memcpy(e->buf, a, na);
	memcpy(e->buf + na, b, nb);
	out->n = 0;
	cm_tok_encode(e->ctx, e->buf, na + nb, 0, out);
	if (eot)
		cm_ids_push(out, (uint32_t)e->eot);
}

enum { MAX_TURNS = 256 };

typedef struct conv {
	lm_chat_msg m[MAX_TURNS];
	size_t n;
} conv;

/* A JSON list of messages into c. 0, or -1 with the reason. */
static int messages(const json_t *a, const char *what, conv *c, char *err, size_t errlen)
{
	size_t n = json_array_size(a);
	if (n > MAX_TURNS) {
		snprintf(err, errlen, "\"%s\" holds more than %d messages", what, MAX_TURNS);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *m = json_array_get(a, i);
		json_t *ro = json_object_get(m, "role"), *co = json_object_get(m, "content");
		if (!json_is_string(ro) || !json_is_string(co)) {
			snprintf(err, errlen, "\"%s\" message %zu: \"role\" and \"content\" must be "
				 "strings", what, i + 1);
			return -1;
		}
		c->m[i] = (lm_chat_msg){ json_string_value(ro), json_string_value(co),
					 json_string_length(co) };
	}
	c->n = n;
	return 0;
}

static int same_msg(const lm_chat_msg *a, const lm_chat_msg *b)
{
	return !strcmp(a->role, b->role) && a->n == b->n && !memcmp(a->text, b->text, a->n);
}

/* has one of m[0..n) content? */
static int some_content(const lm_chat_msg *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].n > 0)
			return 1;
	return 0;
}

/* messages through the template into out */
static int chat(lm_dpo_enc *d, const lm_chat_msg *m, size_t n, int gen, cm_ids *out, char *err,
		size_t errlen)
{
	int rc = lm_chat_encode(&d->e, m, n, gen, err, errlen);
	if (rc == 0)
		copy_ids(out, &d->e.ids);
	return rc;
}

/* prompt + chosen and prompt + rejected conversations (pc and pr messages of c and r are the
 * prompt, the same in both) */
static int encode_convs(lm_dpo_enc *d, const conv *c, const conv *r, size_t np, char *err,
			size_t errlen)
{
	if (!some_content(c->m + np, c->n - np) || !some_content(r->m + np, r->n - np)) {
		snprintf(err, errlen, "an empty response");
		return -1;
	}
	int rc = chat(d, c->m, c->n, 0, &d->c, err, errlen);
	if (rc == 0)
		rc = chat(d, r->m, r->n, 0, &d->r, err, errlen);
	if (rc == 0)	/* the prompt alone, with the generation prompt, last: in d->e.ids */
		rc = lm_chat_encode(&d->e, c->m, np, 1, err, errlen);
	return rc;
}

/* {"chosen": [...], "rejected": [...]}: the prompt is their shared leading messages, as TRL's
 * extract_prompt finds it (both as long and the same throughout: all but the last) */
static int encode_pair_convs(lm_dpo_enc *d, conv *c, conv *r, char *err, size_t errlen)
{
	size_t n = c->n < r->n ? c->n : r->n, i = 0;
	if (n == 0) {
		snprintf(err, errlen, "an empty conversation");
		return -1;
	}
	while (i < n && same_msg(&c->m[i], &r->m[i]))
		i++;
	if (i == n)
		i = n - 1;
	return encode_convs(d, c, r, i, err, errlen);
}

int lm_dpo_encode(lm_dpo_enc *d, const char *rec, size_t n, char *err, size_t errlen)
{
	d->c.n = d->r.n = 0;
	d->prompt = 0;
	json_t *j = lm_jsonl_object(rec, n, err, errlen);
	if (!j)
		return -1;
	json_t *p = json_object_get(j, "prompt"), *c = json_object_get(j, "chosen"),
	       *r = json_object_get(j, "rejected");
	static __thread conv cc, rc_, pc;
	int rc = 0;
	if (!c || !r) {
		snprintf(err, errlen, "no \"chosen\" and \"rejected\"");
		rc = -1;
	} else if (p && json_is_string(p) && json_is_string(c) && json_is_string(r)) {
		if (json_string_length(c) == 0 || json_string_length(r) == 0) {
			snprintf(err, errlen, "an empty response");
			rc = -1;
		} else {
			const char *ps = json_string_value(p);
			size_t pn = json_string_length(p);
			encode_text(d, ps, pn, json_string_value(c), json_string_length(c), 1, &d->c);
			encode_text(d, ps, pn, json_string_value(r), json_string_length(r), 1, &d->r);
			encode_text(d, ps, pn, "", 0, 0, &d->e.ids);
		}
	} else if (p && json_is_array(p) && json_is_array(c) && json_is_array(r)) {
		/* prompt, chosen and rejected messages: prompt + chosen, prompt + rejected */
		rc = messages(p, "prompt", &pc, err, errlen);
		if (rc == 0)
			rc = messages(c, "chosen", &cc, err, errlen);
		if (rc == 0)
			rc = messages(r, "rejected", &rc_, err, errlen);
		if (rc == 0 && pc.n + cc.n > MAX_TURNS) {
			snprintf(err, errlen, "more than %d messages", MAX_TURNS);
			rc = -1;
		}
		if (rc == 0 && pc.n + rc_.n > MAX_TURNS) {
			snprintf(err, errlen, "more than %d messages", MAX_TURNS);
			rc = -1;
		}
		if (rc == 0) {
			memmove(cc.m + pc.n, cc.m, cc.n * sizeof *cc.m);
			memmove(rc_.m + pc.n, rc_.m, rc_.n * sizeof *rc_.m);
			memcpy(cc.m, pc.m, pc.n * sizeof *pc.m);
			memcpy(rc_.m, pc.m, pc.n * sizeof *pc.m);
			cc.n += pc.n;
			rc_.n += pc.n;
			rc = encode_convs(d, &cc, &rc_, pc.n, err, errlen);
		}
	} else if (p) {
		snprintf(err, errlen, "\"prompt\", \"chosen\" and \"rejected\" must be three strings "
			 "or three lists of messages");
		rc = -1;
	} else if (json_is_array(c) && json_is_array(r)) {
		rc = messages(c, "chosen", &cc, err, errlen);
		if (rc == 0)
			rc = messages(r, "rejected", &rc_, err, errlen);
		if (rc == 0)
			rc = encode_pair_convs(d, &cc, &rc_, err, errlen);
	} else if (json_is_string(c) && json_is_string(r)) {
		long a = lm_hh_turns(json_string_value(c), json_string_length(c), cc.m, MAX_TURNS);
		long b = lm_hh_turns(json_string_value(r), json_string_length(r), rc_.m, MAX_TURNS);
		if (a < 0 || b < 0) {
			snprintf(err, errlen, "\"%s\" is not an HH-RLHF transcript (\"\\n\\nHuman: ..."
				 "\\n\\nAssistant: ...\", at most %d turns; without \"prompt\")",
				 a < 0 ? "chosen" : "rejected", MAX_TURNS);
			rc = -1;
		} else {
			cc.n = (size_t)a;
			rc_.n = (size_t)b;
			rc = encode_pair_convs(d, &cc, &rc_, err, errlen);
		}
	} else {
		snprintf(err, errlen, "\"chosen\" and \"rejected\" must be two strings or two lists "
			 "of messages");
		rc = -1;
	}
	json_decref(j);
	if (rc < 0)
		return rc;
	/* the prompt's ids are in d->e.ids: the completion starts where they diverge */
	size_t a = common(&d->e.ids, &d->c), b = common(&d->e.ids, &d->r);
	d->prompt = a < b ? a : b;
	if (d->c.n == d->r.n && !memcmp(d->c.v, d->r.v, d->c.n * sizeof *d->c.v)) {
		snprintf(err, errlen, "chosen and rejected are the same");
		return -1;
	}
	return 0;
}

/* the turns before the last assistant turn of c, through the template with the generation
 * prompt */
static int prompt_of(lm_dpo_enc *d, conv *c, char *err, size_t errlen)
{
	size_t k = c->n;
	if (k && !strcmp(c->m[k - 1].role, "assistant"))
		k--;
	if (!some_content(c->m, k)) {
		snprintf(err, errlen, "an empty prompt");
		return -1;
	}
	return lm_chat_encode(&d->e, c->m, k, 1, err, errlen);
}

int lm_dpo_encode_prompt(lm_dpo_enc *d, const char *rec, size_t n, int *chat, char *err,
			 size_t errlen)
{
	d->e.ids.n = 0;
	*chat = 0;
	json_t *j = lm_jsonl_object(rec, n, err, errlen);
	if (!j)
		return -1;
	json_t *p = json_object_get(j, "prompt"), *ms = json_object_get(j, "messages"),
	       *c = json_object_get(j, "chosen"), *r = json_object_get(j, "rejected");
	if (!c)
		c = json_object_get(j, "text");
	static __thread conv cc, rc_;
	int rc = 0;
	if (json_is_string(p)) {
		if (json_string_length(p) == 0) {
			snprintf(err, errlen, "an empty prompt");
			rc = -1;
		} else {
			encode_text(d, json_string_value(p), json_string_length(p), "", 0, 0,
				    &d->e.ids);
		}
	} else if (p || ms) {
		*chat = 1;
		if (!json_is_array(p ? p : ms)) {
			snprintf(err, errlen, "\"%s\" must be a string or a list of messages",
				 p ? "prompt" : "messages");
			rc = -1;
		} else {
			rc = messages(p ? p : ms, p ? "prompt" : "messages", &cc, err, errlen);
			if (rc == 0 && p && !some_content(cc.m, cc.n)) {
				snprintf(err, errlen, "an empty prompt");
				rc = -1;
			} else if (rc == 0) {	/* a prompt is taken whole; messages to their answer */
				rc = p ? lm_chat_encode(&d->e, cc.m, cc.n, 1, err, errlen) :
					prompt_of(d, &cc, err, errlen);
			}
		}
	} else if (json_is_array(c)) {
		*chat = 1;
		rc = messages(c, "chosen", &cc, err, errlen);
		if (rc == 0 && json_is_array(r)) {	/* the shared leading messages */
			rc = messages(r, "rejected", &rc_, err, errlen);
			size_t k = 0, m = cc.n < rc_.n ? cc.n : rc_.n;
			while (rc == 0 && k < m && same_msg(&cc.m[k], &rc_.m[k]))
				k++;
			if (rc == 0 && k == m && m > 0)
				k = m - 1;
			if (rc == 0 && k < cc.n)
				cc.n = k + 1;	/* then the answer after them, dropped below */
		}
		if (rc == 0)
			rc = prompt_of(d, &cc, err, errlen);
	} else if (json_is_string(c)) {
		*chat = 1;
		long a = lm_hh_turns(json_string_value(c), json_string_length(c), cc.m, MAX_TURNS);
		if (a < 0) {
			snprintf(err, errlen, "not an HH-RLHF transcript (\"\\n\\nHuman: ...\"), "
				 "and no \"prompt\" or \"messages\"");
			rc = -1;
		} else {
			cc.n = (size_t)a;
			rc = prompt_of(d, &cc, err, errlen);
		}
	} else {
		snprintf(err, errlen, "no \"prompt\", \"messages\", \"chosen\" or \"text\"");
		rc = -1;
	}
	json_decref(j);
	if (rc == 0 && d->e.ids.n == 0) {
		snprintf(err, errlen, "an empty prompt");
		rc = -1;
	}
	return rc;
}

void lm_dpo_fit(size_t nc, size_t nr, int T, size_t *kc, size_t *kr)
{
	size_t lo = 1, hi = nc > nr ? nc : nr;
#define FITS(L) ((nc < (L) ? nc : (L)) + (nr < (L) ? nr : (L)) <= (size_t)T + 2)
	if (FITS(hi)) {
		*kc = nc;
		*kr = nr;
		return;
	}
	while (lo < hi) {	/* the largest L that fits: FITS(lo) holds, FITS(hi + 1) not */
		size_t mid = lo + (hi - lo + 1) / 2;
		if (FITS(mid))
			lo = mid;
		else
			hi = mid - 1;
	}
#undef FITS
	*kc = nc < lo ? nc : lo;
	*kr = nr < lo ? nr : lo;
}

/* targets (ids past the first) in the completion of a sequence of k ids */
static size_t targets(size_t k, size_t prompt)
{
	size_t first = prompt > 1 ? prompt : 1;
	return k > first ? k - first : 0;
}

/* Pack pairs ex[0..n) in order into rows of T positions (a pair takes nc + nr - 2). */
static uint64_t pack(const lm_dpo_data *d, const uint32_t *ex, size_t n, uint32_t **row)
{
	uint32_t *r = cm_xmalloc((n + 1) * sizeof *r);
	uint64_t rows = 0;
	int used = d->T;
	for (size_t i = 0; i < n; i++) {
		int k = (int)(d->nc[ex[i]] + d->nr[ex[i]]) - 2;
		if (used + k > d->T) {
			r[rows++] = (uint32_t)i;
			used = 0;
		}
		used += k;
	}
	r[rows] = (uint32_t)n;
	*row = r;
	return rows;
}

static void skip(lm_dpo_data *d, const char *why)
{
	lm_jsonl_skip(d->records, why, &d->skipped, d->first_skip, sizeof d->first_skip);
}

int lm_dpo_open(lm_dpo_data *d, const char *path, const cm_tok *tok, int T, uint64_t seed,
		double val_fraction, char *err, size_t errlen)
{
	memset(d, 0, sizeof *d);
	d->T = T;
	d->seed = seed;
	d->perm_epoch = -1;
	snprintf(d->path, sizeof d->path, "%s", path);
	if (T < 2) {
		snprintf(err, errlen, "a context of %d positions holds no pair", T);
		return -1;
	}
	if (lm_jsonl_map(path, &d->map, &d->size, err, errlen) < 0)
		return -1;
	if (lm_dpo_enc_init(&d->enc, tok, err, errlen) < 0)
		return -1;
	XXH3_state_t *h = XXH3_createState();
	XXH3_64bits_reset(h);
	XXH3_64bits_update(h, &T, sizeof T);
	size_t cap = 0;
	const char *s = d->map, *end = s ? s + d->size : NULL;
	char why[400];
	const char *line;
	size_t len;
	while ((line = lm_jsonl_line(&s, end, &len))) {
		d->records++;
		if (len > UINT32_MAX) {
			skip(d, "a record over 4 GiB");
			continue;
		}
		int rc = lm_dpo_encode(&d->enc, line, len, why, sizeof why);
		if (rc == -2) {
			snprintf(err, errlen, "%s: record %llu: %s", path,
				 (unsigned long long)d->records, why);
			XXH3_freeState(h);
			return -1;
		}
		if (rc < 0) {
			skip(d, why);
			continue;
		}
		lm_dpo_enc *e = &d->enc;
		size_t kc, kr;
		lm_dpo_fit(e->c.n, e->r.n, T, &kc, &kr);
		if (!targets(kc, e->prompt) || !targets(kr, e->prompt)) {
			snprintf(why, sizeof why, "no response token within the context of %d (the "
				 "prompt is too long)", T);
			skip(d, why);
			continue;
		}
		d->truncated += kc < e->c.n || kr < e->r.n;
		if (d->n == cap) {
			cap = cap ? cap * 2 : 1024;
			d->off = cm_xrealloc(d->off, cap * sizeof *d->off);
			d->len = cm_xrealloc(d->len, cap * sizeof *d->len);
			d->nc = cm_xrealloc(d->nc, cap * sizeof *d->nc);
			d->nr = cm_xrealloc(d->nr, cap * sizeof *d->nr);
		}
		d->off[d->n] = (uint64_t)(line - (const char *)d->map);
		d->len[d->n] = (uint32_t)len;
		d->nc[d->n] = (uint32_t)kc;
		d->nr[d->n] = (uint32_t)kr;
		uint64_t pl = e->prompt;
		XXH3_64bits_update(h, &pl, sizeof pl);
		XXH3_64bits_update(h, &d->nc[d->n], sizeof *d->nc);
		XXH3_64bits_update(h, e->c.v, kc * sizeof *e->c.v);
		XXH3_64bits_update(h, &d->nr[d->n], sizeof *d->nr);
		XXH3_64bits_update(h, e->r.v, kr * sizeof *e->r.v);
		d->n++;
	}
	d->ids_hash = XXH3_64bits_digest(h);
	XXH3_freeState(h);
	if (d->n > UINT32_MAX / 2) {
		snprintf(err, errlen, "%s: more than %u pairs", path, UINT32_MAX / 2);
		return -1;
	}
	if (lm_jsonl_split(path, "pair", d->n, d->records, d->skipped, d->first_skip,
			   seed ^ 0x64706f2d73706c74ull, val_fraction, &d->train, &d->ntrain, &d->val,
			   &d->nval, err, errlen) < 0)
		return -1;
	d->rows = pack(d, d->train, d->ntrain, &d->row);
	d->vrows = pack(d, d->val, d->nval, &d->vrow);
	d->perm = cm_xmalloc(d->rows * sizeof *d->perm);
	return 0;
}

void lm_dpo_close(lm_dpo_data *d)
{
	if (d->map)
		munmap(d->map, d->size);
	lm_dpo_enc_free(&d->enc);
	free(d->off);
	free(d->len);
	free(d->nc);
	free(d->nr);
	free(d->train);
	free(d->val);
	free(d->row);
	free(d->vrow);
	free(d->perm);
	memset(d, 0, sizeof *d);
}

/* k ids of a sequence (its completion from id `prompt`) at position `at` of a row */
static void place(const cm_ids *s, size_t k, size_t prompt, int at, int32_t *x, int32_t *y,
		  int32_t *pos, int32_t *doc)
{
	for (int j = 0; j + 1 < (int)k; j++) {
		x[at + j] = (int32_t)s->v[j];
		y[at + j] = (size_t)j + 1 >= prompt ? (int32_t)s->v[j + 1] : -1;
		pos[at + j] = j;
		doc[at + j] = at;
	}
}

void lm_dpo_fill(lm_dpo_data *d, int val, uint64_t r, int slot, int32_t *x, int32_t *y,
		 int32_t *pos, int32_t *doc, lm_dpo_item *items, int *nitems)
{
	const uint32_t *ex = val ? d->val : d->train, *row = val ? d->vrow : d->row;
	int T = d->T, at = 0;
	size_t o = (size_t)slot * T;
	x += o, y += o, pos += o, doc += o;
	char why[400];
	for (uint32_t i = row[r]; i < row[r + 1]; i++) {
		uint32_t e = ex[i];
		lm_dpo_enc *en = &d->enc;
		int rc = lm_dpo_encode(en, (const char *)d->map + d->off[e], d->len[e], why,
				       sizeof why);
		size_t kc = d->nc[e], kr = d->nr[e];
		if (rc < 0 || en->c.n < kc || en->r.n < kr || at + (int)(kc + kr) - 2 > T)
			cm_die("%s: pair %u changed under the run", d->path, e);
		lm_dpo_item *it = &items[(*nitems)++];
		it->pair = e;
		const cm_ids *s[2] = { &en->c, &en->r };
		size_t k[2] = { kc, kr };
		for (int w = 0; w < 2; w++) {
			place(s[w], k[w], en->prompt, at, x, y, pos, doc);
			it->at[w] = (int64_t)o + at;
			it->len[w] = (int32_t)k[w] - 1;
			it->comp[w] = (int32_t)(k[w] > en->prompt ? k[w] - en->prompt : 0);
			at += (int)k[w] - 1;
		}
	}
	for (int j = at; j < T; j++) {	/* padding: a document of its own, no loss */
		x[j] = (int32_t)d->enc.e.eot;
		y[j] = -1;
		pos[j] = j - at;
		doc[j] = at;
	}
}

int lm_dpo_rows(lm_dpo_data *d, uint64_t k, int B, int32_t *x, int32_t *y, int32_t *pos,
		int32_t *doc, lm_dpo_item *items)
{
	int n = 0;
	for (int i = 0; i < B; i++) {
		uint64_t g = k * (uint64_t)B + (uint64_t)i;
		uint32_t r = lm_epoch_pick(d->perm, d->rows, d->seed ^ 0x64706f, g, &d->perm_epoch);
		lm_dpo_fill(d, 0, r, i, x, y, pos, doc, items, &n);
	}
	return n;
}

/* ---- losses ---- */

/* log sigmoid(x), stable */
static double logsig(double x)
{
	return x >= 0 ? -log1p(exp(-x)) : x - log1p(exp(x));
}

static double sigm(double x)
{
	return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x));
}

double lm_dpo_loss(const lm_dpo_opts *o, double pc, double pr, double qc, double qr, int nc,
		   int nr, double *gc, double *gr)
{
	double b = o->beta, z = (pc - qc) - (pr - qr), loss, g;
	switch (o->loss) {
	case LM_DPO_IPO: {
		double a = (pc - qc) / (nc > 1 ? nc : 1) - (pr - qr) / (nr > 1 ? nr : 1) - 1 / (2 * b);
		*gc = 2 * a / (nc > 1 ? nc : 1);
		*gr = -2 * a / (nr > 1 ? nr : 1);
		return a * a;
	}
	case LM_DPO_HINGE:
		loss = 1 - b * z;
		g = loss > 0 ? -b : 0;	/* torch's relu: no gradient at 0 */
		loss = loss > 0 ? loss : 0;
		break;
	default: {
		double s = o->smoothing;
		loss = -(1 - s) * logsig(b * z) - s * logsig(-b * z);
		g = -(1 - s) * b * sigm(-b * z) + s * b * sigm(b * z);
	}
	}
	*gc = g;
	*gr = -g;
	return loss;
}

void lm_dpo_stats_add(lm_dpo_stats *s, const lm_dpo_opts *o, double pc, double pr, double qc,
		      double qr, double loss)
{
	double c = o->beta * (pc - qc), r = o->beta * (pr - qr);
	s->pairs++;
	s->loss += loss;
	s->chosen += c;
	s->rejected += r;
	s->margins += c - r;
	s->accuracies += c > r;
	s->logps_c += pc;
	s->logps_r += pr;
}

void lm_dpo_stats_json(const lm_dpo_stats *s, const char *prefix, int loss, char *buf, size_t n)
{
	double k = s->pairs > 0 ? s->pairs : NAN;
	int at = loss ? snprintf(buf, n, ",\"%sloss\":%.9g", prefix, s->loss / k) : 0;
	snprintf(buf + at, n - (size_t)at, ",\"%srewards/chosen\":%.9g,\"%srewards/rejected\":%.9g,"
		 "\"%srewards/margins\":%.9g,\"%srewards/accuracies\":%.9g,\"%slogps/chosen\":%.9g,"
		 "\"%slogps/rejected\":%.9g,\"%spairs\":%.0f", prefix,
		 s->chosen / k, prefix, s->rejected / k, prefix, s->margins / k, prefix,
		 s->accuracies / k, prefix, s->logps_c / k, prefix, s->logps_r / k, prefix,
		 s->pairs);
}

/* ---- the reference log-probabilities' file ---- */

enum { HEAD = 8 + 4 + 4 + 8 + 8 + 8 };
static const char MAGIC[8] = "LMDPOREF";

int lm_dpo_ref_load(const char *path, uint64_t ids_hash, uint64_t ref_hash, int T, size_t n,
		    double *ref, char *why, size_t whylen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (errno == ENOENT) {
			snprintf(why, whylen, "%s: none yet", path);
			return 0;
		}
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	unsigned char h[HEAD];
	int rc = -1;
	XXH3_state_t *x = XXH3_createState();
	XXH3_64bits_reset(x);
	if (fread(h, 1, HEAD, f) != HEAD || memcmp(h, MAGIC, 8) || cm_get32(h + 8) != 1) {
		snprintf(why, whylen, "%s: not a reference log-probabilities file of version 1", path);
		goto out;
	}
	XXH3_64bits_update(x, h, HEAD);
	if (cm_get64(h + 16) != ids_hash || cm_get64(h + 32) != n || (int)cm_get32(h + 12) != T) {
		snprintf(why, whylen, "%s: of other pairs (other data, tokenizer or --context)", path);
		rc = 0;
		goto out;
	}
	if (ref_hash && cm_get64(h + 24) != ref_hash) {
		snprintf(why, whylen, "%s: of another reference model", path);
		rc = 0;
		goto out;
	}
	unsigned char b[8];
	for (size_t i = 0; i < 2 * n; i++) {
		if (fread(b, 1, 8, f) != 8) {
			snprintf(why, whylen, "%s: cut short", path);
			goto out;
		}
		XXH3_64bits_update(x, b, 8);
		uint64_t u = cm_get64(b);
		memcpy(&ref[i], &u, 8);
	}
	if (fread(b, 1, 8, f) != 8 || cm_get64(b) != XXH3_64bits_digest(x) || fgetc(f) != EOF) {
		snprintf(why, whylen, "%s: damaged (its checksum does not match)", path);
		goto out;
	}
	rc = 1;
out:
	XXH3_freeState(x);
	fclose(f);
	return rc;
}

int lm_dpo_ref_save(const char *path, uint64_t ids_hash, uint64_t ref_hash, int T, size_t n,
		    const double *ref, char *err, size_t errlen)
{
	/* the whole file in one buffer, written at once and replaced whole or not at all (a
	 * device or FIFO written through, never renamed over) */
	size_t len = HEAD + 16 * n + 8;
	unsigned char *f = cm_xmalloc(len), *p = f + HEAD;
	memcpy(f, MAGIC, 8);
	cm_put32(f + 8, 1);
	cm_put32(f + 12, (uint32_t)T);
	cm_put64(f + 16, ids_hash);
	cm_put64(f + 24, ref_hash);
	cm_put64(f + 32, n);
	for (size_t i = 0; i < 2 * n; i++, p += 8) {
		uint64_t u;
		memcpy(&u, &ref[i], 8);
		cm_put64(p, u);
	}
	cm_put64(p, XXH3_64bits(f, len - 8));
	int rc = cm_afile_put(path, f, len, err, errlen);
	free(f);
	return rc;
}
