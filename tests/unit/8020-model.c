/* 8020-model.c - the whole model against PyTorch/transformers: loss, logits, per-token
 * log-probabilities and every gradient for GPT-2 and Llama (untied and tied) on the same
 * weights and batch (tests/data/lm, made by gen-fixtures.py), in fp32 and, at bf16's
 * precision, with mixed precision; Hugging Face weights in and out. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt.h"
#include "cli.h"
#include "kernels.h"
#include "kmath.h"
#include "model.h"
#include "safetensors.h"
#include "tap.h"

#define TOL 1e-4

/* Mixed precision (bf16 weights copy, activations and products; fp32 statistics, losses and
 * parameter gradients) against the fp32 fixtures. bf16 rounds a value by up to 2^-9 = 2e-3
 * of itself, and the forward rounds every activation of two layers: measured, max |logit
 * error| / max |logit| 1.0e-2 to 1.6e-2, the mean loss off by 3e-4 to 1e-3 (relative), each
 * gradient tensor's norm by at most 9.4e-3 and ||error|| / ||gradient|| by at most 3.6e-2.
 * The bounds leave about 2x, 10x, 5x and 3x; a wrong operand or a lost gradient is off by
 * order 1. */
#define BF16_LOGITS 3e-2
#define BF16_LOSS 1e-2
#define BF16_GRAD_NORM 5e-2
#define BF16_GRAD 1e-1

/* ||a - b|| / ||b|| */
static double relerr(const float *a, const float *b, size_t n)
{
	double d = 0, s = 0;
	for (size_t i = 0; i < n; i++) {
		d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
		s += (double)b[i] * b[i];
	}
	return s > 0 ? sqrt(d / s) : sqrt(d);
}

static float *tensor_f32(const cm_st *st, const char *name, int64_t *n)
{
	const cm_st_tensor *t = cm_st_find(st, name);
	if (!t)
		return NULL;
	float *b = cm_xmalloc((size_t)t->n * sizeof(float));
	cm_st_to_f32(t, 0, t->n, b);
	*n = t->n;
	return b;
}

/* max |a - b| / max |b| */
static double maxrel(const float *a, const float *b, size_t n)
{
	double d = 0, m = 0;
	for (size_t i = 0; i < n; i++) {
		double e = fabs((double)a[i] - b[i]);
		d = e > d || isnan(e) ? e : d;
		m = fmax(m, fabs(b[i]));
	}
	return m > 0 ? d / m : d;
}

static double norm(const float *a, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += (double)a[i] * a[i];
	return sqrt(s);
}

/* The model in bf16 after its fp32 checks: logits, loss and gradients near the fixture's, the
 * KV cache in bf16 near the bf16 forward; then fp32 again gives the fp32 results bit for bit
 * (f32: the fp32 logits [B T, V], mean loss and flat gradients). */
/* The logits of every position, one position at a time through the KV cache (B x T x V);
 * with P > 0, the first P positions in one prefill (its logits: position P - 1's). */
static float *decode_all(lm_model *m, const int32_t *tok, int B, int T, int V, int Vp, int P)
{
	float *dl = cm_xmalloc((size_t)B * Vp * sizeof(float));
	float *dec = cm_xcalloc((size_t)B * T * V, sizeof(float));
	int32_t cur[16], ps[16];

	lm_kv_reset(m, B, T + 3);
	if (P > 0) {
		int32_t *pt = cm_xmalloc((size_t)B * P * sizeof(int32_t));
		for (int b = 0; b < B; b++)
			for (int t = 0; t < P; t++)
				pt[b * P + t] = tok[b * T + t];
		lm_prefill(m, pt, P, dl);
		for (int b = 0; b < B; b++)
			memcpy(dec + ((size_t)b * T + P - 1) * V, dl + (size_t)b * Vp, V * sizeof(float));
		free(pt);
	}
	for (int t = P; t < T; t++) {
		for (int b = 0; b < B; b++) {
			cur[b] = tok[b * T + t];
			ps[b] = t;
		}
		lm_decode_step(m, cur, ps, dl);
		for (int b = 0; b < B; b++)
			memcpy(dec + ((size_t)b * T + t) * V, dl + (size_t)b * Vp, V * sizeof(float));
	}
	free(dl);
	return dec;
}

