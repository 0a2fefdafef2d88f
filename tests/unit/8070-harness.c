/* 8070-harness.c - lm-eval's scoring (trainer/harness.c): the encoding of a (context,
 * continuation) pair as lm-evaluation-harness makes it (the white space move, the empty
 * context), batched scores against one plain forward pass over the same tokens, the cut to
 * the model's context, rolling windows, the standard error. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "harness.h"
#include "kernels.h"
#include "model.h"
#include "bytetok.h"
#include "tap.h"
#include "tok.h"

/* The summed log-probabilities of tok[n - nc..n) by one forward over tok[0..n - 1). */
static double direct(lm_model *m, const uint32_t *tok, size_t n, size_t nc, int *greedy)
{
	int T = (int)n - 1, V = m->cfg.vocab, Vp = m->cfg.vocab_padded;
	int32_t *in = cm_xmalloc(T * sizeof(int32_t));
	for (int t = 0; t < T; t++)
		in[t] = (int32_t)tok[t];
	lm_forward(m, 1, T, in, NULL, NULL);
	float *lg = cm_xmalloc((size_t)T * Vp * sizeof(float));
	lm_logits_get(m, 0, T, lg);
	double ll = 0;
	*greedy = 1;
	for (size_t j = n - nc; j < n; j++) {
		const float *z = lg + (j - 1) * Vp;
		double s = 0;
		int best = 0;
		for (int v = 0; v < V; v++) {
			s += exp((double)z[v]);
			if (z[v] > z[best])
				best = v;
		}
		ll += z[tok[j]] - log(s);
		*greedy &= best == (int)tok[j];
	}
	free(lg);
	free(in);
	return ll;
}

