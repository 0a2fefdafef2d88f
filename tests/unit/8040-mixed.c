/* 8040-mixed.c - bf16 tensors through kernels/mixed.c on the CPU backend: every operation
 * that takes float tensors runs four times on the same random values:
 * - fp32 tensors through the backend's table (the wrapper) and through kn_cpu_table() directly:
 *   bit for bit the same (the wrapper leaves fp32-only calls alone);
 * - activations and weights in bf16 (parameter gradients, mean, rstd, lse and losses in fp32,
 *   as the model keeps them) through the wrapper, and fp32 tensors holding the bf16-rounded
 *   inputs through kn_cpu_ops with the results rounded to bf16 on the host: bit for bit the
 *   same, for every tensor the operation reads or writes (load bf16, compute fp32, store
 *   bf16, and nothing else);
 * - the bf16 results against the fp32 ones within a tolerance (TOL_COPY, TOL_OP: why).
 * Gradients that backwards add into are pre-filled with values of the gradient's size, so
 * the add shows in all three comparisons; one bf16 tensor passed twice (xent in place,
 * residual_norm with res == a, and a view of all of a tensor) works as one. matmul_gelu,
 * which the CPU table lacks, is matmul then gelu on the fp32 product, pre rounded after. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kernels.h"
#include "kmath.h"
#include "tap.h"
#include "testmem.h"

static kn_backend *be;
static const kn_ops *K;		/* the backend's table: the mixed wrapper over the CPU's */
static const kn_ops *R;	/* the fp32 CPU operations, called directly: kn_cpu_table() */
static int seed;

/* ---- random numbers and memory released after each check: testmem.h ---- */

static void release(void)
{
	release_mem();
}

/* n ids uniform in [0, k) */
static int32_t *irand(size_t n, int k)
{
	int32_t *x = keep(cm_xmalloc(n * sizeof *x));
	for (size_t i = 0; i < n; i++)
		x[i] = (int32_t)(urand() * k);
	return x;
}

static float round_bf16(float x)
{
	return kn_f32_from_bf16(kn_bf16_from_f32(x));
}

/* ---- one operation, four runs ---- */

enum role {
	ACT,	/* activation or activation gradient: bf16 in the mixed run */
	WGT,	/* weight: bf16 in the mixed run (the model's bf16 copy of its parameters) */
	F32,	/* fp32 in every run: parameter gradients, mean, rstd, lse, losses */
	I32,	/* ids, positions, document starts, targets */
};
enum io { NONE, IN, OUT };	/* NONE: passed as NULL; OUT: written (or added into) */

typedef struct arg {
	const char *name;
	int role, io;
	int64_t n0, n1;		/* shape [n0] (n1 == 0) or [n0, n1] */
	const void *init;	/* floats or ids; NULL: zeros */
	int alias;		/* > 0: the tensor of argument alias - 1 ... */
	int view;		/* ... or a view of all of it */
} arg;

#define ARG(name, role, io, n0, n1, init) { name, role, io, n0, n1, init, 0, 0 }
/* the tensor of an earlier argument (counted from 1), or a view of all of it */
#define ALIAS(name, role, io, n0, n1, init, of, view) { name, role, io, n0, n1, init, of, view }
#define MAXARG 10
enum { M_F32, M_CPU32, M_BF16, M_CPUBF, NMODE };
static const char *mode_name[NMODE] = { "fp32", "kn_cpu_ops fp32", "bf16", "kn_cpu_ops rounded" };

/* Calls the operation on t (NULL where io is NONE) through ops; returns what it returns. */
typedef double (*op_fn)(const kn_ops *ops, kn_tensor **t, const void *ctx);

/* After run(): every argument's values after the call, as fp32, per mode; the return value. */
static float *got[NMODE][MAXARG];
static double ret[NMODE];

static int low(int mode, int role)
{
	return (mode == M_BF16 || mode == M_CPUBF) && (role == ACT || role == WGT);
}

static int64_t nel(const arg *a)
{
	return a->n0 * (a->n1 ? a->n1 : 1);
}

