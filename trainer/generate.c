/* generate.c - batched generation with the KV cache: sampling (temperature, top-k, top-p),
 * per-row prompts and stop conditions, log-probabilities of the generated tokens. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "generate.h"
#include "harness.h"
#include "rand.h"

typedef struct cand {
	double p;
	int id;
} cand;

static double uniform(uint64_t *s)
{
	/* splitmix64: enough for sampling, and reproducible from the seed */
	return (double)(cm_splitmix64(s) >> 11) * (1.0 / 9007199254740992.0);
}

static int by_p(const void *a, const void *b)
{
	const cand *x = a, *y = b;
	if (x->p != y->p)
		return x->p < y->p ? 1 : -1;
	return x->id - y->id;
}

/* Pick a token from logits[0..V): the likeliest at temperature 0, else a draw. */
static int pick(const float *logits, int V, double temp, int topk, double topp, uint64_t *r,
		cand *c)
{
	int best = 0;
	for (int i = 1; i < V; i++)
		if (logits[i] > logits[best])
			best = i;
	if (temp <= 0 || topk == 1)
		return best;
	double mx = logits[best], sum = 0;
	for (int i = 0; i < V; i++) {
		c[i].p = exp((logits[i] - mx) / temp);
		c[i].id = i;
		sum += c[i].p;
	}
	int n = V;
	if (topk > 0 || topp < 1.0) {
		qsort(c, V, sizeof *c, by_p);
		if (topk > 0 && topk < n)
			n = topk;
		if (topp < 1.0) {
			double acc = 0, lim = topp * sum;
			int k;
			for (k = 0; k < n; k++) {
				acc += c[k].p;
				if (acc >= lim) {
					k++;
					break;
				}
			}
			n = k < n ? k : n;
		}
		sum = 0;
		for (int i = 0; i < n; i++)
			sum += c[i].p;
	}
	double u = uniform(r) * sum, acc = 0;
	for (int i = 0; i < n; i++) {
		acc += c[i].p;
		if (u < acc)
			return c[i].id;
	}
	return c[n - 1].id;
}

/* log-softmax of logits[0..V) at id; the k likeliest (ties: the lower id) into top_id/top_lp */
static float logprob(const float *x, int V, uint32_t id, int k, uint32_t *top_id, float *top_lp)
{
	return (float)((double)x[id] - lm_logits_lse_top(x, V, k, top_id, top_lp));
}

/* The first stop string in text at or after from (bytes), or -1. */
static long find_stop(const lm_gen *g, size_t from)
{
	long at = -1;
	for (size_t s = 0; s < g->nstop; s++) {
		size_t n = strlen(g->stop[s]);
		if (!n || g->text.len < n)
			continue;
		size_t f = from > n - 1 ? from - (n - 1) : 0;
		const char *p = memmem(g->text.p + f, g->text.len - f, g->stop[s], n);
		if (p && (at < 0 || p - g->text.p < at))
			at = p - g->text.p;
	}
	return at;
}

/* Is id one of the row's ends (beside its eot)? */
static int is_end(const lm_gen *x, uint32_t id)
{
	for (size_t k = 0; k < x->nends; k++)
		if (x->ends[k] == id)
			return 1;
	return 0;
}

