/* 8082-reward.c - reward model pieces (trainer/reward.c): the Bradley-Terry loss and its
 * gradient on hand-computed numbers; records to chosen and rejected ids (prompt strings, HH-RLHF
 * transcripts, message lists; the end kept when too long) and bad records with their reasons
 * (not JSON, identical, an empty response, an unknown role, a template token missing); the
 * score at the last token: a batch of pairs scores each sequence as alone, whatever the
 * padding after it; the gradient through the score head and the body against finite
 * differences; a file's split, skips by reason, and batches a pure function of the batch
 * number (resume). A classifier's losses (binary cross-entropy, squared error) on hand-computed
 * numbers, and its records (classify.c). */
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bytetok.h"
#include "classify.h"
#include "cli.h"
#include "config.h"
#include "kernels.h"
#include "model.h"
#include "score.h"
#include "tap.h"
#include "tok.h"

static void like_reason(const char *got, const char *re)
{
	regex_t r;
	int m = regcomp(&r, re, REG_EXTENDED | REG_NOSUB) == 0 && regexec(&r, got, 0, NULL, 0) == 0;
	regfree(&r);
	ok(m, "  the reason: '%s' matches /%s/", got, re);
}

/* ids as text: bytes as they are, < > the chat tokens, $ end of text */
static const char *show(const cm_ids *a)
{
	static char s[4096];
	size_t k = 0;
	for (size_t i = 0; i < a->n && k + 2 < sizeof s; i++) {
		uint32_t id = a->v[i];
		s[k++] = id == 257 ? '<' : id == 258 ? '>' : id == 256 ? '$' : (char)id;
	}
	s[k] = 0;
	return s;
}

static int enc(lm_rm_enc *e, const char *rec, int T, char *why)
{
	return lm_rm_encode(e, rec, strlen(rec), T, why, 400);
}

static void loss(void)
{
	/* two pairs: chosen 1 and 0.5, rejected 0 and 0.5 */
	float s[4] = { 1.0f, 0.5f, 0.0f, 0.5f }, ds[4];
	int correct;
	double margin, l = lm_rm_bt(s, 2, 0.5, ds, &correct, &margin);
	double want = log(1 + exp(-1.0)) + log(2.0);
	ok(fabs(l - want) < 1e-12, "Bradley-Terry: log(1 + e^-1) + log 2 = %.9f (got %.9f)", want, l);
	is_int(correct, 1, "  one pair ranked right (a tie is not)");
	ok(fabs(margin - 1.0) < 1e-12, "  the margins sum to 1 (%.9g)", margin);
	double g = -0.5 / (1 + exp(1.0));
	ok(fabs(ds[0] - g) < 1e-7 && fabs(ds[2] + g) < 1e-7 && fabs(ds[1] + 0.25) < 1e-7 &&
	   fabs(ds[3] - 0.25) < 1e-7, "  gradients -scale sigmoid(-z) and its opposite: %g %g %g %g",
	   ds[0], ds[1], ds[2], ds[3]);
	float big[2] = { 0.0f, 200.0f };
	l = lm_rm_bt(big, 1, 1, ds, NULL, NULL);
	ok(fabs(l - 200) < 1e-9 && fabs(ds[0] + 1) < 1e-7, "  a margin of -200: loss 200, no overflow "
	   "(%.9g, %g)", l, ds[0]);
}