static void run_mode(int mode, const arg *a, int na, op_fn f, const void *ctx)
{
	kn_tensor *t[MAXARG] = { NULL }, *own[MAXARG] = { NULL };
	for (int k = 0; k < na; k++) {
		int64_t shape[2] = { a[k].n0, a[k].n1 }, n = nel(&a[k]);
		int nd = a[k].n1 ? 2 : 1;
		if (a[k].io == NONE)
			continue;
		if (a[k].alias) {
			kn_tensor *b = t[a[k].alias - 1];
			t[k] = a[k].view ? (own[k] = kn_view(b, 0, nd, shape)) : b;
			continue;
		}
		if (a[k].role == I32) {
			t[k] = own[k] = kn_new(be, KN_I32, nd, shape);
			if (a[k].init)
				kn_upload(t[k], a[k].init, kn_bytes(t[k]));
			continue;
		}
		const float *x = a[k].init;
		t[k] = own[k] = kn_new(be, mode == M_BF16 && low(mode, a[k].role) ? KN_BF16 : KN_F32,
				       nd, shape);
		if (!x)
			continue;
		if (mode == M_BF16 && low(mode, a[k].role)) {
			uint16_t *h = cm_xmalloc((size_t)n * sizeof *h);
			for (int64_t i = 0; i < n; i++)
				h[i] = kn_bf16_from_f32(x[i]);
			kn_upload(t[k], h, kn_bytes(t[k]));
			free(h);
		} else if (low(mode, a[k].role)) {
			float *h = cm_xmalloc((size_t)n * sizeof *h);
			for (int64_t i = 0; i < n; i++)
				h[i] = round_bf16(x[i]);
			kn_upload(t[k], h, kn_bytes(t[k]));
			free(h);
		} else {
			kn_upload(t[k], x, kn_bytes(t[k]));
		}
	}
	ret[mode] = f(mode == M_CPU32 || mode == M_CPUBF ? R : K, t, ctx);
	for (int k = 0; k < na; k++) {
		int64_t n = nel(&a[k]);
		got[mode][k] = NULL;
		if (a[k].io == NONE || a[k].role == I32)
			continue;
		float *h = keep(cm_xmalloc((size_t)n * sizeof *h));
		got[mode][k] = h;
		if (t[k]->dtype == KN_BF16) {
			uint16_t *b = cm_xmalloc((size_t)n * sizeof *b);
			kn_download(t[k], b, kn_bytes(t[k]));
			for (int64_t i = 0; i < n; i++)
				h[i] = kn_f32_from_bf16(b[i]);
			free(b);
		} else {
			kn_download(t[k], h, kn_bytes(t[k]));
			if (mode == M_CPUBF && low(mode, a[k].role))	/* the store to bf16 */
				for (int64_t i = 0; i < n; i++)
					h[i] = round_bf16(h[i]);
		}
	}
	for (int k = na - 1; k >= 0; k--)	/* views before what they view */
		kn_free(own[k]);
}

/* max |a - b| / max |a| */
static double maxrel(const float *a, const float *b, int64_t n)
{
	double d = 0, m = 0;
	for (int64_t i = 0; i < n; i++) {
		double e = fabs((double)a[i] - b[i]);
		d = e > d || isnan(e) ? e : d;
		m = fmax(m, fabs(a[i]));
	}
	return m > 0 ? d / m : d;
}

static int same(int m1, int m2, const arg *a, int na)
{
	int eq = !memcmp(&ret[m1], &ret[m2], sizeof ret[m1]);
	for (int k = 0; k < na; k++)
		if (got[m1][k] && memcmp(got[m1][k], got[m2][k], (size_t)nel(&a[k]) * sizeof(float))) {
			printf("# '%s' differs between the %s and %s runs\n", a[k].name,
			       mode_name[m1], mode_name[m2]);
			eq = 0;
		}
	return eq;
}

/* The four runs and the three comparisons; tol bounds max |fp32 - bf16| / max |fp32| of
 * every tensor written. */
static void run(const char *what, const arg *a, int na, op_fn f, const void *ctx, double tol)
{
	char errs[512] = "";
	size_t l = 0;
	double worst = 0;
	int lows = 0;
	for (int k = 0; k < na; k++)
		lows += a[k].io != NONE && low(M_BF16, a[k].role);
	for (int mode = 0; mode < NMODE; mode++)
		run_mode(mode, a, na, f, ctx);
	ok(same(M_F32, M_CPU32, a, na), "seed %d: %s: fp32 through the wrapper = kn_cpu_ops, bit "
	   "for bit", seed, what);
	ok(same(M_BF16, M_CPUBF, a, na), "seed %d: %s: bf16 = the fp32 operation on the rounded "
	   "inputs, rounded, bit for bit", seed, what);
	for (int k = 0; k < na; k++) {
		if (a[k].io != OUT || a[k].role == I32 || (a[k].alias && !a[k].view) || !lows)
			continue;
		double e = maxrel(got[M_F32][k], got[M_BF16][k], nel(&a[k]));
		worst = e > worst || isnan(e) ? e : worst;
		if (l < sizeof errs)
			l += snprintf(errs + l, sizeof errs - l, "%s%s %.1e", l ? ", " : "", a[k].name,
				      e);
	}
	if (l)	/* not for reductions, nor for fp32 throughout */
		ok(worst < tol, "seed %d: %s: bf16 within %.0e of fp32 (max error / max |value|: %s)",
		   seed, what, tol, errs);
}

