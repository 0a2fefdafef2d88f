/* 8080-generate.c - batched generation (trainer/generate.c) on tiny GPT-2 and Llama models:
 * prompts of different lengths decoded together give what each gives alone (greedy and
 * sampled from a seed), the generated tokens' log-probabilities are those of one forward pass
 * over prompt + completion, the top tokens, stop strings, an ending token, the cancel and
 * token hooks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "generate.h"
#include "kernels.h"
#include "model.h"
#include "bytetok.h"
#include "tap.h"
#include "tok.h"

/* the log-probabilities of tok[from..n) by one forward pass over tok[0..n - 1) */
static void direct(lm_model *m, const uint32_t *tok, size_t n, size_t from, double *lp)
{
	int T = (int)n - 1, V = m->cfg.vocab, Vp = m->cfg.vocab_padded;
	int32_t *in = cm_xmalloc(T * sizeof(int32_t));
	for (int t = 0; t < T; t++)
		in[t] = (int32_t)tok[t];
	lm_forward(m, 1, T, in, NULL, NULL);
	float *lg = cm_xmalloc((size_t)T * Vp * sizeof(float));
	lm_logits_get(m, 0, T, lg);
	for (size_t j = from; j < n; j++) {
		const float *z = lg + (j - 1) * Vp;
		double s = 0;
		for (int v = 0; v < V; v++)
			s += exp((double)z[v]);
		lp[j - from] = z[tok[j]] - log(s);
	}
	free(lg);
	free(in);
}

static int ncalls;
static int cancel_row1(void *arg, int row)
{
	(void)arg;
	return row == 1 && ++ncalls > 3;
}

static size_t ntok;
static void count(void *arg, int row, uint32_t id)
{
	(void)arg;
	(void)row;
	(void)id;
	ntok++;
}

static void setup(lm_gen *g, const uint32_t *p, size_t n, int max_new, double temp, int lp)
{
	memset(g, 0, sizeof *g);
	g->prompt = p;
	g->nprompt = n;
	g->max_new = max_new;
	g->temperature = temp;
	g->top_p = 1;
	g->seed = 11;
	g->eot = -1;
	g->logprobs = lp;
}

