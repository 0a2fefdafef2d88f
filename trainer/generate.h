/* generate.h - text generation with the KV cache: a batch of prompts decoded together, each
 * row with its own length, sampling settings and stop conditions. lm-sample and lm-serve use
 * it; greedy decoding with stop strings (lm-eval's generation tasks) is temperature 0. */
#ifndef LM_GENERATE_H
#define LM_GENERATE_H
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "model.h"
#include "tok.h"

/* Why a row ended. */
enum { LM_GEN_LENGTH, LM_GEN_EOT, LM_GEN_STOP, LM_GEN_CANCELLED };

/* One row: what the caller sets, then what lm_generate fills. */
typedef struct lm_gen {
	/* set by the caller (zero the struct first) */
	const uint32_t *prompt;	/* at least one token, each below the model's vocabulary */
	size_t nprompt;
	int max_new;		/* tokens to generate at most; nprompt + max_new <= the context */
	double temperature;	/* softmax temperature; 0 picks the likeliest token (greedy) */
	int top_k;		/* sample among the top_k likeliest tokens (0: all) */
	double top_p;		/* among the likeliest holding top_p of the probability (0 or 1: all) */
	uint64_t seed;		/* this row's random stream */
	int64_t eot;		/* a token that ends the row (kept in ids, not in text); -1: none */
	const uint32_t *ends;	/* more tokens that end the row as eot does (a chat reply's
				 * <|endoftext|> beside its <|im_end|>) */
	size_t nends;
	const char *const *stop;	/* strings that end the row when the decoded text holds one */
	size_t nstop;
	int logprobs;		/* -1: none; else each generated token's log-probability (of the
				 * model's distribution, before temperature) into lp, and the
				 * logprobs likeliest tokens of its position, best first, into
				 * top_id/top_lp[i * logprobs ..] */
	/* filled by lm_generate (lm_gen_free frees them) */
	uint32_t *ids;		/* the tokens generated, the eot that ended the row included */
	size_t nids;
	cm_buf text;		/* their bytes up to the first stop string (which is left out),
				 * the ending eot's not included; may end inside a UTF-8 character */
	float *lp;
	uint32_t *top_id;
	float *top_lp;
	int finish;		/* LM_GEN_* */
} lm_gen;

/* The caller's say between decode steps and as tokens come (any may be NULL). */
typedef struct lm_gen_hooks {
	int (*cancelled)(void *arg, int row);	/* nonzero: end the row (LM_GEN_CANCELLED) */
	void (*token)(void *arg, int row, uint32_t id);	/* each token as it is generated */
	void *arg;
} lm_gen_hooks;

/* Generate for g[0..n) together on m: one forward pass over the prompts (right-padded to
 * the longest), then one decode step a token for every row at its own position, until each
 * row has max_new tokens, its eot or one of its ends, a stop string (tokens starting at or past the string are
 * dropped from ids), or is cancelled. The KV cache is sized n x the longest prompt +
 * max_new. Returns the tokens generated (the dropped ones counted). */
long long lm_generate(lm_model *m, const cm_tok *tok, lm_gen *g, int n, const lm_gen_hooks *h);
/* Free what lm_generate filled; the caller's fields stay. */
void lm_gen_free(lm_gen *g);

#endif