/* ---- the operations ---- */

typedef struct ctx {
	int T, V, Tmax, inverse;
	float eps, theta, dscale, s;
	kn_attn_shape sh, sh1;
	const int32_t *pos;	/* attention_decode's host positions */
} ctx;

#define C_ ((const ctx *)c)

static double op_embed(const kn_ops *o, kn_tensor **t, const void *c)
{
	o->embed(t[0], t[1], t[2], t[3], t[4], C_->T);
	return 0;
}

static double op_embed_bwd(const kn_ops *o, kn_tensor **t, const void *c)
{
	o->embed_bwd(t[0], t[1], t[2], t[3], t[4], C_->T);
	return 0;
}

static double op_matmul(const kn_ops *o, kn_tensor **t, const void *c)
{
	(void)c;
	o->matmul(t[0], t[1], t[2], t[3]);
	return 0;
}

static double op_matmul_bwd(const kn_ops *o, kn_tensor **t, const void *c)
{
	(void)c;
	o->matmul_bwd(t[0], t[1], t[2], t[3], t[4], t[5]);
	return 0;
}

static double op_residual_norm(const kn_ops *o, kn_tensor **t, const void *c)
{
	o->residual_norm(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], C_->eps);
	return 0;
}

static double op_norm_bwd(const kn_ops *o, kn_tensor **t, const void *c)
{
	(void)c;
	o->norm_bwd(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]);
	return 0;
}

static double op_add(const kn_ops *o, kn_tensor **t, const void *c)
{
	(void)c;
	o->add(t[0], t[1], t[2]);
	return 0;
}

static double op_gelu(const kn_ops *o, kn_tensor **t, const void *c)
{
	(void)c;
	o->gelu(t[0], t[1]);
	return 0;
}

static double op_gelu_bwd(const kn_ops *o, kn_tensor **t, const void *c)
{
	(void)c;
	o->gelu_bwd(t[0], t[1], t[2]);
	return 0;
}

static double op_swiglu(const kn_ops *o, kn_tensor **t, const void *c)
{
	(void)c;
	o->swiglu(t[0], t[1]);
	return 0;
}

static double op_swiglu_bwd(const kn_ops *o, kn_tensor **t, const void *c)
{
	(void)c;
	o->swiglu_bwd(t[0], t[1], t[2]);
	return 0;
}

static double op_rope(const kn_ops *o, kn_tensor **t, const void *c)
{
	o->rope(t[0], t[1], &C_->sh, C_->theta, C_->inverse);
	return 0;
}

static double op_attention(const kn_ops *o, kn_tensor **t, const void *c)
{
	o->attention(t[0], t[1], t[2], t[3], NULL, &C_->sh);
	return 0;
}

static double op_attention_bwd(const kn_ops *o, kn_tensor **t, const void *c)
{
	o->attention_bwd(t[0], t[1], t[2], t[3], t[4], t[5], &C_->sh);
	return 0;
}

/* the caches prefilled with the first T positions, then one step at positions pos */
static double op_decode(const kn_ops *o, kn_tensor **t, const void *c)
{
	o->kv_store(t[2], t[3], t[4], &C_->sh, C_->Tmax);
	o->attention_decode(t[0], t[1], t[2], t[3], C_->pos, &C_->sh1, C_->Tmax);
	return 0;
}

static double op_kv_store(const kn_ops *o, kn_tensor **t, const void *c)
{
	o->kv_store(t[0], t[1], t[2], &C_->sh, C_->Tmax);
	return 0;
}

static double op_xent(const kn_ops *o, kn_tensor **t, const void *c)
{
	o->xent(t[0], t[1], t[2], t[3], C_->V, C_->dscale);
	return 0;
}

static double op_sum(const kn_ops *o, kn_tensor **t, const void *c)
{
	(void)c;
	return o->sum(t[0]);
}

