/* classify.c - labelled documents for a sequence classifier, and its losses (classify.h). */
#include "classify.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cli.h"
#include "rand.h"
#include "reward.h"

const char *const lm_cls_objectives[] = { [LM_CLS_BCE] = "bce", [LM_CLS_MSE] = "mse", NULL };
const char *const lm_cls_skip_names[LM_CLS_NSKIP] = {
	[LM_CLS_MALFORMED] = "malformed", [LM_CLS_NOTEXT] = "no text", [LM_CLS_LABEL] = "a bad label"
};

static int skip(int *why, int kind, char *err, size_t errlen, const char *msg, const char *field)
{
	*why = kind;
	snprintf(err, errlen, msg, field);
	return -1;
}

int lm_cls_encode(cm_tok_ctx *tc, const char *rec, size_t n, const char *text_field,
		  const char *label_field, int objective, int T, cm_ids *ids, float *y, int *cut,
		  int *why, char *err, size_t errlen)
{
	ids->n = 0;
	*cut = 0;
	json_t *j = lm_jsonl_object(rec, n, err, errlen);
	if (!j) {
		*why = LM_CLS_MALFORMED;
		return -1;
	}
	json_t *t = json_object_get(j, text_field), *l = json_object_get(j, label_field);
	int rc = 0;
	double v = 0;
	if (!json_is_string(t) || json_string_length(t) == 0)
		rc = skip(why, LM_CLS_NOTEXT, err, errlen, "no text in \"%s\"", text_field);
	else if (json_is_boolean(l) && objective == LM_CLS_BCE)
		v = json_is_true(l);
	else if (!json_is_number(l) || !isfinite(v = json_number_value(l)))
		rc = skip(why, LM_CLS_LABEL, err, errlen, "\"%s\" is not a number", label_field);
	else if (objective == LM_CLS_BCE && v != 0 && v != 1)
		rc = skip(why, LM_CLS_LABEL, err, errlen, "\"%s\" is not 0 or 1 (binary labels)",
			  label_field);
	if (rc == 0) {
		cm_tok_encode(tc, json_string_value(t), json_string_length(t), 0, ids);
		if (T > 0 && ids->n > (size_t)T) {	/* the beginning kept */
			ids->n = (size_t)T;
			*cut = 1;
		}
		if (!ids->n)
			rc = skip(why, LM_CLS_NOTEXT, err, errlen, "no token in \"%s\"", text_field);
		*y = (float)v;
	}
	json_decref(j);
	return rc;
}

int lm_cls_open(lm_cls_data *d, const char *path, const cm_tok *tok, int T, uint64_t seed,
		double val_fraction, int objective, const char *text_field,
		const char *label_field, char *err, size_t errlen)
{
	memset(d, 0, sizeof *d);
	d->T = T;
	d->seed = seed;
	d->objective = objective;
	d->perm_epoch = -1;
	d->tok = tok;
	snprintf(d->path, sizeof d->path, "%s", path);
	snprintf(d->text_field, sizeof d->text_field, "%s", text_field);
	snprintf(d->label_field, sizeof d->label_field, "%s", label_field);
	d->eot = cm_tok_eot(tok);
	if (d->eot < 0) {
		snprintf(err, errlen, "the tokenizer has no end-of-text token to pad with");
		return -1;
	}
	if (lm_jsonl_map(path, &d->map, &d->size, err, errlen) < 0)
		return -1;
	d->tc = cm_tok_ctx_new(tok);
	size_t cap = 0;
	const char *s = d->map, *end = s ? s + d->size : NULL;
	char why[400];
	const char *line;
	size_t len;
	while ((line = lm_jsonl_line(&s, end, &len))) {
		d->records++;
		int kind = LM_CLS_MALFORMED, cut = 0, rc;
		float y = 0;
		if (len > UINT32_MAX) {
			snprintf(why, sizeof why, "a record over 4 GiB");
			rc = -1;
		} else {
			rc = lm_cls_encode(d->tc, line, len, text_field, label_field, objective, T, &d->ids,
					   &y, &cut, &kind, why, sizeof why);
		}
		if (rc < 0) {
			d->skips[kind]++;
			lm_jsonl_skip(d->records, why, &d->skipped, d->first_skip,
				      sizeof d->first_skip);
			continue;
		}
		d->truncated += (uint64_t)cut;
		if (d->n == cap) {
			cap = cap ? cap * 2 : 1024;
			d->off = cm_xrealloc(d->off, cap * sizeof *d->off);
			d->len = cm_xrealloc(d->len, cap * sizeof *d->len);
			d->ntok = cm_xrealloc(d->ntok, cap * sizeof *d->ntok);
			d->y = cm_xrealloc(d->y, cap * sizeof *d->y);
		}
		d->off[d->n] = (uint64_t)(line - (const char *)d->map);
		d->len[d->n] = (uint32_t)len;
		d->ntok[d->n] = (uint32_t)d->ids.n;
		d->y[d->n] = y;
		d->label_sum += y;
		d->n++;
	}
	if (lm_jsonl_split(path, "record", d->n, d->records, d->skipped, d->first_skip,
			   seed ^ 0x636c732d73706c74ull, val_fraction, &d->train, &d->ntrain, &d->val,
			   &d->nval, err, errlen) < 0)
		return -1;
	d->perm = cm_xmalloc(d->ntrain * sizeof *d->perm);
	return 0;
}

