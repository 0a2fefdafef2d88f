/* 8082-dpo.c - DPO (trainer/dpo.c, trainer/dpotrain.c): preference records to ids with the
 * shared prompt (strings, messages, HH-RLHF transcripts), bad records (identical, empty, an
 * unknown role, not JSON, a template token missing), pairs fitted into the context, each loss
 * on hand-computable cases and its gradient against finite differences, a file of pairs packed
 * into rows (chosen and rejected in one row, no target on prompt tokens, the batches a pure
 * function of the batch number), on a model: each sequence's log-probability that of the
 * sequence alone, no gradient on prompt or padding positions; the reference file's checks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bytetok.h"
#include "cli.h"
#include "config.h"
#include "dpo.h"
#include "dpotrain.h"
#include "kernels.h"
#include "model.h"
#include "tap.h"

/* ok when got holds sub */
#define like(got, sub, ...) ok(strstr((got), (sub)) != NULL, __VA_ARGS__)

static int enc(lm_dpo_enc *e, const char *rec, char *why)
{
	why[0] = 0;
	return lm_dpo_encode(e, rec, strlen(rec), why, 400);
}

/* ids as text: $ end of text, < > the chat tokens; the completion after a '|' */
static const char *show(const cm_ids *s, size_t prompt)
{
	static char b[2][4096];
	static int w;
	char *o = b[w ^= 1];
	size_t k = 0;
	for (size_t i = 0; i < s->n && k + 3 < sizeof b[0]; i++) {
		if (i == prompt)
			o[k++] = '|';
		uint32_t id = s->v[i];
		o[k++] = id == 256 ? '$' : id == 257 ? '<' : id == 258 ? '>' : (char)id;
	}
	o[k] = 0;
	return o;
}