static void records(void)
{
	char err[1024], why[400];
	cm_tok *tk = byte_tokenizer_chat(1);
	lm_rm_enc e;
	ok(lm_rm_enc_init(&e, tk, err, sizeof err) == 0, "an encoder: %s", err);
	ok(enc(&e, "{\"prompt\": \"Q: \", \"chosen\": \"yes\", \"rejected\": \"no\"}", 0, why) == 0,
	   "a prompt and two responses: %s", why);
	is_str(show(&e.c), "Q: yes", "  chosen: the prompt and the response, no end-of-text");
	is_str(show(&e.r), "Q: no", "  rejected the same");
	ok(enc(&e, "{\"chosen\": \"\\n\\nHuman: hi\\n\\nAssistant: yes\", \"rejected\": "
	       "\"\\n\\nHuman: hi\\n\\nAssistant: no\"}", 0, why) == 0, "HH-RLHF transcripts: %s", why);
	is_str(show(&e.c), "<user\nhi>\n<assistant\nyes>\n", "  chosen through the chat template");
	is_str(show(&e.r), "<user\nhi>\n<assistant\nno>\n", "  rejected too");
	ok(enc(&e, "{\"prompt\": [{\"role\": \"system\", \"content\": \"s\"}, {\"role\": \"user\", "
	       "\"content\": \"u\"}], \"chosen\": [{\"role\": \"assistant\", \"content\": \"a\"}], "
	       "\"rejected\": [{\"role\": \"assistant\", \"content\": \"b\"}]}", 0, why) == 0,
	   "message lists with a prompt list: %s", why);
	is_str(show(&e.c), "<system\ns>\n<user\nu>\n<assistant\na>\n", "  the prompt's messages first");
	ok(enc(&e, "{\"chosen\": \"plain a\", \"rejected\": \"plain b\"}", 0, why) == 0 &&
	   !strcmp(show(&e.c), "plain a"), "two texts, no prompt, not transcripts: as they are");
	ok(enc(&e, "{\"prompt\": \"abcdef\", \"chosen\": \"gh\", \"rejected\": \"ijk\"}", 4, why) == 0 &&
	   e.truncated, "longer than the context: kept, said");
	is_str(show(&e.c), "efgh", "  the last 4 ids of chosen");
	is_str(show(&e.r), "fijk", "  and of rejected");

	struct { const char *rec; int T, why; const char *re; } bad[] = {
		{ "not json", 0, LM_RM_MALFORMED, "^not a JSON object" },
		{ "{\"prompt\": \"p\", \"chosen\": \"a\", \"chosen\": \"b\", \"rejected\": \"c\"}", 0,
		  LM_RM_MALFORMED, "^not a JSON object: duplicate object key" },
		{ "{\"chosen\": \"a\"}", 0, LM_RM_MALFORMED, "must be both strings or both message lists" },
		{ "{\"prompt\": 3, \"chosen\": \"a\", \"rejected\": \"b\"}", 0, LM_RM_MALFORMED,
		  "\"prompt\" must be a string" },
		{ "{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"a\"}", 0, LM_RM_IDENTICAL,
		  "^identical chosen and rejected$" },
		{ "{\"prompt\": \"p\", \"chosen\": \" \", \"rejected\": \"a\"}", 0, LM_RM_EMPTY,
		  "an empty response" },
		{ "{\"chosen\": \"\\n\\nHuman: hi\\n\\nAssistant:\", \"rejected\": \"\\n\\nHuman: hi"
		  "\\n\\nAssistant: no\"}", 0, LM_RM_EMPTY, "an empty response \\(a transcript" },
		{ "{\"chosen\": \"\\n\\nHuman: hi\\n\\nAssistant: a\\n\\nHuman: b\", \"rejected\": "
		  "\"\\n\\nHuman: hi\\n\\nAssistant: no\"}", 0, LM_RM_EMPTY, "an empty response" },
		{ "{\"chosen\": [{\"role\": \"robot\", \"content\": \"a\"}], \"rejected\": [{\"role\": "
		  "\"assistant\", \"content\": \"b\"}]}", 0, LM_RM_ROLE, "unknown role 'robot'" },
		{ "{\"chosen\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\", "
		  "\"content\": \"\"}], \"rejected\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": "
		  "\"assistant\", \"content\": \"b\"}]}", 0, LM_RM_EMPTY, "an empty response" },
		{ "{\"prompt\": \"abcdefgh\", \"chosen\": \"1xyz\", \"rejected\": \"2xyz\"}", 3,
		  LM_RM_IDENTICAL, "identical chosen and rejected within the context of 3" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int rc = enc(&e, bad[i].rec, bad[i].T, why);
		ok(rc == -1 && e.why == bad[i].why, "skipped as %s: %.60s", lm_rm_skip_names[bad[i].why],
		   bad[i].rec);
		like_reason(why, bad[i].re);
	}
	lm_rm_enc_free(&e);
	cm_tok *plain = byte_tokenizer_chat(0);
	ok(lm_rm_enc_init(&e, plain, err, sizeof err) == 0, "an encoder without the chat tokens");
	ok(enc(&e, "{\"chosen\": \"\\n\\nHuman: hi\\n\\nAssistant: yes\", \"rejected\": "
	       "\"\\n\\nHuman: hi\\n\\nAssistant: no\"}", 0, why) == -2, "transcripts: cannot be encoded");
	like_reason(why, "the chat template's token '<\\|im_start\\|>' is not in the tokenizer");
	ok(enc(&e, "{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\"}", 0, why) == 0,
	   "  prompt strings can");
	lm_rm_enc_free(&e);
	cm_tok_free(plain);
	cm_tok_free(tk);
}

static lm_model *reward_model(kn_backend *be, int training)
{
	char err[1024];
	lm_config c;
	ok(lm_config_load(&c, "tiny", 259, err, sizeof err) == 0, "the tiny preset: %s", err);
	c.layers = 2;
	c.dim = 32;
	c.heads = 2;
	c.kv_heads = 2;
	c.head_dim = 16;
	c.hidden = 64;
	c.ctx = 32;
	c.labels = 1;
	lm_model *m = lm_model_new(be, &c, training);
	lm_model_init(m, 7);
	return m;
}

/* the scores of a batch of pairs, rows padded with pad (or varying ids when pad < 0) */
static void pad_rows(int32_t *x, const int32_t *len, int rows, int T, int pad)
{
	for (int i = 0; i < rows; i++)
		for (int t = 0; t < T; t++)
			if (t >= len[i] || !x[i * T + t])
				x[i * T + t] = t < len[i] ? 1 + (i * 31 + t * 7) % 250 :
					pad >= 0 ? pad : (t * 13 + i) % 259;
}

static void scores(kn_backend *be)
{
	lm_model *m = reward_model(be, 0);
	enum { R = 4, T = 12 };
	int32_t len[R] = { 3, 12, 7, 1 }, x[R * T] = { 0 };
	float batched[R], again[R], alone[1];
	pad_rows(x, len, R, T, 256);
	lm_score_last(m, R, T, x, len, batched);
	double worst = 0, spread = 0;
	for (int i = 0; i < R; i++) {
		lm_score_last(m, 1, len[i], x + i * T, len + i, alone);
		worst = fmax(worst, fabs((double)alone[0] - batched[i]));
		spread = fmax(spread, fabs((double)batched[i] - batched[0]));
	}
	ok(worst < 1e-5 && spread > 1e-4, "two pairs in one forward: each score as the sequence "
	   "alone (worst %.2g; the scores differ by up to %.2g)", worst, spread);
	pad_rows(x, len, R, T, -1);
	lm_score_last(m, R, T, x, len, again);
	worst = 0;
	for (int i = 0; i < R; i++)
		worst = fmax(worst, fabs((double)again[i] - batched[i]));
	ok(worst < 1e-6, "  other ids in the padding: the same scores (worst %.2g)", worst);
	int32_t y[2 * T];
	memcpy(y, x + T, T * sizeof *y);	/* the 12-token row, then a copy cut at 5 */
	memcpy(y + T, x + T, T * sizeof *y);
	int32_t l2[2] = { 12, 5 };
	lm_score_last(m, 2, T, y, l2, again);
	lm_score_last(m, 1, 5, x + T, l2 + 1, alone);
	ok(fabs(again[0] - batched[1]) < 1e-5 && fabs(again[1] - alone[0]) < 1e-5 &&
	   fabs(again[0] - again[1]) > 1e-5, "  the score is the last token's: the same ids "
	   "scored at 12 and at 5 tokens (%g, %g)", again[0], again[1]);
	lm_model_free(m);
}

/* the loss of the model's params as they are: 2 pairs, rows x */
static double pair_loss(lm_model *m, const int32_t *x, const int32_t *len, int T, float *ds)
{
	float s[4];
	lm_score_last(m, 4, T, x, len, s);
	return 0.5 * lm_rm_bt(s, 2, 0.5, ds, NULL, NULL);	/* the mean over the pairs */
}

static void gradients(kn_backend *be)
{
	lm_model *m = reward_model(be, 1);
	enum { T = 6 };
	int32_t len[4] = { 6, 4, 5, 6 }, x[4 * T] = { 0 };
	pad_rows(x, len, 4, T, 256);
	float ds[4];
	be->ops->zero(m->grads);
	pair_loss(m, x, len, T, ds);
	lm_score_grad(m, 4, T, len, ds);
	lm_backward(m);
	int64_t n = m->nparams;
	float *p = cm_xmalloc((size_t)n * sizeof *p), *g = cm_xmalloc((size_t)n * sizeof *g);
	kn_download(m->params, p, (size_t)n * sizeof *p);
	kn_download(m->grads, g, (size_t)n * sizeof *g);
	/* the score head's weights (the last decayed tensor before the layers) and some of the
	 * body's: the largest gradients of each tensor kind are checked */
	const lm_param *score = NULL;
	for (int i = 0; i < m->np; i++)
		if (m->p[i].layer < 0 && m->p[i].field == P_SCORE)
			score = &m->p[i];
	ok(score && score->n == 32, "the score head: [1, 32]");
	int64_t idx[6] = { 0 };
	if (score) {
		idx[0] = score->off;
		idx[1] = score->off + 17;
	}
	/* three body parameters with large gradients */
	for (int k = 2; k < 6; k++) {
		double best = -1;
		for (int64_t i = (k - 2) * (n / 4); i < (k - 1) * (n / 4); i++)
			if (fabs(g[i]) > best && (!score || i < score->off || i >= score->off + score->n)) {
				best = fabs(g[i]);
				idx[k] = i;
			}
	}
	double worst = 0;
	for (int k = 0; k < 6; k++) {
		int64_t i = idx[k];
		double h = 1e-2, keep = p[i], lp, lm;
		p[i] = (float)(keep + h);
		kn_upload(m->params, p, (size_t)n * sizeof *p);
		lp = pair_loss(m, x, len, T, NULL);
		p[i] = (float)(keep - h);
		kn_upload(m->params, p, (size_t)n * sizeof *p);
		lm = pair_loss(m, x, len, T, NULL);
		p[i] = (float)keep;
		double fd = (lp - lm) / (2 * h), rel = fabs(fd - g[i]) / fmax(fabs(fd), 1e-4);
		worst = fmax(worst, rel);
		if (rel > 2e-2)
			printf("# parameter %lld: gradient %.6g, finite difference %.6g\n", (long long)i,
			       g[i], fd);
	}
	kn_upload(m->params, p, (size_t)n * sizeof *p);
	ok(worst < 2e-2, "the gradient through the score head and the body against finite "
	   "differences (worst relative %.2g)", worst);
	free(p);
	free(g);
	lm_model_free(m);
}

static char *write_file(const char *text)
{
	char *path = cm_xstrdup("/tmp/8082-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) < 0)
		cm_die("cannot write a temporary file");
	return path;
}

static void file(void)
{
	char err[1024], buf[256];
	cm_tok *tk = byte_tokenizer_chat(1);
	char *text = cm_xmalloc(1 << 16);
	size_t k = 0;
	for (int i = 0; i < 20; i++)
		k += (size_t)snprintf(text + k, 4096, "{\"prompt\": \"q%d \", \"chosen\": \"yes %d\", "
				      "\"rejected\": \"no\"}\n", i, i);
	k += (size_t)snprintf(text + k, 4096, "{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": "
			      "\"a\"}\nnot json\n\n{\"prompt\": \"p\", \"chosen\": \"\", \"rejected\": "
			      "\"a\"}\n{\"prompt\": \"p\", \"chosen\": \"x\", \"rejected\": \"a\"}\n");
	char *path = write_file(text);
	lm_rm_data d;
	ok(lm_rm_open(&d, path, tk, 16, 5, 0.25, err, sizeof err) == 0, "a file of pairs: %s", err);
	is_int(d.records, 24, "  24 records (the blank line none)");
	is_int(d.skipped, 3, "  3 skipped");
	is_str(lm_rm_skips(&d, buf, sizeof buf), "1 malformed, 1 identical, 1 an empty response",
	       "  counted by reason");
	like_reason(d.first_skip, "^record 21: identical chosen and rejected$");
	ok(d.nval == 5 && d.ntrain == 16, "  a quarter held out (%zu of %zu)", d.nval, d.n);
	enum { B = 4 };
	int32_t x[2 * B * 16], len[2 * B], x2[2 * B * 16], len2[2 * B];
	int T, T2, bad = 0, distinct = 0;
	char rows[16][32];
	for (uint64_t b = 0; b < 4; b++) {
		lm_rm_rows(&d, b, 0, 1, B, x, len, &T);
		for (int i = 0; i < B; i++) {
			/* each pair once: its chosen row as text; rejected ends in "no" or "a" */
			char s[32] = "";
			for (int t = 0; t < len[i] && t < 31; t++)
				s[t] = (char)x[i * T + t];
			s[len[i] < 31 ? len[i] : 31] = 0;
			int seen = 0;
			for (int j = 0; j < distinct; j++)
				seen |= !strcmp(rows[j], s);
			if (!seen && distinct < 16)
				snprintf(rows[distinct++], sizeof rows[0], "%s", s);
			int last = x[(B + i) * T + len[B + i] - 1];
			bad += len[i] > T || len[B + i] > T || (last != 'o' && last != 'a') ||
			       (s[0] != 'q' && strcmp(s, "px"));
		}
	}
	is_int(bad, 0, "4 batches of 4: chosen at rows 0-3, rejected at rows 4-7");
	int once = distinct;
	is_int(once, 16, "  an epoch: each of the 16 training pairs once");
	lm_rm_rows(&d, 6, 0, 1, B, x, len, &T);
	lm_rm_close(&d);
	ok(lm_rm_open(&d, path, tk, 16, 5, 0.25, err, sizeof err) == 0, "opened again");
	lm_rm_rows(&d, 6, 0, 1, B, x2, len2, &T2);
	ok(T == T2 && !memcmp(x, x2, sizeof(int32_t) * 2 * B * T) && !memcmp(len, len2, sizeof len),
	   "  batch 6 the same (a pure function of the seed and the batch number: resume)");
	lm_rm_close(&d);
	ok(lm_rm_open(&d, path, tk, 16, 5, -1, err, sizeof err) == 0 && d.ntrain == 21 &&
	   d.train[0] == 0 && d.train[20] == 20 && d.rec[d.train[20]] == 24,
	   "val_fraction < 0: every pair, in file order, with its record number");
	lm_rm_close(&d);
	unlink(path);
	free(path);
	path = write_file("{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"a\"}\n");
	ok(lm_rm_open(&d, path, tk, 16, 5, 0, err, sizeof err) < 0, "no usable pair: an error");
	like_reason(err, "no usable pair in 1 records; record 1: identical chosen and rejected");
	lm_rm_close(&d);
	unlink(path);
	free(path);
	free(text);
	cm_tok_free(tk);
}

static void classifier(void)
{
	float s[3] = { 0.0f, 2.0f, -1.0f }, y[3] = { 1, 0, 0 }, ds[3];
	int correct;
	double l = lm_cls_loss(LM_CLS_BCE, s, y, 3, 1.0 / 3, ds, &correct);
	double want = log(2.0) + (2 + log1p(exp(-2.0))) + log1p(exp(-1.0));
	ok(fabs(l - want) < 1e-9, "binary cross-entropy: log 2 + softplus(2) + softplus(-1) = %.9f "
	   "(got %.9f)", want, l);
	is_int(correct, 1, "  one right (a logit of 0 is not a positive)");
	ok(fabs(ds[0] + 0.5 / 3) < 1e-7 && fabs(ds[1] - (1 / (1 + exp(-2.0))) / 3) < 1e-7,
	   "  gradients (sigmoid(s) - y) / 3: %g %g %g", ds[0], ds[1], ds[2]);
	float r[2] = { 2.6f, 0.2f }, t[2] = { 3.0f, 1.0f };
	l = lm_cls_loss(LM_CLS_MSE, r, t, 2, 0.5, ds, &correct);
	ok(fabs(l - (0.16 + 0.64)) < 1e-6 && correct == 1 && fabs(ds[0] + 0.4) < 1e-6 &&
	   fabs(ds[1] + 0.8) < 1e-6, "squared error 0.16 + 0.64, 2.6 rounds to 3 and 0.2 not to 1, "
	   "gradients (s - y): %g %g", ds[0], ds[1]);
	cm_tok *tk = byte_tokenizer_chat(0);
	cm_tok_ctx *tc = cm_tok_ctx_new(tk);
	cm_ids ids = { 0 };
	float lab;
	int cut, why;
	char err[400];
	ok(lm_cls_encode(tc, "{\"t\": \"abcdef\", \"y\": true}", 26, "t", "y", LM_CLS_BCE, 4, &ids,
			 &lab, &cut, &why, err, sizeof err) == 0 && lab == 1 && cut && ids.n == 4 &&
	   ids.v[3] == 'd', "a text and a label in fields of their own; cut to its first 4 ids");
	struct { const char *rec; int obj, why; } bad[] = {
		{ "[1]", LM_CLS_BCE, LM_CLS_MALFORMED }, { "{\"t\": \"\", \"y\": 1}", LM_CLS_BCE, LM_CLS_NOTEXT },
		{ "{\"t\": \"a\", \"y\": 0.5}", LM_CLS_BCE, LM_CLS_LABEL },
		{ "{\"t\": \"a\", \"y\": true}", LM_CLS_MSE, LM_CLS_LABEL },
		{ "{\"t\": \"a\"}", LM_CLS_MSE, LM_CLS_LABEL },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		ok(lm_cls_encode(tc, bad[i].rec, strlen(bad[i].rec), "t", "y", bad[i].obj, 0, &ids, &lab,
				 &cut, &why, err, sizeof err) == -1 && why == bad[i].why,
		   "skipped as %s: %s (%s)", lm_cls_skip_names[bad[i].why], bad[i].rec, err);
	ok(lm_cls_encode(tc, "{\"t\": \"a\", \"y\": 4.5}", 20, "t", "y", LM_CLS_MSE, 0, &ids, &lab,
			 &cut, &why, err, sizeof err) == 0 && lab == 4.5f, "a regression's label 4.5");
	cm_ids_free(&ids);
	cm_tok_ctx_free(tc);
	cm_tok_free(tk);
}

int main(void)
{
	char err[1024];
	loss();
	classifier();
	records();
	file();
	kn_backend *be = kn_open("cpu", 1, err, sizeof err);
	if (!be) {
		printf("# SKIP the model checks: %s\n", err);
		return tap_done();
	}
	scores(be);
	gradients(be);
	kn_close(be);
	return tap_done();
}