int main(void)
{
	char err[1024];
	kn_backend *be = kn_open("cpu", 1, err, sizeof err);
	if (!be) {
		printf("1..0 # SKIP %s\n", err);
		return 0;
	}
	cm_tok *tk = byte_tokenizer();
	int64_t eot = cm_tok_eot(tk);
	is_int(eot, 256, "its end-of-text");
	cm_tok_ctx *tc = cm_tok_ctx_new(tk);

	lm_req r[6];
	lm_req_encode(&r[0], tc, eot, "ab \n", 4, "c", 1);
	is_str(r[0].context, "ab", "white space ending the context moves");
	is_str(r[0].continuation, " \nc", "  to the continuation's front");
	ok(r[0].n == 5 && r[0].ncont == 3 && r[0].tok[0] == 'a' && r[0].tok[2] == ' ',
	   "  tokens: context then continuation, 3 scored");
	lm_req_encode(&r[1], tc, eot, "", 0, "xy", 2);
	ok(r[1].n == 3 && r[1].ncont == 2 && r[1].tok[0] == 256 && r[1].tok[1] == 'x',
	   "an empty context is end-of-text");
	lm_req_encode(&r[2], tc, eot, "hello", 5, " world", 6);
	ok(r[2].n == 11 && r[2].ncont == 6 && r[2].tok[0] == 'h', "no end-of-text before a context");
	const char *longtxt = "a context longer than the model sees";
	lm_req_encode(&r[3], tc, eot, longtxt, strlen(longtxt), " end", 4);

	/* requests of the same input: one row, its logits wherever either scores */
	lm_req_encode(&r[4], tc, eot, "hello", 5, "x", 1);
	lm_req_encode(&r[5], tc, eot, "hell", 4, "oy", 2);
	ok(r[4].n == 6 && r[5].n == 6 && r[4].ncont == 1 && r[5].ncont == 2 &&
	   !memcmp(r[4].tok, r[5].tok, 5 * 4), "two requests of the same input, scoring 1 and 2 tokens");

	lm_config c;
	lm_config_load(&c, "tiny", 257, err, sizeof err);
	c.layers = 1;
	c.ctx = 16;
	lm_model *m = lm_model_new(be, &c, 0);
	lm_model_init(m, 7);

	for (int bt = 1; bt <= 64; bt *= 8) {
		lm_req_score(m, r, 6, bt);
		int bad = 0, gbad = 0;
		for (int i = 0; i < 6; i++) {
			int g;
			size_t L = r[i].n < 17 ? r[i].n : 17;
			double want = direct(m, r[i].tok + r[i].n - L, L, r[i].ncont, &g);
			if (fabs(r[i].ll - want) > 1e-5 * fabs(want) || !(r[i].ll < 0)) {
				printf("# request %d: %.9f, directly %.9f\n", i, r[i].ll, want);
				bad++;
			}
			gbad += g != r[i].greedy;
		}
		ok(!bad, "--batch-tokens %d: each request's log-likelihood as one forward pass gives", bt);
		is_int(gbad, 0, "  and is_greedy");
	}
	ok(r[3].n == strlen(longtxt) + 4 && !r[3].truncated, "a long context: its last 16 positions");

	/* per-token log-probabilities and the top tokens, as lm-serve's logprobs asks */
	float lp[6], top_lp[18];
	uint32_t top_id[18];
	r[2].lp = lp;
	r[2].topk = 3;
	r[2].top_id = top_id;
	r[2].top_lp = top_lp;
	double ll2 = r[2].ll;
	lm_req_score(m, &r[2], 1, 64);
	double sum = 0;
	int order = 1, below = 0, gr = 1;
	for (int j = 0; j < 6; j++) {
		sum += lp[j];
		order &= top_lp[3 * j] >= top_lp[3 * j + 1] && top_lp[3 * j + 1] >= top_lp[3 * j + 2];
		below += lp[j] > top_lp[3 * j] + 1e-6f;
		gr &= top_id[3 * j] == r[2].tok[5 + j];
		below += top_id[3 * j] == r[2].tok[5 + j] && lp[j] != top_lp[3 * j];
	}
	ok(fabs(sum - ll2) < 1e-4 * fabs(ll2) && fabs(r[2].ll - ll2) < 1e-9 * fabs(ll2),
	   "per-token log-probabilities sum to the log-likelihood");
	ok(order && !below, "  the top 3, best first, none below the token's own");
	is_int(gr, r[2].greedy, "  greedy: each token the top one");
	r[2].lp = NULL;
	r[2].topk = 0;


	/* an item's choices after one context, a pair whose contexts share their start
	 * (winogrande's), requests cut to the context between them: consecutive requests
	 * after a common prefix share a row, the prefix computed once; every log-likelihood as
	 * one forward pass over the request alone gives, in both styles (learned positions,
	 * rotary ones) */
	const char *item[][2] = {
		{ "Q: ab\nA:", " x" }, { "Q: ab\nA:", " yz" }, { "Q: ab\nA:", " xw" },
		{ "Q: ab\nA:", " q" }, { "Q: cd\nA:", " uv" }, { "Q: cd\nA:", " u" },
		{ "Sam ate the", " pie." }, { "Sam ate it", " pie." }, { longtxt, " x" },
		{ longtxt, " y" }, { "", "first" }, { "", "fine" },
	};
	enum { NI = 12 };
	lm_config cl;
	if (lm_config_parse(&cl, "{\"model_type\": \"llama\", \"vocab_size\": 257, "
			    "\"hidden_size\": 32, \"intermediate_size\": 48, "
			    "\"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
			    "\"num_key_value_heads\": 2, \"max_position_embeddings\": 16}",
			    err, sizeof err) < 0)
		cm_die("%s", err);
	for (int style = 0; style < 2; style++) {
		lm_model *ms = style ? lm_model_new(be, &cl, 0) : m;
		if (style)
			lm_model_init(ms, 11);
		lm_req q[NI];
		size_t alone = 0;
		for (int i = 0; i < NI; i++) {
			lm_req_encode(&q[i], tc, eot, item[i][0], strlen(item[i][0]), item[i][1],
				      strlen(item[i][1]));
			alone += q[i].n < 17 ? q[i].n - 1 : 16;
		}
		size_t fed = lm_req_score(ms, q, NI, 64);
		int bad = 0, gbad = 0;
		for (int i = 0; i < NI; i++) {
			int g;
			size_t L = q[i].n < 17 ? q[i].n : 17;
			double want = direct(ms, q[i].tok + q[i].n - L, L, q[i].ncont, &g);
			if (fabs(q[i].ll - want) > 1e-5 * fabs(want) || !(q[i].ll < 0)) {
				printf("# %s style, request %d: %.9f, alone %.9f\n",
				       style ? "Llama" : "GPT-2", i, q[i].ll, want);
				bad++;
			}
			gbad += g != q[i].greedy;
		}
		ok(!bad && !gbad, "%s style: choices after a shared context score as each alone",
		   style ? "Llama" : "GPT-2");
		/* Q: ab\nA: (8) once, not 4 times; Q: cd\nA: once; "Sam ate " once */
		ok(fed + 3 * 8 + 8 + 8 <= alone, "  the shared contexts computed once (%zu positions, "
		   "%zu alone)", fed, alone);
		double ll64[NI];
		for (int i = 0; i < NI; i++)
			ll64[i] = q[i].ll;
		lm_req_score(ms, q, NI, 1);
		int same = 1;
		for (int i = 0; i < NI; i++) {
			same &= fabs(q[i].ll - ll64[i]) <= 1e-6 * fabs(ll64[i]);
			lm_req_score(ms, &q[i], 1, 64);
			same &= fabs(q[i].ll - ll64[i]) <= 1e-6 * fabs(ll64[i]);
		}
		ok(same, "  the same one row a pass (rows of one context) and one request at a time");
		for (int i = 0; i < NI; i++)
			lm_req_free(&q[i]);
		if (style)
			lm_model_free(ms);
	}

	/* rolling: 40 tokens, windows of 16 */
	uint32_t toks[40];
	for (int i = 0; i < 40; i++)
		toks[i] = 'a' + i % 26;
	lm_req *w = NULL;
	size_t nw = 0, cap = 0;
	is_int(lm_req_rolling(toks, 40, 16, eot, &w, &nw, &cap), 3, "40 tokens: 3 windows of 16");
	ok(w[0].n == 17 && w[0].tok[0] == 256 && w[0].ncont == 16, "  the first after end-of-text");
	ok(w[1].n == 17 && w[1].tok[0] == toks[15] && w[1].ncont == 16, "  the second after 16 tokens");
	ok(w[2].n == 17 && w[2].tok[16] == toks[39] && w[2].ncont == 8,
	   "  the last: 8 tokens predicted after the 9 before them");
	lm_req_score(m, w, nw, 4096);
	ok(w[0].ll < 0 && w[1].ll < 0 && w[2].ll < 0, "  scored");
	for (size_t i = 0; i < nw; i++)
		lm_req_free(&w[i]);
	free(w);

	double x[4] = { 0, 1, 1, 0 };
	ok(fabs(lm_stderr(x, 4) - sqrt(1.0 / 3) / 2) < 1e-15, "standard error: sample sd / sqrt(n)");
	ok(isnan(lm_stderr(x, 1)), "  none of one value");

	/* a NaN weight: every log-likelihood NaN, flagged */
	const lm_hf_tensor *h = lm_hf_find(m, "lm_head.weight");
	if (!h)
		h = lm_hf_find(m, "transformer.wte.weight");
	float *wv = cm_xmalloc((size_t)(h->rows * h->cols) * sizeof(float));
	lm_hf_get(m, h, m->params, wv);
	wv[5] = NAN;
	lm_hf_set(m, h, m->params, wv);
	lm_params_changed(m);
	lm_req_score(m, r, 3, 64);
	ok(r[0].nonfinite && r[1].nonfinite && r[2].nonfinite && isnan(r[0].ll) && !r[0].greedy,
	   "NaN logits: the requests flagged nonfinite, log-likelihood NaN");
	free(wv);

	for (int i = 0; i < 6; i++)
		lm_req_free(&r[i]);
	lm_model_free(m);
	cm_tok_ctx_free(tc);
	cm_tok_free(tk);
	kn_close(be);
	return tap_done();
}
