/* harness.c - log-likelihood requests scored as lm-evaluation-harness scores them (harness.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "harness.h"

static char *dupn(const char *p, size_t n)
{
	char *s = cm_xmalloc(n + 1);
	memcpy(s, p, n);
	s[n] = 0;
	return s;
}

void lm_req_encode(lm_req *r, cm_tok_ctx *tc, int64_t eot, const char *ctx, size_t nctx,
		   const char *cont, size_t ncont)
{
	memset(r, 0, sizeof *r);
	size_t keep = nctx;
	while (keep > 0 && lm_py_space((unsigned char)ctx[keep - 1]))
		keep--;
	size_t nc = nctx - keep + ncont;
	r->context = dupn(ctx, keep);
	r->continuation = cm_xmalloc(nc + 1);
	memcpy(r->continuation, ctx + keep, nctx - keep);
	memcpy(r->continuation + nctx - keep, cont, ncont);
	r->continuation[nc] = 0;
	cm_ids whole = { 0 };
	if (nctx == 0 || keep == 0) {
		if (eot >= 0)
			cm_ids_push(&whole, (uint32_t)eot);
		size_t n0 = whole.n;
		cm_tok_encode(tc, r->continuation, nc, 1, &whole);
		r->ncont = whole.n - n0;
	} else {
		cm_ids c = { 0 };
		cm_tok_encode(tc, r->context, keep, 1, &c);
		char *all = cm_xmalloc(keep + nc + 1);
		memcpy(all, r->context, keep);
		memcpy(all + keep, r->continuation, nc);
		cm_tok_encode(tc, all, keep + nc, 1, &whole);
		free(all);
		/* the continuation is whole[len(ctx):], as the harness slices it, and the model is
		 * fed tok(context) + that, as its _loglikelihood_tokens feeds it: where a token
		 * spans the boundary (piqa's "?\n" before a choice) tok(context) ends otherwise
		 * than whole does */
		r->ncont = whole.n > c.n ? whole.n - c.n : 0;
		cm_ids fed = { 0 };
		for (size_t k = 0; k < c.n; k++)
			cm_ids_push(&fed, c.v[k]);
		for (size_t k = whole.n - r->ncont; k < whole.n; k++)
			cm_ids_push(&fed, whole.v[k]);
		cm_ids_free(&whole);
		cm_ids_free(&c);
		whole = fed;
	}
	r->tok = whole.v;
	r->n = whole.n;
}

size_t lm_req_rolling(const uint32_t *tokens, size_t n, int maxlen, int64_t eot, lm_req **r,
		      size_t *nr, size_t *cap)
{
	size_t made = 0;
	for (size_t p = 0; p < n; made++) {
		size_t end = p + (size_t)maxlen < n ? p + (size_t)maxlen : n;
		if (*nr == *cap) {
			*cap = *cap ? 2 * *cap : 64;
			*r = cm_xrealloc(*r, *cap * sizeof **r);
		}
		lm_req *q = &(*r)[(*nr)++];
		memset(q, 0, sizeof *q);
		if (p == 0) {
			q->n = end + 1;
			q->tok = cm_xmalloc(q->n * sizeof(uint32_t));
			q->tok[0] = eot >= 0 ? (uint32_t)eot : 0;
			memcpy(q->tok + 1, tokens, end * sizeof(uint32_t));
		} else {
			size_t s = end >= (size_t)maxlen + 1 ? end - maxlen - 1 : 0;
			q->n = end - s;
			q->tok = cm_xmalloc(q->n * sizeof(uint32_t));
			memcpy(q->tok, tokens + s, q->n * sizeof(uint32_t));
		}
		q->ncont = end - p;
		p = end;
	}
	return made;
}