static void check_bf16(lm_model *m, const cm_st *ex, const char *dir, int B, int T,
		       const int32_t *tok, const int32_t *tgt, int count, const float *f32,
		       float f32_loss, const float *f32_grads)
{
	int V = m->cfg.vocab, Vp = m->cfg.vocab_padded;
	size_t NV = (size_t)B * T * V, np = (size_t)m->nparams;
	int64_t n = 0;

	lm_model_set_precision(m, KN_BF16);
	float *p = cm_xmalloc(np * 4);
	uint16_t *lw = cm_xmalloc(np * 2);
	kn_download(m->params, p, np * 4);
	kn_download(m->wlow, lw, np * 2);
	size_t bad = 0;
	for (size_t i = 0; i < np; i++)
		bad += lw[i] != kn_bf16_from_f32(p[i]);
	ok(m->wlow->dtype == KN_BF16 && bad == 0,
	   "%s: bf16: the weights copy is the rounding of the fp32 weights (%zu differ)", dir, bad);
	free(p);
	free(lw);

	lm_forward(m, B, T, tok, NULL, NULL);
	float *lg = cm_xmalloc((size_t)B * T * Vp * sizeof(float)), *got = cm_xmalloc(NV * 4);
	lm_logits_get(m, 0, (int64_t)B * T, lg);
	for (int i = 0; i < B * T; i++)
		memcpy(got + (size_t)i * V, lg + (size_t)i * Vp, V * sizeof(float));
	float *want = tensor_f32(ex, "logits", &n);
	double e = maxrel(got, want, NV);
	ok(lm_logits(m)->dtype == KN_BF16 && e < BF16_LOGITS,
	   "%s: bf16: logits (bf16) within %.0e of transformers' (max error / max |logit|: %.2e)",
	   dir, BF16_LOGITS, e);
	free(want);

	double sum = lm_loss(m, tgt, 0.0f, NULL);
	float mean = (float)(sum / count), *wl = tensor_f32(ex, "loss", &n);
	e = fabs(mean - wl[0]) / fabs(wl[0]);
	ok(e < BF16_LOSS, "%s: bf16: loss %.5f within %.0e of %.5f (rel. error %.2e)", dir, mean,
	   BF16_LOSS, wl[0], e);
	free(wl);

	/* the KV cache in bf16: position by position, the bf16 forward's logits (on the CPU
	 * bit for bit, measured; a backend's decoding kernel may round otherwise) */
	float *dec = decode_all(m, tok, B, T, V, Vp, 0);
	e = maxrel(dec, got, NV);
	ok(m->kc->dtype == KN_BF16 && e < BF16_LOGITS,
	   "%s: bf16: decoding with the (bf16) KV cache gives the bf16 forward's logits within "
	   "%.0e (%.2e)", dir, BF16_LOGITS, e);
	free(dec);

	/* gradients: fp32, near transformers' */
	lm_forward(m, B, T, tok, NULL, NULL);
	m->be->ops->zero(m->grads);
	lm_loss(m, tgt, 1.0f / (float)count, NULL);
	lm_backward(m);
	int ngrad = 0, badg = 0;
	double worst = 0, worst_rel = 0;
	char worst_name[128] = "";
	for (size_t k = 0; k < ex->n; k++) {
		const char *name = ex->t[k].name;
		if (strncmp(name, "grad.", 5))
			continue;
		ngrad++;
		const lm_hf_tensor *h = lm_hf_find(m, name + 5);
		if (!h) {
			badg++;
			continue;
		}
		size_t hn = (size_t)(h->rows * h->cols);
		float *g = cm_xmalloc(hn * sizeof(float));
		lm_hf_get(m, h, m->grads, g);
		want = tensor_f32(ex, name, &n);
		double wn = norm(want, hn);
		e = n == (int64_t)hn ? fabs(norm(g, hn) - wn) / wn : 1.0;
		double r = n == (int64_t)hn ? relerr(g, want, hn) : 1.0;
		worst_rel = fmax(worst_rel, r);
		if (e > worst) {
			worst = e;
			snprintf(worst_name, sizeof worst_name, "%s", name + 5);
		}
		if (!(e < BF16_GRAD_NORM) || !(r < BF16_GRAD)) {
			badg++;
			printf("# %s: norm %.6g, want %.6g; rel. error %.2e\n", name, norm(g, hn), wn,
			       r);
		}
		free(g);
		free(want);
	}
	ok(m->grads->dtype == KN_F32 && ngrad == m->nhf && badg == 0,
	   "%s: bf16: all %d gradients' norms within %.0e of transformers' (worst %.2e, %s), "
	   "||error|| / ||gradient|| within %.0e (worst %.2e)", dir, ngrad, BF16_GRAD_NORM, worst,
	   worst_name, BF16_GRAD, worst_rel);

	/* back to fp32: the fp32 results again, bit for bit */
	lm_model_set_precision(m, KN_F32);
	lm_forward(m, B, T, tok, NULL, NULL);
	lm_logits_get(m, 0, (int64_t)B * T, lg);
	for (int i = 0; i < B * T; i++)
		memcpy(got + (size_t)i * V, lg + (size_t)i * Vp, V * sizeof(float));
	int same = m->wlow == NULL && lm_logits(m)->dtype == KN_F32 && !memcmp(got, f32, NV * 4);
	m->be->ops->zero(m->grads);
	sum = lm_loss(m, tgt, 1.0f / (float)count, NULL);
	mean = (float)(sum / count);
	lm_backward(m);
	float *g = cm_xmalloc(np * 4);
	kn_download(m->grads, g, np * 4);
	ok(same && mean == f32_loss && !memcmp(g, f32_grads, np * 4),
	   "%s: fp32 again: logits, loss and gradients bit for bit as before bf16", dir);
	free(g);
	free(lg);
	free(got);
}

