/* check-kernels.c - make check-gpu: every operation of the CUDA backend against the CPU
 * backend, in fp32 and in bf16, then whole training steps and a determinism check.
 *
 * Three backends: the CPU (the reference), "cuda" (the fused kernels, or the plain version of
 * each operation named in KN_PLAIN_OPS) and "cuda:plain" (every operation's plain fp32 kernel,
 * bf16 tensors converted around it by kernels/mixed.c). Every operation runs on the same random
 * inputs on each backend, over several shapes chosen so that tiled kernels meet ragged edges
 * (rows, widths and vocabularies that are not multiples of a tile, T = 1, head sizes 16 to
 * 128, grouped-query attention, document boundaries, a padded vocabulary); outputs are
 * poisoned with NaN first (bf16 0x7fc0), and gradients that add into their buffers are
 * pre-filled with the same values everywhere. Backward operations get the reference's forward
 * results as inputs, so each line judges one kernel. Two passes:
 * - fp32: every tensor fp32; the fused kernels against the CPU, relative error within 1e-5;
 * - bf16: the dtypes the model uses under --precision bf16 (bf16 weights and activations,
 *   fp32 parameter gradients, norm statistics, log-sum-exps and losses); the fused kernels
 *   against the CPU's emulation of the same (mixed.c: load bf16, compute in fp32, round once
 *   on store) and against the plain kernels, within 1e-2: fp32 sums taken in another order
 *   put some results on the other side of a bf16 rounding, and one step of bf16 (8
 *   significant bits) is 2^-8 to 2^-7 = 7.8e-3 of the value; the limit allows one at the
 *   largest element. Operations on fp32 tensors only (sum, sumsq, adamw, scale) keep 1e-5.
 * The error of a tensor is max |x - ref| / max |ref| (NaN anywhere counts as infinite).
 *
 * Then one training step of a GPT-2 and a Llama model (packed documents) from the same
 * weights: the loss within 1e-5 (fp32) or 2e-2 (bf16), the gradient norm within 1e-4 or
 * 2e-2, all gradients as one vector (|g - ref| / |ref|, Euclidean) within 1e-4 or 5e-2, and
 * each parameter's gradient (printed) within 1e-3 or 1e-1 by the measure above. In bf16 the
 * reference rounds the same values at the same places, but a one-step difference in an
 * activation travels through the rest of the step. Measured with the CPU standing in for the
 * GPU: a random one-step difference in every bf16 output of every operation gave 2-3e-2 on
 * the gradients and under 2e-3 on the loss and gradient norm; one step up everywhere (a bias
 * no correct kernel has) 3-4e-2 on the gradients and the gradient norm; a missing or wrong
 * term in one operation 0.2 to 1.
 * Last, the bf16 step twice on the GPU under be->deterministic: the loss and every gradient
 * must be the same bit for bit.
 *
 * Prints a line per failed comparison (-v: every comparison), then a table with each
 * operation's largest error in each column; exit 0 when everything passes. Without a GPU it
 * says so and exits 77 (skipped). CHECK_KERNELS_SELF=1 puts the CPU backend in all three
 * places, to check the harness where there is no GPU (every line must pass, mostly with error
 * 0). CHECK_KERNELS_SEED=N repeats a run's random inputs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "kernels.h"
#include "kmath.h"
#include "model.h"

#define TOL32 1e-5	/* fp32 kernels against the CPU */
#define TOL16 1e-2	/* any bf16 tensor involved */
#define STEP32 1e-4	/* a whole fp32 step: gradient norm, gradients (L2) */
#define STEP16 2e-2	/* a whole bf16 step: loss, gradient norm */
#define GRAD16 5e-2	/* a whole bf16 step: gradients (L2) */
#define EACH32 1e-3	/* one gradient tensor of a whole step (max) */
#define EACH16 1e-1
#define PRE 0.1f	/* gradients that are added into start from values this large */

enum { REF, FUSED, PLAIN, NB };
static kn_backend *be[NB];
static int nbe;		/* backends in this pass: the plain one only in the bf16 pass */
static int pass;	/* 0: fp32, 1: bf16 */
static kn_dtype adt;	/* weights and activations in this pass */
static char label[128];	/* the shape being checked */
static int verbose, failed, checks, finished;
static const char *running = "opening the backends";	/* for a backend that exits */
static uint64_t rs;

static const char *colname[3] = { "fp32 GPU-CPU", "bf16 GPU-CPU", "bf16 fused-plain" };

static float frand(void)
{
	rs = rs * 6364136223846793005ull + 1442695040888963407ull;
	return (float)((rs >> 40) / 16777216.0) * 2.0f - 1.0f;
}

/* One tensor on each backend of the pass (unused entries NULL: `nil` is no tensor). */
typedef struct tri {
	kn_tensor *t[NB];
} tri;
static const tri nil;

/* Tensors of the shape being checked, freed together. */
static kn_tensor **owned;
static size_t nowned, capowned;