/* One scored position: the target's log-probability (log-softmax in double) into x. */
static void score_pos(lm_req *x, const float *z, int V, uint32_t tg, size_t j)
{
	int best = 0, bad = 0;
	for (int v = 0; v < V; v++) {
		if (!isfinite(z[v]))
			bad = 1;
		if (z[v] > z[best])
			best = v;
	}
	if (bad) {
		x->nonfinite = 1;
		x->ll = NAN;
		x->greedy = 0;
		if (x->lp)
			x->lp[j] = NAN;
		return;
	}
	int k = x->top_id && x->top_lp ? x->topk : 0;
	double lse = lm_logits_lse_top(z, V, k, k ? x->top_id + j * k : NULL,
				       k ? x->top_lp + j * k : NULL);
	double l = (double)z[tg] - lse;
	x->ll += l;
	if ((uint32_t)best != tg)	/* the first maximum, as torch's argmax takes it */
		x->greedy = 0;
	if (x->lp)
		x->lp[j] = (float)l;
}

double lm_logits_lse_top(const float *x, int V, int k, uint32_t *top_id, float *top_lp)
{
	double mx = x[0], s = 0;
	for (int i = 1; i < V; i++)
		if (x[i] > mx)
			mx = x[i];
	for (int i = 0; i < V; i++)
		s += exp((double)x[i] - mx);
	double lse = mx + log(s);
	/* insertion into the k best so far (k is small); ties keep the lower id */
	int have = 0;
	for (int i = 0; i < V && k > 0; i++) {
		if (have == k && x[i] <= x[top_id[k - 1]])
			continue;
		int j = have < k ? have++ : k - 1;
		while (j > 0 && x[i] > x[top_id[j - 1]]) {
			top_id[j] = top_id[j - 1];
			j--;
		}
		top_id[j] = (uint32_t)i;
	}
	for (int j = 0; j < have; j++)
		top_lp[j] = (float)((double)x[top_id[j]] - lse);
	for (int j = have; j < k; j++) {
		top_id[j] = 0;
		top_lp[j] = -INFINITY;
	}
	return lse;
}

static const lm_req *sort_base;
static size_t sort_max;	/* the model's context + 1 */

/* The tokens a request feeds the model: the last min(n, context + 1) but the last one. */
static const uint32_t *input(const lm_req *x, size_t max, size_t *len)
{
	size_t L = x->n < max ? x->n : max;
	*len = L ? L - 1 : 0;
	return x->tok + x->n - L;
}

