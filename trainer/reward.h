/* reward.h - preference pairs for a reward model: a record read into the token ids of its
 * chosen and rejected sequences, a file of them split and batched (lm-train --reward), the
 * scores of a sequence classifier (config.h's labels) at each sequence's last token, and the
 * Bradley-Terry loss on them (the scores themselves: score.h). lm-eval --pairs and lm-sample
 * --best-of score with the same pieces.
 *
 * Records, one JSON object a line:
 * - {"chosen": T1, "rejected": T2} where T1 and T2 are HH-RLHF transcripts ("\n\nHuman: ...
 *   \n\nAssistant: ..."): each through the chat template as lm-train --sft maps a transcript
 *   (sft.h); the prompt is what the two share, the response each one's last assistant turn.
 * - {"prompt": P, "chosen": C, "rejected": R}, strings: the ids of P + C and of P + R (each
 *   encoded as one text, as TRL does). Two strings without a prompt that are not transcripts
 *   are scored as they are.
 * - {"chosen": [messages], "rejected": [messages]} (TRL's conversational preference), with an
 *   optional "prompt": [messages] before both: through the chat template.
 * No end-of-text token is appended: the score is that of the sequence's last token. (TRL's
 * RewardTrainer appends the end-of-text token and pads with it, and transformers scores the
 * last token that is not the padding one: the same token. A checkpoint's config.json names
 * end-of-text as pad_token_id, so transformers scores our sequences the same way.)
 * A sequence longer than the context keeps its last T ids (the end, where the responses
 * differ; TRL drops such pairs instead), counted.
 * Skipped, each counted by reason: not JSON or not a pair, identical chosen and rejected
 * (also when identical within the context), an empty response, an unknown role.
 */
#ifndef LM_REWARD_H
#define LM_REWARD_H
#include <stddef.h>
#include <stdint.h>

#include "sft.h"
#include "tok.h"

/* Why a pair was skipped. */
enum { LM_RM_MALFORMED, LM_RM_IDENTICAL, LM_RM_EMPTY, LM_RM_ROLE, LM_RM_NSKIP };
extern const char *const lm_rm_skip_names[LM_RM_NSKIP];

typedef struct lm_rm_enc {
	lm_sft_enc sft;		/* the chat template, the tokenizer's context */
	cm_ids c, r;		/* the last pair's chosen and rejected ids, each at most T */
	int truncated;		/* the last pair had a sequence cut to its last T ids */
	int why;		/* the last skip's reason: LM_RM_* */
} lm_rm_enc;

/* An encoder for tok (which must have an end-of-text token). 0, or -1 with the reason. */
int lm_rm_enc_init(lm_rm_enc *e, const cm_tok *tok, char *err, size_t errlen);
void lm_rm_enc_free(lm_rm_enc *e);
/* One record into e->c and e->r, each cut to its last T ids when longer (T > 0). 0; -1 for a
 * record to skip (the reason in err, its kind in e->why); -2 when records of this kind cannot
 * be encoded at all (a template token missing from the tokenizer). */
int lm_rm_encode(lm_rm_enc *e, const char *rec, size_t n, int T, char *err, size_t errlen);
/* One sequence to score, prompt + response as one text, its last T ids (T > 0) into out. */
void lm_rm_encode_text(lm_rm_enc *e, const char *prompt, size_t np, const char *resp,
		       size_t nr, int T, cm_ids *out);

/* A file of pairs for training: the usable ones, a seeded shuffle, the first val_fraction of
 * them held out; every epoch reads the training pairs in another seeded order (global pair g
 * is pair perm_{g / ntrain}(g mod ntrain)). Memory: a few words a pair, never the file's
 * tokens (each pair is encoded again when its batch is made). */
typedef struct lm_rm_data {
	char path[4096];
	void *map;
	size_t size;
	lm_rm_enc enc;
	int T;
	uint64_t seed;
	uint64_t *off;		/* the usable pairs: offsets of their lines */
	uint64_t *rec;		/* their record numbers (from 1) */
	uint32_t *len;		/* their lengths in bytes */
	uint32_t *nc, *nr;	/* their chosen and rejected ids, at most T */
	size_t n;
	uint32_t *train, *val;	/* pair numbers */
	size_t ntrain, nval;
	uint32_t *perm;		/* the current epoch's order of train */
	int64_t perm_epoch;
	uint64_t records, skipped, truncated;
	uint64_t skips[LM_RM_NSKIP];
	char first_skip[512];	/* the first skipped record's line and reason */
} lm_rm_data;

/* Open path (JSONL, a regular file) for sequences of T positions at most. val_fraction < 0:
 * no shuffle, every pair in file order in train (scoring a file). 0, or -1 with the reason (a
 * fatal one, or no usable pair). lm_rm_close after either. */
int lm_rm_open(lm_rm_data *d, const char *path, const cm_tok *tok, int T, uint64_t seed,
	       double val_fraction, char *err, size_t errlen);
void lm_rm_close(lm_rm_data *d);
/* "3 identical, 1 an empty response" for the skips so far, into buf. */
const char *lm_rm_skips(const lm_rm_data *d, char *buf, size_t len);
/* Training batch k: the global pairs (k B + i) stride + first (i < B) into rows, chosen i at
 * row i and rejected i at row B + i, each of *T positions (the longest sequence of the batch;
 * the rest end-of-text padding): x [2B x *T] (room for 2B x d->T), len[2B] the rows' lengths.
 * Returns the tokens, padding not counted. */
int64_t lm_rm_rows(lm_rm_data *d, uint64_t k, int first, int stride, int B, int32_t *x,
		   int32_t *len, int *T);
/* The same for the pairs list[0..B) (d->val + v, d->train + v: held-out or file order). */
int64_t lm_rm_list_rows(lm_rm_data *d, const uint32_t *list, int B, int32_t *x, int32_t *len,
			int *T);

/* Bradley-Terry on b pairs, s[0..b) the chosen scores and s[b..2b) the rejected ones: returns
 * the sum over the pairs of -log sigmoid(s_c - s_r); *correct gets the pairs with s_c > s_r,
 * *margin the sum of s_c - s_r; ds (may be NULL) gets scale x the gradient of the sum with
 * respect to each score. */
double lm_rm_bt(const float *s, int b, double scale, float *ds, int *correct, double *margin);

#endif
