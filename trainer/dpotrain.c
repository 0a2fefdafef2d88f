/* dpotrain.c - DPO on the model (dpotrain.h). */
#include "dpotrain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "ckpt.h"
#include "cli.h"

/* the log-probability of a sequence: minus its targets' cross-entropies */
static double seq_logp(const float *tl, int64_t at, int32_t len)
{
	double s = 0;
	for (int32_t j = 0; j < len; j++)
		s -= tl[at + j];
	return s;
}

double lm_dpo_micro(lm_model *m, const int32_t *y, const lm_dpo_item *items, int n,
		    const double *ref, const lm_dpo_opts *o, float scale, float *tl,
		    lm_dpo_stats *st)
{
	lm_loss(m, y, scale != 0 ? 1.0f : 0.0f, tl);	/* logits -> softmax - onehot */
	const kn_ops *K = m->be->ops;
	int64_t Vp = m->cfg.vocab_padded;
	double sum = 0;
	for (int i = 0; i < n; i++) {
		const lm_dpo_item *it = &items[i];
		double pc = seq_logp(tl, it->at[0], it->len[0]);
		double pr = seq_logp(tl, it->at[1], it->len[1]);
		double qc = ref[2 * (size_t)it->pair], qr = ref[2 * (size_t)it->pair + 1], g[2];
		double l = lm_dpo_loss(o, pc, pr, qc, qr, it->comp[0], it->comp[1], &g[0], &g[1]);
		lm_dpo_stats_add(st, o, pc, pr, qc, qr, l);
		sum += l;
		for (int w = 0; scale != 0 && w < 2; w++) {
			/* d loss / d logits = g x d logp / d logits = -g (softmax - onehot) */
			int64_t shape[2] = { it->len[w], Vp };
			kn_tensor *v = kn_view(lm_logits(m), it->at[w] * Vp, 2, shape);
			K->scale(v, (float)(-g[w] * scale));
			kn_free(v);
		}
	}
	return sum;
}

/* rows [slot, B) of the arrays: padding, no loss */
static void pad_rows(int slot, int B, int T, int32_t eot, int32_t *x, int32_t *y, int32_t *pos,
		     int32_t *doc)
{
	for (size_t j = (size_t)slot * T; j < (size_t)B * T; j++) {
		x[j] = eot;
		y[j] = -1;
		pos[j] = (int32_t)(j % (size_t)T);
		doc[j] = 0;
	}
}

typedef struct bufs {
	int32_t *x, *y, *pos, *doc;
	float *tl;
	lm_dpo_item *items;
} bufs;

/* every row of the training (val 0) or held-out rows through m, B at a time; with ref NULL
 * the sequences' log-probabilities into out, else the pairs' metrics into st */
static void pass(lm_model *m, lm_dpo_data *d, int val, int B, const bufs *b, double *out,
		 const double *ref, const lm_dpo_opts *o, lm_dpo_stats *st)
{
	int T = d->T;
	uint64_t rows = val ? d->vrows : d->rows;
	for (uint64_t r = 0; r < rows; r += (uint64_t)B) {
		int k = (uint64_t)B < rows - r ? B : (int)(rows - r), n = 0;
		for (int i = 0; i < k; i++)
			lm_dpo_fill(d, val, r + (uint64_t)i, i, b->x, b->y, b->pos, b->doc, b->items,
				    &n);
		pad_rows(k, B, T, (int32_t)d->enc.e.eot, b->x, b->y, b->pos, b->doc);
		lm_forward(m, B, T, b->x, b->pos, b->doc);
		if (ref) {
			lm_dpo_micro(m, b->y, b->items, n, ref, o, 0, b->tl, st);
			continue;
		}
		lm_loss(m, b->y, 0, b->tl);
		for (int i = 0; i < n; i++) {
			const lm_dpo_item *it = &b->items[i];
			for (int w = 0; w < 2; w++)
				out[2 * (size_t)it->pair + w] = seq_logp(b->tl, it->at[w], it->len[w]);
		}
	}
}

void lm_dpo_evaluate(lm_model *m, lm_dpo_data *d, int B, const double *ref,
		     const lm_dpo_opts *o, int32_t *x, int32_t *y, int32_t *pos, int32_t *doc,
		     float *tl, lm_dpo_item *items, lm_dpo_stats *st)
{
	bufs b = { x, y, pos, doc, tl, items };
	pass(m, d, 1, B, &b, NULL, ref, o, st);
}

/* XXH3 of the model's fp32 weights, a piece at a time */
static uint64_t weights_hash(lm_model *m)
{
	enum { PIECE = 1 << 20 };
	float *h = cm_xmalloc(PIECE * sizeof *h);
	XXH3_state_t *x = XXH3_createState();
	XXH3_64bits_reset(x);
	for (int64_t off = 0; off < m->nparams; off += PIECE) {
		int64_t k = m->nparams - off < PIECE ? m->nparams - off : PIECE;
		kn_tensor *v = kn_view(m->params, off, 1, &k);
		kn_download(v, h, (size_t)k * sizeof *h);
		kn_free(v);
		XXH3_64bits_update(x, h, (size_t)k * sizeof *h);
	}
	uint64_t r = XXH3_64bits_digest(x);
	XXH3_freeState(x);
	free(h);
	return r ? r : 1;
}

int lm_dpo_ref_prepare(lm_session *s, const char *ref_dir, const char *file, int resume,
		       lm_dpo_data *d, int B, double *ref, int *reused, char *err, size_t errlen)
{
	char why[4400];
	*reused = 0;
	if (resume) {	/* the run's own file: its reference may be gone */
		int k = lm_dpo_ref_load(file, d->ids_hash, 0, d->T, d->n, ref, why, sizeof why);
		if (k > 0) {
			*reused = 1;
			return 0;
		}
		cm_warn("--resume: the reference log-probabilities are computed again: %s", why);
	}
	if (!ref_dir) {
		snprintf(err, errlen, "no reference model to compute them with (--ref)");
		return -1;
	}
	lm_model *m = lm_session_companion(s, ref_dir, 0, 0, d->T, NULL, err, errlen);
	if (!m)
		return -1;
	uint64_t rh = weights_hash(m);
	int k = lm_dpo_ref_load(file, d->ids_hash, rh, d->T, d->n, ref, why, sizeof why);
	if (k > 0) {
		*reused = 1;
		lm_model_free(m);
		return 0;
	}
	if (k < 0)
		cm_warn("the reference log-probabilities are computed again: %s", why);
	size_t N = (size_t)B * d->T;
	size_t cap = (size_t)B * ((size_t)d->T / 2 + 1);
	bufs b = { cm_xmalloc(N * sizeof(int32_t)), cm_xmalloc(N * sizeof(int32_t)),
		   cm_xmalloc(N * sizeof(int32_t)), cm_xmalloc(N * sizeof(int32_t)),
		   cm_xmalloc(N * sizeof(float)), cm_xmalloc(cap * sizeof(lm_dpo_item)) };
	pass(m, d, 0, B, &b, ref, NULL, NULL, NULL);
	pass(m, d, 1, B, &b, ref, NULL, NULL, NULL);
	lm_model_free(m);
	free(b.x);
	free(b.y);
	free(b.pos);
	free(b.doc);
	free(b.tl);
	free(b.items);
	return lm_dpo_ref_save(file, d->ids_hash, rh, d->T, d->n, ref, err, errlen);
}
