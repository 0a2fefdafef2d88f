/* eval.h - a model's loss on held-out shards, in nats a token and bits per byte. */
#ifndef LM_EVAL_H
#define LM_EVAL_H
#include <stdint.h>

#include "data.h"
#include "model.h"
#include "tok.h"

typedef struct lm_eval {
	double loss;		/* nats a token (NaN when no token was read) */
	uint64_t tokens;
	double bytes;		/* the text the targets decode to (0: no tokenizer) */
	double bpb;		/* bits per byte (NaN without bytes) */
} lm_eval;

/* The bytes each id of a vocabulary decodes to, for bits per byte; special tokens count none
 * (they are not text). vocab floats, malloc'd. */
float *lm_token_bytes(const cm_tok *tok, int vocab);
/* Evaluate m on the first `windows` evaluation windows of d (lm_data_eval_windows: all), in
 * batches of B rows of T positions through x and y (B x T each); tokbytes (may be NULL) for
 * bits per byte. 0, or -1 with the reason. */
int lm_evaluate(lm_model *m, const lm_data *d, uint64_t windows, int B, int T,
		const float *tokbytes, int32_t *x, int32_t *y, lm_eval *r, char *err, size_t errlen);
#endif