static double op_sumsq(const kn_ops *o, kn_tensor **t, const void *c)
{
	(void)c;
	return o->sumsq(t[0]);
}

static double op_scale(const kn_ops *o, kn_tensor **t, const void *c)
{
	o->scale(t[0], C_->s);
	return 0;
}

/* the CPU's table has no matmul_gelu: the wrapper runs matmul, then gelu on the fp32
 * product before pre is rounded (as a product's epilogue does) */
static double op_matmul_gelu(const kn_ops *o, kn_tensor **t, const void *c)
{
	(void)c;
	if (o->matmul_gelu) {
		o->matmul_gelu(t[0], t[1], t[2], t[3], t[4]);
	} else {
		o->matmul(t[1], t[2], t[3], t[4]);
		o->gelu(t[0], t[1]);
	}
	return 0;
}

static double op_adamw(const kn_ops *o, kn_tensor **t, const void *c)
{
	(void)c;
	o->adamw(t[0], t[1], t[2], t[3], 0.01f, 0.9f, 0.95f, 1e-8f, 0.1f, 0.5f, 3);
	return 0;
}

#define NA(a) ((int)(sizeof(a) / sizeof *(a)))

/* Tolerances, on max |fp32 - bf16| / max |fp32| over a tensor. bf16 keeps 8 significant
 * bits: rounding a value moves it by up to 2^-9 = 2.0e-3 of itself.
 * - copies, sums of two values, rotations (embed, embed_bwd, add, rope, kv_store, scale):
 *   two or three roundings, at most about 3 x 2^-9 = 5.9e-3; measured up to 5.2e-3 (add);
 * - everything else: products, normalisations, softmaxes and their backwards over rounded
 *   inputs sum errors of 2^-9 of random sign over a few dozen terms and round the result;
 *   measured 1e-3 to 6.7e-3 (the worst: attention_bwd's dqkv, then swiglu, the norms).
 * A dropped add into a pre-filled gradient, a result not stored back or a wrong operand is
 * off by order 1, far beyond both; the bit-for-bit comparison catches the rest. */
#define TOL_COPY 1e-2
#define TOL_OP 2e-2

static void check_embed(int gpt2)
{
	enum { B = 2, T = 16, N = B * T, C = 64, V = 50 };
	const char *what = gpt2 ? "embed, wte + wpe, explicit positions" : "embed, wte only";
	int32_t *tok = irand(N, V), *pos = irand(N, T);
	arg a[] = {
		ARG("out", ACT, OUT, N, C, NULL),
		ARG("tok", I32, IN, N, 0, tok),
		ARG("pos", I32, gpt2 ? IN : NONE, N, 0, pos),
		ARG("wte", WGT, IN, V, C, frand(V * C, 1)),
		ARG("wpe", WGT, gpt2 ? IN : NONE, T, C, frand(T * C, 1)),
	};
	ctx c = { .T = T };
	run(what, a, NA(a), op_embed, &c, TOL_COPY);
	/* repeated ids sum many rows of dout into one of dwte: pre-filled, fp32 as in the model */
	arg g[] = {
		ARG("dwte", F32, OUT, V, C, frand(V * C, 1)),
		ARG("dwpe", F32, gpt2 ? OUT : NONE, T, C, frand(T * C, 1)),
		ARG("dout", ACT, IN, N, C, frand(N * C, 1)),
		ARG("tok", I32, IN, N, 0, tok),
		ARG("pos", I32, gpt2 ? IN : NONE, N, 0, pos),
	};
	char w[128];
	snprintf(w, sizeof w, "embed_bwd%s", gpt2 ? ", dwte and dwpe" : ", dwte only");
	run(w, g, NA(g), op_embed_bwd, &c, TOL_COPY);
	release();
}

