/* 8010-kernels.c - every forward and backward of the CPU kernel backend against a naive
 * double-precision reference written here, on small random inputs (two fixed seeds):
 * - forwards: the fp32 result against the double reference;
 * - backwards: for a random upstream R, the kernel's gradients against central finite
 *   differences (in double) of L = sum(R * reference(inputs)); then again into gradient
 *   buffers pre-filled with known values, which must come out as prefill + gradient;
 * - rope: its inverse undoes it and is its backward; attention_decode repeats attention one
 *   token at a time; xent ignores targets -1 and padded columns, also in place; sum, sumsq,
 *   scale, add; AdamW for one and three steps; backwards that accumulate are repeatable bit
 *   for bit. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kernels.h"
#include "tap.h"
#include "testmem.h"

/* fp32 against double: unit roundoff 6e-8, O(1) inputs and reductions over at most a few
 * dozen terms keep a correct kernel within a few 1e-7; any wrong formula is off by far more. */
#define FWD_TOL 1e-5
/* backwards against finite differences: h = 2^-17 makes the truncation error (h^2 ~ 1e-10)
 * and the rounding error (1e-16 / h ~ 1e-11) negligible; what remains is fp32 noise ~1e-6. */
#define BWD_TOL 1e-4
#define FD_H 0x1p-17

static kn_backend *be;
static const kn_ops *K;
static int seed;		/* printed in every description */

/* ---- random numbers, and memory (testmem.h) and tensors a check releases when it ends ---- */

static kn_tensor *tns[128];
static int ntns;

static void release(void)
{
	release_mem();
	while (ntns)
		kn_free(tns[--ntns]);
}

static double *dnew(size_t n)
{
	return keep(cm_xcalloc(n, sizeof(double)));
}

static double *dbl(const float *x, size_t n)
{
	double *d = dnew(n);
	for (size_t i = 0; i < n; i++)
		d[i] = x[i];
	return d;
}

/* a tensor [n0] (n1 == 0) or [n0, n1] of fp32, holding x (zeros when x is NULL) */
static kn_tensor *tens(const float *x, int64_t n0, int64_t n1)
{
	int64_t shape[2] = { n0, n1 };
	kn_tensor *t = kn_new(be, KN_F32, n1 ? 2 : 1, shape);
	if (ntns == (int)(sizeof tns / sizeof *tns))
		cm_die("8010-kernels: too many tensors");
	tns[ntns++] = t;
	if (x)
		kn_upload(t, x, kn_bytes(t));
	return t;
}

static kn_tensor *itens(const int32_t *x, int64_t n)
{
	kn_tensor *t = kn_new1(be, KN_I32, n);
	tns[ntns++] = t;
	kn_upload(t, x, kn_bytes(t));
	return t;
}

static float *down(const kn_tensor *t)
{
	float *x = keep(cm_xmalloc(kn_bytes(t)));
	kn_download(t, x, kn_bytes(t));
	return x;
}

/* ||got - pre - want|| / ||want|| (pre may be NULL): the relative error of a result, or of
 * what a backward added to the prefill pre; absolute when want is zero */
static double rel(const float *got, const float *pre, const double *want, size_t n)
{
	double d = 0, s = 0;
	for (size_t i = 0; i < n; i++) {
		double e = (double)got[i] - (pre ? pre[i] : 0.0) - want[i];
		d += e * e;
		s += want[i] * want[i];
	}
	return s > 0 ? sqrt(d / s) : sqrt(d);
}

static double trel(const kn_tensor *t, const float *pre, const double *want)
{
	return rel(down(t), pre, want, (size_t)t->n);
}

static double maxd(double a, double b)
{
	return a > b || isnan(a) ? a : b;
}

/* ---- finite differences ---- */

/* A reference forward: reads its inputs through ctx, writes its output. */
typedef void (*ref_fn)(void *ctx, double *out);

/* dL/dx for L = sum(R * f()), x (n elements) being one of f's inputs, by central differences */
static double *fd(ref_fn f, void *ctx, double *x, size_t n, const double *R, size_t nout)
{
	double *g = dnew(n), *o = cm_xmalloc(nout * sizeof *o);
	for (size_t i = 0; i < n; i++) {
		double x0 = x[i], lp = 0, lm = 0;
		x[i] = x0 + FD_H;
		f(ctx, o);
		for (size_t j = 0; j < nout; j++)
			lp += R[j] * o[j];
		x[i] = x0 - FD_H;
		f(ctx, o);
		for (size_t j = 0; j < nout; j++)
			lm += R[j] * o[j];
		x[i] = x0;
		g[i] = (lp - lm) / (2 * FD_H);
	}
	free(o);
	return g;
}

/* ---- matmul ---- */

typedef struct {
	int N, C, OC;
	double *inp, *w, *b;
} mm_ctx;

static void mm_ref(void *vc, double *out)
{
	mm_ctx *c = vc;
	for (int i = 0; i < c->N; i++)
		for (int o = 0; o < c->OC; o++) {
			double s = c->b ? c->b[o] : 0.0;
			for (int k = 0; k < c->C; k++)
				s += c->inp[i * c->C + k] * c->w[o * c->C + k];
			out[i * c->OC + o] = s;
		}
}

