/* score.c - a sequence classifier's scores at the last token, and the reward model's batches
 * on them (score.h). */
#include "score.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"

void lm_score_last(lm_model *m, int rows, int T, const int32_t *x, const int32_t *len, float *s)
{
	int L = m->cfg.labels;
	if (L < 1)
		cm_die("model: a language model has no score head");
	for (int i = 0; i < rows; i++)
		if (len[i] < 1 || len[i] > T)
			cm_die("model: a sequence of %d tokens in a row of %d", len[i], T);
	lm_forward(m, rows, T, x, NULL, NULL);
	size_t n = (size_t)rows * T;
	float *all = cm_xmalloc(n * (size_t)L * sizeof *all);
	lm_logits_get(m, 0, (int64_t)n, all);
	for (int i = 0; i < rows; i++)
		memcpy(s + (size_t)i * L, all + ((size_t)i * T + (size_t)len[i] - 1) * L,
		       (size_t)L * sizeof *s);
	free(all);
}

void lm_score_grad(lm_model *m, int rows, int T, const int32_t *len, const float *ds)
{
	int L = m->cfg.labels;
	float *d = cm_xcalloc((size_t)rows * T * L, sizeof *d);
	for (int i = 0; i < rows; i++)
		memcpy(d + ((size_t)i * T + (size_t)len[i] - 1) * L, ds + (size_t)i * L,
		       (size_t)L * sizeof *d);
	lm_head_grad(m, d);
	free(d);
}

/* a reward model's scores: one label */
static void rm_score(lm_model *m, int rows, int T, const int32_t *x, const int32_t *len, float *s)
{
	if (m->cfg.labels != 1)
		cm_die("model: a reward model has one label, not %d", m->cfg.labels);
	lm_score_last(m, rows, T, x, len, s);
}

void lm_rm_train_batch(lm_model *m, lm_rm_data *d, uint64_t k, int first, int stride, int B,
		       double scale, int32_t *x, int32_t *len, lm_score_stats *st)
{
	int T, correct;
	double margin;
	st->tokens += lm_rm_rows(d, k, first, stride, B, x, len, &T);
	float *s = cm_xmalloc(4 * (size_t)B * sizeof *s), *ds = s + 2 * B;
	rm_score(m, 2 * B, T, x, len, s);
	st->loss += lm_rm_bt(s, B, scale, ds, &correct, &margin);
	st->correct += correct;
	st->margin += margin;
	st->n += B;
	lm_score_grad(m, 2 * B, T, len, ds);
	lm_backward(m);
	free(s);
}

void lm_rm_eval_list(lm_model *m, lm_rm_data *d, const uint32_t *list, size_t n, int B,
		     int32_t *x, int32_t *len, lm_score_stats *st, float *scores)
{
	float *s = cm_xmalloc(2 * (size_t)B * sizeof *s);
	for (size_t v = 0; v < n; v += (size_t)B) {
		int b = (size_t)B < n - v ? B : (int)(n - v), T, correct;
		double margin;
		st->tokens += lm_rm_list_rows(d, list + v, b, x, len, &T);
		rm_score(m, 2 * b, T, x, len, s);
		st->loss += lm_rm_bt(s, b, 0, NULL, &correct, &margin);
		st->correct += correct;
		st->margin += margin;
		st->n += b;
		for (int i = 0; i < b; i++) {
			double z = (double)s[i] - (double)s[b + i];
			st->margin_sq += z * z;
			if (scores) {
				scores[2 * (v + (size_t)i)] = s[i];
				scores[2 * (v + (size_t)i) + 1] = s[b + i];
			}
		}
	}
	free(s);
}

void lm_cls_train_batch(lm_model *m, lm_cls_data *d, uint64_t k, int first, int stride, int B,
			double scale, int32_t *x, int32_t *len, lm_score_stats *st)
{
	int T, correct;
	float *s = cm_xmalloc(3 * (size_t)B * sizeof *s), *ds = s + B, *y = s + 2 * B;
	st->tokens += lm_cls_rows(d, k, first, stride, B, x, len, y, &T);
	lm_score_last(m, B, T, x, len, s);
	st->loss += lm_cls_loss(d->objective, s, y, B, scale, ds, &correct);
	st->correct += correct;
	st->n += B;
	lm_score_grad(m, B, T, len, ds);
	lm_backward(m);
	free(s);
}

void lm_cls_eval_list(lm_model *m, lm_cls_data *d, const uint32_t *list, size_t n, int B,
		      int32_t *x, int32_t *len, lm_score_stats *st, float *scores)
{
	float *s = cm_xmalloc(2 * (size_t)B * sizeof *s), *y = s + B;
	for (size_t v = 0; v < n; v += (size_t)B) {
		int b = (size_t)B < n - v ? B : (int)(n - v), T, correct;
		st->tokens += lm_cls_list_rows(d, list + v, b, x, len, y, &T);
		lm_score_last(m, b, T, x, len, s);
		st->loss += lm_cls_loss(d->objective, s, y, b, 0, NULL, &correct);
		st->correct += correct;
		st->n += b;
		if (scores)
			memcpy(scores + v, s, (size_t)b * sizeof *s);
	}
	free(s);
}