static tri mk(kn_dtype dt, int ndim, const int64_t *shape)
{
	tri p = nil;
	for (int k = 0; k < nbe; k++) {
		p.t[k] = kn_new(be[k], dt, ndim, shape);
		if (nowned == capowned) {
			capowned = capowned ? 2 * capowned : 64;
			owned = realloc(owned, capowned * sizeof *owned);
			if (!owned)
				cm_die("out of memory");
		}
		owned[nowned++] = p.t[k];
	}
	return p;
}

static void free_owned(void)
{
	while (nowned)
		kn_free(owned[--nowned]);
}

static tri mk2(kn_dtype dt, int64_t a, int64_t b)
{
	int64_t s[2] = { a, b };
	return mk(dt, 2, s);
}

static tri mk1(kn_dtype dt, int64_t a)
{
	return mk(dt, 1, &a);
}

/* host floats into a tensor of either float dtype (bf16: rounded to nearest even) */
static void put(kn_tensor *t, const float *h)
{
	if (t->dtype == KN_BF16) {
		uint16_t *b = cm_xmalloc((size_t)t->n * 2);
		for (int64_t i = 0; i < t->n; i++)
			b[i] = kn_bf16_from_f32(h[i]);
		kn_upload(t, b, kn_bytes(t));
		free(b);
	} else {
		kn_upload(t, h, kn_bytes(t));
	}
}

/* a tensor's values as host floats (malloc'd) */
static float *get(const kn_tensor *t)
{
	float *h = cm_xmalloc((size_t)t->n * sizeof *h);
	if (t->dtype == KN_BF16) {
		uint16_t *b = cm_xmalloc((size_t)t->n * 2);
		kn_download(t, b, kn_bytes(t));
		for (int64_t i = 0; i < t->n; i++)
			h[i] = kn_f32_from_bf16(b[i]);
		free(b);
	} else {
		kn_download(t, h, kn_bytes(t));
	}
	return h;
}

static void put_all(tri p, const float *h)
{
	for (int k = 0; k < NB; k++)
		if (p.t[k])
			put(p.t[k], h);
}

/* the same random values on every backend; scale multiplies them */
static tri rnd(tri p, float scale)
{
	float *h = cm_xmalloc((size_t)p.t[0]->n * sizeof *h);
	for (int64_t i = 0; i < p.t[0]->n; i++)
		h[i] = frand() * scale;
	put_all(p, h);
	free(h);
	return p;
}

static void poison(tri p)
{
	if (!p.t[0])
		return;
	float *h = cm_xmalloc((size_t)p.t[0]->n * sizeof *h);
	for (int64_t i = 0; i < p.t[0]->n; i++)
		h[i] = NAN;
	put_all(p, h);
	free(h);
}

/* every backend gets the reference's values (the input of the next operation) */
static void same(tri p)
{
	if (!p.t[0])
		return;
	float *h = get(p.t[0]);
	for (int k = 1; k < NB; k++)
		if (p.t[k])
			put(p.t[k], h);
	free(h);
}

static tri upload_ids(int64_t n, const int32_t *h)
{
	tri p = mk(KN_I32, 1, &n);
	for (int k = 0; k < nbe; k++)
		kn_upload(p.t[k], h, (size_t)n * 4);
	return p;
}

/* n ids in [lo, hi) */
static tri ids(int64_t n, int32_t lo, int32_t hi)
{
	int32_t *h = cm_xmalloc((size_t)n * 4);
	for (int64_t i = 0; i < n; i++) {
		h[i] = lo + (int32_t)((frand() + 1.0f) * 0.5f * (float)(hi - lo));
		if (h[i] >= hi)
			h[i] = hi - 1;
	}
	tri p = upload_ids(n, h);
	free(h);
	return p;
}

/* max |x - ref| / max |ref| over elements [0, n) of a and b */
static double relerr_h(const float *x, const float *ref, int64_t n)
{
	double md = 0, mx = 0;
	for (int64_t i = 0; i < n; i++) {
		double d = fabs((double)x[i] - ref[i]);
		if (isnan(d))
			return INFINITY;
		if (d > md)
			md = d;
		if (fabs(ref[i]) > mx)
			mx = fabs(ref[i]);
	}
	return mx > 0 ? md / mx : md;
}

static double relerr(const kn_tensor *x, const kn_tensor *ref)
{
	float *a = get(x), *b = get(ref);
	double e = relerr_h(a, b, x->n);
	free(a);
	free(b);
	return e;
}

/* |x - ref| / |ref| (Euclidean norms): the whole tensor's error, where one element's is
 * relerr's */
static double l2err(const kn_tensor *x, const kn_tensor *ref)
{
	float *a = get(x), *b = get(ref);
	double d2 = 0, r2 = 0;
	for (int64_t i = 0; i < x->n; i++) {
		double d = (double)a[i] - b[i];
		d2 += d * d;
		r2 += (double)b[i] * b[i];
	}
	free(a);
	free(b);
	if (isnan(d2))
		return INFINITY;
	return r2 > 0 ? sqrt(d2 / r2) : sqrt(d2);
}

