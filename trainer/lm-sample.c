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
#include "score.h"
#include "session.h"
#include "sft.h"
#include "tok.h"

static const cm_opt_info info = {
	"[OPTION]... CHECKPOINT [PROMPT]",
	"Generate text from a checkpoint (a run directory, one of its step-N directories, or a\n"
	"Hugging Face model directory). The prompt comes from PROMPT, --prompt, or standard\n"
	"input when that is not a terminal; generation starts after <|endoftext|> (as every\n"
	"training document does) and stops at the next one, said on stderr.\n"
	"--chat: a conversation through the model's chat template (lm-train --sft), the user's\n"
	"turns typed on the terminal, or one a line from standard input when that is not one.\n"
	"--best-of N --reward RM: N samples, ranked by a reward model's score, the best first.\n",
	NULL, "the memory estimate and tokens per second on stderr"
};

/* lm-sample prints each sample's tokens as they come when there is one sample */
typedef struct printer {
	const cm_tok *tok;
	int64_t stop_at;	/* the end-of-text that ends a sample, not printed; -1: none */
	int64_t quiet;		/* another token not printed (--chat: <|endoftext|>); -1: none */
} printer;

static void print_token(void *arg, int row, uint32_t id)
{
	const printer *s = arg;
	(void)row;
	if ((s->stop_at >= 0 && id == s->stop_at) || (s->quiet >= 0 && id == s->quiet))
		return;
	size_t len;
	const char *p = cm_tok_bytes(s->tok, id, &len);
	if (p) {
		cm_fwrite(p, len, stdout, "standard output");
		cm_fflush(stdout, "standard output");
	}
}

/* The chat: messages so far (the system's first), the user's turns from stdin. */
typedef struct chat {
	lm_chat_msg *msg;
	size_t n, cap;
} chat;

static void chat_add(chat *c, const char *role, const char *text, size_t n)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->msg = cm_xrealloc(c->msg, c->cap * sizeof *c->msg);
	}
	char *t = cm_xmalloc(n + 1);
	memcpy(t, text, n);
	t[n] = 0;
	c->msg[c->n++] = (lm_chat_msg){ role, t, n };
}

static void chat_drop(chat *c, size_t i)
{
	free((char *)c->msg[i].text);
	memmove(c->msg + i, c->msg + i + 1, (c->n - i - 1) * sizeof *c->msg);
	c->n--;
}

static void run_chat(lm_model *m, cm_tok *tok, const char *system, const lm_gen *proto)
{
	char err[1024];
	lm_sft_enc e;
	if (lm_sft_enc_init(&e, tok, err, sizeof err) < 0)
		cm_die("--chat: %s", err);
	if (e.start < 0 || e.end < 0)
		cm_die("--chat: the tokenizer lacks the chat template's token '%s' (fine-tune with "
		       "lm-train --sft --chat-tokens)", e.start < 0 ? LM_CHAT_START : LM_CHAT_END);
	chat c = { 0 };
	size_t keep = 0;	/* the system message is never dropped */
	if (system) {
		chat_add(&c, "system", system, strlen(system));
		keep = 1;
	}
	int tty = isatty(0), ctx = m->cfg.ctx;
	char *line = NULL;
	size_t cap = 0;
	printer st = { tok, e.end, e.eot };
	uint32_t eot = (uint32_t)e.eot;	/* the other end a reply may have */
	lm_gen_hooks hooks = { NULL, print_token, &st };
	long turn = 0;
	for (;;) {
		if (tty) {
			fputs("> ", stderr);
			fflush(stderr);
		}
		errno = 0;
		ssize_t k = getline(&line, &cap, stdin);
		if (k < 0) {
			if (errno)
				cm_die("standard input: %s", strerror(errno));
			break;
		}
		while (k > 0 && (line[k - 1] == '\n' || line[k - 1] == '\r'))
			line[--k] = 0;
		if (k == 0)
			continue;
		chat_add(&c, "user", line, (size_t)k);
		/* the oldest turns go while the conversation and a reply do not fit */
		for (;;) {
			if (lm_chat_encode(&e, c.msg, c.n, 1, err, sizeof err) < 0)
				cm_die("--chat: %s", err);
			if ((long long)e.ids.n + proto->max_new <= ctx || c.n <= keep + 1)
				break;
			chat_drop(&c, keep);
		}
		if ((long long)e.ids.n >= ctx) {
			cm_warn("--chat: the turn is %zu tokens with the template; the model sees %d: "
				"skipped", e.ids.n, ctx);
			chat_drop(&c, c.n - 1);
			continue;
		}
		lm_gen g = *proto;
		g.prompt = e.ids.v;
		g.nprompt = e.ids.n;
		if ((long long)g.nprompt + g.max_new > ctx)
			g.max_new = ctx - (int)g.nprompt;
		g.seed = proto->seed + (uint64_t)turn * 0x9e3779b97f4a7c15ull;
		g.eot = e.end;
		g.ends = &eot;
		g.nends = e.eot >= 0;
		lm_generate(m, tok, &g, 1, &hooks);
		if (cm_verbosity > 0)
			cm_info("turn %ld: %zu tokens in, %zu out (%s)", turn + 1, g.nprompt,
				g.nids, g.finish != LM_GEN_EOT ? "--max-tokens" :
				g.ids[g.nids - 1] == (uint32_t)e.end ? "<|im_end|>" : "<|endoftext|>");
		cm_fwrite("\n", 1, stdout, "standard output");
		cm_fflush(stdout, "standard output");
		chat_add(&c, "assistant", g.text.p ? g.text.p : "", g.text.len);
		lm_gen_free(&g);
		turn++;
	}
	free(line);
	while (c.n)
		chat_drop(&c, c.n - 1);
	free(c.msg);
	lm_sft_enc_free(&e);
}

