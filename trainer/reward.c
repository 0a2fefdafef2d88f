/* reward.c - preference pairs, a classifier's scores at the last token, and the
 * Bradley-Terry loss (reward.h). */
#include "reward.h"

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

#include "cli.h"
#include "rand.h"

const char *const lm_rm_skip_names[LM_RM_NSKIP] = {
	[LM_RM_MALFORMED] = "malformed", [LM_RM_IDENTICAL] = "identical",
	[LM_RM_EMPTY] = "an empty response", [LM_RM_ROLE] = "an unknown role"
};

int lm_rm_enc_init(lm_rm_enc *e, const cm_tok *tok, char *err, size_t errlen)
{
	memset(e, 0, sizeof *e);
	return lm_sft_enc_init(&e->sft, tok, err, errlen);
}

void lm_rm_enc_free(lm_rm_enc *e)
{
	lm_sft_enc_free(&e->sft);
	cm_ids_free(&e->c);
	cm_ids_free(&e->r);
	memset(e, 0, sizeof *e);
}

static int blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return 0;
	return 1;
}

static const char *find_last(const char *s, size_t n, const char *pat)
{
	size_t k = strlen(pat);
	for (size_t i = n >= k ? n - k + 1 : 0; i-- > 0;)
		if (!memcmp(s + i, pat, k))
			return s + i;
	return NULL;
}

/* A failed skip: its kind and reason. */
static int skip(lm_rm_enc *e, int why, char *err, size_t errlen, const char *msg)
{
	e->why = why;
	snprintf(err, errlen, "%s", msg);
	return -1;
}

/* The ids of a record lm_sft_encode reads (a transcript, messages) into out. */
static int via_sft(lm_rm_enc *e, json_t *rec, cm_ids *out, char *err, size_t errlen)
{
	char *d = json_dumps(rec, JSON_COMPACT);
	if (!d)
		cm_die("out of memory");
	int rc = lm_sft_encode(&e->sft, d, strlen(d), err, errlen);
	free(d);
	if (rc == -1 && !strncmp(err, "no assistant message", 20))
		return skip(e, LM_RM_EMPTY, err, errlen, "an empty response (no assistant message "
			    "with text)");
	if (rc == -1)
		e->why = !strncmp(err, "unknown role", 12) ? LM_RM_ROLE : LM_RM_MALFORMED;
	if (rc < 0)
		return rc;
	out->n = 0;
	cm_ids_grow(out, e->sft.ids.n);
	memcpy(out->v, e->sft.ids.v, e->sft.ids.n * sizeof *out->v);
	out->n = e->sft.ids.n;
	return 0;
}

static void text_ids(lm_rm_enc *e, const char *p, size_t np, const char *r, size_t nr, cm_ids *out)
{
	out->n = 0;
	char *s = cm_xmalloc(np + nr + 1);
	memcpy(s, p, np);
	memcpy(s + np, r, nr);
	cm_tok_encode(e->sft.ctx, s, np + nr, 0, out);
	free(s);
}

/* An HH-RLHF transcript whose last turn is the assistant's, with text */
static int hh_answered(const char *s, size_t n)
{
	const char *a = find_last(s, n, "\n\nAssistant:");
	if (!a)
		return 0;
	a += 12;
	size_t rest = (size_t)(s + n - a);
	return !memmem(a, rest, "\n\nHuman:", 8) && !blank(a, rest);
}