static void check_matmul(void)
{
	enum { N = 32, C = 64, OC = 48 };
	float *x = frand(N * C, 1), *w = frand(OC * C, 1), *dout = frand(N * OC, 1);
	for (int hb = 0; hb < 2; hb++) {
		arg a[] = {
			ARG("out", ACT, OUT, N, OC, NULL),
			ARG("inp", ACT, IN, N, C, x),
			ARG("w", WGT, IN, OC, C, w),
			ARG("bias", WGT, hb ? IN : NONE, OC, 0, frand(OC, 1)),
		};
		run(hb ? "matmul with bias" : "matmul without bias", a, NA(a), op_matmul, NULL,
		    TOL_OP);
	}
	for (int hb = 0; hb < 2; hb++) {
		arg a[] = {
			ARG("out", ACT, OUT, N, OC, frand(N * OC, 5)),
			ARG("pre", ACT, OUT, N, OC, frand(N * OC, 5)),
			ARG("inp", ACT, IN, N, C, x),
			ARG("w", WGT, IN, OC, C, w),
			ARG("bias", WGT, hb ? IN : NONE, OC, 0, frand(OC, 1)),
		};
		run(hb ? "matmul_gelu with bias" : "matmul_gelu without bias", a, NA(a),
		    op_matmul_gelu, NULL, TOL_OP);
	}
	/* gradients: dinp ~ sqrt(OC) / sqrt(3) = 4, dw ~ sqrt(N) / 3 = 2, dbias ~ sqrt(N) / sqrt(3) */
	arg g[] = {
		ARG("dinp", ACT, OUT, N, C, frand(N * C, 4)),
		ARG("dw", F32, OUT, OC, C, frand(OC * C, 2)),
		ARG("dbias", F32, OUT, OC, 0, frand(OC, 3)),
		ARG("dout", ACT, IN, N, OC, dout),
		ARG("inp", ACT, IN, N, C, x),
		ARG("w", WGT, IN, OC, C, w),
	};
	run("matmul_bwd into dinp, dw, dbias", g, NA(g), op_matmul_bwd, NULL, TOL_OP);
	/* the model's head: dw (or the tied embedding's) and dinp, no bias */
	g[2].io = NONE;
	run("matmul_bwd, dbias NULL", g, NA(g), op_matmul_bwd, NULL, TOL_OP);
	g[0].io = NONE;
	g[2].io = OUT;
	run("matmul_bwd, dinp NULL", g, NA(g), op_matmul_bwd, NULL, TOL_OP);
	release();
}

/* ln: LayerNorm or RMSNorm; mode 0: a NULL (res is the input), 1: res = a + b, 2: res == a */
static void check_norm(int ln, int mode)
{
	enum { N = 32, C = 64 };
	static const char *modes[] = { "a NULL", "res = a + b", "res = a + b in place (res == a)" };
	char what[128];
	snprintf(what, sizeof what, "residual_norm, %s, %s", ln ? "LayerNorm" : "RMSNorm",
		 modes[mode]);
	float *x = frand(N * C, 1), *w = frand(C, 0.5), *bias = frand(C, 0.5);
	for (int i = 0; i < N * C; i++)
		x[i] += 0.5f;	/* a mean away from 0: LayerNorm and RMSNorm differ */
	for (int k = 0; k < C; k++)
		w[k] += 1.0f;
	arg a[] = {
		ARG("res", ACT, mode == 0 ? IN : OUT, N, C, mode == 1 ? frand(N * C, 9) : x),
		ARG("out", ACT, OUT, N, C, NULL),
		ARG("mean", F32, ln ? OUT : NONE, N, 0, NULL),
		ARG("rstd", F32, OUT, N, 0, NULL),
		ALIAS("a", ACT, mode ? IN : NONE, N, C, x, mode == 2 ? 1 : 0, 0),
		ARG("b", ACT, mode ? IN : NONE, N, C, frand(N * C, 1)),
		ARG("w", WGT, IN, C, 0, w),
		ARG("bias", WGT, ln ? IN : NONE, C, 0, bias),
	};
	ctx c = { .eps = 1e-5f };
	run(what, a, NA(a), op_residual_norm, &c, TOL_OP);
	if (mode)
		return;

	/* the backward with the forward's statistics, fp32 as in the model */
	float *mean = keep(cm_xmalloc(N * sizeof(float))), *rstd = keep(cm_xmalloc(N * sizeof(float)));
	memcpy(rstd, got[M_F32][3], N * sizeof(float));
	if (ln)
		memcpy(mean, got[M_F32][2], N * sizeof(float));
	arg g[] = {
		ARG("dinp", ACT, OUT, N, C, frand(N * C, 2)),
		ARG("dw", F32, OUT, C, 0, frand(C, 4)),
		ARG("dbias", F32, ln ? OUT : NONE, C, 0, frand(C, 4)),
		ARG("dout", ACT, IN, N, C, frand(N * C, 1)),
		ARG("inp", ACT, IN, N, C, x),
		ARG("w", WGT, IN, C, 0, w),
		ARG("mean", F32, ln ? IN : NONE, N, 0, mean),
		ARG("rstd", F32, IN, N, 0, rstd),
	};
	snprintf(what, sizeof what, "norm_bwd, %s", ln ? "LayerNorm" : "RMSNorm");
	run(what, g, NA(g), op_norm_bwd, NULL, TOL_OP);
}

