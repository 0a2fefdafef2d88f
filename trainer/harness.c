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

/* The k likeliest of x[0..V) given its log-sum-exp (see lm_logits_lse_top). */
static void logits_top(const float *x, int V, double lse, int k, uint32_t *top_id, float *top_lp)
{
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
}

double lm_logits_lse_top(const float *x, int V, int k, uint32_t *top_id, float *top_lp)
{
	double lse;
	int64_t best;
	if (!kn_logits_row(x, V, &lse, &best)) {
		/* a NaN or infinity: what the sum makes of it (NaN or an infinity) */
		double s = 0;
		for (int i = 0; i < V; i++)
			s += exp((double)x[i]);
		lse = log(s);
	}
	logits_top(x, V, lse, k, top_id, top_lp);
	return lse;
}

/* The tokens a request feeds the model: the last min(n, context + 1) but the last one. */
static const uint32_t *input(const lm_req *x, size_t max, size_t *len)
{
	size_t L = x->n < max ? x->n : max;
	*len = L ? L - 1 : 0;
	return x->tok + x->n - L;
}

/* A row of a forward pass: requests first .. first + count - 1 (consecutive, as a task lists
 * an item's choices), their first P input tokens shared (each other token of theirs a
 * document of its own after that prefix, positions as if alone), len positions in all. One
 * request alone: P = 0. */
typedef struct srow {
	size_t first, count;
	int P, len;
} srow;

static int row_longer(const void *a, const void *b)
{
	const srow *x = a, *y = b;
	if (x->len != y->len)
		return x->len < y->len ? 1 : -1;
	return x->first < y->first ? -1 : 1;
}

/* Consecutive requests after a common prefix share a row while that saves as many positions
 * as before (k requests sharing P' save (k - 1) P', never less than the k - 1 of them before
 * did: the next item's choices, after the same first word, start a row of their own) and the
 * row stays within cap positions. Requests cut to the context score alone. */
static size_t make_rows(const lm_req *r, size_t n, size_t max, size_t cap, srow *rows)
{
	size_t nrows = 0;
	for (size_t i = 0; i < n;) {
		size_t Li, k = 1;
		const uint32_t *si = input(&r[i], max, &Li);
		size_t P = Li, sum = Li;
		while (r[i].n <= max && Li > 0 && i + k < n) {
			size_t Ly, l = 0;
			const uint32_t *sy = input(&r[i + k], max, &Ly);
			if (r[i + k].n > max)
				break;
			while (l < P && l < Ly && si[l] == sy[l])
				l++;
			if (l == 0 || k * l < (k - 1) * P || sum + Ly - k * l > cap)
				break;
			P = l;
			sum += Ly;
			k++;
		}
		srow *w = &rows[nrows++];
		w->first = i;
		w->count = k;
		w->P = k > 1 ? (int)P : 0;
		w->len = k > 1 ? (int)(sum - (k - 1) * P) : (int)Li;
		if (w->len < 1)
			w->len = 1;
		i += k;
	}
	return nrows;
}

/* One scored token: request req, its j-th scored position, the logits row it reads */
typedef struct sent {
	size_t req, j;
	int64_t lrow;
	uint32_t target;
	double lp;
	int best, bad;
} sent;

size_t lm_req_score(lm_model *m, lm_req *r, size_t n, int batch_tokens)
{
	return lm_req_score_progress(m, r, n, batch_tokens, NULL, NULL);
}