static void check_model(kn_backend *be, const char *dir)
{
	char err[1024], p[4200];
	lm_config cfg;
	if (!ok(lm_ckpt_config(dir, &cfg, err, sizeof err) == 0, "%s: config.json read", dir))
		printf("# %s\n", err);
	lm_model *m = lm_model_new(be, &cfg, 1);
	int loaded = lm_load_weights(m, dir, err, sizeof err) == 0;
	if (!ok(loaded, "%s: weights loaded", dir))
		printf("# %s\n", err);
	snprintf(p, sizeof p, "%s/expect.safetensors", dir);
	cm_st *ex = cm_st_open(p, err, sizeof err);
	if (!ex || !loaded) {
		ok(0, "%s: fixture opened: %s", dir, err);
		lm_model_free(m);
		return;
	}
	const cm_st_tensor *tt = cm_st_find(ex, "tokens"), *tg = cm_st_find(ex, "targets");
	int B = (int)tt->shape[0], T = (int)tt->shape[1], V = cfg.vocab, Vp = cfg.vocab_padded;
	int32_t *tok = cm_xmalloc(B * T * sizeof(int32_t)), *tgt = cm_xmalloc(B * T * sizeof(int32_t));
	memcpy(tok, tt->data, B * T * sizeof(int32_t));
	memcpy(tgt, tg->data, B * T * sizeof(int32_t));
	int count = 0;
	for (int i = 0; i < B * T; i++)
		count += tgt[i] >= 0;

	lm_forward(m, B, T, tok, NULL, NULL);
	float *lg = cm_xmalloc((size_t)B * T * Vp * sizeof(float)), *got = cm_xmalloc((size_t)B * T * V * sizeof(float));
	lm_logits_get(m, 0, (int64_t)B * T, lg);
	for (int i = 0; i < B * T; i++)
		memcpy(got + (size_t)i * V, lg + (size_t)i * Vp, V * sizeof(float));
	int64_t n = 0;
	float *want = tensor_f32(ex, "logits", &n);
	double e = relerr(got, want, (size_t)n);
	ok(n == (int64_t)B * T * V && e < TOL, "%s: logits match (rel. error %.2e)", dir, e);
	free(want);

	float *losses = cm_xmalloc(B * T * sizeof(float)), *lp = cm_xmalloc(B * T * sizeof(float));
	double sum = lm_loss(m, tgt, 0.0f, losses);
	float mean = (float)(sum / count), *wl = tensor_f32(ex, "loss", &n);
	e = fabs(mean - wl[0]) / fabs(wl[0]);
	ok(e < TOL, "%s: loss %.7f matches %.7f (rel. error %.2e)", dir, mean, wl[0], e);
	free(wl);
	for (int i = 0; i < B * T; i++)
		lp[i] = -losses[i];
	want = tensor_f32(ex, "logprobs", &n);
	e = relerr(lp, want, (size_t)n);
	ok(e < TOL, "%s: per-token log-probabilities match (rel. error %.2e)", dir, e);
	free(want);

	/* the same logits one position at a time through the KV cache */
	float *dec = decode_all(m, tok, B, T, V, Vp, 0);
	e = relerr(dec, got, (size_t)B * T * V);
	ok(e < 1e-5, "%s: decoding with the KV cache gives the forward's logits (rel. error %.2e)", dir, e);
	/* five positions prefilled in one pass, the rest decoded */
	{
		int P = 5;
		free(dec);
		dec = decode_all(m, tok, B, T, V, Vp, P);
		double ep = 0;
		for (int b = 0; b < B; b++) {
			size_t off = ((size_t)b * T + P - 1) * V, n = (size_t)(T - P + 1) * V;
			ep = fmax(ep, relerr(dec + off, got + off, n));
		}
		ok(ep < 1e-5, "%s: prefill of 5 positions then decoding gives the forward's logits (rel. error %.2e)",
		   dir, ep);
	}
	free(dec);

	/* gradients of the mean loss */
	lm_forward(m, B, T, tok, NULL, NULL);
	m->be->ops->zero(m->grads);
	lm_loss(m, tgt, 1.0f / (float)count, NULL);
	lm_backward(m);
	int ngrad = 0, badg = 0;
	double worst = 0;
	char worst_name[128] = "";
	for (size_t k = 0; k < ex->n; k++) {
		const char *name = ex->t[k].name;
		if (strncmp(name, "grad.", 5))
			continue;
		ngrad++;
		const lm_hf_tensor *h = lm_hf_find(m, name + 5);
		if (!h) {
			badg++;
			printf("# no parameter for %s\n", name);
			continue;
		}
		float *g = cm_xmalloc((size_t)(h->rows * h->cols) * sizeof(float));
		lm_hf_get(m, h, m->grads, g);
		want = tensor_f32(ex, name, &n);
		e = n == h->rows * h->cols ? relerr(g, want, (size_t)n) : 1.0;
		if (e > worst) {
			worst = e;
			snprintf(worst_name, sizeof worst_name, "%s", name + 5);
		}
		if (e >= TOL) {
			badg++;
			printf("# %s: rel. error %.2e\n", name, e);
		}
		free(g);
		free(want);
	}
	ok(ngrad == m->nhf && badg == 0, "%s: all %d gradients match (worst %.2e, %s)", dir, ngrad,
	   worst, worst_name);
	float *g32 = cm_xmalloc((size_t)m->nparams * 4);
	kn_download(m->grads, g32, (size_t)m->nparams * 4);
	check_bf16(m, ex, dir, B, T, tok, tgt, count, got, mean, g32);
	free(g32);

	/* save, load into a fresh model: the same parameters, bit for bit */
	char tmp[] = "/tmp/c2lm-8020-XXXXXX";
	int fd = mkstemp(tmp);
	close(fd);
	ok(lm_save_weights(m, tmp, err, sizeof err) == 0, "%s: weights saved", dir);
	lm_model *m2 = lm_model_new(be, &cfg, 0);
	if (!ok(lm_load_weights(m2, tmp, err, sizeof err) == 0, "%s: saved weights load", dir))
		printf("# %s\n", err);
	float *a = cm_xmalloc((size_t)m->nparams * 4), *b = cm_xmalloc((size_t)m->nparams * 4);
	kn_download(m->params, a, (size_t)m->nparams * 4);
	kn_download(m2->params, b, (size_t)m->nparams * 4);
	ok(!memcmp(a, b, (size_t)m->nparams * 4), "%s: round trip is exact", dir);
	unlink(tmp);
	free(a);
	free(b);
	lm_model_free(m2);

	free(tok);
	free(tgt);
	free(lg);
	free(got);
	free(losses);
	free(lp);
	cm_st_close(ex);
	lm_model_free(m);
}