static void check_elementwise(void)
{
	enum { N = 32, C = 64, H = 48 };
	float *x = frand(N * C, 4), *gu = frand(N * 2 * H, 4);
	arg add[] = {
		ARG("out", ACT, OUT, N, C, NULL),
		ARG("a", ACT, IN, N, C, x),
		ARG("b", ACT, IN, N, C, frand(N * C, 1)),
	};
	run("add", add, NA(add), op_add, NULL, TOL_COPY);
	arg ge[] = {
		ARG("out", ACT, OUT, N, C, NULL),
		ARG("inp", ACT, IN, N, C, x),
	};
	run("gelu", ge, NA(ge), op_gelu, NULL, TOL_OP);

	/* gelu once more by hand: kn_cpu_ops on the rounded inputs, kn_bf16_from_f32 */
	float *xr = keep(cm_xmalloc(N * C * sizeof(float)));
	uint16_t *xb = keep(cm_xmalloc(N * C * sizeof(uint16_t)));
	uint16_t *gb = keep(cm_xmalloc(N * C * sizeof(uint16_t)));
	uint16_t *want = keep(cm_xmalloc(N * C * sizeof(uint16_t)));
	for (int i = 0; i < N * C; i++) {
		xb[i] = kn_bf16_from_f32(x[i]);
		xr[i] = kn_f32_from_bf16(xb[i]);
	}
	kn_tensor *tf = kn_new2(be, KN_F32, N, C), *tfo = kn_new2(be, KN_F32, N, C);
	kn_tensor *tb = kn_new2(be, KN_BF16, N, C), *tbo = kn_new2(be, KN_BF16, N, C);
	kn_upload(tf, xr, kn_bytes(tf));
	kn_upload(tb, xb, kn_bytes(tb));
	R->gelu(tfo, tf);
	K->gelu(tbo, tb);
	float *fo = keep(cm_xmalloc(N * C * sizeof(float)));
	kn_download(tfo, fo, kn_bytes(tfo));
	kn_download(tbo, gb, kn_bytes(tbo));
	int nonzero = 0;
	for (int i = 0; i < N * C; i++) {
		want[i] = kn_bf16_from_f32(fo[i]);
		nonzero += want[i] != 0;
	}
	ok(nonzero > N * C / 2 && !memcmp(gb, want, N * C * sizeof(uint16_t)),
	   "seed %d: gelu on bf16 = kn_bf16_from_f32(kn_cpu_ops gelu of the rounded inputs), "
	   "bit for bit", seed);
	kn_free(tf);
	kn_free(tfo);
	kn_free(tb);
	kn_free(tbo);

	arg gb2[] = {
		ARG("dinp", ACT, OUT, N, C, frand(N * C, 1)),
		ARG("inp", ACT, IN, N, C, x),
		ARG("dout", ACT, IN, N, C, frand(N * C, 1)),
	};
	run("gelu_bwd into dinp", gb2, NA(gb2), op_gelu_bwd, NULL, TOL_OP);
	arg sw[] = {
		ARG("out", ACT, OUT, N, H, NULL),
		ARG("gu", ACT, IN, N, 2 * H, gu),
	};
	run("swiglu", sw, NA(sw), op_swiglu, NULL, TOL_OP);
	arg sb[] = {
		ARG("dgu", ACT, OUT, N, 2 * H, frand(N * 2 * H, 2)),
		ARG("gu", ACT, IN, N, 2 * H, gu),
		ARG("dout", ACT, IN, N, H, frand(N * H, 1)),
	};
	run("swiglu_bwd into dgu", sb, NA(sb), op_swiglu_bwd, NULL, TOL_OP);
	release();
}

static void check_rope(void)
{
	enum { B = 2, T = 16, N = B * T, nh = 4, nkv = 2, hd = 16, W = (nh + 2 * nkv) * hd };
	float *x = frand(N * W, 1);
	int32_t *pos = irand(N, 40);
	for (int k = 0; k < 3; k++) {
		static const char *what[] = { "rope, positions row % T", "rope, explicit positions",
			"rope inverse, explicit positions" };
		arg a[] = {
			ARG("qkv", ACT, OUT, N, W, x),
			ARG("pos", I32, k ? IN : NONE, N, 0, pos),
		};
		ctx c = { .sh = { B, T, nh, nkv, hd }, .theta = k ? 100.0f : 10000.0f,
			  .inverse = k == 2 };
		run(what[k], a, NA(a), op_rope, &c, TOL_COPY);
	}
	release();
}