static void check_matmul(void)
{
	enum { N = 7, C = 12, OC = 10 };
	float *x = frand(N * C, 1), *w = frand(OC * C, 1), *b = frand(OC, 1), *r = frand(N * OC, 1);
	double *xd = dbl(x, N * C), *wd = dbl(w, OC * C), *bd = dbl(b, OC), *rd = dbl(r, N * OC);
	double *ref = dnew(N * OC), e;
	mm_ctx c = { N, C, OC, xd, wd, NULL };
	kn_tensor *tx = tens(x, N, C), *tw = tens(w, OC, C), *tb = tens(b, OC, 0);
	kn_tensor *to = tens(NULL, N, OC), *tr = tens(r, N, OC);

	for (int hb = 0; hb < 2; hb++) {
		c.b = hb ? bd : NULL;
		mm_ref(&c, ref);
		K->matmul(to, tx, tw, hb ? tb : NULL);
		e = trel(to, NULL, ref);
		ok(e < FWD_TOL, "seed %d: matmul forward %s bias (rel. error %.1e)", seed,
		   hb ? "with" : "without", e);
	}

	double *gx = fd(mm_ref, &c, xd, N * C, rd, N * OC);
	double *gw = fd(mm_ref, &c, wd, OC * C, rd, N * OC);
	double *gb = fd(mm_ref, &c, bd, OC, rd, N * OC);
	kn_tensor *dx = tens(NULL, N, C), *dw = tens(NULL, OC, C), *db = tens(NULL, OC, 0);
	K->matmul_bwd(dx, dw, db, tr, tx, tw);
	e = trel(dx, NULL, gx);
	ok(e < BWD_TOL, "seed %d: matmul_bwd dinp vs finite differences (rel. error %.1e)", seed, e);
	e = trel(dw, NULL, gw);
	ok(e < BWD_TOL, "seed %d: matmul_bwd dw vs finite differences (rel. error %.1e)", seed, e);
	e = trel(db, NULL, gb);
	ok(e < BWD_TOL, "seed %d: matmul_bwd dbias vs finite differences (rel. error %.1e)", seed, e);

	float *px = frand(N * C, 1), *pw = frand(OC * C, 1), *pb = frand(OC, 1);
	kn_upload(dx, px, kn_bytes(dx));
	kn_upload(dw, pw, kn_bytes(dw));
	kn_upload(db, pb, kn_bytes(db));
	K->matmul_bwd(dx, dw, db, tr, tx, tw);
	e = maxd(maxd(trel(dx, px, gx), trel(dw, pw, gw)), trel(db, pb, gb));
	ok(e < BWD_TOL, "seed %d: matmul_bwd adds into dinp, dw, dbias (rel. error %.1e)", seed, e);

	K->zero(dw);
	K->matmul_bwd(NULL, dw, NULL, tr, tx, tw);
	e = trel(dw, NULL, gw);
	ok(e < BWD_TOL, "seed %d: matmul_bwd dw alone, dinp and dbias NULL (rel. error %.1e)", seed, e);
	K->zero(dx);
	K->zero(db);
	K->matmul_bwd(dx, NULL, db, tr, tx, tw);
	e = maxd(trel(dx, NULL, gx), trel(db, NULL, gb));
	ok(e < BWD_TOL, "seed %d: matmul_bwd dinp and dbias, dw NULL (rel. error %.1e)", seed, e);
	release();
}

/* matmul's forward on both sides of the CPU backend's few-rows path (a megabyte of weights and
 * up, 8 rows a megabyte: W streamed once, 4 outputs by 2 rows in vectors, on threads; else
 * OpenBLAS), at widths no vector divides */
static void check_matmul_rows(void)
{
	static const int shape[][3] = { { 1, 37, 10 }, { 3, 5, 7 }, { 40, 37, 10 }, { 1, 130, 2050 },
					{ 2, 130, 2050 }, { 3, 37, 7100 }, { 8, 130, 2050 },
					{ 9, 130, 2050 } };
	for (size_t s = 0; s < sizeof shape / sizeof shape[0]; s++) {
		int N = shape[s][0], C = shape[s][1], OC = shape[s][2];
		float *x = frand(N * C, 1), *w = frand(OC * C, 1), *b = frand(OC, 1);
		double *ref = dnew(N * OC), e = 0;
		mm_ctx c = { N, C, OC, dbl(x, N * C), dbl(w, OC * C), NULL };
		kn_tensor *tx = tens(x, N, C), *tw = tens(w, OC, C), *tb = tens(b, OC, 0);
		kn_tensor *to = tens(NULL, N, OC);
		for (int hb = 0; hb < 2; hb++) {
			c.b = hb ? dbl(b, OC) : NULL;
			mm_ref(&c, ref);
			K->matmul(to, tx, tw, hb ? tb : NULL);
			e = maxd(e, trel(to, NULL, ref));
		}
		ok(e < FWD_TOL, "seed %d: matmul forward, %d x %d rows by %d outputs (rel. error %.1e)",
		   seed, N, C, OC, e);
		release();
	}
}

/* ---- embed ---- */

typedef struct {
	int N, C, T;
	const int32_t *tok, *pos;
	double *wte, *wpe;
} emb_ctx;

static void emb_ref(void *vc, double *out)
{
	emb_ctx *c = vc;
	for (int i = 0; i < c->N; i++) {
		int p = c->pos ? c->pos[i] : i % c->T;
		for (int k = 0; k < c->C; k++)
			out[i * c->C + k] = c->wte[c->tok[i] * c->C + k] +
					    (c->wpe ? c->wpe[p * c->C + k] : 0.0);
	}
}

static void check_embed(const char *name, int with_wpe, int with_pos)
{
	enum { T = 4, N = 8, C = 8, V = 9, P = 6 };
	/* repeated tokens (3 three times, 1 twice) and positions accumulate into one row */
	static const int32_t tok[N] = { 3, 1, 3, 0, 3, 7, 1, 8 };
	static const int32_t pos[N] = { 5, 0, 2, 2, 1, 4, 0, 5 };
	float *wte = frand(V * C, 1), *wpe = frand(P * C, 1), *r = frand(N * C, 1);
	double *ted = dbl(wte, V * C), *ped = dbl(wpe, P * C), *rd = dbl(r, N * C), *ref = dnew(N * C);
	emb_ctx c = { N, C, T, tok, with_pos ? pos : NULL, ted, with_wpe ? ped : NULL };
	kn_tensor *ttok = itens(tok, N), *tpos = with_pos ? itens(pos, N) : NULL;
	kn_tensor *tte = tens(wte, V, C), *tpe = with_wpe ? tens(wpe, P, C) : NULL;
	kn_tensor *to = tens(NULL, N, C), *tr = tens(r, N, C);
	double e;

	emb_ref(&c, ref);
	K->embed(to, ttok, tpos, tte, tpe, T);
	e = trel(to, NULL, ref);
	ok(e < FWD_TOL, "seed %d: embed forward, %s (rel. error %.1e)", seed, name, e);

	double *gte = fd(emb_ref, &c, ted, V * C, rd, N * C);
	double *gpe = with_wpe ? fd(emb_ref, &c, ped, P * C, rd, N * C) : NULL;
	kn_tensor *dte = tens(NULL, V, C), *dpe = with_wpe ? tens(NULL, P, C) : NULL;
	K->embed_bwd(dte, dpe, tr, ttok, tpos, T);
	e = trel(dte, NULL, gte);
	ok(e < BWD_TOL, "seed %d: embed_bwd dwte vs finite differences, %s (rel. error %.1e)", seed,
	   name, e);
	if (with_wpe) {
		e = trel(dpe, NULL, gpe);
		ok(e < BWD_TOL, "seed %d: embed_bwd dwpe vs finite differences, %s (rel. error %.1e)",
		   seed, name, e);
	}

	float *pte = frand(V * C, 1), *ppe = frand(P * C, 1);
	kn_upload(dte, pte, kn_bytes(dte));
	if (with_wpe)
		kn_upload(dpe, ppe, kn_bytes(dpe));
	K->embed_bwd(dte, dpe, tr, ttok, tpos, T);
	e = trel(dte, pte, gte);
	if (with_wpe)
		e = maxd(e, trel(dpe, ppe, gpe));
	ok(e < BWD_TOL, "seed %d: embed_bwd adds into its gradients, %s (rel. error %.1e)", seed,
	   name, e);
	release();
}