/* The KV caches [B, Tmax, KW]: only each row's first cache_len[b] positions are compared. */
static int cache_len[64];
static double cache_err(const kn_tensor *x, const kn_tensor *ref)
{
	float *a = get(x), *b = get(ref);
	int64_t B = x->shape[0], Tmax = x->shape[1], KW = x->shape[2];
	double md = 0, mx = 0;
	for (int64_t r = 0; r < B; r++)
		for (int64_t i = r * Tmax * KW; i < (r * Tmax + cache_len[r]) * KW; i++) {
			double d = fabs((double)a[i] - b[i]);
			md = isnan(d) ? INFINITY : d > md ? d : md;
			mx = fabs(b[i]) > mx ? fabs(b[i]) : mx;
		}
	free(a);
	free(b);
	return mx > 0 ? md / mx : md;
}

/* The table: a row per operation, its worst comparison in each column. */
typedef struct row {
	char name[48];
	int seen[3];
	double e[3], tol[3], bad[3];
	char where[3][sizeof label];
} row;
static row rows[128];
static int nrows;

static void record(const char *name, int col, double e, double tol, const char *where)
{
	if (isnan(e))
		e = INFINITY;
	int ok = e <= tol;
	checks++;
	failed += !ok;
	if (!ok || verbose)
		printf("  %s %-16s %-36s %-40s %.2e (limit %.0e)\n", ok ? "pass" : "FAIL",
		       colname[col], name, where, e, tol);
	int r = 0;
	while (r < nrows && strcmp(rows[r].name, name))
		r++;
	if (r == nrows) {
		if (nrows == (int)(sizeof rows / sizeof *rows))
			cm_die("check-kernels: too many table rows");
		memset(&rows[r], 0, sizeof rows[r]);
		snprintf(rows[r].name, sizeof rows[r].name, "%s", name);
		nrows++;
	}
	row *w = &rows[r];
	double bad = tol > 0 ? e / tol : e > 0 ? INFINITY : 0;
	if (!w->seen[col] || bad > w->bad[col]) {
		w->e[col] = e;
		w->tol[col] = tol;
		w->bad[col] = bad;
		snprintf(w->where[col], sizeof w->where[col], "%s", where);
	}
	w->seen[col] = 1;
}

/* The fused backend against the reference (and, in the bf16 pass, against the plain one):
 * the worst of the tensors given. */
static void judge_with(double (*cmp)(const kn_tensor *, const kn_tensor *), const char *name,
		       double tol32, double tol16, const tri *ts, size_t n)
{
	double e[2] = { 0, 0 };
	for (size_t i = 0; i < n; i++) {
		if (!ts[i].t[0])
			continue;
		e[0] = fmax(e[0], cmp(ts[i].t[FUSED], ts[i].t[REF]));
		if (pass)
			e[1] = fmax(e[1], cmp(ts[i].t[FUSED], ts[i].t[PLAIN]));
	}
	record(name, pass, e[0], pass ? tol16 : tol32, label);
	if (pass)
		record(name, 2, e[1], tol16, label);
}

#define TRIS(...) (const tri[]){ __VA_ARGS__ }, sizeof((const tri[]){ __VA_ARGS__ }) / sizeof(tri)
#define CHECK(name, ...) judge_with(relerr, name, TOL32, TOL16, TRIS(__VA_ARGS__))
#define CHECK_TOL(name, t32, t16, ...) judge_with(relerr, name, t32, t16, TRIS(__VA_ARGS__))

/* scalars read back, one per backend */
static void judge_scalar(const char *name, double tol32, double tol16, const double *v)
{
	record(name, pass, fabs(v[FUSED] - v[REF]) / fmax(fabs(v[REF]), 1e-30),
	       pass ? tol16 : tol32, label);
	if (pass)
		record(name, 2, fabs(v[FUSED] - v[PLAIN]) / fmax(fabs(v[PLAIN]), 1e-30), tol16,
		       label);
}

