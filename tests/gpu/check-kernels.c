/* check-kernels.c - make check-gpu: every operation of the CUDA backend against the CPU
 * backend on fresh random inputs (outputs poisoned with NaN first; gradients that add into
 * their buffers pre-filled with the same random values on both), then one whole training
 * step of a GPT-2 and a Llama model on the same weights. Prints a PASS/FAIL table with the
 * largest relative errors (max |gpu - cpu| / max |cpu|); exit 0 when every line passes.
 * Without a GPU it says so and exits 77 (skipped). CHECK_KERNELS_SELF=1 compares the CPU
 * backend with itself, to check the harness where there is no GPU. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "kernels.h"
#include "model.h"

#define TOL32 1e-5

static kn_backend *cpu, *gpu;
static int failed, lines;
static uint64_t rs;

static float frand(void)
{
	rs = rs * 6364136223846793005ull + 1442695040888963407ull;
	return (float)((rs >> 40) / 16777216.0) * 2.0f - 1.0f;
}

typedef struct pair {
	kn_tensor *c, *g;
} pair;

static pair mk(kn_dtype dt, int ndim, const int64_t *shape)
{
	pair p = { kn_new(cpu, dt, ndim, shape), kn_new(gpu, dt, ndim, shape) };
	return p;
}

static pair mk2(int64_t a, int64_t b)
{
	int64_t s[2] = { a, b };
	return mk(KN_F32, 2, s);
}

static pair mk1(int64_t a)
{
	return mk(KN_F32, 1, &a);
}

/* random values on both; scale multiplies them */
static pair rnd(pair p, float scale)
{
	float *h = cm_xmalloc(kn_bytes(p.c));
	for (int64_t i = 0; i < p.c->n; i++)
		h[i] = frand() * scale;
	kn_upload(p.c, h, kn_bytes(p.c));
	kn_upload(p.g, h, kn_bytes(p.g));
	free(h);
	return p;
}

static pair ids(int64_t n, int32_t lo, int32_t hi)
{
	pair p = mk(KN_I32, 1, &n);
	int32_t *h = cm_xmalloc((size_t)n * 4);
	for (int64_t i = 0; i < n; i++)
		h[i] = lo + (int32_t)((frand() + 1.0f) * 0.5f * (float)(hi - lo));
	for (int64_t i = 0; i < n; i++)
		if (h[i] >= hi)
			h[i] = hi - 1;
	kn_upload(p.c, h, (size_t)n * 4);
	kn_upload(p.g, h, (size_t)n * 4);
	free(h);
	return p;
}

static void poison(pair p)
{
	float *h = cm_xmalloc(kn_bytes(p.g));
	for (int64_t i = 0; i < p.g->n; i++)
		h[i] = NAN;
	kn_upload(p.g, h, kn_bytes(p.g));
	free(h);
}

static double relerr(pair p)
{
	float *a = cm_xmalloc(kn_bytes(p.c)), *b = cm_xmalloc(kn_bytes(p.g));
	kn_download(p.c, a, kn_bytes(p.c));
	kn_download(p.g, b, kn_bytes(p.g));
	double md = 0, mx = 0;
	for (int64_t i = 0; i < p.c->n; i++) {
		double d = fabs((double)a[i] - b[i]);
		if (!(d <= md))	/* NaN counts */
			md = isnan(d) ? INFINITY : d;
		if (fabs(a[i]) > mx)
			mx = fabs(a[i]);
	}
	free(a);
	free(b);
	return mx > 0 ? md / mx : md;
}

static void report(const char *what, double e, double tol)
{
	int ok = e <= tol;
	lines++;
	failed += !ok;
	printf("%-44s %-4s %.2e (limit %.0e)\n", what, ok ? "PASS" : "FAIL", e, tol);
}

static void freep(pair p)
{
	kn_free(p.c);
	kn_free(p.g);
}