/* ---- residual_norm, norm_bwd ---- */

typedef struct {
	int N, C, ln;
	double eps;
	double *x, *w, *b;
	double *mean, *rstd;	/* written when not NULL */
} norm_ctx;

static void norm_ref(void *vc, double *out)
{
	norm_ctx *c = vc;
	for (int i = 0; i < c->N; i++) {
		const double *x = c->x + i * c->C;
		double m = 0, var = 0;
		if (c->ln) {
			for (int k = 0; k < c->C; k++)
				m += x[k];
			m /= c->C;
		}
		for (int k = 0; k < c->C; k++)
			var += (x[k] - m) * (x[k] - m);
		double s = 1 / sqrt(var / c->C + c->eps);
		for (int k = 0; k < c->C; k++)
			out[i * c->C + k] = (x[k] - m) * s * c->w[k] + (c->b ? c->b[k] : 0.0);
		if (c->mean)
			c->mean[i] = m;
		if (c->rstd)
			c->rstd[i] = s;
	}
}

/* ln: LayerNorm (bias, mean) or RMSNorm; the forward with a == NULL, a + b into a separate res,
 * and a + b into res == a; then the backward. */
static void check_norm(int ln)
{
	enum { N = 6, C = 16 };
	const char *nm = ln ? "LayerNorm" : "RMSNorm";
	const float eps = 1e-2f;	/* large enough (variance ~0.3) for its placement to show */
	float *a = frand(N * C, 1), *b = frand(N * C, 1), *x = keep(cm_xmalloc(N * C * sizeof(float)));
	float *w = frand(C, 0.5), *bias = frand(C, 0.5), *r = frand(N * C, 1);
	for (int i = 0; i < N * C; i++) {
		a[i] += 0.5f;	/* a mean away from 0: LayerNorm and RMSNorm differ */
		x[i] = a[i] + b[i];
	}
	for (int k = 0; k < C; k++)
		w[k] += 1.0f;
	double *xd = dbl(x, N * C), *wd = dbl(w, C), *bd = dbl(bias, C), *rd = dbl(r, N * C);
	double *ref = dnew(N * C), *mref = dnew(N), *sref = dnew(N), e;
	norm_ctx c = { N, C, ln, eps, xd, wd, ln ? bd : NULL, mref, sref };
	norm_ref(&c, ref);
	c.mean = c.rstd = NULL;

	kn_tensor *ta = tens(a, N, C), *tb = tens(b, N, C), *tw = tens(w, C, 0);
	kn_tensor *tbias = ln ? tens(bias, C, 0) : NULL, *tres = tens(NULL, N, C);
	kn_tensor *to = tens(NULL, N, C), *tmean = ln ? tens(NULL, N, 0) : NULL, *trstd = tens(NULL, N, 0);
	static const char *modes[] = { "a NULL", "res = a + b", "res = a + b in place (res == a)" };
	float *garbage = frand(N * C, 9);
	for (int mode = 0; mode < 3; mode++) {
		kn_tensor *res = mode == 2 ? ta : tres;
		kn_upload(tres, mode == 0 ? x : garbage, kn_bytes(tres));
		kn_upload(ta, a, kn_bytes(ta));
		K->residual_norm(res, to, tmean, trstd, mode ? ta : NULL, mode ? tb : NULL, tw, tbias, eps);
		ok(!memcmp(down(res), x, N * C * sizeof(float)), "seed %d: %s %s: res holds the input",
		   seed, nm, modes[mode]);
		e = trel(to, NULL, ref);
		if (ln)
			e = maxd(e, trel(tmean, NULL, mref));
		e = maxd(e, trel(trstd, NULL, sref));
		ok(e < FWD_TOL, "seed %d: %s %s: out, %srstd (rel. error %.1e)", seed, nm, modes[mode],
		   ln ? "mean, " : "", e);
	}

	/* backward from the last forward's mean and rstd */
	double *gx = fd(norm_ref, &c, xd, N * C, rd, N * C);
	double *gw = fd(norm_ref, &c, wd, C, rd, N * C);
	double *gb = ln ? fd(norm_ref, &c, bd, C, rd, N * C) : NULL;
	kn_tensor *tx = tens(x, N, C), *tr = tens(r, N, C);
	kn_tensor *dx = tens(NULL, N, C), *dw = tens(NULL, C, 0), *db = ln ? tens(NULL, C, 0) : NULL;
	K->norm_bwd(dx, dw, db, tr, tx, tw, tmean, trstd);
	e = trel(dx, NULL, gx);
	ok(e < BWD_TOL, "seed %d: %s norm_bwd dinp vs finite differences (rel. error %.1e)", seed, nm, e);
	e = trel(dw, NULL, gw);
	ok(e < BWD_TOL, "seed %d: %s norm_bwd dw vs finite differences (rel. error %.1e)", seed, nm, e);
	if (ln) {
		e = trel(db, NULL, gb);
		ok(e < BWD_TOL, "seed %d: %s norm_bwd dbias vs finite differences (rel. error %.1e)",
		   seed, nm, e);
	}

	float *px = frand(N * C, 1), *pw = frand(C, 1), *pb = frand(C, 1);
	kn_upload(dx, px, kn_bytes(dx));
	kn_upload(dw, pw, kn_bytes(dw));
	if (ln)
		kn_upload(db, pb, kn_bytes(db));
	K->norm_bwd(dx, dw, db, tr, tx, tw, tmean, trstd);
	e = maxd(trel(dx, px, gx), trel(dw, pw, gw));
	if (ln)
		e = maxd(e, trel(db, pb, gb));
	ok(e < BWD_TOL, "seed %d: %s norm_bwd adds into its gradients (rel. error %.1e)", seed, nm, e);
	release();
}