static void check_attention(const char *name, int nh, int nkv, const int32_t *doc)
{
	enum { B = 2, T = 16, N = B * T, hd = 16 };
	int W = (nh + 2 * nkv) * hd, OW = nh * hd;
	char what[160];
	float *x = frand(N * W, 2);
	arg a[] = {
		ARG("out", ACT, OUT, N, OW, NULL),
		ARG("lse", F32, OUT, B * nh * T, 0, NULL),
		ARG("qkv", ACT, IN, N, W, x),
		ARG("doc", I32, doc ? IN : NONE, N, 0, doc),
	};
	ctx c = { .sh = { B, T, nh, nkv, hd } };
	snprintf(what, sizeof what, "attention, %s", name);
	run(what, a, NA(a), op_attention, &c, TOL_OP);
	/* the backward from the fp32 forward's out and lse */
	float *out = keep(cm_xmalloc((size_t)N * OW * sizeof(float)));
	float *lse = keep(cm_xmalloc((size_t)B * nh * T * sizeof(float)));
	memcpy(out, got[M_F32][0], (size_t)N * OW * sizeof(float));
	memcpy(lse, got[M_F32][1], (size_t)B * nh * T * sizeof(float));
	arg g[] = {
		ARG("dqkv", ACT, OUT, N, W, frand(N * W, 0.5)),
		ARG("dout", ACT, IN, N, OW, frand(N * OW, 1)),
		ARG("out", ACT, IN, N, OW, out),
		ARG("lse", F32, IN, B * nh * T, 0, lse),
		ARG("qkv", ACT, IN, N, W, x),
		ARG("doc", I32, doc ? IN : NONE, N, 0, doc),
	};
	snprintf(what, sizeof what, "attention_bwd into dqkv, %s", name);
	run(what, g, NA(g), op_attention_bwd, &c, TOL_OP);
	release();
}

static void check_decode(void)
{
	enum { B = 2, T = 12, N = B * T, nh = 4, nkv = 2, hd = 16, Tmax = 16 };
	enum { W = (nh + 2 * nkv) * hd, OW = nh * hd, KW = nkv * hd };
	static const int32_t pos[B] = { T, T - 5 };	/* the step overwrites slot 7 of row 1 */
	float *x = frand(N * W, 2);
	ctx c = { .sh = { B, T, nh, nkv, hd }, .sh1 = { B, 1, nh, nkv, hd }, .Tmax = Tmax,
		  .pos = pos };
	arg a[] = {
		ARG("out", ACT, OUT, B, OW, NULL),
		ARG("qkv", ACT, IN, B, W, frand(B * W, 2)),
		ARG("kcache", ACT, OUT, B * Tmax, KW, frand(B * Tmax * KW, 3)),
		ARG("vcache", ACT, OUT, B * Tmax, KW, frand(B * Tmax * KW, 3)),
		ARG("prefill qkv", ACT, IN, N, W, x),
	};
	run("kv_store of 12 positions, then attention_decode at positions 12 and 7", a, NA(a),
	    op_decode, &c, TOL_OP);
	arg s[] = {
		ARG("kcache", ACT, OUT, B * Tmax, KW, frand(B * Tmax * KW, 3)),
		ARG("vcache", ACT, OUT, B * Tmax, KW, frand(B * Tmax * KW, 3)),
		ARG("qkv", ACT, IN, N, W, x),
	};
	run("kv_store", s, NA(s), op_kv_store, &c, TOL_COPY);
	release();
}

