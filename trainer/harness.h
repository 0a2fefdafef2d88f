/* harness.h - log-likelihood requests scored as lm-evaluation-harness scores them: the
 * encoding of a (context, continuation) pair, rolling windows for perplexity, and batched
 * scoring on a model. lm-eval uses it; a server answering logprob requests can too. */
#ifndef LM_HARNESS_H
#define LM_HARNESS_H
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "tok.h"

/* Python's white space in ASCII (str.isspace(), str.strip(), re's \s): what the harness
 * strips, moves and splits on. */
static inline int lm_py_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

typedef struct lm_req {
	char *context, *continuation;	/* the exact strings scored (after the white space move) */
	uint32_t *tok;			/* context + continuation tokens */
	size_t n, ncont;		/* the last ncont tokens are scored */
	double ll;			/* the sum of their log-probabilities */
	int greedy;			/* every one of them the argmax */
	int truncated;			/* the continuation was longer than the model's context */
	int nonfinite;			/* a logit was NaN or infinite: ll is NaN */
	/* Optional, set by the caller before lm_req_score: per scored token (the last
	 * min(ncont, context) of them), its log-probability into lp[j], and when topk > 0 the
	 * topk most likely tokens at that position, best first, into top_id/top_lp[j * topk ..]. */
	float *lp;
	int topk;
	uint32_t *top_id;
	float *top_lp;
} lm_req;

/* Encode (context, continuation) as the harness does: white space ending the context moves to
 * the continuation's front; the continuation's tokens are tok(context + continuation) past
 * the first len(tok(context)), and the tokens fed are tok(context) followed by them (not
 * tok(context + continuation): a token spanning the boundary is not); an empty context (also
 * one of white space alone) is <|endoftext|> (eot) and the continuation is encoded alone. */
void lm_req_encode(lm_req *r, cm_tok_ctx *tc, int64_t eot, const char *ctx, size_t nctx,
		   const char *cont, size_t ncont);
/* loglikelihood_rolling's windows over tokens[0..n): each token predicted once, windows of
 * maxlen, the first conditioned on eot, the next on the tokens before them. Appends the
 * requests to *r (*nr of them, *cap allocated); returns how many. */
size_t lm_req_rolling(const uint32_t *tokens, size_t n, int maxlen, int64_t eot, lm_req **r,
		      size_t *nr, size_t *cap);
/* Score r[0..n) on m: the last model context + 1 tokens of each. Consecutive requests after a
 * common prefix of input tokens (an item's choices after its context; one-token continuations
 * of one context, as MMLU's letters) share a row: the prefix is computed once and each
 * request's other tokens attend to it and to themselves only, at the positions they would
 * have alone (a shared row holds up to twice the context where batch_tokens allows). Rows are
 * sorted by length and batched (at most batch_tokens positions a forward pass, one row at
 * least), padded on the right; logits only where a token is scored.
 * Sets ll, greedy, truncated and nonfinite (and lp, top_id, top_lp where asked). Returns the
 * positions computed (padding aside). */
size_t lm_req_score(lm_model *m, lm_req *r, size_t n, int batch_tokens);
/* The same, calling progress(arg, requests done, n) after each forward pass. */
size_t lm_req_score_progress(lm_model *m, lm_req *r, size_t n, int batch_tokens,
			     void (*progress)(void *arg, size_t done, size_t n), void *arg);
void lm_req_free(lm_req *r);

/* The log-sum-exp of logits x[0..V) (in double); when k > 0 the k likeliest tokens, best
 * first (ties: the lower id), and their log-probabilities into top_id/top_lp[0..k) (past V
 * of them: id 0, -inf). */
double lm_logits_lse_top(const float *x, int V, int k, uint32_t *top_id, float *top_lp);

/* The standard error of a mean as the harness computes it: the sample standard deviation
 * (n - 1) over sqrt(n); NaN below two values. */
double lm_stderr(const double *x, size_t n);
#endif