/* ---- gelu, swiglu ---- */

typedef struct {
	int n;
	double *x;
} ew_ctx;

static void gelu_ref(void *vc, double *out)
{
	ew_ctx *c = vc;
	const double k = sqrt(2 / 3.14159265358979323846);
	for (int i = 0; i < c->n; i++) {
		double v = c->x[i];
		out[i] = 0.5 * v * (1 + tanh(k * (v + 0.044715 * v * v * v)));
	}
}

/* x packed [N, 2H]; n = N H outputs */
static int swiglu_H;

static void swiglu_ref(void *vc, double *out)
{
	ew_ctx *c = vc;
	int H = swiglu_H;
	for (int i = 0; i < c->n; i++) {
		const double *g = c->x + (i / H) * 2 * H + i % H, *u = g + H;
		out[i] = *g / (1 + exp(-*g)) * *u;
	}
}

static void check_gelu(void)
{
	enum { N = 6, C = 8 };
	float *x = frand(N * C, 4), *r = frand(N * C, 1), *p = frand(N * C, 1);
	double *xd = dbl(x, N * C), *rd = dbl(r, N * C), *ref = dnew(N * C), e;
	ew_ctx c = { N * C, xd };
	kn_tensor *tx = tens(x, N, C), *to = tens(NULL, N, C), *tr = tens(r, N, C), *dx = tens(NULL, N, C);
	gelu_ref(&c, ref);
	K->gelu(to, tx);
	e = trel(to, NULL, ref);
	ok(e < FWD_TOL, "seed %d: gelu forward (rel. error %.1e)", seed, e);
	double *g = fd(gelu_ref, &c, xd, N * C, rd, N * C);
	K->gelu_bwd(dx, tx, tr);
	e = trel(dx, NULL, g);
	ok(e < BWD_TOL, "seed %d: gelu_bwd vs finite differences (rel. error %.1e)", seed, e);
	kn_upload(dx, p, kn_bytes(dx));
	K->gelu_bwd(dx, tx, tr);
	e = trel(dx, p, g);
	ok(e < BWD_TOL, "seed %d: gelu_bwd adds into dinp (rel. error %.1e)", seed, e);
	release();
}

static void check_swiglu(void)
{
	enum { N = 6, H = 8 };
	float *x = frand(N * 2 * H, 4), *r = frand(N * H, 1), *p = frand(N * 2 * H, 1);
	double *xd = dbl(x, N * 2 * H), *rd = dbl(r, N * H), *ref = dnew(N * H), e;
	ew_ctx c = { N * H, xd };
	kn_tensor *tx = tens(x, N, 2 * H), *to = tens(NULL, N, H), *tr = tens(r, N, H);
	kn_tensor *dx = tens(NULL, N, 2 * H);
	swiglu_H = H;
	swiglu_ref(&c, ref);
	K->swiglu(to, tx);
	e = trel(to, NULL, ref);
	ok(e < FWD_TOL, "seed %d: swiglu forward (rel. error %.1e)", seed, e);
	double *g = fd(swiglu_ref, &c, xd, N * 2 * H, rd, N * H);
	K->swiglu_bwd(dx, tx, tr);
	e = trel(dx, NULL, g);
	ok(e < BWD_TOL, "seed %d: swiglu_bwd vs finite differences (rel. error %.1e)", seed, e);
	kn_upload(dx, p, kn_bytes(dx));
	K->swiglu_bwd(dx, tx, tr);
	e = trel(dx, p, g);
	ok(e < BWD_TOL, "seed %d: swiglu_bwd adds into dgu (rel. error %.1e)", seed, e);
	release();
}

/* ---- rope ---- */

typedef struct {
	kn_attn_shape s;
	const int32_t *pos;
	double theta;
	double *x;
} rope_ctx;

static void rope_ref(void *vc, double *out)
{
	rope_ctx *c = vc;
	int hd = c->s.hd, half = hd / 2, N = c->s.B * c->s.T;
	int W = (c->s.nh + 2 * c->s.nkv) * hd, nrot = (c->s.nh + c->s.nkv) * hd;
	for (int i = 0; i < N; i++) {
		double p = c->pos ? c->pos[i] : i % c->s.T;
		const double *x = c->x + i * W;
		double *y = out + i * W;
		for (int h = 0; h < nrot; h += hd)
			for (int j = 0; j < half; j++) {
				double a = p / pow(c->theta, 2.0 * j / hd);
				y[h + j] = x[h + j] * cos(a) - x[h + j + half] * sin(a);
				y[h + j + half] = x[h + j + half] * cos(a) + x[h + j] * sin(a);
			}
		for (int k = nrot; k < W; k++)
			y[k] = x[k];
	}
}

static void check_rope(int with_pos, float theta)
{
	enum { B = 2, T = 5, N = B * T, nh = 4, nkv = 2, hd = 8, W = (nh + 2 * nkv) * hd };
	static const int32_t pos[N] = { 7, 3, 0, 11, 2, 20, 1, 1, 9, 4 };
	const char *nm = with_pos ? "explicit positions" : "positions row % T";
	kn_attn_shape s = { B, T, nh, nkv, hd };
	float *x = frand(N * W, 1), *r = frand(N * W, 1);
	double *xd = dbl(x, N * W), *rd = dbl(r, N * W), *ref = dnew(N * W), e;
	rope_ctx c = { s, with_pos ? pos : NULL, theta, xd };
	kn_tensor *tq = tens(x, N, W), *tpos = with_pos ? itens(pos, N) : NULL;
	rope_ref(&c, ref);
	K->rope(tq, tpos, &s, theta, 0);
	float *got = down(tq);
	int same = 1;
	for (int i = 0; i < N; i++)
		same &= !memcmp(got + i * W + (nh + nkv) * hd, x + i * W + (nh + nkv) * hd,
				nkv * hd * sizeof(float));
	ok(same, "seed %d: rope leaves the values untouched, %s", seed, nm);
	e = rel(got, NULL, ref, N * W);
	ok(e < FWD_TOL, "seed %d: rope forward, %s, theta %g (rel. error %.1e)", seed, nm, theta, e);
	K->rope(tq, tpos, &s, theta, 1);
	e = trel(tq, NULL, xd);
	ok(e < FWD_TOL, "seed %d: rope inverse undoes the forward, %s (rel. error %.1e)", seed, nm, e);
	/* rope is linear: its backward is the inverse applied to dout */
	double *g = fd(rope_ref, &c, xd, N * W, rd, N * W);
	kn_tensor *tr = tens(r, N, W);
	K->rope(tr, tpos, &s, theta, 1);
	e = trel(tr, NULL, g);
	ok(e < BWD_TOL, "seed %d: rope inverse of dout vs finite differences, %s (rel. error %.1e)",
	   seed, nm, e);
	release();
}