static void run(kn_backend *be, const cm_tok *tk, const char *name, const lm_config *c)
{
	lm_model *m = lm_model_new(be, c, 0);
	lm_model_init(m, 7);
	static const uint32_t p0[] = { 'a' }, p1[] = { 'h', 'e', 'l', 'l', 'o' },
			      p2[] = { 'T', 'h', 'e', ' ', 'c', 'a', 't', ' ', 's' };
	const uint32_t *ps[3] = { p0, p1, p2 };
	size_t pn[3] = { 1, 5, 9 };
	enum { N = 10 };

	for (int sampled = 0; sampled < 2; sampled++) {
		double temp = sampled ? 1.0 : 0.0;
		lm_gen g[3], one[3];
		for (int b = 0; b < 3; b++) {
			setup(&g[b], ps[b], pn[b], N, temp, 3);
			g[b].seed = 11 + b;
		}
		lm_gen_hooks h = { NULL, count, NULL };
		ntok = 0;
		long long made = lm_generate(m, tk, g, 3, &h);
		ok(made == 3 * N && ntok == 3 * N, "%s, %s: 3 rows of %d tokens (hooked: %zu)", name,
		   sampled ? "sampled" : "greedy", N, ntok);
		int same = 1;
		double dlp = 0;
		for (int b = 0; b < 3; b++) {
			setup(&one[b], ps[b], pn[b], N, temp, 3);
			one[b].seed = 11 + b;
			lm_generate(m, tk, &one[b], 1, NULL);
			same &= one[b].nids == g[b].nids && !memcmp(one[b].ids, g[b].ids, N * sizeof(uint32_t));
			for (size_t i = 0; i < g[b].nids && i < one[b].nids; i++)
				dlp = fmax(dlp, fabs(one[b].lp[i] - g[b].lp[i]));
		}
		ok(same && dlp < 1e-5, "  together as alone (prompts of 1, 5 and 9 tokens; lp within %.1g)", dlp);
		/* the log-probabilities against one forward pass over prompt + completion */
		double worst = 0;
		int top = 1, text = 1;
		for (int b = 0; b < 3; b++) {
			uint32_t all[32];
			memcpy(all, ps[b], pn[b] * sizeof(uint32_t));
			memcpy(all + pn[b], g[b].ids, N * sizeof(uint32_t));
			double want[N];
			direct(m, all, pn[b] + N, pn[b], want);
			for (int i = 0; i < N; i++) {
				worst = fmax(worst, fabs(g[b].lp[i] - want[i]));
				top &= g[b].top_lp[3 * i] >= g[b].top_lp[3 * i + 1] &&
				       g[b].top_lp[3 * i + 1] >= g[b].top_lp[3 * i + 2] &&
				       g[b].lp[i] <= g[b].top_lp[3 * i] + 1e-6f;
				if (!sampled)
					top &= g[b].top_id[3 * i] == g[b].ids[i] && g[b].lp[i] == g[b].top_lp[3 * i];
				text &= g[b].ids[i] < 256 && (unsigned char)g[b].text.p[i] == g[b].ids[i];
			}
			text &= g[b].text.len == N && g[b].finish == LM_GEN_LENGTH;
		}
		ok(worst < 1e-4, "  each token's log-probability as one forward pass gives (within %.1g)", worst);
		ok(top, "  the top 3, best first%s", sampled ? "" : ", the first the token picked");
		ok(text, "  the text: the tokens' bytes; finish: length");
		for (int b = 0; b < 3; b++) {
			lm_gen_free(&g[b]);
			lm_gen_free(&one[b]);
		}
	}

	/* a stop string, an ending token, a cancelled row */
	lm_gen g[3];
	setup(&g[0], p1, 5, N, 1.0, -1);
	lm_generate(m, tk, g, 1, NULL);
	uint32_t ids[N];
	memcpy(ids, g[0].ids, sizeof ids);
	char text[N];
	memcpy(text, g[0].text.p, N);
	size_t k = 3;
	while (k + 2 < N && (!text[k] || !text[k + 1]))
		k++;
	char stop[3] = { text[k], text[k + 1], 0 };
	const char *stops[2] = { "\x01\x02\x03", stop };
	lm_gen_free(&g[0]);
	setup(&g[0], p1, 5, N, 1.0, 2);
	g[0].stop = stops;
	g[0].nstop = 2;
	setup(&g[1], p1, 5, N, 1.0, -1);
	setup(&g[2], p1, 5, N, 1.0, -1);
	lm_gen_hooks h = { cancel_row1, NULL, NULL };
	ncalls = 0;
	lm_generate(m, tk, g, 3, &h);
	size_t at = (size_t)((const char *)memmem(text, N, stop, 2) - text);
	ok(g[0].finish == LM_GEN_STOP && g[0].text.len == at && !memcmp(g[0].text.p, text, at) &&
	   g[0].nids == at && !g[0].text.p[at], "  a stop string: the text and tokens before it (%zu)", at);
	ok(g[1].finish == LM_GEN_CANCELLED && g[1].nids == 3, "  a row cancelled after 3 steps");
	ok(g[2].finish == LM_GEN_LENGTH && g[2].nids == N && !memcmp(g[2].ids, ids, sizeof ids),
	   "  the others go on");
	for (int b = 0; b < 3; b++)
		lm_gen_free(&g[b]);
	size_t e = 0;
	while (ids[e] != ids[2])
		e++;
	setup(&g[1], p1, 5, N, 1.0, -1);
	g[1].eot = ids[2];
	lm_generate(m, tk, &g[1], 1, NULL);
	ok(g[1].finish == LM_GEN_EOT && g[1].nids == e + 1 && g[1].ids[e] == ids[2] &&
	   g[1].text.len == e, "  an ending token: kept in ids (%zu), not in the text", e + 1);
	lm_gen_free(&g[1]);
	setup(&g[1], p1, 5, 0, 1.0, -1);
	is_int(lm_generate(m, tk, &g[1], 1, NULL), 0, "  max_new 0: nothing");
	lm_gen_free(&g[1]);
	lm_model_free(m);
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

	lm_config c;
	ok(lm_config_load(&c, "tiny", 256, err, sizeof err) == 0, "the tiny preset: %s", err);
	c.layers = 1;
	c.ctx = 32;
	run(be, tk, "gpt2", &c);
	ok(lm_config_parse(&c, "{\"model_type\": \"llama\", \"hidden_size\": 64, \"num_hidden_layers\": 2, "
			   "\"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"intermediate_size\": 96, "
			   "\"max_position_embeddings\": 32, \"vocab_size\": 256}", err, sizeof err) == 0,
	   "a Llama config: %s", err);
	run(be, tk, "llama", &c);
	cm_tok_free(tk);
	kn_close(be);
	return tap_done();
}