long long lm_generate(lm_model *m, const cm_tok *tok, lm_gen *g, int n, const lm_gen_hooks *h)
{
	static const lm_gen_hooks none = { 0 };
	if (!h)
		h = &none;
	int V = m->cfg.vocab, Vp = m->cfg.vocab_padded;
	size_t maxp = 1, Tkv = 1;
	for (int b = 0; b < n; b++) {
		lm_gen *x = &g[b];
		x->nids = 0;
		x->text.len = 0;
		x->finish = LM_GEN_LENGTH;
		if (x->nprompt > maxp)
			maxp = x->nprompt;
		if (x->nprompt + (size_t)x->max_new > Tkv)
			Tkv = x->nprompt + (size_t)x->max_new;
		size_t cap = x->max_new > 0 ? (size_t)x->max_new : 1;
		x->ids = cm_xrealloc(x->ids, cap * sizeof *x->ids);
		if (x->logprobs >= 0) {
			int k = x->logprobs > 0 ? x->logprobs : 1;
			x->lp = cm_xrealloc(x->lp, cap * sizeof *x->lp);
			x->top_id = cm_xrealloc(x->top_id, cap * k * sizeof *x->top_id);
			x->top_lp = cm_xrealloc(x->top_lp, cap * k * sizeof *x->top_lp);
		}
	}
	if (n <= 0)
		return 0;
	lm_kv_reset(m, n, (int)Tkv);
	float *logits = cm_xmalloc((size_t)n * Vp * sizeof(float));
	int32_t *cur = cm_xmalloc(n * sizeof(int32_t)), *pos = cm_xmalloc(n * sizeof(int32_t));
	int *done = cm_xcalloc(n, sizeof(int));
	uint64_t *rng = cm_xmalloc(n * sizeof *rng);
	size_t *off = NULL;	/* each kept token's first byte in its row's text */
	cand *cd = cm_xmalloc((size_t)V * sizeof *cd);
	int maxnew = 0;
	for (int b = 0; b < n; b++)
		if (g[b].max_new > maxnew)
			maxnew = g[b].max_new;
	off = cm_xmalloc((size_t)n * (maxnew > 0 ? maxnew : 1) * sizeof *off);
	/* every prompt but its last token in one forward pass, right-padded: a row's padding
	 * sits past its prompt and is overwritten before any decode step attends to it */
	if (maxp > 1) {
		size_t T = maxp - 1;
		int32_t *pt = cm_xcalloc((size_t)n * T, sizeof(int32_t));
		for (int b = 0; b < n; b++)
			for (size_t i = 0; i + 1 < g[b].nprompt; i++)
				pt[(size_t)b * T + i] = (int32_t)g[b].prompt[i];
		lm_prefill(m, pt, (int)T, logits);
		free(pt);
	}
	int alive = 0;
	for (int b = 0; b < n; b++) {
		cur[b] = (int32_t)g[b].prompt[g[b].nprompt - 1];
		pos[b] = (int32_t)g[b].nprompt - 1;
		rng[b] = g[b].seed * 0x2545f4914f6cdd1dull + 1;
		done[b] = g[b].max_new <= 0;
		alive += !done[b];
	}
	long long generated = 0;
	while (alive) {
		for (int b = 0; b < n; b++)
			if (!done[b] && h->cancelled && h->cancelled(h->arg, b)) {
				g[b].finish = LM_GEN_CANCELLED;
				done[b] = 1;
				alive--;
			}
		if (!alive)
			break;
		lm_decode_step(m, cur, pos, logits);
		for (int b = 0; b < n; b++) {
			if (done[b])
				continue;
			lm_gen *x = &g[b];
			const float *lg = logits + (size_t)b * Vp;
			int id = pick(lg, V, x->temperature, x->top_k, x->top_p, &rng[b], cd);
			size_t i = x->nids++;
			x->ids[i] = (uint32_t)id;
			generated++;
			if (x->logprobs >= 0)
				x->lp[i] = logprob(lg, V, (uint32_t)id, x->logprobs,
						   x->top_id + i * x->logprobs, x->top_lp + i * x->logprobs);
			if (h->token)
				h->token(h->arg, b, (uint32_t)id);
			off[(size_t)b * maxnew + i] = x->text.len;
			cur[b] = id;
			if ((x->eot >= 0 && id == x->eot) || is_end(x, (uint32_t)id)) {
				x->finish = LM_GEN_EOT;
			} else {
				size_t len = 0, from = x->text.len;
				const char *p = cm_tok_bytes(tok, (uint32_t)id, &len);
				if (p && len)
					cm_buf_add(&x->text, p, len);
				long at = x->nstop ? find_stop(x, from) : -1;
				if (at >= 0) {
					x->text.len = (size_t)at;
					x->text.p[at] = 0;
					while (x->nids && off[(size_t)b * maxnew + x->nids - 1] >= (size_t)at)
						x->nids--;
					x->finish = LM_GEN_STOP;
				}
			}
			if (x->finish != LM_GEN_LENGTH || (int)i + 1 >= x->max_new) {
				done[b] = 1;
				alive--;
				cur[b] = 0;
			} else {
				pos[b]++;
			}
		}
	}
	free(off);
	free(cd);
	free(rng);
	free(done);
	free(pos);
	free(cur);
	free(logits);
	return generated;
}

void lm_gen_free(lm_gen *g)
{
	free(g->ids);
	free(g->text.p);
	free(g->lp);
	free(g->top_id);
	free(g->top_lp);
	g->ids = NULL;
	g->lp = g->top_lp = NULL;
	g->top_id = NULL;
	g->text = (cm_buf){ 0 };
	g->nids = 0;
}