/* ---- attention ---- */

typedef struct {
	kn_attn_shape s;
	const int32_t *doc;
	double *qkv;
	double *lse;		/* written when not NULL */
} attn_ctx;

static void attn_ref(void *vc, double *out)
{
	attn_ctx *c = vc;
	int B = c->s.B, T = c->s.T, nh = c->s.nh, nkv = c->s.nkv, hd = c->s.hd;
	int W = (nh + 2 * nkv) * hd, grp = nh / nkv;
	double sc[64];
	for (int b = 0; b < B; b++)
		for (int h = 0; h < nh; h++)
			for (int t = 0; t < T; t++) {
				const double *q = c->qkv + (b * T + t) * W + h * hd;
				int t0 = c->doc ? c->doc[b * T + t] : 0;
				double mx = -INFINITY, sum = 0;
				for (int u = t0; u <= t; u++) {
					const double *k = c->qkv + (b * T + u) * W + (nh + h / grp) * hd;
					double d = 0;
					for (int j = 0; j < hd; j++)
						d += q[j] * k[j];
					sc[u] = d / sqrt(hd);
					mx = fmax(mx, sc[u]);
				}
				for (int u = t0; u <= t; u++)
					sum += exp(sc[u] - mx);
				double *y = out + (b * T + t) * nh * hd + h * hd;
				for (int j = 0; j < hd; j++) {
					double a = 0;
					for (int u = t0; u <= t; u++)
						a += exp(sc[u] - mx) / sum *
						     c->qkv[(b * T + u) * W + (nh + nkv + h / grp) * hd + j];
					y[j] = a;
				}
				if (c->lse)
					c->lse[(b * nh + h) * T + t] = mx + log(sum);
			}
}

static void check_attention(const char *name, int T, int hd, int nh, int nkv, const int32_t *doc)
{
	int B = 2, N = B * T;
	int W = (nh + 2 * nkv) * hd, OW = nh * hd;
	kn_attn_shape s = { B, T, nh, nkv, hd };
	float *x = frand(N * W, 2), *r = frand(N * OW, 1), *p = frand(N * W, 1);
	double *xd = dbl(x, N * W), *rd = dbl(r, N * OW), *ref = dnew(N * OW), *lref = dnew(B * nh * T);
	attn_ctx c = { s, doc, xd, lref };
	kn_tensor *tq = tens(x, N, W), *tdoc = doc ? itens(doc, N) : NULL;
	kn_tensor *to = tens(NULL, N, OW), *tl = tens(NULL, B * nh * T, 0), *tr = tens(r, N, OW);
	kn_tensor *dq = tens(NULL, N, W);
	double e;
	attn_ref(&c, ref);
	c.lse = NULL;
	K->attention(to, tl, tq, tdoc, NULL, &s);
	e = trel(to, NULL, ref);
	ok(e < FWD_TOL, "seed %d: attention forward, %s (rel. error %.1e)", seed, name, e);
	e = trel(tl, NULL, lref);
	ok(e < FWD_TOL, "seed %d: attention lse, %s (rel. error %.1e)", seed, name, e);
	double *g = fd(attn_ref, &c, xd, N * W, rd, N * OW);
	K->attention_bwd(dq, tr, to, tl, tq, tdoc, &s);
	e = trel(dq, NULL, g);
	ok(e < BWD_TOL, "seed %d: attention_bwd dqkv vs finite differences, %s (rel. error %.1e)",
	   seed, name, e);
	kn_upload(dq, p, kn_bytes(dq));
	K->attention_bwd(dq, tr, to, tl, tq, tdoc, &s);
	e = trel(dq, p, g);
	ok(e < BWD_TOL, "seed %d: attention_bwd adds into dqkv, %s (rel. error %.1e)", seed, name, e);
	release();
}

/* A shared prefix: one row [prefix | branch a | branch b] with doc and pre gives every token
 * what it gets in the rows [prefix | a] and [prefix | b] alone (a second packed row checks
 * that rows do not mix, and that a branch can be empty: its tokens all in the prefix). */
static void check_prefix(int nh, int nkv)
{
	enum { P = 3, LA = 2, LB = 3, T = P + LA + LB, hd = 4 };
	int W = (nh + 2 * nkv) * hd, OW = nh * hd;
	float *x = frand(2 * T * W, 2);
	int32_t doc[2 * T], pre[2 * T];
	for (int t = 0; t < T; t++) {
		doc[t] = t < P ? 0 : t < P + LA ? P : P + LA;
		pre[t] = t < P ? 0 : P;
		doc[T + t] = pre[T + t] = 0;	/* the second row: plain causal */
	}
	kn_attn_shape sp = { 2, T, nh, nkv, hd }, s1 = { 1, P + LB, nh, nkv, hd };
	kn_tensor *tq = tens(x, 2 * T, W), *to = tens(NULL, 2 * T, OW);
	kn_tensor *tl = tens(NULL, 2 * nh * T, 0);
	K->attention(to, tl, tq, itens(doc, 2 * T), itens(pre, 2 * T), &sp);
	float *got = down(to);
	/* alone: [prefix | a], [prefix | b], each through plain causal attention */
	double worst = 0;
	for (int br = 0; br < 2; br++) {
		int L = br ? LB : LA, off = br ? P + LA : P, n = P + L;
		float *y = cm_xmalloc((size_t)n * W * sizeof(float));
		memcpy(y, x, (size_t)P * W * sizeof(float));
		memcpy(y + P * W, x + off * W, (size_t)L * W * sizeof(float));
		s1.T = n;
		kn_tensor *ty = tens(y, n, W), *tyo = tens(NULL, n, OW), *tyl = tens(NULL, nh * n, 0);
		K->attention(tyo, tyl, ty, NULL, NULL, &s1);
		float *want = down(tyo);
		for (int t = 0; t < n; t++) {
			int at = t < P ? t : off + t - P;
			for (int j = 0; j < OW; j++)
				worst = maxd(worst, fabs(got[at * OW + j] - want[t * OW + j]));
		}
		free(y);
	}
	kn_tensor *tr = tens(NULL, T, OW), *trl = tens(NULL, nh * T, 0);
	s1.T = T;
	K->attention(tr, trl, tens(x + T * W, T, W), NULL, NULL, &s1);
	float *plain = down(tr);
	for (int j = 0; j < T * OW; j++)
		worst = maxd(worst, fabs(got[T * OW + j] - plain[j]));
	ok(worst < 1e-6, "seed %d: attention after a shared prefix = each branch alone, %d/%d heads "
	   "(largest difference %.1e)", seed, nh, nkv, worst);
	release();
}