/* how: 0 separate dlogits, 1 in place (the same tensor), 2 in place through a view */
static void check_xent(int how)
{
	enum { N = 32, V = 50, Vp = 64 };
	static const char *what[] = { "xent, separate dlogits", "xent in place (dlogits == logits)",
		"xent in place, dlogits a view of all of logits" };
	float *x = frand(N * Vp, 4);
	int32_t *tg = irand(N, V);
	for (int i = 0; i < N; i += 5)
		tg[i] = -1;
	for (int i = 0; i < N; i++)
		for (int j = V; j < Vp; j++)
			x[i * Vp + j] = 1e3f + (float)j;	/* padding: must be ignored */
	arg a[] = {
		ARG("losses", F32, OUT, N, 0, frand(N, 9)),
		ARG("dlogits", ACT, OUT, N, Vp, how ? x : frand(N * Vp, 5)),
		ALIAS("logits", ACT, IN, N, Vp, x, how ? 2 : 0, how == 2),
		ARG("targets", I32, IN, N, 0, tg),
	};
	ctx c = { .V = V, .dscale = 1.0f / 27 };
	run(what[how], a, NA(a), op_xent, &c, TOL_OP);
	const float *l = got[M_BF16][0], *d = got[M_BF16][1];
	int zeros = 1;
	for (int i = 0; i < N; i++) {
		if (tg[i] < 0)
			zeros &= l[i] == 0.0f;
		for (int j = 0; j < Vp; j++)
			if (tg[i] < 0 || j >= V)
				zeros &= d[i * Vp + j] == 0.0f;
	}
	ok(zeros, "seed %d: %s: bf16 zeros at ignored rows and padded columns", seed, what[how]);
	release();
}

static void check_reduce(void)
{
	enum { n = 1001 };
	float *x = frand(n, 1);
	double sa = 0;
	for (int i = 0; i < n; i++)
		sa += fabs(x[i]);
	arg a[] = { ARG("t", ACT, IN, n, 0, x) };
	/* the sums' values checked here against their own scale: sum |x| and sumsq */
	run("sum", a, NA(a), op_sum, NULL, 1);
	double e = fabs(ret[M_BF16] - ret[M_F32]) / sa;
	ok(e < TOL_COPY, "seed %d: sum of bf16 %.6f vs fp32 %.6f (error / sum |x|: %.1e)", seed,
	   ret[M_BF16], ret[M_F32], e);
	run("sumsq", a, NA(a), op_sumsq, NULL, 1);
	e = fabs(ret[M_BF16] - ret[M_F32]) / ret[M_F32];
	ok(e < TOL_COPY, "seed %d: sumsq of bf16 %.6f vs fp32 %.6f (rel. error %.1e)", seed,
	   ret[M_BF16], ret[M_F32], e);
	arg s[] = { ARG("t", ACT, OUT, n, 0, x) };
	ctx c = { .s = -0.375f };
	run("scale in place", s, NA(s), op_scale, &c, TOL_COPY);
	/* AdamW stays fp32 in the model: the wrapper passes it through */
	float *v = frand(n, 1e-4);
	for (int i = 0; i < n; i++)
		v[i] = fabsf(v[i]);
	arg w[] = {
		ARG("p", F32, OUT, n, 0, frand(n, 1)),
		ARG("g", F32, IN, n, 0, frand(n, 0.02)),
		ARG("m", F32, OUT, n, 0, frand(n, 0.01)),
		ARG("v", F32, OUT, n, 0, v),
	};
	run("adamw, fp32 throughout", w, NA(w), op_adamw, NULL, 1e-6);
	release();
}

static void run_all(int sd)
{
	static const int32_t docA[32] = { 0, 0, 0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 12, 12, 12, 12 };
	static const int32_t docB[32] = { 0, 1, 1, 1, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
		0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 10, 10, 10, 10, 10, 10 };
	seed = sd;
	rng = 0x8040000ULL + (uint64_t)sd;
	check_embed(1);
	check_embed(0);
	check_matmul();
	for (int ln = 1; ln >= 0; ln--)
		for (int mode = 0; mode < 3; mode++)
			check_norm(ln, mode);
	release();
	check_elementwise();
	check_rope();
	check_attention("GQA 4/2, doc NULL", 4, 2, NULL);
	check_attention("GQA 4/2, documents at 0, 3, 12 | 0", 4, 2, docA);
	check_attention("MQA 4/1, documents at 0, 1, 4 | 0, 2, 10", 4, 1, docB);
	check_decode();
	for (int how = 0; how < 3; how++)
		check_xent(how);
	check_reduce();
}

int main(void)
{
	char err[256];
	cm_init("8040-mixed");
	be = kn_open("cpu", 0, err, sizeof err);
	if (!be)
		cm_die("%s", err);
	K = be->ops;
	R = kn_cpu_table(err, sizeof err);
	ok(R && be->base == R && K != R, "the CPU backend's table wraps kn_cpu_table()'s (%s)",
	   be->desc);
	run_all(1);
	run_all(2);
	ok(be->bytes == 0, "every tensor freed (%lld bytes left)", (long long)be->bytes);
	kn_close(be);
	return tap_done();
}