/* run an operation on each backend of the pass; A(x) is x's tensor there */
#define A(p) ((p).t[k_])
#define RUN(op, ...)                                                                         \
	for (int k_ = (running = #op, 0); k_ < nbe; k_++)                                    \
	be[k_]->ops->op(__VA_ARGS__)

typedef struct shape {
	int B, T, nh, nkv, hd;
	int C, OC;	/* widths of the products, norms and activations */
	int V, Vp;	/* cross-entropy */
	int ntok;	/* embedding rows */
	int pos;	/* explicit positions (embed, rope) rather than row index mod T */
	int docs;	/* attention with document boundaries too */
} shape;

static const shape shapes[] = {
	{ 4, 24, 4, 2, 16, 80, 72, 1000, 1024, 50, 1, 1 },
	{ 2, 200, 4, 1, 64, 200, 130, 257, 320, 300, 0, 1 },
	{ 3, 17, 6, 6, 32, 384, 1152, 50257, 50304, 300, 1, 1 },
	{ 5, 1, 4, 2, 32, 64, 1024, 1000, 1024, 40, 0, 0 },
	{ 1, 64, 12, 4, 64, 768, 2304, 1000, 1024, 300, 0, 1 },
	{ 2, 70, 2, 1, 128, 256, 96, 1000, 1024, 300, 1, 0 },
};

static void check_products(const shape *sh)
{
	int64_t N = (int64_t)sh->B * sh->T, C = sh->C, OC = sh->OC;
	tri x = rnd(mk2(adt, N, C), 1), w = rnd(mk2(adt, OC, C), 0.2f);
	tri b = rnd(mk1(adt, OC), 0.1f), y = mk2(adt, N, OC);
	poison(y);
	RUN(matmul, A(y), A(x), A(w), A(b));
	CHECK("matmul + bias", y);
	poison(y);
	RUN(matmul, A(y), A(x), A(w), NULL);
	CHECK("matmul", y);
	/* GPT-2's MLP: the pre-activation and its GELU (in bf16, the epilogue's GELU reads the
	 * product before it is rounded) */
	tri pre = mk2(adt, N, OC);
	poison(pre);
	poison(y);
	RUN(matmul_gelu, A(y), A(pre), A(x), A(w), A(b));
	CHECK("matmul_gelu + bias", y, pre);
	poison(pre);
	poison(y);
	RUN(matmul_gelu, A(y), A(pre), A(x), A(w), NULL);
	CHECK("matmul_gelu", y, pre);
	tri dy = rnd(mk2(adt, N, OC), 1), dx = rnd(mk2(adt, N, C), PRE);
	tri dw = rnd(mk2(KN_F32, OC, C), PRE), db = rnd(mk1(KN_F32, OC), PRE);
	RUN(matmul_bwd, A(dx), A(dw), A(db), A(dy), A(x), A(w));
	CHECK("matmul_bwd dinp", dx);
	CHECK("matmul_bwd dweight", dw);
	CHECK("matmul_bwd dbias", db);
	rnd(dx, PRE);
	rnd(dw, PRE);
	RUN(matmul_bwd, A(dx), A(dw), NULL, A(dy), A(x), A(w));
	CHECK("matmul_bwd, no bias", dx, dw);
}

static void check_embedding(const shape *sh)
{
	int64_t N = (int64_t)sh->B * sh->T, C = sh->C;
	int T = sh->T;
	tri tok = ids(N, 0, sh->ntok), pos = sh->pos ? ids(N, 0, T) : nil;
	tri wte = rnd(mk2(adt, sh->ntok, C), 1), wpe = rnd(mk2(adt, T, C), 1), e = mk2(adt, N, C);
	poison(e);
	RUN(embed, A(e), A(tok), A(pos), A(wte), A(wpe), T);
	CHECK("embed (tokens + positions)", e);
	poison(e);
	RUN(embed, A(e), A(tok), A(pos), A(wte), NULL, T);
	CHECK("embed (tokens only)", e);
	tri dout = rnd(mk2(adt, N, C), 1);
	tri dwte = rnd(mk2(KN_F32, sh->ntok, C), PRE), dwpe = rnd(mk2(KN_F32, T, C), PRE);
	RUN(embed_bwd, A(dwte), A(dwpe), A(dout), A(tok), A(pos), T);
	CHECK("embed_bwd dwte", dwte);
	CHECK("embed_bwd dwpe", dwpe);
	rnd(dwte, PRE);
	RUN(embed_bwd, A(dwte), NULL, A(dout), A(tok), A(pos), T);
	CHECK("embed_bwd, no positions", dwte);
}

static void check_norms(const shape *sh)
{
	int64_t N = (int64_t)sh->B * sh->T, C = sh->C;
	char name[64];
	for (int ln = 1; ln >= 0; ln--) {
		const char *what = ln ? "LayerNorm" : "RMSNorm";
		tri a = rnd(mk2(adt, N, C), 1), a2 = rnd(mk2(adt, N, C), 1);
		tri res = mk2(adt, N, C), out = mk2(adt, N, C);
		tri nw = rnd(mk1(adt, C), 1), nb = ln ? rnd(mk1(adt, C), 0.1f) : nil;
		tri mean = ln ? mk1(KN_F32, N) : nil, rstd = mk1(KN_F32, N);
		/* layer 0: the input as it is */
		rnd(res, 2);
		poison(out);
		poison(mean);
		poison(rstd);
		RUN(residual_norm, A(res), A(out), A(mean), A(rstd), NULL, NULL, A(nw), A(nb), 1e-5f);
		snprintf(name, sizeof name, "%s", what);
		CHECK(name, res, out, mean, rstd);
		/* later layers: res = a + b first */
		poison(res);
		poison(out);
		poison(mean);
		poison(rstd);
		RUN(residual_norm, A(res), A(out), A(mean), A(rstd), A(a), A(a2), A(nw), A(nb),
		    1e-5f);
		snprintf(name, sizeof name, "%s residual + norm", what);
		CHECK(name, res, out, mean, rstd);
		same(res);
		same(mean);
		same(rstd);
		tri dn = rnd(mk2(adt, N, C), 1), di = rnd(mk2(adt, N, C), PRE);
		tri gw = rnd(mk1(KN_F32, C), PRE), gb = ln ? rnd(mk1(KN_F32, C), PRE) : nil;
		RUN(norm_bwd, A(di), A(gw), A(gb), A(dn), A(res), A(nw), A(mean), A(rstd));
		snprintf(name, sizeof name, "%s backward dinp", what);
		CHECK(name, di);
		snprintf(name, sizeof name, "%s backward dweight%s", what, ln ? ", dbias" : "");
		CHECK(name, gw, gb);
	}
}

static void check_activations(const shape *sh)
{
	int64_t N = (int64_t)sh->B * sh->T, C = sh->C;
	tri h = rnd(mk2(adt, N, 2 * C), 3), ha = mk2(adt, N, 2 * C);
	tri dh = rnd(mk2(adt, N, 2 * C), 1), dha = rnd(mk2(adt, N, 2 * C), PRE);
	poison(ha);
	RUN(gelu, A(ha), A(h));
	CHECK("gelu", ha);
	RUN(gelu_bwd, A(dha), A(h), A(dh));
	CHECK("gelu_bwd", dha);
	tri sw = mk2(adt, N, C), dsw = rnd(mk2(adt, N, C), 1);
	poison(sw);
	RUN(swiglu, A(sw), A(h));
	CHECK("swiglu", sw);
	rnd(dh, PRE);
	RUN(swiglu_bwd, A(dh), A(h), A(dsw));
	CHECK("swiglu_bwd", dh);
	tri sa = rnd(mk2(adt, N, C), 1), sb = rnd(mk2(adt, N, C), 1), so = mk2(adt, N, C);
	poison(so);
	RUN(add, A(so), A(sa), A(sb));
	CHECK_TOL("add", 0, TOL16, so);
	RUN(add, A(sa), A(sa), A(sb));
	CHECK_TOL("add in place", 0, TOL16, sa);
}

static void check_attention(const shape *sh)
{
	int B = sh->B, T = sh->T;
	int64_t N = (int64_t)B * T;
	kn_attn_shape s = { B, T, sh->nh, sh->nkv, sh->hd };
	int64_t W = (int64_t)(s.nh + 2 * s.nkv) * s.hd, NQ = (int64_t)s.nh * s.hd;
	int64_t KW = (int64_t)s.nkv * s.hd;
	tri pos = sh->pos ? ids(N, 0, T) : nil;
	tri qkv = rnd(mk2(adt, N, W), 2);
	RUN(rope, A(qkv), A(pos), &s, 10000.0f, 0);
	CHECK("rope", qkv);
	same(qkv);
	/* documents: each row cut at a few random places, the first row's last token alone */
	int32_t *dh = cm_xmalloc((size_t)N * 4);
	for (int b = 0; b < B; b++)
		for (int t = 0, start = 0; t < T; t++) {
			if (t > 0 && (frand() > 0.85f || (b == 0 && t == T - 1)))
				start = t;
			dh[(int64_t)b * T + t] = start;
		}
	tri doc = upload_ids(N, dh);
	/* prefixes: a document that does not start its row also sees the row's first 0 to
	 * start positions (continuations after a shared context) */
	for (int64_t i = 0; i < N; i++)
		dh[i] = (int32_t)((frand() + 1.0f) * 0.5f * (float)(dh[i] + 1)) % (dh[i] + 1);
	tri pre = upload_ids(N, dh);
	free(dh);
	tri att = mk2(adt, N, NQ), lse = mk1(KN_F32, (int64_t)B * s.nh * T);
	tri datt = mk2(adt, N, NQ), dq = mk2(adt, N, W);
	for (int d = 0; d <= (sh->docs && T > 1); d++) {
		poison(att);
		poison(lse);
		RUN(attention, A(att), A(lse), A(qkv), d ? A(doc) : NULL, NULL, &s);
		CHECK(d ? "attention (documents)" : "attention", att, lse);
		same(att);
		same(lse);
		rnd(datt, 1);
		rnd(dq, PRE);
		RUN(attention_bwd, A(dq), A(datt), A(att), A(lse), A(qkv), d ? A(doc) : NULL, &s);
		CHECK(d ? "attention_bwd (documents)" : "attention_bwd", dq);
	}
	if (sh->docs && T > 1) {
		poison(att);
		poison(lse);
		RUN(attention, A(att), A(lse), A(qkv), A(doc), A(pre), &s);
		CHECK("attention (documents after prefixes)", att, lse);
	}
	same(dq);
	RUN(rope, A(dq), A(pos), &s, 10000.0f, 1);
	CHECK("rope inverse", dq);

	/* the caches: prefill T positions, then decode 6 more, rows lagging by 0 to 2 */
	int Tmax = T + 6;
	int64_t cs[3] = { B, Tmax, KW };
	tri kc = mk(adt, 3, cs), vc = mk(adt, 3, cs);
	poison(kc);
	poison(vc);
	RUN(kv_store, A(kc), A(vc), A(qkv), &s, Tmax);
	for (int b = 0; b < B; b++)
		cache_len[b] = T;
	judge_with(cache_err, "kv_store (prefill)", 0, 0, TRIS(kc, vc));
	kn_attn_shape s1 = s;
	s1.T = 1;
	tri rowq = mk2(adt, B, W), o = mk2(adt, B, NQ);
	int32_t p[64];
	for (int t = 0; t < 6; t++) {
		rnd(rowq, 2);
		for (int b = 0; b < B; b++)
			p[b] = T - b % (T < 3 ? T : 3) + t;
		poison(o);
		RUN(attention_decode, A(o), A(rowq), A(kc), A(vc), p, &s1, Tmax);
		CHECK("attention_decode (6 positions)", o);
	}
	for (int b = 0; b < B; b++)
		cache_len[b] = p[b] + 1;
	judge_with(cache_err, "attention_decode: the caches", 0, 0, TRIS(kc, vc));
}

static void check_xent(const shape *sh)
{
	int64_t N = (int64_t)sh->B * sh->T, Vp = sh->Vp;
	int V = sh->V;
	float ds = 1.0f / (float)N;
	int32_t *h = cm_xmalloc((size_t)N * 4);
	for (int64_t i = 0; i < N; i++) {
		h[i] = (int32_t)((frand() + 1.0f) * 0.5f * (float)(V + 1)) - 1;	/* -1: ignored */
		h[i] = h[i] >= V ? V - 1 : h[i];
	}
	h[0] = V - 1;
	if (N > 1)
		h[1] = -1;
	tri tg = upload_ids(N, h);
	free(h);
	tri lg = rnd(mk2(adt, N, Vp), 4), ls = mk1(KN_F32, N), dl = mk2(adt, N, Vp);
	poison(ls);
	poison(dl);
	RUN(xent, A(ls), A(dl), A(lg), A(tg), V, ds);
	CHECK("cross-entropy losses", ls);
	CHECK("cross-entropy dlogits", dl);
	poison(ls);
	RUN(xent, A(ls), NULL, A(lg), A(tg), V, 0.0f);
	CHECK("cross-entropy, losses only", ls);
	poison(ls);
	RUN(xent, A(ls), A(lg), A(lg), A(tg), V, ds);
	CHECK("cross-entropy in place", ls, lg);
}

/* fp32 in both passes: the model's gradients and optimizer state */
static void check_optimizer(const shape *sh)
{
	int64_t n = (int64_t)sh->B * sh->T * sh->C + 7;
	tri pp = rnd(mk1(KN_F32, n), 1), gg = rnd(mk1(KN_F32, n), 1);
	tri m = mk1(KN_F32, n), v = mk1(KN_F32, n);
	double r[NB] = { 0 };
	for (int k = 0; k < nbe; k++)
		r[k] = be[k]->ops->sumsq(gg.t[k]);
	judge_scalar("sumsq", TOL32, TOL32, r);
	/* sum: positive values, as the losses it adds up (a sum near 0 would judge rounding) */
	tri pv = mk1(KN_F32, n);
	float *h = cm_xmalloc((size_t)n * sizeof *h);
	for (int64_t i = 0; i < n; i++)
		h[i] = (frand() + 1.0f) * 4.0f;
	put_all(pv, h);
	free(h);
	for (int k = 0; k < nbe; k++)
		r[k] = be[k]->ops->sum(pv.t[k]);
	judge_scalar("sum", TOL32, TOL32, r);
	RUN(zero, A(m));
	RUN(zero, A(v));
	for (int st = 1; st <= 3; st++)
		RUN(adamw, A(pp), A(gg), A(m), A(v), 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 0.5f, st);
	CHECK_TOL("adamw (3 steps) weights", TOL32, TOL32, pp);
	CHECK_TOL("adamw (3 steps) moments", TOL32, TOL32, m, v);
	RUN(scale, A(pp), 0.5f);
	CHECK_TOL("scale", TOL32, TOL32, pp);
	tri lo = mk1(KN_BF16, n), back = mk1(KN_F32, n);
	poison(lo);
	poison(back);
	RUN(cast, A(lo), A(pp));
	RUN(cast, A(back), A(lo));
	CHECK_TOL("cast F32 -> BF16 -> F32", 0, 0, lo, back);
}

static void check_shape(const shape *sh)
{
	snprintf(label, sizeof label, "[B%d T%d C%d>%d h%d/%d hd%d V%d]", sh->B, sh->T, sh->C,
		 sh->OC, sh->nh, sh->nkv, sh->hd, sh->V);
	check_products(sh);
	check_embedding(sh);
	check_norms(sh);
	check_activations(sh);
	check_attention(sh);
	check_xent(sh);
	check_optimizer(sh);
	free_owned();
	fflush(stdout);
}

static const char *const layer_field[P_NLAYER] = {
	"ln1.w", "ln1.b", "qkv.w", "qkv.b", "o.w", "o.b", "ln2.w", "ln2.b", "fc.w", "fc.b",
	"proj.w", "proj.b"
};
static const char *const global_field[P_NGLOBAL] = { "wte", "wpe", "lnf.w", "lnf.b", "head" };

typedef struct batch {
	int B, T;
	int32_t *x, *y, *pos, *doc;	/* pos, doc: packed documents, or NULL */
} batch;

static batch make_batch(int B, int T, int vocab, int packed)
{
	batch b = { B, T, cm_xmalloc((size_t)B * T * 4), cm_xmalloc((size_t)B * T * 4), NULL,
		    NULL };
	for (int i = 0; i < B * T; i++) {
		b.x[i] = (int32_t)((frand() + 1) * 0.5f * (float)(vocab - 1));
		b.y[i] = (int32_t)((frand() + 1) * 0.5f * (float)(vocab - 1));
	}
	if (packed) {
		b.pos = cm_xmalloc((size_t)B * T * 4);
		b.doc = cm_xmalloc((size_t)B * T * 4);
		for (int r = 0; r < B; r++)
			for (int t = 0, start = 0; t < T; t++) {
				if (t > 0 && frand() > 0.9f)
					start = t;
				b.doc[r * T + t] = start;
				b.pos[r * T + t] = t - start;
			}
		b.y[B * T - 1] = -1;	/* an ignored target */
	}
	return b;
}

static void free_batch(batch *b)
{
	free(b->x);
	free(b->y);
	free(b->pos);
	free(b->doc);
}

/* forward, loss, backward: the mean loss; the gradients are in m->grads */
static double step(lm_model *m, const batch *b)
{
	lm_forward(m, b->B, b->T, b->x, b->pos, b->doc);
	m->be->ops->zero(m->grads);
	double loss = lm_loss(m, b->y, 1.0f / (float)(b->B * b->T), NULL) / (b->B * b->T);
	lm_backward(m);
	return loss;
}

static lm_model *new_model(kn_backend *k, const lm_config *c)
{
	lm_model *m = lm_model_new(k, c, 1);
	lm_model_init(m, 1);
	lm_model_set_precision(m, adt);
	return m;
}

/* One training step of a whole model on each backend, from the same weights. */
static void check_step(const char *preset, int B, int T, int packed)
{
	char err[256], name[96];
	lm_config c;
	if (lm_config_load(&c, preset, 500, err, sizeof err) < 0)
		cm_die("%s", err);
	c.layers = 2;
	c.vocab_padded = (c.vocab + 63) / 64 * 64;
	snprintf(label, sizeof label, "[2 layers, B%d T%d%s]", B, T,
		 packed ? ", packed documents" : "");
	lm_model *m[NB] = { NULL };
	running = "a whole training step";
	for (int k = 0; k < nbe; k++)
		m[k] = new_model(be[k], &c);
	batch bt = make_batch(B, T, c.vocab, packed);
	double loss[NB] = { 0 }, gn[NB] = { 0 };
	for (int k = 0; k < nbe; k++) {
		loss[k] = step(m[k], &bt);
		gn[k] = sqrt(m[k]->be->ops->sumsq(m[k]->grads));
	}
	printf("  %s %s step: loss %.6f (CPU %.6f), gradient norm %.6f (CPU %.6f)\n",
	       pass ? "bf16" : "fp32", preset, loss[FUSED], loss[REF], gn[FUSED], gn[REF]);
	snprintf(name, sizeof name, "%s step: loss", preset);
	judge_scalar(name, TOL32, STEP16, loss);
	snprintf(name, sizeof name, "%s step: gradient norm", preset);
	judge_scalar(name, STEP32, STEP16, gn);
	tri g = nil;
	for (int k = 0; k < nbe; k++)
		g.t[k] = m[k]->grads;
	snprintf(name, sizeof name, "%s step: all gradients (L2)", preset);
	judge_with(l2err, name, STEP32, GRAD16, TRIS(g));
	/* each parameter's gradient: printed, and judged for gross errors */
	snprintf(name, sizeof name, "%s step: each gradient (max)", preset);
	for (int i = 0; i < m[REF]->np; i++) {
		const lm_param *p = &m[REF]->p[i];
		char what[96];
		if (p->layer < 0)
			snprintf(what, sizeof what, "%s", global_field[p->field]);
		else
			snprintf(what, sizeof what, "layer %d %s", p->layer, layer_field[p->field]);
		tri v = nil;
		for (int k = 0; k < nbe; k++)
			v.t[k] = kn_view(m[k]->grads, p->off, 1, &p->n);
		printf("    %s gradient %-14s %9lld  max %.2e  L2 %.2e", pass ? "bf16" : "fp32",
		       what, (long long)p->n, relerr(v.t[FUSED], v.t[REF]),
		       l2err(v.t[FUSED], v.t[REF]));
		if (pass)
			printf("  fused-plain: max %.2e  L2 %.2e", relerr(v.t[FUSED], v.t[PLAIN]),
			       l2err(v.t[FUSED], v.t[PLAIN]));
		printf("\n");
		char keep[sizeof label];
		memcpy(keep, label, sizeof keep);
		snprintf(label, sizeof label, "[%s]", what);
		CHECK_TOL(name, EACH32, EACH16, v);
		memcpy(label, keep, sizeof keep);
		for (int k = 0; k < nbe; k++)
			kn_free(v.t[k]);
	}
	free_batch(&bt);
	for (int k = 0; k < nbe; k++)
		lm_model_free(m[k]);
	fflush(stdout);
}

/* The same bf16 step twice on the GPU under be->deterministic: bit for bit the same. */
static void check_deterministic(const char *preset, int B, int T, int packed)
{
	char err[256], name[96];
	lm_config c;
	if (lm_config_load(&c, preset, 500, err, sizeof err) < 0)
		cm_die("%s", err);
	c.layers = 2;
	c.vocab_padded = (c.vocab + 63) / 64 * 64;
	snprintf(label, sizeof label, "[2 layers, B%d T%d%s]", B, T,
		 packed ? ", packed documents" : "");
	kn_backend *g = be[FUSED];
	int was = g->deterministic;
	g->deterministic = 1;
	running = "the deterministic training step";
	lm_model *m = new_model(g, &c);
	batch bt = make_batch(B, T, c.vocab, packed);
	size_t n = (size_t)m->grads->n;
	float *a = cm_xmalloc(n * sizeof *a), *b = cm_xmalloc(n * sizeof *b);
	double l0 = step(m, &bt);
	kn_download(m->grads, a, n * sizeof *a);
	double l1 = step(m, &bt);
	kn_download(m->grads, b, n * sizeof *b);
	size_t ndiff = 0;
	for (size_t i = 0; i < n; i++)
		ndiff += memcmp(&a[i], &b[i], sizeof *a) != 0;
	double e = relerr_h(b, a, (int64_t)n);
	if (memcmp(&l0, &l1, sizeof l0))
		e = fmax(e, fabs(l1 - l0) / fabs(l0) + 1e-300);
	if (ndiff && e == 0)	/* differing bits with equal values: -0 and 0, NaN payloads */
		e = 1e-300;
	printf("  deterministic %s step twice: loss %.9g then %.9g, %zu of %zu gradients differ\n",
	       preset, l0, l1, ndiff, n);
	snprintf(name, sizeof name, "%s step twice, deterministic", preset);
	record(name, 1, e, 0, label);
	free(a);
	free(b);
	free_batch(&bt);
	lm_model_free(m);
	g->deterministic = was;
	fflush(stdout);
}

static void cell(const row *w, int col)
{
	if (!w->seen[col]) {
		printf("  %-20s", "-");
		return;
	}
	char b[32];
	snprintf(b, sizeof b, "%s %.1e (%.0e)", w->e[col] <= w->tol[col] ? "PASS" : "FAIL",
		 w->e[col], w->tol[col]);
	printf("  %-20s", b);
}

static void summary(void)
{
	printf("\n== check-kernels summary: the largest error of each operation, max |x - ref| / "
	       "max |ref| (limit)\n");
	printf("%-36s  %-20s  %-20s  %-20s\n", "operation", colname[0], colname[1], colname[2]);
	for (int r = 0; r < nrows; r++) {
		printf("%-36s", rows[r].name);
		for (int col = 0; col < 3; col++)
			cell(&rows[r], col);
		printf("\n");
	}
	for (int r = 0; r < nrows; r++)
		for (int col = 0; col < 3; col++)
			if (rows[r].seen[col] && !(rows[r].e[col] <= rows[r].tol[col]))
				printf("FAIL: %s, %s: worst %s\n", rows[r].name, colname[col],
				       rows[r].where[col]);
	if (finished)
		printf("%d of %d checks passed\n", checks - failed, checks);
	else
		printf("%d of %d checks passed before it stopped\n", checks - failed, checks);
}

/* A backend that fails exits (kernels.h): say where, and show what was checked until then. */
static void stopped(void)
{
	if (finished)
		return;
	printf("\ncheck-kernels: stopped early, in %s %s (%s)\n", running, label,
	       pass ? "bf16" : "fp32");
	summary();
}

int main(int argc, char **argv)
{
	cm_init("check-kernels");
	setvbuf(stdout, NULL, _IOLBF, 0);
	verbose = argc > 1 && !strcmp(argv[1], "-v");
	char err[512];
	const char *self = getenv("CHECK_KERNELS_SELF");
	int on_cpu = self && *self && strcmp(self, "0");
	/* CHECK_KERNELS_SELF=1: the CPU backend in every place, the harness checked without a
	 * GPU */
	const char *names[NB] = { "cpu", on_cpu ? "cpu" : "cuda", on_cpu ? "cpu" : "cuda:plain" };
	for (int k = 0; k < NB; k++) {
		be[k] = kn_open(names[k], 0, err, sizeof err);
		if (!be[k]) {
			printf("check-kernels: SKIP: %s\n", err);
			return 77;
		}
	}
	atexit(stopped);
	const char *seed = getenv("CHECK_KERNELS_SEED");
	rs = seed ? strtoull(seed, NULL, 10) : (uint64_t)time(NULL);
	printf("reference: %s; fused: %s; plain: %s; seed %llu (CHECK_KERNELS_SEED)\n",
	       be[REF]->desc, be[FUSED]->desc, be[PLAIN]->desc, (unsigned long long)rs);
	for (pass = 0; pass < 2; pass++) {
		nbe = pass ? 3 : 2;
		adt = pass ? KN_BF16 : KN_F32;
		printf("== %s: %s\n", pass ? "bf16" : "fp32",
		       pass ? "the fused kernels against the CPU's emulation and the plain kernels"
			    : "the fused kernels against the CPU");
		for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
			check_shape(&shapes[i]);
		check_step("tiny", 4, 64, 0);
		check_step("llama-125m", 3, 75, 1);
	}
	adt = KN_BF16;
	check_deterministic("tiny", 4, 64, 0);
	check_deterministic("llama-125m", 3, 75, 1);
	finished = 1;
	summary();
	for (int k = 0; k < NB; k++)
		kn_close(be[k]);
	free(owned);
	return failed ? 1 : 0;
}
