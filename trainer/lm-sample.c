/* lm-sample - generate text from a checkpoint with a KV cache: temperature, top-k, top-p,
 * seed, stop at end-of-text; the prompt from an argument or stdin; output streamed. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "input.h"
#include "kernels.h"
#include "mem.h"
#include "model.h"
#include "opt.h"
#include "rand.h"
#include "session.h"
#include "tok.h"

static const cm_opt_info info = {
	"[OPTION]... CHECKPOINT [PROMPT]",
	"Generate text from a checkpoint (a run directory, one of its step-N directories, or a\n"
	"Hugging Face model directory). The prompt comes from PROMPT, --prompt, or standard\n"
	"input when that is not a terminal; generation starts after <|endoftext|> (as every\n"
	"training document does) and stops at the next one, said on stderr.\n",
	NULL, "the memory estimate and tokens per second on stderr"
};

typedef struct rng {
	uint64_t s;
} rng;

static double uniform(rng *r)
{
	/* splitmix64: enough for sampling, and reproducible from the seed */
	return (double)(cm_splitmix64(&r->s) >> 11) * (1.0 / 9007199254740992.0);
}

typedef struct cand {
	double p;
	int id;
} cand;

static int by_p(const void *a, const void *b)
{
	const cand *x = a, *y = b;
	if (x->p != y->p)
		return x->p < y->p ? 1 : -1;
	return x->id - y->id;
}

