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
#include "generate.h"
#include "input.h"
#include "kernels.h"
#include "mem.h"
#include "model.h"
#include "opt.h"
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

/* lm-sample prints each sample's tokens as they come when there is one sample */
typedef struct printer {
	const cm_tok *tok;
	int64_t stop_at;	/* the end-of-text that ends a sample, not printed; -1: none */
} printer;

static void print_token(void *arg, int row, uint32_t id)
{
	const printer *s = arg;
	(void)row;
	if (s->stop_at >= 0 && id == s->stop_at)
		return;
	size_t len;
	const char *p = cm_tok_bytes(s->tok, id, &len);
	if (p) {
		cm_fwrite(p, len, stdout, "standard output");
		cm_fflush(stdout, "standard output");
	}
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

	int B = (int)samples;
	lm_gen *g = cm_xcalloc(B, sizeof *g);
	for (int b = 0; b < B; b++) {
		g[b].prompt = pids.v;
		g[b].nprompt = pids.n;
		g[b].max_new = (int)max_new;
		g[b].temperature = temp;
		g[b].top_k = (int)topk;
		g[b].top_p = topp;
		/* sample 1 keeps the stream of --seed; the others, streams of their own */
		g[b].seed = (uint64_t)seed + (uint64_t)b * 0x9e3779b97f4a7c15ull;
		g[b].eot = nostop ? -1 : eot;
		g[b].logprobs = -1;
	}
	printer st = { tok, nostop ? -1 : eot };
	lm_gen_hooks hooks = { NULL, print_token, &st };
	int stream = B == 1 && !ids_out;
	double t0 = cm_now();
	long long generated = lm_generate(m, tok, g, B, stream ? &hooks : NULL);
	double t_gen = cm_now() - t0;
	/* an ending end-of-text is not part of the sample */
	size_t *nout = cm_xcalloc(B, sizeof *nout);
	for (int b = 0; b < B; b++)
		nout[b] = g[b].nids - (g[b].finish == LM_GEN_EOT);
	if (stream) {
		cm_fwrite("\n", 1, stdout, "standard output");
	} else {
		for (int b = 0; b < B; b++) {
			if (ids_out) {
				for (size_t i = 0; i < nout[b]; i++)
					printf("%s%u", i ? " " : "", g[b].ids[i]);
				printf("\n");
				continue;
			}
			if (B > 1)
				printf("--- sample %d\n", b + 1);
			if (g[b].text.len)
				cm_fwrite(g[b].text.p, g[b].text.len, stdout, "standard output");
			printf("\n");
		}
	}
	/* a sample that ended early, or empty: why (the text first, on a terminal) */
	for (int b = 0; b < B && cm_verbosity >= 0; b++) {
		if (g[b].finish != LM_GEN_EOT)
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
		cm_info("%lld tokens in %.2f s: %.1f tokens/s (%d sample%s; prompt %zu tokens)", generated,
			t_gen, t_gen > 0 ? (double)generated / t_gen : 0.0, B, B == 1 ? "" : "s", pids.n);
	for (int b = 0; b < B; b++)
		lm_gen_free(&g[b]);
	free(g);
	free(nout);
	free(in.p);
	cm_ids_free(&pids);
	lm_session_close(&S);
	return 0;	/* standard output is checked at exit (cm_init) */
}