/* One token at a time through attention_decode repeats attention over the whole sequence. */
/* T positions decoded one at a time into caches of Tmax, heads of hd (the CPU kernel: scores 4
 * keys at a time, in vectors of up to 16; 37 and 40 leave remainders of both) */
static void check_decode(int T, int hd, int Tmax)
{
	enum { B = 2, nh = 4, nkv = 2 };
	int N = B * T, W = (nh + 2 * nkv) * hd, OW = nh * hd, KW = nkv * hd;
	kn_attn_shape s = { B, T, nh, nkv, hd }, s1 = { B, 1, nh, nkv, hd };
	float *x = frand(N * W, 2), *full = keep(cm_xmalloc(N * OW * sizeof(float)));
	float *nan = keep(cm_xmalloc(B * Tmax * KW * sizeof(float))), *step = frand(B * W, 1);
	for (int i = 0; i < B * Tmax * KW; i++)
		nan[i] = NAN;	/* cache slots past the position must not be read */
	kn_tensor *tq = tens(x, N, W), *to = tens(NULL, N, OW), *tl = tens(NULL, B * nh * T, 0);
	kn_tensor *kc = tens(nan, B * Tmax, KW), *vc = tens(nan, B * Tmax, KW);
	kn_tensor *ts = tens(NULL, B, W), *tso = tens(NULL, B, OW);
	K->attention(to, tl, tq, NULL, NULL, &s);
	for (int t = 0; t < T; t++) {
		int32_t pos[B] = { t, t };
		for (int b = 0; b < B; b++)
			memcpy(step + b * W, x + (b * T + t) * W, W * sizeof(float));
		kn_upload(ts, step, kn_bytes(ts));
		K->attention_decode(tso, ts, kc, vc, pos, &s1, Tmax);
		float *o = down(tso);
		for (int b = 0; b < B; b++)
			memcpy(full + (b * T + t) * OW, o + b * OW, OW * sizeof(float));
	}
	double *want = dbl(down(to), N * OW);
	double e = rel(full, NULL, want, N * OW);
	ok(e < FWD_TOL, "seed %d: attention_decode token by token = attention, T %d, hd %d "
	   "(rel. error %.1e)", seed, T, hd, e);
	float *k = down(kc), *v = down(vc);
	int good = 1;
	for (int b = 0; b < B; b++)
		for (int u = 0; u < Tmax; u++) {
			const float *kr = k + (b * Tmax + u) * KW, *vr = v + (b * Tmax + u) * KW;
			const float *src = x + (b * T + u) * W + nh * hd;
			if (u < T)
				good &= !memcmp(kr, src, KW * sizeof(float)) &&
					!memcmp(vr, src + KW, KW * sizeof(float));
			else
				for (int j = 0; j < KW; j++)
					good &= isnan(kr[j]) && isnan(vr[j]);
		}
	ok(good, "seed %d: attention_decode fills cache slots 0..T-1 with k, v and no others (T %d)",
	   seed, T);
	release();
}

/* ---- xent ---- */

typedef struct {
	int N, V, Vp;
	const int32_t *tg;
	double *lg;
} xent_ctx;

static void xent_ref(void *vc, double *out)
{
	xent_ctx *c = vc;
	for (int i = 0; i < c->N; i++) {
		const double *x = c->lg + i * c->Vp;
		double mx = -INFINITY, sum = 0;
		if (c->tg[i] < 0) {
			out[i] = 0;
			continue;
		}
		for (int j = 0; j < c->V; j++)
			mx = fmax(mx, x[j]);
		for (int j = 0; j < c->V; j++)
			sum += exp(x[j] - mx);
		out[i] = mx + log(sum) - x[c->tg[i]];
	}
}

