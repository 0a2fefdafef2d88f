/* dpo.h - preference pairs for direct preference optimisation (lm-train --dpo): a JSONL record
 * turned into the ids of prompt + chosen and prompt + rejected with the shared prompt's
 * length, a file of them packed into training rows, the losses (sigmoid, IPO, hinge) and
 * TRL's metrics, and the file the reference model's log-probabilities are kept in.
 *
 * Records, one JSON object a line (the forms TRL's DPOTrainer reads):
 * - {"prompt": P, "chosen": C, "rejected": R}, strings: the ids of P alone, of P + C and of
 *   P + R (each encoded as one text), the end-of-text token closing C and R;
 * - the same with P, C and R lists of messages ({"role", "content"}), or {"chosen": [...],
 *   "rejected": [...]} whose shared leading messages are the prompt (TRL's extract_prompt):
 *   through the chat template (sft.h), the prompt with the generation prompt
 *   "<|im_start|>assistant\n";
 * - {"chosen": T1, "rejected": T2}, HH-RLHF transcripts: their turns as messages, as above.
 * The prompt is the longest common prefix of the prompt's ids and those of both sequences
 * (TRL 1.16's tokenize_fn: where a merge crosses the boundary the completion starts where the
 * ids diverge); every id after it is the completion, the log-probability's terms. */
#ifndef LM_DPO_H
#define LM_DPO_H
#include <stddef.h>
#include <stdint.h>

#include "sft.h"
#include "tok.h"

typedef struct lm_dpo_enc {
	lm_sft_enc e;		/* the tokenizer, the chat template; its ids are scratch */
	cm_ids c, r;		/* prompt + chosen, prompt + rejected */
	size_t prompt;		/* the shared prompt's ids: c.v[0..prompt) == r.v[0..prompt) */
} lm_dpo_enc;

int lm_dpo_enc_init(lm_dpo_enc *d, const cm_tok *tok, char *err, size_t errlen);
void lm_dpo_enc_free(lm_dpo_enc *d);
/* Encode one record. 0; -1 for a record to skip (the reason in err: not JSON, an empty
 * response, chosen and rejected the same, an unknown role, ...); -2 when records of this kind
 * cannot be encoded at all (a template token missing from the tokenizer). */
int lm_dpo_encode(lm_dpo_enc *d, const char *rec, size_t n, char *err, size_t errlen);

/* The prompt of one record into d->e.ids (lm-train --ppo): {"prompt": P} with P a string
 * (encoded as it is) or a list of messages (through the chat template with the generation
 * prompt), {"messages": [...]} (the messages before the last assistant message), and every
 * form lm_dpo_encode reads (the messages before the last answer: chosen and rejected's
 * shared leading messages, an HH-RLHF transcript's turns before its last assistant turn; a
 * "text" transcript too). *chat: 1 when the prompt went through the chat template (a
 * response then ends with <|im_end|>). 0; -1 for a record to skip (the reason in err); -2
 * when the template's tokens are missing from the tokenizer. */
int lm_dpo_encode_prompt(lm_dpo_enc *d, const char *rec, size_t n, int *chat, char *err,
			 size_t errlen);

/* The ids of a pair kept in a row of T positions: nc + nr - 2 <= T. When the pair is longer,
 * each sequence is cut to its first L ids, L the largest that fits (TRL's max_length with
 * truncation_mode keep_start, for this pair). */
void lm_dpo_fit(size_t nc, size_t nr, int T, size_t *kc, size_t *kr);

/* A file of pairs for training: the usable ones (a completion id to score in both sequences
 * once fitted into T positions; a cut one counted in `truncated`), a seeded shuffle, the first
 * val_fraction held out, the rest packed into rows of T positions in that order (chosen, then
 * rejected, a pair never split: both in one row; the rest of a row padding without loss).
 * Every epoch reads the rows in another seeded order, as sft.h's. ids_hash: of every usable
 * pair's kept ids and prompt length (the data, the tokenizer and T in one number). */
typedef struct lm_dpo_data {
	char path[4096];
	void *map;
	size_t size;
	lm_dpo_enc enc;
	int T;
	uint64_t seed;
	uint64_t *off;		/* the usable pairs: offsets of their lines */
	uint32_t *len;		/* their lengths in bytes */
	uint32_t *nc, *nr;	/* their kept ids */
	size_t n;
	uint32_t *train, *val;	/* pair numbers, training ones in packing order */
	size_t ntrain, nval;
	uint32_t *row;		/* row r: training pairs train[row[r]] .. train[row[r + 1] - 1] */
	uint64_t rows;
	uint32_t *vrow;		/* the same for the held-out pairs */
	uint64_t vrows;
	uint32_t *perm;
	int64_t perm_epoch;
	uint64_t records, skipped, truncated;
	uint64_t ids_hash;
	char first_skip[512];
} lm_dpo_data;