size_t lm_req_score_progress(lm_model *m, lm_req *r, size_t n, int batch_tokens,
			     void (*progress)(void *arg, size_t done, size_t n), void *arg)
{
	int maxlen = m->cfg.ctx, V = m->cfg.vocab, Vp = m->cfg.vocab_padded;
	size_t max = (size_t)maxlen + 1, N1 = n ? n : 1;
	/* a shared row up to twice the context, where a batch holds that many: a forward pass
	 * stays within max(context, batch_tokens) positions */
	size_t cap = (size_t)(batch_tokens > maxlen ? batch_tokens : maxlen);
	size_t rowcap = (size_t)maxlen * 2 < cap ? (size_t)maxlen * 2 : cap;
	srow *rows = cm_xmalloc(N1 * sizeof *rows);
	size_t nrows = make_rows(r, n, max, rowcap, rows);
	qsort(rows, nrows, sizeof *rows, row_longer);
	int32_t *toks = cm_xmalloc(cap * sizeof *toks), *pos = cm_xmalloc(cap * sizeof *pos);
	int32_t *doc = cm_xmalloc(cap * sizeof *doc), *pre = cm_xmalloc(cap * sizeof *pre);
	int64_t *lidx = cm_xmalloc(cap * sizeof *lidx), *runs = cm_xmalloc(2 * cap * sizeof *runs);
	size_t *seg = cm_xmalloc(N1 * sizeof *seg);	/* where a request's own tokens start */
	float *lg = cm_xmalloc((size_t)maxlen * Vp * sizeof(float));
	double *lse = cm_xmalloc((size_t)maxlen * sizeof *lse);
	int64_t *amax = cm_xmalloc((size_t)maxlen * sizeof *amax);
	int *fin = cm_xmalloc((size_t)maxlen * sizeof *fin);
	sent *e = NULL;
	size_t ecap = 0, done = 0, fed = 0;
	for (size_t i = 0; i < nrows; i++)
		fed += (size_t)rows[i].len;
	for (size_t i = 0; i < nrows;) {
		/* the longest row first: its length pads the batch */
		int T = rows[i].len, B = 1;
		while (i + B < nrows && (long long)(B + 1) * T <= batch_tokens)
			B++;
		size_t ne = 0;
		for (int b = 0; b < B; b++) {
			const srow *w = &rows[i + b];
			int32_t *tk = toks + (size_t)b * T, *ps = pos + (size_t)b * T;
			int32_t *dc = doc + (size_t)b * T, *pr = pre + (size_t)b * T;
			int64_t *li = lidx + (size_t)b * T;
			for (int t = 0; t < T; t++) {
				tk[t] = 0;	/* padding: token 0 at position 0 */
				ps[t] = dc[t] = pr[t] = 0;
				li[t] = -1;
			}
			size_t L0;
			const uint32_t *s0 = input(&r[w->first], max, &L0);
			int at = w->P;
			size_t own = w->count == 1 ? L0 : (size_t)w->P;	/* alone, or the prefix */
			for (size_t t = 0; t < own; t++) {
				tk[t] = (int32_t)s0[t];
				ps[t] = (int32_t)t;
			}
			for (size_t q = w->first; q < w->first + w->count; q++) {
				size_t L;
				const uint32_t *s = input(&r[q], max, &L);
				seg[q] = (size_t)at;
				for (size_t t = (size_t)w->P; w->count > 1 && t < L; t++, at++) {
					tk[at] = (int32_t)s[t];
					ps[at] = (int32_t)t;
					dc[at] = (int32_t)seg[q];
					pr[at] = w->P;
				}
				/* the positions scored: the last min(ncont, input) of its input */
				size_t nc = r[q].ncont < L ? r[q].ncont : L;
				if (ne + nc > ecap) {
					ecap = 2 * (ne + nc);
					e = cm_xrealloc(e, ecap * sizeof *e);
				}
				for (size_t j = 0; j < nc; j++) {
					size_t p = L - nc + j;
					size_t packed = p < (size_t)w->P ? p : seg[q] + p - (size_t)w->P;
					li[packed] = 0;	/* needed; numbered below */
					sent *x = &e[ne++];
					x->req = q;
					x->j = j;
					x->lrow = (int64_t)b * T + (int64_t)packed;	/* for now */
					x->target = s[p + 1];
				}
			}
		}
		/* the needed positions as runs, in order; each one's row among the logits */
		int nruns = 0;
		int64_t nsel = 0, NT = (int64_t)B * T;
		for (int64_t f = 0; f < NT; f++) {
			if (lidx[f] < 0)
				continue;
			lidx[f] = nsel++;
			if (nruns && runs[2 * (nruns - 1)] + runs[2 * (nruns - 1) + 1] == f) {
				runs[2 * (nruns - 1) + 1]++;
			} else {
				runs[2 * nruns] = f;
				runs[2 * nruns + 1] = 1;
				nruns++;
			}
		}
		for (size_t k = 0; k < ne; k++)
			e[k].lrow = lidx[e[k].lrow];
		lm_forward_select(m, B, T, toks, pos, doc, pre, runs, nruns);
		/* the logits a context's worth of rows at a time: each row's log-sum-exp and
		 * argmax once (the rows several requests read, as the shared context's last
		 * position, too), then each token's log-probability */
		for (int64_t c0 = 0; c0 < nsel; c0 += maxlen) {
			int64_t c1 = c0 + maxlen < nsel ? c0 + maxlen : nsel;
			lm_logits_get(m, c0, c1 - c0, lg);
#pragma omp parallel for schedule(dynamic, 4)
			for (int64_t q = c0; q < c1; q++)
				fin[q - c0] = kn_logits_row(lg + (q - c0) * Vp, V, &lse[q - c0],
							    &amax[q - c0]);
#pragma omp parallel for schedule(dynamic, 1)
			for (size_t k = 0; k < ne; k++) {
				sent *x = &e[k];
				if (x->lrow < c0 || x->lrow >= c1)
					continue;
				int64_t q = x->lrow - c0;
				const float *z = lg + q * Vp;
				lm_req *y = &r[x->req];
				x->bad = !fin[q];
				x->lp = x->bad ? NAN : (double)z[x->target] - lse[q];
				/* the first maximum, as torch's argmax takes it */
				x->best = !x->bad && amax[q] == (int64_t)x->target;
				int tk = y->top_id && y->top_lp ? y->topk : 0;
				/* the row's log-sum-exp is known: only the top tokens are new work */
				if (tk && !x->bad)
					logits_top(z, V, lse[q], tk, y->top_id + x->j * tk,
						   y->top_lp + x->j * tk);
				else if (tk)
					lm_logits_lse_top(z, V, tk, y->top_id + x->j * tk,
							  y->top_lp + x->j * tk);
			}
		}
		/* each request's sum, its tokens in order */
		for (int b = 0; b < B; b++)
			for (size_t q = rows[i + b].first; q < rows[i + b].first + rows[i + b].count; q++) {
				size_t L;
				input(&r[q], max, &L);
				r[q].truncated = r[q].ncont > L;
				r[q].ll = 0;
				r[q].greedy = 1;
				r[q].nonfinite = 0;
			}
		for (size_t k = 0; k < ne; k++) {
			lm_req *y = &r[e[k].req];
			if (e[k].bad)
				y->nonfinite = 1;
			y->ll += e[k].lp;
			if (!e[k].best)
				y->greedy = 0;
			if (y->lp)
				y->lp[e[k].j] = (float)e[k].lp;
		}
		for (int b = 0; b < B; b++) {
			done += rows[i + b].count;
			for (size_t q = rows[i + b].first; q < rows[i + b].first + rows[i + b].count; q++)
				if (r[q].nonfinite) {
					r[q].ll = NAN;
					r[q].greedy = 0;
				}
		}
		i += (size_t)B;
		if (progress)
			progress(arg, done, n);
	}
	free(e);
	free(fin);
	free(amax);
	free(lse);
	free(lg);
	free(seg);
	free(runs);
	free(lidx);
	free(pre);
	free(doc);
	free(pos);
	free(toks);
	free(rows);
	return fed;
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