/* --best-of: each sample's prompt + text scored by the reward model at rm (its own tokenizer,
 * the text's last tokens when longer than its context), into score[0..n) */
static void reward_scores(const char *rm, const lm_device *dev, const char *prompt,
			  const lm_gen *g, int n, float *score)
{
	char err[8192];
	lm_session R;
	if (lm_session_open(&R, dev, err, sizeof err) < 0)
		cm_die("--device: %s", err);
	if (lm_session_checkpoint(&R, rm, err, sizeof err) < 0 ||
	    lm_session_tokenizer(&R, NULL, err, sizeof err) < 0)
		cm_die("--reward: %s", err);
	if (R.cfg.labels != 1)
		cm_die("--reward: '%s' is not a reward model (lm-train --reward makes one)", rm);
	lm_model *m = lm_session_model(&R, 0, err, sizeof err);
	if (!m)
		cm_die("--reward: %s", err);
	lm_rm_enc e;
	if (lm_rm_enc_init(&e, R.tok, err, sizeof err) < 0)
		cm_die("--reward: %s", err);
	int T = R.cfg.ctx, maxlen = 1;
	cm_ids *ids = cm_xcalloc((size_t)n, sizeof *ids);
	for (int b = 0; b < n; b++) {
		lm_rm_encode_text(&e, prompt, strlen(prompt), g[b].text.p ? g[b].text.p : "",
				  g[b].text.len, T, &ids[b]);
		if (!ids[b].n)	/* nothing to score: the end-of-text token alone */
			cm_ids_push(&ids[b], (uint32_t)e.sft.eot);
		if ((int)ids[b].n > maxlen)
			maxlen = (int)ids[b].n;
	}
	int32_t *x = cm_xmalloc((size_t)n * maxlen * sizeof *x), *len = cm_xmalloc((size_t)n * sizeof *len);
	for (int b = 0; b < n; b++) {
		for (int t = 0; t < maxlen; t++)
			x[(size_t)b * maxlen + t] = t < (int)ids[b].n ? (int32_t)ids[b].v[t] :
				(int32_t)e.sft.eot;
		len[b] = (int32_t)ids[b].n;
		cm_ids_free(&ids[b]);
	}
	lm_score_last(m, n, maxlen, x, len, score);
	free(ids);
	free(x);
	free(len);
	lm_rm_enc_free(&e);
	lm_session_close(&R);
}

static const float *rank_by;

static int by_score(const void *a, const void *b)
{
	float x = rank_by[*(const int *)a], y = rank_by[*(const int *)b];
	return x < y ? 1 : x > y ? -1 : *(const int *)a - *(const int *)b;
}

/* The model, once the memory for B rows of a Tprompt-token prompt and Tkv cached positions
 * is known to fit (the estimate on stderr with -v) */
static lm_model *open_model(lm_session *S, int B, int Tprompt, int Tkv)
{
	char info[1024], err[8192];
	int fits = lm_mem_check_sample(&S->cfg, S->be, S->adt, B, Tprompt, Tkv, info, sizeof info,
				       err, sizeof err);
	if (cm_verbosity > 0)
		cm_info("%s", info);
	if (fits < 0)
		cm_die("%s", err);
	lm_model *m = lm_session_model(S, 0, err, sizeof err);
	if (!m)
		cm_die("%s", err);
	return m;
}