static void check_xent(void)
{
	enum { N = 7, V = 10, Vp = 16 };
	static const int32_t tg[N] = { 3, -1, 0, 9, -1, 5, 2 };
	const float dscale = 0.25f;
	float *x = frand(N * Vp, 4);
	for (int i = 0; i < N; i++)
		for (int j = V; j < Vp; j++)
			x[i * Vp + j] = 1e3f + (float)j;	/* padding: must be ignored */
	double *xd = dbl(x, N * Vp), *lref = dnew(N), *dref = dnew(N * Vp), e;
	xent_ctx c = { N, V, Vp, tg, xd };
	xent_ref(&c, lref);
	for (int i = 0; i < N; i++) {
		if (tg[i] < 0)
			continue;
		double lse = lref[i] + xd[i * Vp + tg[i]];
		for (int j = 0; j < V; j++)
			dref[i * Vp + j] = dscale * (exp(xd[i * Vp + j] - lse) - (j == tg[i]));
	}
	kn_tensor *tx = tens(x, N, Vp), *tt = itens(tg, N), *tl = tens(NULL, N, 0);
	kn_tensor *td = tens(frand(N * Vp, 5), N, Vp);	/* garbage to overwrite */
	K->xent(tl, td, tx, tt, V, dscale);
	e = trel(tl, NULL, lref);
	ok(e < FWD_TOL, "seed %d: xent losses (rel. error %.1e)", seed, e);
	float *d = down(td);
	e = rel(d, NULL, dref, N * Vp);
	ok(e < FWD_TOL, "seed %d: xent dlogits = dscale (softmax - onehot) (rel. error %.1e)", seed, e);
	float *l = down(tl);
	int zeros = 1;
	for (int i = 0; i < N; i++) {
		if (tg[i] < 0)
			zeros &= l[i] == 0.0f;
		for (int j = 0; j < Vp; j++)
			if (tg[i] < 0 || j >= V)
				zeros &= d[i * Vp + j] == 0.0f;
	}
	ok(zeros, "seed %d: xent gives exact zeros at ignored rows and padded columns", seed);

	/* in place, without losses */
	kn_tensor *tin = tens(x, N, Vp);
	K->xent(NULL, tin, tin, tt, V, dscale);
	e = trel(tin, NULL, dref);
	ok(e < FWD_TOL, "seed %d: xent in place (dlogits == logits) (rel. error %.1e)", seed, e);

	/* dlogits with dscale 1 is the gradient of the sum of the losses */
	double *ones = dnew(N);
	for (int i = 0; i < N; i++)
		ones[i] = 1;
	double *g = fd(xent_ref, &c, xd, N * Vp, ones, N);
	K->xent(NULL, td, tx, tt, V, 1.0f);
	e = trel(td, NULL, g);
	ok(e < BWD_TOL, "seed %d: xent dlogits vs finite differences of the loss sum (rel. error %.1e)",
	   seed, e);
	release();
}

/* ---- reductions, scale, add ---- */

static void check_reduce(void)
{
	enum { n = 1001 };
	float *x = frand(n, 1), *y = frand(n, 1);
	kn_tensor *tx = tens(x, n, 0), *ty = tens(y, n, 0), *to = tens(NULL, n, 0);
	double s = 0, ss = 0, sa = 0;
	for (int i = 0; i < n; i++) {
		s += x[i];
		ss += (double)x[i] * x[i];
		sa += fabs(x[i]);
	}
	/* partials in double: the error is ~n 1e-16 of sum |x|; fp32 partials would be ~1e-7 */
	double gs = K->sum(tx), gss = K->sumsq(tx);
	ok(fabs(gs - s) <= 1e-12 * sa, "seed %d: sum %.17g vs %.17g", seed, gs, s);
	ok(fabs(gss - ss) <= 1e-12 * ss, "seed %d: sumsq %.17g vs %.17g", seed, gss, ss);

	K->add(to, tx, ty);
	float *o = down(to);
	int same = 1;
	for (int i = 0; i < n; i++)
		same &= o[i] == x[i] + y[i];
	ok(same, "seed %d: add equals the fp32 sums exactly", seed);
	K->scale(tx, -0.375f);
	o = down(tx);
	same = 1;
	for (int i = 0; i < n; i++)
		same &= o[i] == x[i] * -0.375f;
	ok(same, "seed %d: scale equals the fp32 products exactly", seed);
	release();
}

/* ---- adamw ---- */

static void check_adamw(int steps)
{
	enum { n = 40 };
	const float lr = 0.01f, b1 = 0.9f, b2 = 0.95f, eps = 1e-3f, wd = 0.1f, gscale = 0.5f;
	float *p = frand(n, 1);
	double *pd = dbl(p, n), *md = dnew(n), *vd = dnew(n), *delta = dnew(n), e;
	kn_tensor *tp = tens(p, n, 0), *tg = tens(NULL, n, 0);
	kn_tensor *tm = tens(NULL, n, 0), *tv = tens(NULL, n, 0);
	for (int k = 1; k <= steps; k++) {
		/* gradients near eps, so that eps matters */
		float *g = frand(n, 0.02);
		kn_upload(tg, g, kn_bytes(tg));
		K->adamw(tp, tg, tm, tv, lr, b1, b2, eps, wd, gscale, k);
		for (int i = 0; i < n; i++) {
			double gi = (double)g[i] * gscale;
			md[i] = b1 * md[i] + (1 - (double)b1) * gi;
			vd[i] = b2 * vd[i] + (1 - (double)b2) * gi * gi;
			double mh = md[i] / (1 - pow(b1, k)), vh = vd[i] / (1 - pow(b2, k));
			pd[i] -= lr * (mh / (sqrt(vh) + eps) + wd * pd[i]);
		}
	}
	/* the update, about lr, against fp32 rounding of p (6e-8 a step): 1e-4 is ample */
	float *got = down(tp);
	for (int i = 0; i < n; i++)
		delta[i] = pd[i] - p[i];
	e = rel(got, p, delta, n);
	ok(e < BWD_TOL, "seed %d: adamw %d step%s: parameter update (rel. error %.1e)", seed, steps,
	   steps > 1 ? "s" : "", e);
	e = maxd(trel(tm, NULL, md), trel(tv, NULL, vd));
	ok(e < FWD_TOL, "seed %d: adamw %d step%s: m and v (rel. error %.1e)", seed, steps,
	   steps > 1 ? "s" : "", e);
	release();
}

/* ---- determinism ---- */

static int twice_same(kn_tensor **g, int ng, void (*run)(void *), void *arg)
{
	float *first[3];
	for (int k = 0; k < ng; k++)
		K->zero(g[k]);
	run(arg);
	for (int k = 0; k < ng; k++) {
		first[k] = down(g[k]);
		K->zero(g[k]);
	}
	run(arg);
	int same = 1;
	for (int k = 0; k < ng; k++)
		same &= !memcmp(first[k], down(g[k]), kn_bytes(g[k]));
	return same;
}

typedef struct {
	kn_tensor *a[8];
	kn_attn_shape s;
} call;

static void run_attn_bwd(void *v)
{
	call *c = v;
	K->attention_bwd(c->a[0], c->a[1], c->a[2], c->a[3], c->a[4], c->a[5], &c->s);
}

static void run_embed_bwd(void *v)
{
	call *c = v;
	K->embed_bwd(c->a[0], c->a[1], c->a[2], c->a[3], NULL, 4);
}

static void run_norm_bwd(void *v)
{
	call *c = v;
	K->norm_bwd(c->a[0], c->a[1], c->a[2], c->a[3], c->a[4], c->a[5], c->a[6], c->a[7]);
}