static void check_mismatch(kn_backend *be, const char *srcdir)
{
	char err[1024], dir[4096];
	lm_config cfg;
	snprintf(dir, sizeof dir, "%s/tests/data/lm/llama", srcdir);
	lm_ckpt_config(dir, &cfg, err, sizeof err);
	cfg.tied = 1;	/* the checkpoint has lm_head: a tied config does not fit... */
	cfg.hidden = 96;	/* ...nor does another MLP width */
	lm_model *m = lm_model_new(be, &cfg, 0);
	ok(lm_load_weights(m, dir, err, sizeof err) < 0 && strstr(err, "gate_proj") &&
	   strstr(err, "[80x32]"), "a config that does not fit the checkpoint is refused: %s", err);
	lm_model_free(m);
	snprintf(dir, sizeof dir, "%s/tests/data/lm/gpt2/config.json", srcdir);
	m = lm_model_new(be, &cfg, 0);
	ok(lm_load_weights(m, dir, err, sizeof err) < 0 && strstr(err, "header"),
	   "a file that is not safetensors is refused: %s", err);
	lm_model_free(m);
	snprintf(dir, sizeof dir, "%s/tests/data/lm/nonexistent", srcdir);
	ok(lm_ckpt_config(dir, &cfg, err, sizeof err) < 0 && strstr(err, "cannot open"),
	   "a missing checkpoint is an error: %s", err);
}

