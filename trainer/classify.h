/* classify.h - labelled documents for a sequence classifier (lm-train --classify): a JSONL
 * file of records with a text and a label read into token ids, split and batched, and the
 * loss of the score head's outputs (score.h) against the labels.
 *
 * A record, one JSON object a line: {TEXT_FIELD: "...", LABEL_FIELD: label} ("text" and
 * "label" unless told). Binary classification (LM_CLS_BCE, as DCLM's quality classifier):
 * the label is 0 or 1 (or false, true), the loss binary cross-entropy on the score as a
 * logit. Regression (LM_CLS_MSE, as FineWeb-Edu's 0-5 educational score): the label is any
 * finite number, the loss the squared error of the score. A text's ids are those of the text
 * alone, no end-of-text; a text longer than the context keeps its first T ids (a document's
 * beginning, as FineWeb-Edu's classifier reads it), counted. Skipped, counted by reason: not
 * JSON, no text (or an empty one), a label missing or not of the objective's kind.
 */
#ifndef LM_CLASSIFY_H
#define LM_CLASSIFY_H
#include <stddef.h>
#include <stdint.h>

#include "tok.h"

enum { LM_CLS_BCE, LM_CLS_MSE };
/* the objectives' names for an option's choices: "bce", "mse", NULL */
extern const char *const lm_cls_objectives[];

enum { LM_CLS_MALFORMED, LM_CLS_NOTEXT, LM_CLS_LABEL, LM_CLS_NSKIP };
extern const char *const lm_cls_skip_names[LM_CLS_NSKIP];

typedef struct lm_cls_data {
	char path[4096];
	void *map;
	size_t size;
	const cm_tok *tok;
	cm_tok_ctx *tc;
	int64_t eot;
	int T, objective;
	uint64_t seed;
	char text_field[128], label_field[128];
	uint64_t *off;		/* the usable records: offsets of their lines */
	uint32_t *len;		/* their lengths in bytes */
	uint32_t *ntok;		/* their ids, at most T */
	float *y;		/* their labels */
	size_t n;
	uint32_t *train, *val;	/* record numbers */
	size_t ntrain, nval;
	uint32_t *perm;		/* the current epoch's order of train */
	int64_t perm_epoch;
	uint64_t records, skipped, truncated;
	uint64_t skips[LM_CLS_NSKIP];
	char first_skip[512];
	double label_sum;	/* of the usable records' labels (the positives, for BCE) */
	cm_ids ids;
} lm_cls_data;

/* One record's text ids (its first T when longer, T > 0; *cut set) into ids and its label
 * into *y. 0, or -1 with the reason (*why: LM_CLS_*). */
int lm_cls_encode(cm_tok_ctx *tc, const char *rec, size_t n, const char *text_field,
		  const char *label_field, int objective, int T, cm_ids *ids, float *y, int *cut,
		  int *why, char *err, size_t errlen);
/* Open path (JSONL, a regular file) for texts of T positions at most; the usable records
 * shuffled with seed, the first val_fraction held out (val_fraction < 0: every record in file
 * order in train). 0, or -1 with the reason (no usable record among them). lm_cls_close after
 * either. */
int lm_cls_open(lm_cls_data *d, const char *path, const cm_tok *tok, int T, uint64_t seed,
		double val_fraction, int objective, const char *text_field,
		const char *label_field, char *err, size_t errlen);
void lm_cls_close(lm_cls_data *d);
/* "3 malformed, 1 a bad label" for the skips so far, into buf. */
const char *lm_cls_skips(const lm_cls_data *d, char *buf, size_t len);
/* Training batch k: the global records (k B + i) stride + first (i < B; every epoch in
 * another seeded order) into rows of *T positions (the batch's longest text; the rest
 * end-of-text padding): x [B x *T] (room for B x d->T), len[B], labels y[B]. Returns the
 * tokens, padding not counted. */
int64_t lm_cls_rows(lm_cls_data *d, uint64_t k, int first, int stride, int B, int32_t *x,
		    int32_t *len, float *y, int *T);
/* The same for the records list[0..B). */
int64_t lm_cls_list_rows(lm_cls_data *d, const uint32_t *list, int B, int32_t *x,
			 int32_t *len, float *y, int *T);
/* The objective's loss summed over n scores s against labels y; *correct (may be NULL) the
 * rows predicted right (BCE: s > 0 for 1, else 0; MSE: the score rounded to the nearest
 * integer, as FineWeb-Edu's int_score, equal to the label's); ds (may be NULL) scale x the
 * gradient of the sum with respect to each score. */
double lm_cls_loss(int objective, const float *s, const float *y, int n, double scale, float *ds,
		   int *correct);
#endif