int main(int argc, char **argv)
{
	cm_init("lm-sample");
	const char *prompt = NULL, *tok_path = NULL, *system = NULL;
	int chat_mode = 0;
	lm_device dev = { .name = "auto", .precision = -1 };
	long long max_new = 256, samples = 1, topk = 0, seed = 0;
	double temp = 1.0, topp = 1.0;
	int nostop = 0, ids_out = 0;
	long long best_of = 0;
	const char *reward = NULL;
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
		CM_OPT_FLAG(0, "chat", &chat_mode,
			    "chat through the model's template: a user turn a line\n"
			    "(from the terminal, or standard input), a reply each"),
		CM_OPT_STRING(0, "system", &system, "TEXT", "--chat: the system message"),
		CM_OPT_INT(0, "best-of", &best_of, "N", 1, 4096,
			   "N samples ranked by --reward's score, the best first,\n"
			   "each headed by its score"),
		CM_OPT_STRING(0, "reward", &reward, "RM",
			      "--best-of: the reward model (lm-train --reward) that\n"
			      "scores the prompt and each sample"),
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
	if (chat_mode && (prompt || samples > 1 || ids_out || nostop))
		cm_usage_error("--chat: the turns come from standard input, one sample, as text (no "
			       "%s)", prompt ? "prompt" : samples > 1 ? "--samples" : ids_out ? "--ids" :
			       "--no-stop");
	if (system && !chat_mode)
		cm_usage_error("--system needs --chat");
	if (!best_of != !reward)
		cm_usage_error(best_of ? "--best-of needs --reward" : "--reward needs --best-of");
	if (best_of && (chat_mode || samples > 1))
		cm_usage_error("--best-of: not with %s", chat_mode ? "--chat" : "--samples");
	if (best_of)
		samples = best_of;

	char err[8192];
	lm_session S;
	if (lm_session_open(&S, &dev, err, sizeof err) < 0)
		cm_die("--device: %s", err);
	if (lm_session_checkpoint(&S, ckpt, err, sizeof err) < 0 ||
	    lm_session_tokenizer(&S, tok_path, err, sizeof err) < 0)
		cm_die("%s", err);
	const lm_config cfg = S.cfg;
	cm_tok *tok = S.tok;
	if (cfg.labels)
		cm_die("'%s' is a sequence classifier (a reward model): it does not generate", ckpt);
	if (cm_tok_vocab_size(tok) > (uint32_t)cfg.vocab)
		cm_die("the tokenizer has %u tokens, the model %d: they do not belong together",
		       cm_tok_vocab_size(tok), cfg.vocab);
	int64_t eot = cm_tok_eot(tok);

	if (chat_mode) {
		int Tmax = cfg.ctx;
		if (max_new >= Tmax)
			max_new = Tmax - 1;
		lm_model *m = open_model(&S, 1, Tmax, Tmax);
		lm_gen proto = { .max_new = (int)max_new, .temperature = temp, .top_k = (int)topk,
				 .top_p = topp, .seed = (uint64_t)seed, .logprobs = -1 };
		run_chat(m, tok, system, &proto);
		lm_session_close(&S);
		return 0;
	}
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
	lm_model *m = open_model(&S, (int)samples, (int)pids.n, Tkv);

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
	printer st = { tok, nostop ? -1 : eot, -1 };
	lm_gen_hooks hooks = { NULL, print_token, &st };
	int stream = B == 1 && !ids_out && !best_of;
	double t0 = cm_now();
	long long generated = lm_generate(m, tok, g, B, stream ? &hooks : NULL);
	double t_gen = cm_now() - t0;
	/* an ending end-of-text is not part of the sample */
	size_t *nout = cm_xcalloc(B, sizeof *nout);
	for (int b = 0; b < B; b++)
		nout[b] = g[b].nids - (g[b].finish == LM_GEN_EOT);
	/* --best-of: the samples in the order of their scores, the best first */
	int *order = cm_xmalloc((size_t)B * sizeof *order);
	float *score = best_of ? cm_xmalloc((size_t)B * sizeof *score) : NULL;
	for (int b = 0; b < B; b++)
		order[b] = b;
	if (best_of) {
		reward_scores(reward, &dev, prompt ? prompt : "", g, B, score);
		rank_by = score;
		qsort(order, (size_t)B, sizeof *order, by_score);
	}
	if (stream) {
		cm_fwrite("\n", 1, stdout, "standard output");
	} else {
		for (int k = 0; k < B; k++) {
			int b = order[k];
			if (ids_out) {
				for (size_t i = 0; i < nout[b]; i++)
					printf("%s%u", i ? " " : "", g[b].ids[i]);
				printf("\n");
				continue;
			}
			if (best_of)
				printf("--- sample %d, reward %.6g\n", b + 1, (double)score[b]);
			else if (B > 1)
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
	free(order);
	free(score);
	free(nout);
	free(in.p);
	cm_ids_free(&pids);
	lm_session_close(&S);
	return 0;	/* standard output is checked at exit (cm_init) */
}