int lm_dpo_open(lm_dpo_data *d, const char *path, const cm_tok *tok, int T, uint64_t seed,
		double val_fraction, char *err, size_t errlen);
void lm_dpo_close(lm_dpo_data *d);

/* A pair in a batch: its number, where its chosen (0) and rejected (1) sequences are (the
 * first position in the B x T order and how many), and their completion ids (TRL's
 * completion_mask sum, IPO's length). */
typedef struct lm_dpo_item {
	uint32_t pair;
	int64_t at[2];
	int32_t len[2];
	int32_t comp[2];
} lm_dpo_item;

/* Row r of the training (val 0) or held-out (val 1) rows into row `slot` of x, y, pos, doc
 * ([.. x T]; y -1: no loss), its pairs appended to items (*nitems of them so far). */
void lm_dpo_fill(lm_dpo_data *d, int val, uint64_t r, int slot, int32_t *x, int32_t *y,
		 int32_t *pos, int32_t *doc, lm_dpo_item *items, int *nitems);
/* The B rows of micro-batch k (k x B rows before it) as lm_dpo_fill's, items from 0; returns
 * the pairs. */
int lm_dpo_rows(lm_dpo_data *d, uint64_t k, int B, int32_t *x, int32_t *y, int32_t *pos,
		int32_t *doc, lm_dpo_item *items);

/* ---- losses and metrics ---- */

enum { LM_DPO_SIGMOID, LM_DPO_IPO, LM_DPO_HINGE };
extern const char *const lm_dpo_losses[];	/* "sigmoid", "ipo", "hinge", NULL */

typedef struct lm_dpo_opts {
	int loss;
	double beta;
	double smoothing;	/* sigmoid: conservative DPO's label smoothing */
} lm_dpo_opts;

/* One pair's loss from the policy's (pc, pr) and the reference's (qc, qr) log-probabilities
 * of chosen and rejected, nc and nr their completion ids (IPO); d loss / d pc into *gc and
 * d loss / d pr into *gr. With z = (pc - qc) - (pr - qr):
 *   sigmoid  -(1 - s) log sigmoid(beta z) - s log sigmoid(-beta z)
 *   ipo      ((pc - qc) / nc - (pr - qr) / nr - 1 / (2 beta))^2
 *   hinge    max(0, 1 - beta z) */
double lm_dpo_loss(const lm_dpo_opts *o, double pc, double pr, double qc, double qr, int nc,
		   int nr, double *gc, double *gr);

/* Sums over pairs of the loss and of TRL's metrics: rewards/chosen beta (pc - qc),
 * rewards/rejected beta (pr - qr), rewards/margins their difference, rewards/accuracies 1
 * where the chosen reward is the greater, logps/chosen pc, logps/rejected pr. */
typedef struct lm_dpo_stats {
	double pairs, loss, chosen, rejected, margins, accuracies, logps_c, logps_r;
} lm_dpo_stats;
void lm_dpo_stats_add(lm_dpo_stats *s, const lm_dpo_opts *o, double pc, double pr, double qc,
		      double qr, double loss);
/* The means as JSON members: ,"PREFIXloss":.. (when loss),"PREFIXrewards/chosen":.. (TRL's
 * names; the prefix "" or "eval_"), "PREFIXpairs" their number, into buf. */
void lm_dpo_stats_json(const lm_dpo_stats *s, const char *prefix, int loss, char *buf,
		       size_t n);

/* ---- the reference log-probabilities' file ----
 * "LMDPOREF", version 1, T, ids_hash, ref_hash (of the reference's weights), n, then 2n
 * doubles (pair i's chosen and rejected), then the XXH3-64 of all bytes before it; little
 * endian. */
/* Read path into ref (2 n doubles) when it holds n pairs of ids_hash (and ref_hash, unless 0).
 * 1: read; 0: absent or of other data or another reference (why says which); -1: unreadable
 * or damaged, with the reason. */
int lm_dpo_ref_load(const char *path, uint64_t ids_hash, uint64_t ref_hash, int T, size_t n,
		    double *ref, char *why, size_t whylen);
/* Write it (through a temporary file renamed over path). 0, or -1 with the reason. */
int lm_dpo_ref_save(const char *path, uint64_t ids_hash, uint64_t ref_hash, int T, size_t n,
		    const double *ref, char *err, size_t errlen);
#endif
