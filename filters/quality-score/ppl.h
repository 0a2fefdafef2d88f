/* ppl.h - quality-score --model: each record's perplexity under a language model (an lm-train
 * run or a Hugging Face directory, computed through the trainer's kernels), CCNet's method:
 * per-language percentile cut points of bits per byte (--ppl-calibrate) and the head, middle
 * or tail bucket kept (--ppl-cuts, --ppl-bucket).
 *
 * Records are scored in batches (cm_filter_run_batch): qs_ppl_add tokenises each record's
 * text as it is read, qs_ppl_flush scores the batch (every token predicted once, in
 * lm-eval's rolling windows of the model's context, the first conditioned on end-of-text;
 * windows packed several to a row with document boundaries, rows batched), then quality-score
 * decides on each record in order: qs_ppl_pick, qs_ppl_meta, qs_ppl_decide.
 *
 * A sequence classifier as the model (lm-train --classify, or --reward: one label) scores
 * each record instead: the score head at the last of the text's first context tokens (the
 * beginning of a longer text, as lm-train --classify trains), the probability for a binary
 * classifier (sigmoid of its logit), the output itself for a regression or a reward model;
 * --model-min-score drops records scored below it.
 */
#ifndef QS_PPL_H
#define QS_PPL_H

#include <stddef.h>

#include "buf.h"
#include "json.h"
#include "jsonw.h"
#include "opt.h"

typedef struct qs_ppl qs_ppl;

enum { QS_BUCKET_NONE = -1, QS_BUCKET_HEAD, QS_BUCKET_MIDDLE, QS_BUCKET_TAIL };

/* The options (qs_ppl_opt_table fills them; zeroed, then qs_ppl_defaults). */
typedef struct qs_ppl_opts {
	const char *model, *tokenizer, *calibrate, *cuts;
	int bucket;		/* QS_BUCKET_* */
	int batch_tokens;	/* positions per forward pass at most */
	size_t batch_bytes;	/* the records a batch holds: their lines' bytes at most */
	int batch_records;	/* and their count */
	double min_score;	/* --model-min-score (NAN: none) */
} qs_ppl_opts;

void qs_ppl_defaults(qs_ppl_opts *o);
/* The option rows: "Perplexity ..." and "Device:" (CM_OPT_INCLUDE); the device's options
 * are kept in ppl.c (one table a process). */
const cm_opt *qs_ppl_opt_table(qs_ppl_opts *o);

/* Open the model of o->model (usage errors on a bad model, tokenizer or option mix). */
qs_ppl *qs_ppl_open(const qs_ppl_opts *o);
/* A record read (index in its batch) and the batch's scoring. */
void qs_ppl_add(qs_ppl *p, const cm_jrec *rec, const char *text_field, size_t index);
void qs_ppl_flush(qs_ppl *p, size_t n);
/* The record of index i of the batch, in language lang: its bucket by the cut points. */
void qs_ppl_pick(qs_ppl *p, size_t i, const char *lang);
/* Its metadata.quality.model value: {bits_per_byte, token_logprob, tokens[, bucket]}, or a
 * classifier's {score, tokens[, truncated]}. */
void qs_ppl_meta(qs_ppl *p, cm_jw *w);
/* why: the reason the other checks drop it, or NULL. The reason to drop it (why, or a
 * perplexity reason when it is kept otherwise); a kept one goes into the calibration. */
const char *qs_ppl_decide(qs_ppl *p, const char *why);
/* The statistics (a JSON object, for --stats) and, with -v, a summary line. */
void qs_ppl_stats(qs_ppl *p, cm_buf *json);
/* Write --ppl-calibrate's file; close. 0, or -1 after an error message. */
int qs_ppl_close(qs_ppl *p);

#endif