void lm_cls_close(lm_cls_data *d)
{
	if (d->map)
		munmap(d->map, d->size);
	if (d->tc)
		cm_tok_ctx_free(d->tc);
	cm_ids_free(&d->ids);
	free(d->off);
	free(d->len);
	free(d->ntok);
	free(d->y);
	free(d->train);
	free(d->val);
	free(d->perm);
	memset(d, 0, sizeof *d);
}

const char *lm_cls_skips(const lm_cls_data *d, char *buf, size_t len)
{
	size_t at = 0;
	buf[0] = 0;
	for (int k = 0; k < LM_CLS_NSKIP; k++)
		if (d->skips[k] && at < len)
			at += (size_t)snprintf(buf + at, len - at, "%s%llu %s", at ? ", " : "",
					       (unsigned long long)d->skips[k], lm_cls_skip_names[k]);
	return buf;
}

int64_t lm_cls_list_rows(lm_cls_data *d, const uint32_t *list, int B, int32_t *x,
			 int32_t *len, float *y, int *Tp)
{
	int T = 1;
	for (int i = 0; i < B; i++)
		if ((int)d->ntok[list[i]] > T)
			T = (int)d->ntok[list[i]];
	int64_t tokens = 0;
	char why[400];
	for (int i = 0; i < B; i++) {
		uint32_t r = list[i];
		int cut, kind;
		float lab;
		if (lm_cls_encode(d->tc, (const char *)d->map + d->off[r], d->len[r], d->text_field,
				  d->label_field, d->objective, d->T, &d->ids, &lab, &cut, &kind, why,
				  sizeof why) < 0 || d->ids.n != d->ntok[r])
			cm_die("%s: record %u changed under the run", d->path, r);
		int32_t *xr = x + (size_t)i * T;
		for (size_t t = 0; t < d->ids.n; t++)
			xr[t] = (int32_t)d->ids.v[t];
		for (int t = (int)d->ids.n; t < T; t++)
			xr[t] = (int32_t)d->eot;
		len[i] = (int32_t)d->ids.n;
		y[i] = d->y[r];
		tokens += (int64_t)d->ids.n;
	}
	*Tp = T;
	return tokens;
}

int64_t lm_cls_rows(lm_cls_data *d, uint64_t k, int first, int stride, int B, int32_t *x,
		    int32_t *len, float *y, int *T)
{
	uint32_t *list = cm_xmalloc((size_t)B * sizeof *list);
	for (int i = 0; i < B; i++) {
		uint64_t g = (k * (uint64_t)B + (uint64_t)i) * (uint64_t)stride + (uint64_t)first;
		list[i] = d->train[lm_epoch_pick(d->perm, d->ntrain, d->seed ^ 0x636c73, g,
						 &d->perm_epoch)];
	}
	int64_t tokens = lm_cls_list_rows(d, list, B, x, len, y, T);
	free(list);
	return tokens;
}

double lm_cls_loss(int objective, const float *s, const float *y, int n, double scale, float *ds,
		   int *correct)
{
	double loss = 0;
	int ok = 0;
	for (int i = 0; i < n; i++) {
		double z = s[i], t = y[i], g;
		if (objective == LM_CLS_BCE) {
			/* -t log sigmoid(z) - (1 - t) log(1 - sigmoid(z)) = softplus(z) - t z */
			loss += (z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))) - t * z;
			g = 1.0 / (1.0 + exp(-z)) - t;
			ok += (z > 0) == (t > 0.5);
		} else {
			loss += (z - t) * (z - t);
			g = 2 * (z - t);
			ok += round(z) == round(t);
		}
		if (ds)
			ds[i] = (float)(scale * g);
	}
	if (correct)
		*correct = ok;
	return loss;
}
