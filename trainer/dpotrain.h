/* dpotrain.h - DPO on the model (lm-train --dpo): the reference log-probabilities computed
 * once, a micro-batch's loss and its gradient through the policy's log-probabilities, the
 * held-out metrics. The pairs, losses and the reference's file are dpo.h's. */
#ifndef LM_DPOTRAIN_H
#define LM_DPOTRAIN_H
#include <stddef.h>
#include <stdint.h>

#include "dpo.h"
#include "model.h"
#include "session.h"

/* The reference log-probabilities of every pair of d (2 d->n doubles: pair i's chosen and
 * rejected) into ref. From `file` when it holds them: on resume (the run's own file) whatever
 * the reference, else when it was written for the same pairs and a reference with the same
 * weights; otherwise computed with the model `ref_dir` names (loaded for this pass alone, in
 * s's backend and precision, B rows of d->T at a time) and written to `file`. *reused: 1 when
 * read. 0, or -1 with the reason. */
int lm_dpo_ref_prepare(lm_session *s, const char *ref_dir, const char *file, int resume,
		       lm_dpo_data *d, int B, double *ref, int *reused, char *err, size_t errlen);

/* After lm_forward of rows holding the pairs items[0..n): the policy's log-probabilities of
 * each sequence (the sum over its completion's targets; tl: [B x T] floats of scratch), each
 * pair's loss against the reference's (ref), added to st; when scale != 0 the logits become
 * the gradient of scale x the sum of the losses (d loss / d log-probability times the
 * cross-entropy's softmax backward on each sequence's targets) for lm_backward. Returns the
 * sum of the pairs' losses. */
double lm_dpo_micro(lm_model *m, const int32_t *y, const lm_dpo_item *items, int n,
		    const double *ref, const lm_dpo_opts *o, float scale, float *tl,
		    lm_dpo_stats *st);

/* The held-out pairs' metrics (no gradient), B rows at a time; x, y, pos, doc, tl: [B x T]
 * scratch, items room for B x (T / 2 + 1). */
void lm_dpo_evaluate(lm_model *m, lm_dpo_data *d, int B, const double *ref,
		     const lm_dpo_opts *o, int32_t *x, int32_t *y, int32_t *pos, int32_t *doc,
		     float *tl, lm_dpo_item *items, lm_dpo_stats *st);
#endif