/* Pick a token from logits[0..V). */
static int pick(const float *logits, int V, double temp, int topk, double topp, rng *r, cand *c)
{
	int best = 0;
	for (int i = 1; i < V; i++)
		if (logits[i] > logits[best])
			best = i;
	if (temp <= 0)
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

int main(int argc, char **argv)
{
	cm_init("lm-sample");
	const char *prompt = NULL, *tok_path = NULL;
	lm_device dev = { .name = "auto", .precision = -1 };
	long long max_new = 256, samples = 1, topk = 0, seed = 0;
	double temp = 1.0, topp = 1.0;
	int nostop = 0, ids_out = 0;
	const cm_opt opts[] = {
		CM_OPT_STRING('p', "prompt", &prompt, "TEXT", "the prompt (default: none, or standard input)"),
		CM_OPT_STRING('t', "tokenizer", &tok_path, "FILE",
			      "tokenizer (default: CHECKPOINT/tokenizer.json)"),
		CM_OPT_INT('n', "max-tokens", &max_new, "N", 1, 1 << 24,
			   "tokens to generate at most (default: 256)"),
		CM_OPT_INT('s', "samples", &samples, "N", 1, 4096,
			   "independent samples, generated together (default: 1)"),
		CM_OPT_DOUBLE(0, "temperature", &temp, "F", 0, 100,
			      "softmax temperature; 0 picks the likeliest token (default: 1)"),
		CM_OPT_INT(0, "top-k", &topk, "K", 0, 1 << 24,
			   "sample among the K likeliest tokens (default: 0, all)"),
		CM_OPT_DOUBLE(0, "top-p", &topp, "P", 0, 1,
			      "sample among the likeliest tokens holding P of the\n"
			      "probability (default: 1, all)"),
		CM_OPT_INT(0, "seed", &seed, "N", 0, 1LL << 62, "random seed (default: 0)"),
		CM_OPT_FLAG(0, "no-stop", &nostop, "go on past <|endoftext|>"),
		CM_OPT_FLAG(0, "ids", &ids_out, "print token ids, one line per sample, not text"),
		CM_OPT_INCLUDE(lm_device_opts(&dev)),
		CM_OPT_END()
	};
	int nargs = cm_opt_parse(argc, argv, opts, &info);
	if (nargs < 1)
		cm_usage_error("a checkpoint is required");
	const char *ckpt = argv[1];
	if (nargs > 1) {
		if (prompt)
			cm_usage_error("a prompt both in --prompt and as an argument");
		prompt = argv[2];
	}
	if (nargs > 2)
		cm_usage_error("unexpected argument '%s'", argv[3]);
	if (topp <= 0)
		cm_usage_error("--top-p must be above 0");

	char err[8192], info[1024];
	lm_session S;
	if (lm_session_open(&S, &dev, err, sizeof err) < 0)
		cm_die("--device: %s", err);
	if (lm_session_checkpoint(&S, ckpt, err, sizeof err) < 0 ||
	    lm_session_tokenizer(&S, tok_path, err, sizeof err) < 0)
		cm_die("%s", err);
	const lm_config cfg = S.cfg;
	cm_tok *tok = S.tok;
	if (cm_tok_vocab_size(tok) > (uint32_t)cfg.vocab)
		cm_die("the tokenizer has %u tokens, the model %d: they do not belong together",
		       cm_tok_vocab_size(tok), cfg.vocab);
	int64_t eot = cm_tok_eot(tok);

	/* prompt: argument, or stdin when it is not a terminal */
	cm_buf in = { 0 };
	if (!prompt && !isatty(0)) {
		if (cm_input_read_all("-", &in, 64u << 20) < 0)
			exit(CM_EXIT_FAIL);
		prompt = in.p ? in.p : "";
	}
	cm_ids pids = { 0 };
	if (eot >= 0)
		cm_ids_push(&pids, (uint32_t)eot);
	if (prompt && *prompt) {
		cm_tok_ctx *tc = cm_tok_ctx_new(tok);
		cm_tok_encode(tc, prompt, strlen(prompt), 1, &pids);
		cm_tok_ctx_free(tc);
	}
	if (!pids.n)
		cm_die("an empty prompt and a tokenizer without <|endoftext|>: nothing to start from");
	int Tmax = cfg.ctx;
	if ((long long)pids.n >= Tmax)
		cm_die("the prompt is %zu tokens; the model sees %d", pids.n, Tmax);
	if ((long long)pids.n + max_new > Tmax) {
		max_new = Tmax - (long long)pids.n;
		if (cm_verbosity >= 0)
			cm_warn("generating %lld tokens at most: the model's context is %d", max_new,
				Tmax);
	}
	/* the caches hold the positions used, no more */
	int Tkv = (int)(pids.n + max_new);
	int fits = lm_mem_check_sample(&cfg, S.be, S.adt, (int)samples, (int)pids.n, Tkv, info,
				       sizeof info, err, sizeof err);
	if (cm_verbosity > 0)
		cm_info("%s", info);
	if (fits < 0)
		cm_die("%s", err);

	lm_model *m = lm_session_model(&S, 0, err, sizeof err);
	if (!m)
		cm_die("%s", err);

	int B = (int)samples, V = m->cfg.vocab, Vp = m->cfg.vocab_padded;
	lm_kv_reset(m, B, Tkv);
	float *logits = cm_xmalloc((size_t)B * Vp * sizeof(float));
	int32_t *cur = cm_xmalloc(B * sizeof(int32_t)), *pos = cm_xmalloc(B * sizeof(int32_t));
	int *done = cm_xcalloc(B, sizeof(int));
	cand *cd = cm_xmalloc((size_t)V * sizeof *cd);
	uint32_t **out = cm_xcalloc(B, sizeof *out);
	size_t *nout = cm_xcalloc(B, sizeof *nout);
	for (int b = 0; b < B; b++)
		out[b] = cm_xmalloc((size_t)max_new * sizeof(uint32_t));
	rng r = { (uint64_t)seed * 0x2545f4914f6cdd1dull + 1 };
	int stream = B == 1 && !ids_out;
	double t0 = cm_now(), t_prompt = 0;
	/* the prompt but its last token in one forward pass, filling the caches */
	if (pids.n > 1) {
		int32_t *pt = cm_xmalloc((size_t)B * (pids.n - 1) * sizeof(int32_t));
		for (int b = 0; b < B; b++)
			for (size_t i = 0; i + 1 < pids.n; i++)
				pt[(size_t)b * (pids.n - 1) + i] = (int32_t)pids.v[i];
		lm_prefill(m, pt, (int)(pids.n - 1), logits);
		free(pt);
	}
	t_prompt = cm_now() - t0;
	for (int b = 0; b < B; b++)
		cur[b] = (int32_t)pids.v[pids.n - 1];
	long long generated = 0;
	double t1 = cm_now();
	for (long long s = 0; s < max_new; s++) {
		for (int b = 0; b < B; b++)
			pos[b] = (int32_t)(pids.n - 1 + s);
		lm_decode_step(m, cur, pos, logits);
		int alive = 0;
		for (int b = 0; b < B; b++) {
			if (done[b])
				continue;
			int id = pick(logits + (size_t)b * Vp, V, temp, (int)topk, topp, &r, cd);
			cur[b] = id;
			generated++;
			if (id == eot && !nostop) {
				done[b] = 1;
				continue;
			}
			out[b][nout[b]++] = (uint32_t)id;
			alive++;
			if (stream) {
				size_t len;
				const char *p = cm_tok_bytes(tok, (uint32_t)id, &len);
				if (p) {
					cm_fwrite(p, len, stdout, "standard output");
					cm_fflush(stdout, "standard output");
				}
			}
		}
		if (!alive)
			break;
	}
	double t_gen = cm_now() - t1;
	if (stream) {
		cm_fwrite("\n", 1, stdout, "standard output");
	} else {
		cm_buf text = { 0 };
		for (int b = 0; b < B; b++) {
			if (ids_out) {
				for (size_t i = 0; i < nout[b]; i++)
					printf("%s%u", i ? " " : "", out[b][i]);
				printf("\n");
				continue;
			}
			size_t bad = 0;
			text.len = 0;
			cm_tok_decode(tok, out[b], nout[b], &text, &bad);
			if (B > 1)
				printf("--- sample %d\n", b + 1);
			cm_fwrite(text.p, text.len, stdout, "standard output");
			printf("\n");
		}
		free(text.p);
	}
	/* a sample that ended early, or empty: why (the text first, on a terminal) */
	for (int b = 0; b < B && cm_verbosity >= 0; b++) {
		if (!done[b])
			continue;
		cm_fflush(stdout, "standard output");
		if (B > 1)
			cm_info("sample %d: generation stopped at end-of-text after %zu token%s", b + 1,
				nout[b], nout[b] == 1 ? "" : "s");
		else
			cm_info("generation stopped at end-of-text after %zu token%s", nout[b],
				nout[b] == 1 ? "" : "s");
	}
	if (cm_verbosity > 0)
		cm_info("%lld tokens in %.2f s: %.1f tokens/s (%d sample%s; prompt %zu tokens in %.2f s)",
			generated, t_gen, t_gen > 0 ? (double)generated / t_gen : 0.0, B, B == 1 ? "" : "s",
			pids.n, t_prompt);
	for (int b = 0; b < B; b++)
		free(out[b]);
	free(out);
	free(nout);
	free(cd);
	free(done);
	free(cur);
	free(pos);
	free(logits);
	free(in.p);
	cm_ids_free(&pids);
	lm_session_close(&S);
	return 0;	/* standard output is checked at exit (cm_init) */
}