static int enc_strings(lm_rm_enc *e, json_t *p, json_t *c, json_t *r, char *err, size_t errlen)
{
	const char *cs = json_string_value(c), *rs = json_string_value(r);
	size_t cn = json_string_length(c), rn = json_string_length(r);
	if (p && !json_is_string(p))
		return skip(e, LM_RM_MALFORMED, err, errlen,
			    "\"prompt\" must be a string when \"chosen\" and \"rejected\" are");
	if (cn == rn && !memcmp(cs, rs, cn))
		return skip(e, LM_RM_IDENTICAL, err, errlen, "identical chosen and rejected");
	if (p) {
		if (blank(cs, cn) || blank(rs, rn))
			return skip(e, LM_RM_EMPTY, err, errlen, "an empty response");
		text_ids(e, json_string_value(p), json_string_length(p), cs, cn, &e->c);
		text_ids(e, json_string_value(p), json_string_length(p), rs, rn, &e->r);
		return 0;
	}
	static const char H[] = "\n\nHuman:";
	int hc = cn >= 8 && !memcmp(cs, H, 8), hr = rn >= 8 && !memcmp(rs, H, 8);
	if (hc != hr)
		return skip(e, LM_RM_MALFORMED, err, errlen,
			    "one side an HH-RLHF transcript, the other not");
	if (!hc) {	/* two texts as they are */
		if (blank(cs, cn) || blank(rs, rn))
			return skip(e, LM_RM_EMPTY, err, errlen, "an empty response");
		text_ids(e, "", 0, cs, cn, &e->c);
		text_ids(e, "", 0, rs, rn, &e->r);
		return 0;
	}
	if (!hh_answered(cs, cn) || !hh_answered(rs, rn))
		return skip(e, LM_RM_EMPTY, err, errlen, "an empty response (a transcript must end "
			    "with an assistant turn that has text)");
	for (int side = 0; side < 2; side++) {
		json_t *t = json_pack("{s:O}", "text", side ? r : c);
		int rc = via_sft(e, t, side ? &e->r : &e->c, err, errlen);
		json_decref(t);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The last message of a side: the assistant's, with text */
static int answered(json_t *msgs)
{
	json_t *m = json_array_get(msgs, json_array_size(msgs) - 1);
	json_t *ro = json_object_get(m, "role"), *c = json_object_get(m, "content");
	return json_is_string(ro) && !strcmp(json_string_value(ro), "assistant") &&
	       json_is_string(c) && !blank(json_string_value(c), json_string_length(c));
}

static int enc_messages(lm_rm_enc *e, json_t *p, json_t *c, json_t *r, char *err, size_t errlen)
{
	if (p && !json_is_array(p))
		return skip(e, LM_RM_MALFORMED, err, errlen,
			    "\"prompt\" must be a message list when \"chosen\" and \"rejected\" are");
	if (json_equal(c, r))
		return skip(e, LM_RM_IDENTICAL, err, errlen, "identical chosen and rejected");
	for (int side = 0; side < 2; side++) {
		json_t *all = json_array();
		if (p)
			json_array_extend(all, p);
		json_array_extend(all, side ? r : c);
		json_t *t = json_pack("{s:o}", "messages", all);
		int rc = via_sft(e, t, side ? &e->r : &e->c, err, errlen);
		json_decref(t);
		if (rc < 0)
			return rc;
	}
	if (!answered(c) || !answered(r))
		return skip(e, LM_RM_EMPTY, err, errlen, "an empty response (each side's last "
			    "message must be the assistant's, with text)");
	return 0;
}

/* The last T ids of a (T > 0): 1 when cut */
static int keep_end(cm_ids *a, int T)
{
	if (T <= 0 || a->n <= (size_t)T)
		return 0;
	memmove(a->v, a->v + (a->n - (size_t)T), (size_t)T * sizeof *a->v);
	a->n = (size_t)T;
	return 1;
}

int lm_rm_encode(lm_rm_enc *e, const char *rec, size_t n, int T, char *err, size_t errlen)
{
	e->c.n = e->r.n = 0;
	e->truncated = 0;
	e->why = LM_RM_MALFORMED;
	json_t *j = lm_jsonl_object(rec, n, err, errlen);
	if (!j)
		return -1;
	json_t *p = json_object_get(j, "prompt"), *c = json_object_get(j, "chosen");
	json_t *r = json_object_get(j, "rejected");
	int rc;
	if (json_is_string(c) && json_is_string(r))
		rc = enc_strings(e, p, c, r, err, errlen);
	else if (json_is_array(c) && json_is_array(r) && json_array_size(c) && json_array_size(r))
		rc = enc_messages(e, p, c, r, err, errlen);
	else
		rc = skip(e, LM_RM_MALFORMED, err, errlen, "\"chosen\" and \"rejected\" must be both "
			  "strings or both message lists");
	json_decref(j);
	if (rc < 0)
		return rc;
	e->truncated = keep_end(&e->c, T) | keep_end(&e->r, T);
	if (!e->c.n || !e->r.n)
		return skip(e, LM_RM_EMPTY, err, errlen, "an empty sequence");
	if (e->c.n == e->r.n && !memcmp(e->c.v, e->r.v, e->c.n * sizeof *e->c.v)) {
		snprintf(err, errlen, "identical chosen and rejected within the context of %d", T);
		e->why = LM_RM_IDENTICAL;
		return -1;
	}
	return 0;
}

void lm_rm_encode_text(lm_rm_enc *e, const char *prompt, size_t np, const char *resp,
		       size_t nr, int T, cm_ids *out)
{
	text_ids(e, prompt, np, resp, nr, out);
	keep_end(out, T);
}

/* ---- a file of pairs ---- */

int lm_rm_open(lm_rm_data *d, const char *path, const cm_tok *tok, int T, uint64_t seed,
	       double val_fraction, char *err, size_t errlen)
{
	memset(d, 0, sizeof *d);
	d->T = T;
	d->seed = seed;
	d->perm_epoch = -1;
	snprintf(d->path, sizeof d->path, "%s", path);
	if (lm_jsonl_map(path, &d->map, &d->size, err, errlen) < 0 ||
	    lm_rm_enc_init(&d->enc, tok, err, errlen) < 0)
		return -1;
	size_t cap = 0;
	const char *s = d->map, *end = s ? s + d->size : NULL;
	char why[400];
	const char *line;
	size_t len;
	while ((line = lm_jsonl_line(&s, end, &len))) {
		d->records++;
		int rc;
		if (len > UINT32_MAX) {
			snprintf(why, sizeof why, "a record over 4 GiB");
			d->enc.why = LM_RM_MALFORMED;
			rc = -1;
		} else {
			rc = lm_rm_encode(&d->enc, line, len, T, why, sizeof why);
		}
		if (rc == -2) {
			snprintf(err, errlen, "%s: record %llu: %s", path,
				 (unsigned long long)d->records, why);
			return -1;
		}
		if (rc < 0) {
			d->skips[d->enc.why]++;
			lm_jsonl_skip(d->records, why, &d->skipped, d->first_skip,
				      sizeof d->first_skip);
			continue;
		}
		d->truncated += (uint64_t)d->enc.truncated;
		if (d->n == cap) {
			cap = cap ? cap * 2 : 1024;
			d->off = cm_xrealloc(d->off, cap * sizeof *d->off);
			d->rec = cm_xrealloc(d->rec, cap * sizeof *d->rec);
			d->len = cm_xrealloc(d->len, cap * sizeof *d->len);
			d->nc = cm_xrealloc(d->nc, cap * sizeof *d->nc);
			d->nr = cm_xrealloc(d->nr, cap * sizeof *d->nr);
		}
		d->off[d->n] = (uint64_t)(line - (const char *)d->map);
		d->rec[d->n] = d->records;
		d->len[d->n] = (uint32_t)len;
		d->nc[d->n] = (uint32_t)d->enc.c.n;
		d->nr[d->n] = (uint32_t)d->enc.r.n;
		d->n++;
	}
	if (lm_jsonl_split(path, "pair", d->n, d->records, d->skipped, d->first_skip,
			   seed ^ 0x726d2d73706c74ull, val_fraction, &d->train, &d->ntrain, &d->val,
			   &d->nval, err, errlen) < 0)
		return -1;
	d->perm = cm_xmalloc(d->ntrain * sizeof *d->perm);
	return 0;
}

void lm_rm_close(lm_rm_data *d)
{
	if (d->map)
		munmap(d->map, d->size);
	lm_rm_enc_free(&d->enc);
	free(d->off);
	free(d->rec);
	free(d->len);
	free(d->nc);
	free(d->nr);
	free(d->train);
	free(d->val);
	free(d->perm);
	memset(d, 0, sizeof *d);
}

const char *lm_rm_skips(const lm_rm_data *d, char *buf, size_t len)
{
	size_t at = 0;
	buf[0] = 0;
	for (int k = 0; k < LM_RM_NSKIP; k++)
		if (d->skips[k] && at < len)
			at += (size_t)snprintf(buf + at, len - at, "%s%llu %s", at ? ", " : "",
					       (unsigned long long)d->skips[k], lm_rm_skip_names[k]);
	return buf;
}

int64_t lm_rm_list_rows(lm_rm_data *d, const uint32_t *list, int B, int32_t *x, int32_t *len,
			int *Tp)
{
	int T = 1;
	for (int i = 0; i < B; i++) {
		uint32_t p = list[i];
		if ((int)d->nc[p] > T)
			T = (int)d->nc[p];
		if ((int)d->nr[p] > T)
			T = (int)d->nr[p];
	}
	int64_t tokens = 0;
	char why[400];
	for (int i = 0; i < B; i++) {
		uint32_t p = list[i];
		int rc = lm_rm_encode(&d->enc, (const char *)d->map + d->off[p], d->len[p], d->T, why,
				      sizeof why);
		if (rc < 0 || d->enc.c.n != d->nc[p] || d->enc.r.n != d->nr[p])
			cm_die("%s: pair %u changed under the run", d->path, p);
		for (int side = 0; side < 2; side++) {
			const cm_ids *a = side ? &d->enc.r : &d->enc.c;
			int row = side * B + i;
			int32_t *xr = x + (size_t)row * T;
			for (size_t t = 0; t < a->n; t++)
				xr[t] = (int32_t)a->v[t];
			for (int t = (int)a->n; t < T; t++)	/* padding: after the scored token */
				xr[t] = (int32_t)d->enc.sft.eot;
			len[row] = (int32_t)a->n;
			tokens += (int64_t)a->n;
		}
	}
	*Tp = T;
	return tokens;
}

int64_t lm_rm_rows(lm_rm_data *d, uint64_t k, int first, int stride, int B, int32_t *x,
		   int32_t *len, int *T)
{
	uint32_t *list = cm_xmalloc((size_t)B * sizeof *list);
	for (int i = 0; i < B; i++) {
		uint64_t g = (k * (uint64_t)B + (uint64_t)i) * (uint64_t)stride + (uint64_t)first;
		list[i] = d->train[lm_epoch_pick(d->perm, d->ntrain, d->seed ^ 0x726d, g,
						 &d->perm_epoch)];
	}
	int64_t tokens = lm_rm_list_rows(d, list, B, x, len, T);
	free(list);
	return tokens;
}

/* ---- the loss ---- */

double lm_rm_bt(const float *s, int b, double scale, float *ds, int *correct, double *margin)
{
	double loss = 0, mg = 0;
	int ok = 0;
	for (int i = 0; i < b; i++) {
		double z = (double)s[i] - (double)s[b + i];
		/* -log sigmoid(z) = log(1 + e^-z), and its derivative -sigmoid(-z) */
		loss += z > 0 ? log1p(exp(-z)) : -z + log1p(exp(z));
		mg += z;
		ok += s[i] > s[b + i];
		if (ds) {
			double g = -scale / (1.0 + exp(z));
			ds[i] = (float)g;
			ds[b + i] = (float)-g;
		}
	}
	if (correct)
		*correct = ok;
	if (margin)
		*margin = mg;
	return loss;
}