/* The longest first; requests of the same input next to each other (scored by one row) */
static int by_len(const void *a, const void *b)
{
	const lm_req *x = &sort_base[*(const size_t *)a], *y = &sort_base[*(const size_t *)b];
	size_t lx, ly;
	const uint32_t *sx = input(x, sort_max, &lx), *sy = input(y, sort_max, &ly);
	if (lx != ly)
		return lx < ly ? 1 : -1;
	int c = memcmp(sx, sy, lx * sizeof *sx);
	if (c)
		return c;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static int same_input(const lm_req *x, const lm_req *y, size_t max)
{
	size_t lx, ly;
	const uint32_t *sx = input(x, max, &lx), *sy = input(y, max, &ly);
	return lx == ly && !memcmp(sx, sy, lx * sizeof *sx);
}

void lm_req_score(lm_model *m, lm_req *r, size_t n, int batch_tokens)
{
	lm_req_score_progress(m, r, n, batch_tokens, NULL, NULL);
}

void lm_req_score_progress(lm_model *m, lm_req *r, size_t n, int batch_tokens,
			   void (*progress)(void *arg, size_t done, size_t n), void *arg)
{
	int maxlen = m->cfg.ctx, V = m->cfg.vocab, Vp = m->cfg.vocab_padded;
	size_t *ord = cm_xmalloc((n ? n : 1) * sizeof *ord);
	for (size_t i = 0; i < n; i++)
		ord[i] = i;
	sort_base = r;
	sort_max = (size_t)maxlen + 1;
	qsort(ord, n, sizeof *ord, by_len);
	int32_t *toks = cm_xmalloc((size_t)(batch_tokens > maxlen ? batch_tokens : maxlen) *
				   sizeof(int32_t));
	int *row = cm_xmalloc((n ? n : 1) * sizeof *row);
	int64_t *runs = cm_xmalloc(2 * (n ? n : 1) * sizeof *runs), *first = cm_xmalloc((n ? n : 1) * sizeof *first);
	float *lg = cm_xmalloc((size_t)maxlen * Vp * sizeof(float));
	size_t i = 0;
	while (i < n) {
		/* the longest first: its length pads the batch; a request with the same input as
		 * the one before it (one-token choices after one context) shares its row */
		size_t L;
		input(&r[ord[i]], sort_max, &L);
		int T = L ? (int)L : 1, B = 0;
		size_t k = 0;
		for (; i + k < n; k++) {
			int fresh = !k || !same_input(&r[ord[i + k]], &r[ord[i + k - 1]], sort_max);
			if (fresh && B && (long long)(B + 1) * T > batch_tokens)
				break;
			B += fresh;
			row[k] = B - 1;
			size_t Lx;
			const uint32_t *s = input(&r[ord[i + k]], sort_max, &Lx);
			/* the positions scored: the last min(ncont, input) of the row's input, the
			 * most any request sharing the row scores */
			int64_t nc = (int64_t)(r[ord[i + k]].ncont < Lx ? r[ord[i + k]].ncont : Lx);
			if (fresh) {
				runs[2 * (B - 1)] = (int64_t)(B - 1) * T + (int64_t)Lx - nc;
				runs[2 * (B - 1) + 1] = nc;
			} else if (nc > runs[2 * (B - 1) + 1]) {
				runs[2 * (B - 1)] -= nc - runs[2 * (B - 1) + 1];
				runs[2 * (B - 1) + 1] = nc;
			}
			if (!fresh)
				continue;
			for (int t = 0; t < T; t++)
				toks[(size_t)(B - 1) * T + t] = (size_t)t < Lx ? (int32_t)s[t] : 0;
		}
		/* each row's run of logits, in order: where row b's first scored position lands */
		for (int b = 0, at = 0; b < B; b++) {
			first[b] = at;
			at += (int)runs[2 * b + 1];
		}
		lm_forward_select(m, B, T, toks, runs, B);
		for (size_t b = 0; b < k; b++) {
			lm_req *x = &r[ord[i + b]];
			size_t Tin;
			const uint32_t *s = input(x, sort_max, &Tin);
			size_t nc = x->ncont;
			x->truncated = nc > Tin;
			if (nc > Tin)
				nc = Tin;
			x->ll = 0;
			x->greedy = 1;
			x->nonfinite = 0;
			if (!nc)
				continue;
			size_t p0 = Tin - nc;
			/* the row's run starts at its input's position Tin - run length */
			int64_t at = first[row[b]] + (int64_t)p0 - ((int64_t)Tin - runs[2 * row[b] + 1]);
			lm_logits_get(m, at, (int64_t)nc, lg);
			for (size_t j = 0; j < nc; j++)
				score_pos(x, lg + j * Vp, V, s[p0 + j + 1], j);
		}
		i += k;
		if (progress)
			progress(arg, i, n);
	}
	free(row);
	free(runs);
	free(first);
	free(lg);
	free(toks);
	free(ord);
}

void lm_req_free(lm_req *r)
{
	free(r->context);
	free(r->continuation);
	free(r->tok);
	memset(r, 0, sizeof *r);
}

double lm_stderr(const double *x, size_t n)
{
	if (n < 2)
		return NAN;
	double mean = 0, ss = 0;
	for (size_t i = 0; i < n; i++)
		mean += x[i];
	mean /= n;
	for (size_t i = 0; i < n; i++)
		ss += (x[i] - mean) * (x[i] - mean);
	return sqrt(ss / (n - 1)) / sqrt((double)n);
}