static void check_ops(void)
{
	const int64_t N = 96, C = 80, OC = 72, T = 24, B = 4;
	char name[96];
	/* matmul */
	pair x = rnd(mk2(N, C), 1), w = rnd(mk2(OC, C), 0.2f), b = rnd(mk1(OC), 0.1f);
	pair y = mk2(N, OC);
	poison(y);
	cpu->ops->matmul(y.c, x.c, w.c, b.c);
	gpu->ops->matmul(y.g, x.g, w.g, b.g);
	report("matmul + bias", relerr(y), TOL32);
	pair dy = rnd(mk2(N, OC), 1), dx = rnd(mk2(N, C), 1), dw = rnd(mk2(OC, C), 1),
	     db = rnd(mk1(OC), 1);
	cpu->ops->matmul_bwd(dx.c, dw.c, db.c, dy.c, x.c, w.c);
	gpu->ops->matmul_bwd(dx.g, dw.g, db.g, dy.g, x.g, w.g);
	report("matmul_bwd dinp", relerr(dx), TOL32);
	report("matmul_bwd dweight", relerr(dw), TOL32);
	report("matmul_bwd dbias", relerr(db), TOL32);
	/* embedding */
	pair tok = ids(N, 0, 50), wte = rnd(mk2(50, C), 1), wpe = rnd(mk2(T, C), 1), e = mk2(N, C);
	poison(e);
	cpu->ops->embed(e.c, tok.c, NULL, wte.c, wpe.c, (int)T);
	gpu->ops->embed(e.g, tok.g, NULL, wte.g, wpe.g, (int)T);
	report("embed (tokens + positions)", relerr(e), TOL32);
	pair dwte = rnd(mk2(50, C), 1), dwpe = rnd(mk2(T, C), 1);
	cpu->ops->embed_bwd(dwte.c, dwpe.c, dx.c, tok.c, NULL, (int)T);
	gpu->ops->embed_bwd(dwte.g, dwpe.g, dx.g, tok.g, NULL, (int)T);
	report("embed_bwd dwte", relerr(dwte), TOL32);
	report("embed_bwd dwpe", relerr(dwpe), TOL32);
	/* norms */
	for (int ln = 1; ln >= 0; ln--) {
		pair a = rnd(mk2(N, C), 1), a2 = rnd(mk2(N, C), 1), res = mk2(N, C), out = mk2(N, C);
		pair nw = rnd(mk1(C), 1), nb = rnd(mk1(C), 0.1f), mean = mk1(N), rstd = mk1(N);
		poison(res);
		poison(out);
		poison(rstd);
		cpu->ops->residual_norm(res.c, out.c, ln ? mean.c : NULL, rstd.c, a.c, a2.c, nw.c,
					ln ? nb.c : NULL, 1e-5f);
		gpu->ops->residual_norm(res.g, out.g, ln ? mean.g : NULL, rstd.g, a.g, a2.g, nw.g,
					ln ? nb.g : NULL, 1e-5f);
		snprintf(name, sizeof name, "%s residual + norm", ln ? "LayerNorm" : "RMSNorm");
		report(name, fmax(relerr(res), fmax(relerr(out), relerr(rstd))), TOL32);
		pair dn = rnd(mk2(N, C), 1), di = rnd(mk2(N, C), 1), gw = rnd(mk1(C), 1),
		     gb = rnd(mk1(C), 1);
		cpu->ops->norm_bwd(di.c, gw.c, ln ? gb.c : NULL, dn.c, res.c, nw.c,
				   ln ? mean.c : NULL, rstd.c);
		gpu->ops->norm_bwd(di.g, gw.g, ln ? gb.g : NULL, dn.g, res.g, nw.g,
				   ln ? mean.g : NULL, rstd.g);
		snprintf(name, sizeof name, "%s backward", ln ? "LayerNorm" : "RMSNorm");
		report(name, fmax(relerr(di), fmax(relerr(gw), ln ? relerr(gb) : 0)), TOL32);
		pair ps[] = { a, a2, res, out, nw, nb, mean, rstd, dn, di, gw, gb };
		for (size_t k = 0; k < sizeof ps / sizeof *ps; k++)
			freep(ps[k]);
	}
	/* activations */
	pair h = rnd(mk2(N, 2 * C), 3), ha = mk2(N, 2 * C), dh = rnd(mk2(N, 2 * C), 1);
	pair dha = rnd(mk2(N, 2 * C), 1), sw = mk2(N, C), dsw = rnd(mk2(N, C), 1);
	poison(ha);
	cpu->ops->gelu(ha.c, h.c);
	gpu->ops->gelu(ha.g, h.g);
	report("gelu", relerr(ha), TOL32);
	cpu->ops->gelu_bwd(dha.c, h.c, dh.c);
	gpu->ops->gelu_bwd(dha.g, h.g, dh.g);
	report("gelu_bwd", relerr(dha), TOL32);
	poison(sw);
	cpu->ops->swiglu(sw.c, h.c);
	gpu->ops->swiglu(sw.g, h.g);
	report("swiglu", relerr(sw), TOL32);
	cpu->ops->swiglu_bwd(dh.c, h.c, dsw.c);
	gpu->ops->swiglu_bwd(dh.g, h.g, dsw.g);
	report("swiglu_bwd", relerr(dh), TOL32);
	pair sa = rnd(mk2(N, C), 1), sb = rnd(mk2(N, C), 1), so = mk2(N, C);
	poison(so);
	cpu->ops->add(so.c, sa.c, sb.c);
	gpu->ops->add(so.g, sa.g, sb.g);
	report("add", relerr(so), 0);
	/* attention, RoPE, decoding */
	kn_attn_shape s = { (int)B, (int)T, 4, 2, 16 };
	int64_t W = (int64_t)(s.nh + 2 * s.nkv) * s.hd, NT = B * T;
	pair qkv = rnd(mk2(NT, W), 1), att = mk2(NT, (int64_t)s.nh * s.hd), lse = mk1(B * s.nh * T);
	pair pos = ids(NT, 0, (int32_t)T);
	cpu->ops->rope(qkv.c, pos.c, &s, 10000.0f, 0);
	gpu->ops->rope(qkv.g, pos.g, &s, 10000.0f, 0);
	report("rope", relerr(qkv), TOL32);
	int32_t *dh_doc = cm_xmalloc((size_t)NT * 4);
	for (int64_t i = 0; i < NT; i++)
		dh_doc[i] = (int32_t)((i % T) < 9 ? 0 : 9);	/* two documents a row */
	pair doc = mk(KN_I32, 1, &NT);
	kn_upload(doc.c, dh_doc, (size_t)NT * 4);
	kn_upload(doc.g, dh_doc, (size_t)NT * 4);
	free(dh_doc);
	for (int d = 0; d < 2; d++) {
		poison(att);
		poison(lse);
		cpu->ops->attention(att.c, lse.c, qkv.c, d ? doc.c : NULL, &s);
		gpu->ops->attention(att.g, lse.g, qkv.g, d ? doc.g : NULL, &s);
		snprintf(name, sizeof name, "attention (GQA%s)", d ? ", documents" : "");
		report(name, fmax(relerr(att), relerr(lse)), TOL32);
		pair datt = rnd(mk2(NT, (int64_t)s.nh * s.hd), 1), dq = rnd(mk2(NT, W), 1);
		cpu->ops->attention_bwd(dq.c, datt.c, att.c, lse.c, qkv.c, d ? doc.c : NULL, &s);
		gpu->ops->attention_bwd(dq.g, datt.g, att.g, lse.g, qkv.g, d ? doc.g : NULL, &s);
		snprintf(name, sizeof name, "attention_bwd (GQA%s)", d ? ", documents" : "");
		report(name, relerr(dq), TOL32);
		freep(datt);
		freep(dq);
	}
	cpu->ops->rope(qkv.c, pos.c, &s, 10000.0f, 1);
	gpu->ops->rope(qkv.g, pos.g, &s, 10000.0f, 1);
	report("rope inverse", relerr(qkv), TOL32);
	{
		int Tmax = (int)T + 5;
		int64_t cs[3] = { B, Tmax, (int64_t)s.nkv * s.hd };
		pair kc = mk(KN_F32, 3, cs), vc = mk(KN_F32, 3, cs), row = mk2(B, W),
		     o = mk2(B, (int64_t)s.nh * s.hd);
		int32_t p[4];
		kn_attn_shape s1 = s;
		s1.T = 1;
		double worst = 0;
		for (int t = 0; t < 6; t++) {
			rnd(row, 1);
			for (int k = 0; k < 4; k++)
				p[k] = t;
			poison(o);
			cpu->ops->attention_decode(o.c, row.c, kc.c, vc.c, p, &s1, Tmax);
			gpu->ops->attention_decode(o.g, row.g, kc.g, vc.g, p, &s1, Tmax);
			worst = fmax(worst, relerr(o));
		}
		report("attention_decode (6 positions)", worst, TOL32);
		poison(kc);
		poison(vc);
		cpu->ops->kv_store(kc.c, vc.c, qkv.c, &s, Tmax);
		gpu->ops->kv_store(kc.g, vc.g, qkv.g, &s, Tmax);
		/* positions T.. of the caches were not written: compare the first T */
		{
			float *a = cm_xmalloc(kn_bytes(kc.c)), *g = cm_xmalloc(kn_bytes(kc.g));
			double md = 0;
			for (int k = 0; k < 2; k++) {
				pair q = k ? vc : kc;
				kn_download(q.c, a, kn_bytes(q.c));
				kn_download(q.g, g, kn_bytes(q.g));
				for (int64_t bb = 0; bb < B; bb++)
					for (int64_t t = 0; t < T; t++)
						for (int64_t j = 0; j < cs[2]; j++) {
							int64_t i = (bb * Tmax + t) * cs[2] + j;
							double d = fabs((double)a[i] - g[i]);
							md = isnan(d) || d > md ? (isnan(d) ? INFINITY : d) : md;
						}
			}
			free(a);
			free(g);
			report("kv_store (prefill)", md, 0);
		}
		freep(kc);
		freep(vc);
		freep(row);
		freep(o);
	}
	/* cross-entropy with ignored rows and padded columns */
	{
		int V = 1000;
		int64_t Vp = 1024;
		pair lg = rnd(mk2(N, Vp), 4), ls = mk1(N), dl = mk2(N, Vp), tg = ids(N, -1, V);
		poison(ls);
		poison(dl);
		cpu->ops->xent(ls.c, dl.c, lg.c, tg.c, V, 0.01f);
		gpu->ops->xent(ls.g, dl.g, lg.g, tg.g, V, 0.01f);
		report("cross-entropy losses", relerr(ls), TOL32);
		report("cross-entropy dlogits", relerr(dl), TOL32);
		double a = cpu->ops->sumsq(lg.c), g = gpu->ops->sumsq(lg.g);
		report("sumsq", fabs(a - g) / a, 1e-12);
		a = cpu->ops->sum(lg.c);
		g = gpu->ops->sum(lg.g);
		report("sum", fabs(a - g) / fmax(1.0, fabs(a)), 1e-9);
		freep(lg);
		freep(ls);
		freep(dl);
		freep(tg);
	}
	/* AdamW, three steps */
	{
		pair pp = rnd(mk1(5000), 1), gg = rnd(mk1(5000), 1), m = mk1(5000), v = mk1(5000);
		for (int st = 1; st <= 3; st++) {
			cpu->ops->adamw(pp.c, gg.c, m.c, v.c, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 0.5f, st);
			gpu->ops->adamw(pp.g, gg.g, m.g, v.g, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 0.5f, st);
		}
		report("adamw (3 steps) weights", relerr(pp), TOL32);
		report("adamw (3 steps) moments", fmax(relerr(m), relerr(v)), TOL32);
		cpu->ops->scale(pp.c, 0.5f);
		gpu->ops->scale(pp.g, 0.5f);
		report("scale", relerr(pp), TOL32);
		pair lo = mk(KN_BF16, 1, (int64_t[]){ 5000 }), back = mk1(5000);
		poison(back);
		cpu->ops->cast(lo.c, pp.c);
		gpu->ops->cast(lo.g, pp.g);
		cpu->ops->cast(back.c, lo.c);
		gpu->ops->cast(back.g, lo.g);
		report("cast F32 -> BF16 -> F32", relerr(back), 0);
		freep(lo);
		freep(back);
		freep(pp);
		freep(gg);
		freep(m);
		freep(v);
	}
	pair ps[] = { x, w, b, y, dy, dx, dw, db, tok, wte, wpe, e, dwte, dwpe, h, ha, dh, dha, sw,
		      dsw, sa, sb, so, qkv, att, lse, pos, doc };
	for (size_t k = 0; k < sizeof ps / sizeof *ps; k++)
		freep(ps[k]);
}