static void records(void)
{
	char why[400];
	cm_tok *tk = byte_tokenizer_chat(1), *plain = byte_tokenizer();
	lm_dpo_enc e, p;
	ok(lm_dpo_enc_init(&e, tk, why, sizeof why) == 0 && lm_dpo_enc_init(&p, plain, why, 400) == 0,
	   "encoders");

	is_int(enc(&e, "{\"prompt\": \"Q: \", \"chosen\": \"yes\", \"rejected\": \"no\"}", why), 0,
	       "prompt, chosen, rejected strings");
	is_str(show(&e.c, e.prompt), "Q: |yes$", "  prompt + chosen, the end of text closing it");
	is_str(show(&e.r, e.prompt), "Q: |no$", "  prompt + rejected");
	is_int(enc(&e, "{\"prompt\": \"\", \"chosen\": \"ab\", \"rejected\": \"ac\"}", why), 0,
	       "an empty prompt");
	is_str(show(&e.c, e.prompt), "|ab$", "  the completion from the first id (its first no target)");

	const char *conv = "<user\nhi>\n<assistant\n|";
	is_int(enc(&e, "{\"chosen\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", "
		   "\"content\": \"yo\"}], \"rejected\": [{\"role\": \"user\", \"content\": \"hi\"}, "
		   "{\"role\": \"assistant\", \"content\": \"no\"}]}", why), 0, "chosen and rejected messages");
	char want[256];
	snprintf(want, sizeof want, "%syo>\n", conv);
	is_str(show(&e.c, e.prompt), want, "  the shared messages and the generation prompt are the prompt; "
	       "the completion ends with <|im_end|> \\n (TRL's)");
	snprintf(want, sizeof want, "%sno>\n", conv);
	is_str(show(&e.r, e.prompt), want, "  the rejected one");
	is_int(enc(&e, "{\"prompt\": [{\"role\": \"user\", \"content\": \"hi\"}], \"chosen\": [{\"role\": "
		   "\"assistant\", \"content\": \"yo\"}], \"rejected\": [{\"role\": \"assistant\", "
		   "\"content\": \"no\"}]}", why), 0, "prompt, chosen and rejected messages");
	snprintf(want, sizeof want, "%syo>\n", conv);
	is_str(show(&e.c, e.prompt), want, "  the same ids");
	is_int(enc(&e, "{\"chosen\": \"\\n\\nHuman: hi\\n\\nAssistant: yo\", \"rejected\": \"\\n\\nHuman: "
		   "hi\\n\\nAssistant: no\"}", why), 0, "HH-RLHF transcripts");
	is_str(show(&e.c, e.prompt), want, "  their turns as messages: the same ids");
	is_int(enc(&e, "{\"chosen\": \"\\n\\nHuman: a\\n\\nAssistant: b\\n\\nHuman: c\\n\\nAssistant: yes\", "
		   "\"rejected\": \"\\n\\nHuman: a\\n\\nAssistant: b\\n\\nHuman: c\\n\\nAssistant: no\"}", why),
	       0, "a longer transcript");
	is_str(show(&e.r, e.prompt), "<user\na>\n<assistant\nb>\n<user\nc>\n<assistant\n|no>\n",
	       "  every shared turn in the prompt");

	struct {
		const char *rec, *why;
	} bad[] = {
		{ "{\"prompt\": \"a\", \"chosen\": \"b\", \"rejected\": \"b\"}", "chosen and rejected are the same" },
		{ "{\"prompt\": \"a\", \"chosen\": \"\", \"rejected\": \"b\"}", "an empty response" },
		{ "{\"chosen\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\", \"content\": \"\"}], "
		  "\"rejected\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\", \"content\": \"b\"}]}",
		  "an empty response" },
		{ "{\"chosen\": [{\"role\": \"robot\", \"content\": \"a\"}, {\"role\": \"assistant\", \"content\": \"x\"}], "
		  "\"rejected\": [{\"role\": \"robot\", \"content\": \"a\"}, {\"role\": \"assistant\", \"content\": \"y\"}]}",
		  "unknown role 'robot'" },
		{ "not json", "not a JSON object" },
		{ "{\"prompt\": \"a\", \"chosen\": \"b\", \"rejected\": \"c\", \"rejected\": \"d\"}",
		  "not a JSON object: duplicate object key" },
		{ "{\"prompt\": \"a\", \"chosen\": \"b\"}", "no \"chosen\" and \"rejected\"" },
		{ "{\"chosen\": \"plain text\", \"rejected\": \"other text\"}", "is not an HH-RLHF transcript" },
		{ "{\"chosen\": [], \"rejected\": []}", "an empty conversation" },
		{ "{\"prompt\": 1, \"chosen\": \"b\", \"rejected\": \"c\"}", "must be three strings" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int rc = enc(&e, bad[i].rec, why);
		ok(rc == -1 && strstr(why, bad[i].why), "skipped: %s (%s)", bad[i].why, why);
	}
	is_int(enc(&p, "{\"chosen\": \"\\n\\nHuman: a\\n\\nAssistant: b\", \"rejected\": \"\\n\\nHuman: "
		   "a\\n\\nAssistant: c\"}", why), -2, "a template token missing: records of the kind refused");
	like(why, "the chat template's token '<|im_start|>' is not in the tokenizer", "  said");
	is_int(enc(&p, "{\"prompt\": \"a\", \"chosen\": \"b\", \"rejected\": \"c\"}", why), 0,
	       "  strings need no template");

	size_t kc, kr;
	lm_dpo_fit(10, 20, 40, &kc, &kr);
	ok(kc == 10 && kr == 20, "a pair that fits: whole");
	lm_dpo_fit(10, 40, 40, &kc, &kr);
	ok(kc == 10 && kr == 32 && kc + kr - 2 == 40, "a long rejected one cut first (%zu, %zu)", kc, kr);
	lm_dpo_fit(50, 40, 40, &kc, &kr);
	ok(kc == 21 && kr == 21, "both long: the same first ids of each (%zu, %zu)", kc, kr);
	lm_dpo_enc_free(&e);
	lm_dpo_enc_free(&p);
	cm_tok_free(tk);
	cm_tok_free(plain);
}

static void losses(void)
{
	double gc, gr, l;
	lm_dpo_opts o = { LM_DPO_SIGMOID, 0.5, 0 };
	/* z = (pc - qc) - (pr - qr) = 1 - (-1) = 2, beta z = 1 */
	l = lm_dpo_loss(&o, -1, -3, -2, -2, 3, 5, &gc, &gr);
	ok(fabs(l - log1p(exp(-1))) < 1e-12 && fabs(gc + 0.5 / (1 + exp(1))) < 1e-12 && gr == -gc,
	   "sigmoid: -log sigmoid(beta z) = %.9f, d/dpc -beta sigmoid(-beta z) = %.9f", l, gc);
	o.smoothing = 0.2;
	l = lm_dpo_loss(&o, -1, -3, -2, -2, 3, 5, &gc, &gr);
	ok(fabs(l - (0.8 * log1p(exp(-1)) + 0.2 * log1p(exp(1)))) < 1e-12,
	   "sigmoid, label smoothing 0.2: 0.8 log(1 + e^-1) + 0.2 log(1 + e) = %.9f", l);
	o = (lm_dpo_opts){ LM_DPO_IPO, 0.5, 0 };
	/* (1 / 2 - (-1) / 4 - 1) ^ 2 = 0.0625 */
	l = lm_dpo_loss(&o, -1, -3, -2, -2, 2, 4, &gc, &gr);
	ok(fabs(l - 0.0625) < 1e-12 && fabs(gc + 0.25) < 1e-12 && fabs(gr - 0.125) < 1e-12,
	   "ipo: per completion token: (1/2 + 1/4 - 1)^2 = %.9f, gradients %.4f %.4f", l, gc, gr);
	o = (lm_dpo_opts){ LM_DPO_HINGE, 0.25, 0 };
	l = lm_dpo_loss(&o, -1, -3, -2, -2, 2, 4, &gc, &gr);
	ok(fabs(l - 0.5) < 1e-12 && gc == -0.25 && gr == 0.25, "hinge: 1 - beta z = %.9f", l);
	o.beta = 1;
	l = lm_dpo_loss(&o, -1, -3, -2, -2, 2, 4, &gc, &gr);
	ok(l == 0 && gc == 0 && gr == 0, "hinge: 0 past the margin, no gradient");
	/* the gradients against central differences */
	double worst = 0;
	for (int k = 0; k < 3; k++)
		for (int t = 0; t < 20; t++) {
			lm_dpo_opts q = { k, 0.05 + 0.1 * t, k == 0 ? 0.01 * t : 0 };
			double pc = -10 + t, pr = -12 + 0.7 * t, qc = -11, qr = -9 - 0.1 * t, h = 1e-6, a, b;
			lm_dpo_loss(&q, pc, pr, qc, qr, 3 + t, 7, &gc, &gr);
			double lp = lm_dpo_loss(&q, pc + h, pr, qc, qr, 3 + t, 7, &a, &b);
			double lm = lm_dpo_loss(&q, pc - h, pr, qc, qr, 3 + t, 7, &a, &b);
			worst = fmax(worst, fabs((lp - lm) / (2 * h) - gc));
			lp = lm_dpo_loss(&q, pc, pr + h, qc, qr, 3 + t, 7, &a, &b);
			lm = lm_dpo_loss(&q, pc, pr - h, qc, qr, 3 + t, 7, &a, &b);
			worst = fmax(worst, fabs((lp - lm) / (2 * h) - gr));
		}
	ok(worst < 1e-6, "the three losses' gradients as central differences (worst %.2g)", worst);
	lm_dpo_stats s = { 0 };
	o = (lm_dpo_opts){ LM_DPO_SIGMOID, 0.5, 0 };
	lm_dpo_stats_add(&s, &o, -1, -3, -2, -2, 0.25);
	lm_dpo_stats_add(&s, &o, -4, -3, -2, -2, 0.75);
	char buf[1024];
	const char *js = buf;
	lm_dpo_stats_json(&s, "eval_", 1, buf, sizeof buf);
	is_str(js, ",\"eval_loss\":0.5,\"eval_rewards/chosen\":-0.25,\"eval_rewards/rejected\":-0.5,"
	       "\"eval_rewards/margins\":0.25,\"eval_rewards/accuracies\":0.5,\"eval_logps/chosen\":-2.5,"
	       "\"eval_logps/rejected\":-3,\"eval_pairs\":2", "TRL's metrics, means over the pairs");
}

static void ref_file(void)
{
	char p[] = "/tmp/8082-dpo-XXXXXX", f[64], why[4400];
	ok(mkdtemp(p) != NULL, "a temporary directory");
	snprintf(f, sizeof f, "%s/ref.bin", p);
	double v[6] = { -1.5, -2.25, -3, -4, -5.125, 1e-300 }, w[6];
	is_int(lm_dpo_ref_load(f, 7, 9, 32, 3, w, why, sizeof why), 0, "absent: none yet");
	is_int(lm_dpo_ref_save(f, 7, 9, 32, 3, v, why, sizeof why), 0, "written");
	ok(lm_dpo_ref_load(f, 7, 9, 32, 3, w, why, sizeof why) == 1 && !memcmp(v, w, sizeof v),
	   "read back, the same doubles");
	is_int(lm_dpo_ref_load(f, 7, 0, 32, 3, w, why, sizeof why), 1, "any reference (resume)");
	is_int(lm_dpo_ref_load(f, 8, 9, 32, 3, w, why, sizeof why), 0, "other pairs: not used");
	like(why, "of other pairs", "  said");
	is_int(lm_dpo_ref_load(f, 7, 9, 64, 3, w, why, sizeof why), 0, "another context: not used");
	is_int(lm_dpo_ref_load(f, 7, 10, 32, 3, w, why, sizeof why), 0, "another reference: not used");
	like(why, "of another reference model", "  said");
	FILE *fp = fopen(f, "r+b");
	fseek(fp, 50, SEEK_SET);
	fputc(0x55, fp);
	fclose(fp);
	is_int(lm_dpo_ref_load(f, 7, 9, 32, 3, w, why, sizeof why), -1, "a changed byte: damaged");
	like(why, "damaged", "  said");
	ok(truncate(f, 60) == 0 && lm_dpo_ref_load(f, 7, 9, 32, 3, w, why, sizeof why) == -1,
	   "cut short: refused (%s)", why);
	unlink(f);
	rmdir(p);
}

/* a file of pairs on a model */
static void rows(kn_backend *be)
{
	char p[] = "/tmp/8082-dpo-XXXXXX", f[64], err[4400];
	ok(mkdtemp(p) != NULL, "a temporary directory");
	snprintf(f, sizeof f, "%s/pairs.jsonl", p);
	FILE *fp = fopen(f, "w");
	for (int i = 0; i < 30; i++)
		fprintf(fp, "{\"prompt\": \"%.*s?\", \"chosen\": \"%.*s\", \"rejected\": \"no %.*s\"}\n",
			3 + i % 7, "question number", 1 + i % 5, "answer", 1 + (i * 3) % 9, "not at all");
	fprintf(fp, "{\"prompt\": \"%s\", \"chosen\": \"a\", \"rejected\": \"b\"}\n",
		"a prompt longer than the context of forty-eight positions");
	fprintf(fp, "{\"prompt\": \"p\", \"chosen\": \"%s\", \"rejected\": \"b\"}\n",
		"a response longer than the context of forty-eight positions, cut");
	fprintf(fp, "not json\n{\"prompt\": \"a\", \"chosen\": \"b\", \"rejected\": \"b\"}\n");
	fclose(fp);
	cm_tok *tk = byte_tokenizer_chat(1);
	lm_dpo_data d;
	enum { T = 48, B = 3 };
	ok(lm_dpo_open(&d, f, tk, T, 5, 0.2, err, sizeof err) == 0, "a file of pairs: %s", err);
	ok(d.records == 34 && d.skipped == 3 && d.truncated == 1 && d.n == 31,
	   "34 records, 3 skipped, 1 cut to fit (%llu, %llu, %llu)", (unsigned long long)d.records,
	   (unsigned long long)d.skipped, (unsigned long long)d.truncated);
	like(d.first_skip, "record 31: no response token within the context of 48", "  the first skip named");
	ok(d.nval == 6 && d.ntrain == 25, "6 held out");
	int32_t x[B * T], y[B * T], pos[B * T], doc[B * T], x2[B * T], y2[B * T], pos2[B * T],
		doc2[B * T];
	lm_dpo_item it[B * (T / 2 + 1)], it2[B * (T / 2 + 1)];
	int n = lm_dpo_rows(&d, 3, B, x, y, pos, doc, it);
	lm_dpo_rows(&d, 0, B, x2, y2, pos2, doc2, it2);
	lm_dpo_rows(&d, 11, B, x2, y2, pos2, doc2, it2);
	int n2 = lm_dpo_rows(&d, 3, B, x2, y2, pos2, doc2, it2);
	ok(n == n2 && !memcmp(x, x2, sizeof x) && !memcmp(y, y2, sizeof y) &&
	   !memcmp(it, it2, (size_t)n * sizeof *it), "batch 3 again after others: the same (resume)");
	/* each pair: chosen then rejected in one row; a target only in the completion */
	int good = n >= B, targets = 0, total = 0;
	for (int i = 0; i < n; i++) {
		for (int w = 0; w < 2; w++) {
			int64_t a = it[i].at[w];
			good &= a / T == it[0 + i].at[0] / T && a % T + it[i].len[w] <= T;
			good &= doc[a] == a % T && pos[a] == 0;
			int seen = 0;
			for (int j = 0; j < it[i].len[w]; j++) {
				if (y[a + j] >= 0)
					seen = 1, targets++;
				else
					good &= !seen;	/* prompt targets first, none after */
			}
			good &= seen && it[i].comp[w] >= 1;
		}
		good &= it[i].at[1] == it[i].at[0] + it[i].len[0];
		total += it[i].len[0] + it[i].len[1];
	}
	ok(good, "%d pairs in %d rows: chosen then rejected in one row, positions from 0, targets only "
	   "in the completion", n, B);
	int pad = 1, padded = 0;
	for (int r = 0; r < B; r++) {
		int used = 0;
		for (int i = 0; i < n; i++)
			if (it[i].at[0] / T == r)
				used += it[i].len[0] + it[i].len[1];
		for (int j = used; j < T; j++, padded++)
			pad &= y[r * T + j] == -1;
	}
	ok(pad && padded + total == B * T, "the rest of each row padding without targets");

	/* on a model: each sequence's log-probability as the sequence alone; no gradient on the
	 * prompt or the padding */
	lm_config c;
	ok(lm_config_load(&c, "tiny", 259, err, sizeof err) == 0, "the tiny preset: %s", err);
	c.layers = 2;
	c.ctx = T;
	c.vocab_padded = (c.vocab + 63) / 64 * 64;
	lm_model *m = lm_model_new(be, &c, 1);
	lm_model_init(m, 3);
	double *ref = calloc(2 * d.n, sizeof *ref);
	for (size_t i = 0; i < 2 * d.n; i++)
		ref[i] = -20.0 - (double)(i % 7);
	float tl[B * T], one[T];
	lm_dpo_opts o = { LM_DPO_SIGMOID, 0.1, 0 };
	lm_dpo_stats st = { 0 };
	lm_forward(m, B, T, x, pos, doc);
	double sum = lm_dpo_micro(m, y, it, n, ref, &o, 1.0f / (float)n, tl, &st);
	double want = 0;
	for (int i = 0; i < n; i++) {
		double lp[2];
		for (int w = 0; w < 2; w++) {
			int64_t a = it[i].at[w];
			lm_model *q = lm_model_new(be, &c, 0);
			float *h = malloc((size_t)m->nparams * sizeof *h);
			kn_download(m->params, h, (size_t)m->nparams * sizeof *h);
			kn_upload(q->params, h, (size_t)q->nparams * sizeof *h);
			free(h);
			lm_params_changed(q);
			lm_forward(q, 1, it[i].len[w], x + a, NULL, NULL);
			lm_loss(q, y + a, 0, one);
			lm_model_free(q);
			lp[w] = 0;
			for (int j = 0; j < it[i].len[w]; j++)
				lp[w] -= one[j];
		}
		double gc, gr;
		want += lm_dpo_loss(&o, lp[0], lp[1], ref[2 * it[i].pair], ref[2 * it[i].pair + 1],
				    it[i].comp[0], it[i].comp[1], &gc, &gr);
	}
	ok(fabs(sum - want) < 1e-4 * fabs(want) && st.pairs == n,
	   "the loss from the packed rows: that of each sequence alone (%.6f, %.6f)", sum, want);
	/* the gradient of the logits: 0 wherever there is no target */
	int64_t Vp = c.vocab_padded;
	float *g = malloc((size_t)B * T * Vp * sizeof *g);
	lm_logits_get(m, 0, B * T, g);
	int zero = 1, nonzero = 0;
	for (int i = 0; i < B * T; i++) {
		double a = 0;
		for (int64_t v = 0; v < Vp; v++)
			a += fabs(g[i * Vp + v]);
		if (y[i] < 0)
			zero &= a == 0;
		else
			nonzero += a > 0;
	}
	ok(zero && nonzero == targets, "no gradient on prompt or padding positions; one on each of the "
	   "%d targets", targets);
	free(g);
	free(ref);
	lm_model_free(m);
	lm_dpo_close(&d);
	cm_tok_free(tk);
	unlink(f);
	rmdir(p);
}

int main(void)
{
	char err[1024];
	records();
	losses();
	ref_file();
	kn_backend *be = kn_open("cpu", 1, err, sizeof err);
	if (!be) {
		printf("# SKIP the model checks: %s\n", err);
		return tap_done();
	}
	rows(be);
	kn_close(be);
	return tap_done();
}
