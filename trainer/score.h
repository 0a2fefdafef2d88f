/* score.h - a sequence classifier's scores (config.h's labels: a reward model, a classifier):
 * the score head's outputs at each sequence's last token, a batch of sequences of different
 * lengths in one forward, and the gradient back through them; the training and evaluation
 * batches of a reward model (reward.h's pairs and loss) and of a classifier (classify.h). */
#ifndef LM_SCORE_H
#define LM_SCORE_H
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "classify.h"
#include "reward.h"

/* The scores of `rows` sequences in one forward of a sequence classifier (config.h's
 * labels): rows of T positions (x [rows x T], row i's len[i] first positions its sequence,
 * the rest padding that the causal attention keeps from it), the head's outputs at each
 * row's last token into s[rows x labels]. */
void lm_score_last(lm_model *m, int rows, int T, const int32_t *x, const int32_t *len, float *s);
/* After lm_score_last on a model made for training: the loss's gradient with respect to the
 * scores (ds[rows x labels]) put where lm_backward takes it; then lm_backward. */
void lm_score_grad(lm_model *m, int rows, int T, const int32_t *len, const float *ds);
/* Sums over scored items (pairs, texts): the loss; for pairs s_c - s_r and its square; the
 * items ranked or classified right, the items, their tokens. */
typedef struct lm_score_stats {
	double loss, margin, margin_sq;
	int64_t correct, n, tokens;
} lm_score_stats;
/* A training micro-batch: batch k's pairs (lm_rm_rows) scored, the loss scaled by scale (1 /
 * the pairs of the whole step) and its gradient through lm_backward into m->grads; the
 * batch's sums added to st. x, len: room for 2B rows of d->T. */
void lm_rm_train_batch(lm_model *m, lm_rm_data *d, uint64_t k, int first, int stride, int B,
		       double scale, int32_t *x, int32_t *len, lm_score_stats *st);
/* The pairs list[0..n) scored in batches of B pairs, their sums added to st; each pair's
 * chosen and rejected scores into scores[2i], scores[2i + 1] when given. */
void lm_rm_eval_list(lm_model *m, lm_rm_data *d, const uint32_t *list, size_t n, int B,
		     int32_t *x, int32_t *len, lm_score_stats *st, float *scores);
/* A classifier's training micro-batch (lm_cls_rows), its loss (lm_cls_loss) scaled by scale,
 * backward; sums into st. x, len: room for B rows of d->T. */
void lm_cls_train_batch(lm_model *m, lm_cls_data *d, uint64_t k, int first, int stride, int B,
			double scale, int32_t *x, int32_t *len, lm_score_stats *st);
/* The records list[0..n) scored in batches of B, sums into st; each score into scores[i] when
 * given. */
void lm_cls_eval_list(lm_model *m, lm_cls_data *d, const uint32_t *list, size_t n, int B,
		      int32_t *x, int32_t *len, lm_score_stats *st, float *scores);
#endif