/* One training step of a whole model on both backends, from the same weights. */
static void check_step(const char *preset, int style)
{
	char err[256], name[96];
	lm_config c;
	lm_config_load(&c, preset, 500, err, sizeof err);
	c.layers = 2;
	(void)style;
	lm_model *mc = lm_model_new(cpu, &c, 1), *mg = lm_model_new(gpu, &c, 1);
	lm_model_init(mc, 1);
	lm_model_init(mg, 1);
	int B = 4, T = 64;
	int32_t *x = cm_xmalloc((size_t)B * T * 4), *y = cm_xmalloc((size_t)B * T * 4);
	for (int i = 0; i < B * T; i++) {
		x[i] = (int32_t)((frand() + 1) * 249.0f);
		y[i] = (int32_t)((frand() + 1) * 249.0f);
	}
	float ds = 1.0f / (float)(B * T);
	lm_model *ms[2] = { mc, mg };
	double loss[2], gn[2];
	for (int k = 0; k < 2; k++) {
		lm_forward(ms[k], B, T, x, NULL, NULL);
		ms[k]->be->ops->zero(ms[k]->grads);
		loss[k] = lm_loss(ms[k], y, ds, NULL) / (B * T);
		lm_backward(ms[k]);
		gn[k] = sqrt(ms[k]->be->ops->sumsq(ms[k]->grads));
	}
	snprintf(name, sizeof name, "%s step: loss", preset);
	report(name, fabs(loss[0] - loss[1]) / loss[0], TOL32);
	snprintf(name, sizeof name, "%s step: gradient norm", preset);
	report(name, fabs(gn[0] - gn[1]) / gn[0], 1e-4);
	pair gr = { mc->grads, mg->grads };
	snprintf(name, sizeof name, "%s step: all gradients", preset);
	report(name, relerr(gr), 1e-4);
	free(x);
	free(y);
	lm_model_free(mc);
	lm_model_free(mg);
}

int main(void)
{
	cm_init("check-kernels");
	char err[512];
	cpu = kn_open("cpu", err, sizeof err);
	/* CHECK_KERNELS_SELF=1 puts the CPU backend on both sides: the harness checked without a
	 * GPU (every line must pass with error 0) */
	gpu = kn_open(getenv("CHECK_KERNELS_SELF") ? "cpu" : "cuda", err, sizeof err);
	if (!gpu) {
		printf("check-kernels: SKIP: %s\n", err);
		return 77;
	}
	rs = (uint64_t)time(NULL);
	printf("CUDA backend (%s) against the CPU backend; seed %llu\n", gpu->ops->name,
	       (unsigned long long)rs);
	check_ops();
	check_step("tiny", LM_GPT2);
	check_step("llama-125m", LM_LLAMA);
	printf("%d of %d checks passed\n", lines - failed, lines);
	return failed ? 1 : 0;
}