static uint16_t to_bf16(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	u += 0x7fff + ((u >> 16) & 1);	/* round to nearest even */
	return (uint16_t)(u >> 16);
}

/* Weights as other checkpoints hold them: bf16 in two shards with an index, and fp16 in one
 * file; loading converts exactly. */
static void check_formats(kn_backend *be, const char *src)
{
	char err[1024], dir[4096], p[4200];
	snprintf(dir, sizeof dir, "%s/tests/data/lm/llama", src);
	lm_config cfg;
	lm_ckpt_config(dir, &cfg, err, sizeof err);
	snprintf(p, sizeof p, "%s/model.safetensors", dir);
	cm_st *st = cm_st_open(p, err, sizeof err);
	char tmpl[] = "/tmp/c2lm-8020d-XXXXXX";
	char *tmp = mkdtemp(tmpl);
	for (int fmt = 0; fmt < 2; fmt++) {
		cm_st_writer *w[2] = { cm_st_writer_new(), cm_st_writer_new() };
		void **bufs = cm_xcalloc(st->n, sizeof *bufs);
		float **want = cm_xcalloc(st->n, sizeof *want);
		FILE *idx = NULL;
		if (fmt == 0) {
			snprintf(p, sizeof p, "%s/model.safetensors.index.json", tmp);
			idx = fopen(p, "w");
			fprintf(idx, "{\"metadata\": {}, \"weight_map\": {");
		}
		for (size_t i = 0; i < st->n; i++) {
			const cm_st_tensor *t = &st->t[i];
			float *f = cm_xmalloc((size_t)t->n * 4);
			uint16_t *h = cm_xmalloc((size_t)t->n * 2);
			want[i] = cm_xmalloc((size_t)t->n * 4);
			cm_st_to_f32(t, 0, t->n, f);
			for (int64_t k = 0; k < t->n; k++) {
				if (fmt == 0) {
					h[k] = to_bf16(f[k]);
					uint32_t u = (uint32_t)h[k] << 16;
					memcpy(&want[i][k], &u, 4);
				} else {
					_Float16 x = (_Float16)f[k];
					memcpy(&h[k], &x, 2);
					want[i][k] = (float)x;
				}
			}
			free(f);
			bufs[i] = h;
			int part = fmt == 0 ? (int)(i % 2) : 0;
			cm_st_writer_add(w[part], t->name, fmt == 0 ? CM_ST_BF16 : CM_ST_F16, t->ndim,
					 t->shape, h);
			if (idx)
				fprintf(idx, "%s\"%s\": \"model-0000%d-of-00002.safetensors\"", i ? ", " : "",
					t->name, part + 1);
		}
		if (idx) {
			fprintf(idx, "}}\n");
			fclose(idx);
			for (int k = 0; k < 2; k++) {
				snprintf(p, sizeof p, "%s/model-0000%d-of-00002.safetensors", tmp, k + 1);
				cm_st_write(w[k], p, err, sizeof err);
			}
		} else {
			snprintf(p, sizeof p, "%s/model.safetensors", tmp);
			unlink(p);
			snprintf(p, sizeof p, "%s/model.safetensors.index.json", tmp);
			unlink(p);
			snprintf(p, sizeof p, "%s/model.safetensors", tmp);
			cm_st_write(w[0], p, err, sizeof err);
		}
		lm_model *m = lm_model_new(be, &cfg, 0);
		int r = lm_load_weights(m, tmp, err, sizeof err);
		if (r < 0)
			printf("# %s\n", err);
		int bad = 0;
		for (size_t i = 0; r == 0 && i < st->n; i++) {
			const lm_hf_tensor *h = lm_hf_find(m, st->t[i].name);
			float *got = cm_xmalloc((size_t)st->t[i].n * 4);
			lm_hf_get(m, h, m->params, got);
			bad += memcmp(got, want[i], (size_t)st->t[i].n * 4) != 0;
			free(got);
		}
		ok(r == 0 && bad == 0, "%s weights load exactly", fmt == 0 ?
		   "bf16 weights in two shards with model.safetensors.index.json" : "fp16");
		lm_model_free(m);
		for (size_t i = 0; i < st->n; i++) {
			free(bufs[i]);
			free(want[i]);
		}
		free(bufs);
		free(want);
		cm_st_writer_free(w[0]);
		cm_st_writer_free(w[1]);
	}
	/* a shard named by the index is missing */
	snprintf(p, sizeof p, "%s/model.safetensors", tmp);
	unlink(p);
	FILE *idx;
	snprintf(p, sizeof p, "%s/model.safetensors.index.json", tmp);
	idx = fopen(p, "w");
	fprintf(idx, "{\"weight_map\": {\"model.norm.weight\": \"model-00009-of-00009.safetensors\"}}");
	fclose(idx);
	lm_model *m = lm_model_new(be, &cfg, 0);
	ok(lm_load_weights(m, tmp, err, sizeof err) < 0 && strstr(err, "model-00009-of-00009"),
	   "a shard missing from an index is an error: %s", err);
	lm_model_free(m);
	const char *names[] = { "model.safetensors.index.json", "model-00001-of-00002.safetensors",
		"model-00002-of-00002.safetensors" };
	for (int k = 0; k < 3; k++) {
		snprintf(p, sizeof p, "%s/%s", tmp, names[k]);
		unlink(p);
	}
	rmdir(tmp);
	cm_st_close(st);
}