static void check_determinism(void)
{
	enum { B = 2, T = 16, N = B * T, nh = 4, nkv = 2, hd = 8, W = (nh + 2 * nkv) * hd };
	enum { OW = nh * hd, C = 32, V = 5 };
	int32_t doc[N], tok[N];
	for (int i = 0; i < N; i++) {
		doc[i] = i % T < 6 ? 0 : i % T < 11 ? 6 : 11;
		tok[i] = (i * 7) % V;
	}
	call c = { { NULL }, { B, T, nh, nkv, hd } };
	kn_tensor *tq = tens(frand(N * W, 2), N, W), *to = tens(NULL, N, OW);
	kn_tensor *tl = tens(NULL, B * nh * T, 0), *tdoc = itens(doc, N);
	K->attention(to, tl, tq, tdoc, NULL, &c.s);
	kn_tensor *ga[1] = { tens(NULL, N, W) };
	c.a[0] = ga[0], c.a[1] = tens(frand(N * OW, 1), N, OW), c.a[2] = to, c.a[3] = tl;
	c.a[4] = tq, c.a[5] = tdoc;
	ok(twice_same(ga, 1, run_attn_bwd, &c), "seed %d: attention_bwd twice: bitwise identical", seed);

	kn_tensor *ge[2] = { tens(NULL, V, C), tens(NULL, 4, C) };
	c.a[0] = ge[0], c.a[1] = ge[1], c.a[2] = tens(frand(N * C, 1), N, C), c.a[3] = itens(tok, N);
	ok(twice_same(ge, 2, run_embed_bwd, &c), "seed %d: embed_bwd twice: bitwise identical", seed);

	kn_tensor *tx = tens(frand(N * C, 1), N, C), *tw = tens(frand(C, 1), C, 0);
	kn_tensor *tb = tens(frand(C, 1), C, 0), *tn = tens(NULL, N, C);
	kn_tensor *tm = tens(NULL, N, 0), *ts = tens(NULL, N, 0);
	K->residual_norm(tx, tn, tm, ts, NULL, NULL, tw, tb, 1e-5f);
	kn_tensor *gn[3] = { tens(NULL, N, C), tens(NULL, C, 0), tens(NULL, C, 0) };
	c.a[0] = gn[0], c.a[1] = gn[1], c.a[2] = gn[2], c.a[3] = tens(frand(N * C, 1), N, C);
	c.a[4] = tx, c.a[5] = tw, c.a[6] = tm, c.a[7] = ts;
	ok(twice_same(gn, 3, run_norm_bwd, &c), "seed %d: norm_bwd twice: bitwise identical", seed);
	release();
}

static void run_all(int sd)
{
	/* row 0: documents starting at 0 and 3; row 1: one document */
	static const int32_t docA[10] = { 0, 0, 0, 3, 3, 0, 0, 0, 0, 0 };
	/* row 0: documents at 0, 1 and 4; row 1: at 0 and 2 */
	static const int32_t docB[10] = { 0, 1, 1, 1, 4, 0, 0, 2, 2, 2 };
	seed = sd;
	rng = 0x5eed0000ULL + (uint64_t)sd;
	check_matmul();
	check_matmul_rows();
	check_embed("GPT-2 style, positions row % T", 1, 0);
	check_embed("GPT-2 style, explicit positions", 1, 1);
	check_embed("Llama style, no wpe", 0, 0);
	check_norm(1);
	check_norm(0);
	check_gelu();
	check_swiglu();
	check_rope(0, 10000.0f);
	check_rope(1, 100.0f);
	check_attention("GQA 4/2, doc NULL", 5, 4, 4, 2, NULL);
	check_attention("GQA 4/2, docs {0,0,0,3,3 | 0,0,0,0,0}", 5, 4, 4, 2, docA);
	check_attention("GQA 4/2, docs {0,1,1,1,4 | 0,0,2,2,2}", 5, 4, 4, 2, docB);
	check_attention("MQA 4/1, docs {0,0,0,3,3 | 0,0,0,0,0}", 5, 4, 4, 1, docA);
	check_attention("MHA 2/2, doc NULL", 5, 4, 2, 2, NULL);
	/* longer rows than the CPU kernel's tiles (4 queries x 16 keys), of sizes no tile divides */
	int32_t docC[2 * 37];
	for (int t = 0; t < 37; t++) {
		docC[t] = t < 13 ? 0 : t < 30 ? 13 : 30;
		docC[37 + t] = t < 17 ? 0 : 17;
	}
	check_attention("GQA 4/2, T 37, hd 5, doc NULL", 37, 5, 4, 2, NULL);
	check_attention("MQA 2/1, T 37, hd 6, docs {0.., 13.., 30.. | 0.., 17..}", 37, 6, 2, 1, docC);
	check_prefix(4, 2);
	check_prefix(2, 2);
	check_decode(5, 4, 8);
	check_decode(37, 40, 41);
	check_xent();
	check_reduce();
	check_adamw(1);
	check_adamw(3);
	check_determinism();
}

int main(void)
{
	char err[256];
	cm_init("8010-kernels");
	/* the backend as built for every x86-64 level this processor runs (kernels.h) */
	static const char *level[] = { "x86-64", "x86-64-v3", "x86-64-v4" };
	int levels = 0;
	for (size_t l = 0; l < sizeof level / sizeof level[0]; l++) {
		setenv("KN_CPU_ISA", level[l], 1);
		be = kn_open("cpu", 0, err, sizeof err);
		if (!be) {
			printf("# %s: %s\n", level[l], err);
			continue;
		}
		printf("# the CPU backend built for %s\n", level[l]);
		levels++;
		K = be->ops;
		run_all(1);
		run_all(2);
		kn_close(be);
	}
	ok(levels > 0, "the backend of at least one level ran (%d)", levels);
	unsetenv("KN_CPU_ISA");
	be = kn_open("cpu", 0, err, sizeof err);
	ok(be && be->base == kn_cpu_table(err, sizeof err), "without KN_CPU_ISA, the best level's");
	kn_close(be);
	setenv("KN_CPU_ISA", "x86-64-v9", 1);
	ok(!kn_open("cpu", 0, err, sizeof err) && strstr(err, "KN_CPU_ISA=x86-64-v9"),
	   "KN_CPU_ISA naming no level: an error (%s)", err);
	return tap_done();
}