/* lm_model_init: norms 1, biases 0, matrices normal(0, 0.02), residual projections
 * 0.02 / sqrt(2 layers), padded vocabulary rows 0 */
static void check_init(kn_backend *be, int style)
{
	char err[256];
	lm_config c;
	lm_config_load(&c, style == LM_GPT2 ? "tiny" : "llama-125m", 300, err, sizeof err);
	c.layers = 2;
	c.tied = style == LM_GPT2;
	lm_model *m = lm_model_new(be, &c, 0);
	lm_model_init(m, 7);
	float *h = cm_xmalloc((size_t)m->nparams * 4);
	kn_download(m->params, h, (size_t)m->nparams * 4);
	int bad = 0;
	for (int i = 0; i < m->np; i++) {
		const lm_param *p = &m->p[i];
		const float *w = h + p->off;
		int64_t n = p->n;
		if (p->ndim == 1) {
			int is_w = p->layer < 0 ? p->field == P_LNF_W :
				   (p->field == P_LN1_W || p->field == P_LN2_W);
			for (int64_t k = 0; k < n; k++)
				bad += w[k] != (is_w ? 1.0f : 0.0f);
			continue;
		}
		int emb = p->layer < 0 && (p->field == P_WTE || p->field == P_HEAD);
		if (emb) {
			for (int64_t k = (int64_t)c.vocab * c.dim; k < n; k++)
				bad += w[k] != 0.0f;
			n = (int64_t)c.vocab * c.dim;
		}
		double s = 0, want = p->layer >= 0 && (p->field == P_O_W || p->field == P_PROJ_W) ?
			0.02 / sqrt(2.0 * c.layers) : 0.02;
		for (int64_t k = 0; k < n; k++)
			s += (double)w[k] * w[k];
		double sd = sqrt(s / (double)n);
		if (fabs(sd - want) > 0.1 * want) {
			bad++;
			printf("# param %d (layer %d field %d): std %.4f, want %.4f\n", i, p->layer,
			       p->field, sd, want);
		}
	}
	ok(bad == 0, "%s: initialisation: norms 1, biases 0, padded rows 0, std 0.02 and "
	   "0.02/sqrt(2L)", style == LM_GPT2 ? "GPT-2" : "Llama");
	free(h);
	lm_model_free(m);
}

int main(void)
{
	cm_init("8020-model");
	const char *src = getenv("SRCDIR") ? getenv("SRCDIR") : ".";
	char err[256], dir[4096];
	kn_backend *be = kn_open("cpu", 0, err, sizeof err);
	const char *names[] = { "gpt2", "llama", "llama-tied" };
	for (int i = 0; i < 3; i++) {
		snprintf(dir, sizeof dir, "%s/tests/data/lm/%s", src, names[i]);
		check_model(be, dir);
	}
	check_mismatch(be, src);
	check_formats(be, src);
	check_init(be, LM_GPT2);
	check_init(be, LM_LLAMA);
	kn_close(be);
	return tap_done();
}
