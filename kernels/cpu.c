/* cpu.c - the CPU backend: fp32, OpenMP over rows, OpenBLAS for matrix products, and small
 * products of its own (attention's, a row and head at a time, in register tiles).
 *
 * Every loop splits work so that each output element is written by one thread in a fixed
 * order (reductions go to per-thread partials summed in order): results depend only on the
 * thread count, so a resumed run repeats an uninterrupted one bit for bit.
 * Attention keeps no T x T matrix: the forward saves each query's log-sum-exp and the
 * backward recomputes the probabilities from it (the contract the CUDA kernel shares).
 */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kernels.h"
#include "kmath.h"

/* exp as plain arithmetic (kmath.h), so that loops over it vectorize; tanh from it below */
static inline float fexp(float x)
{
	return kn_fexp(x);
}

/* tanh(u) = sign(u) (1 - t) / (1 + t) with t = exp(-2|u|) */
static inline float ftanh(float u)
{
	float t = fexp(-2.0f * fabsf(u));
	return copysignf((1.0f - t) / (1.0f + t), u);
}

/* OpenMP's team only where the work pays for it: ~64k elements or multiply-adds (a loop over a
 * few 128-wide rows runs on the calling thread alone; waking a team and joining it costs
 * microseconds when the other cores are idle, a scheduler's time slice when they are not) */
static inline int worth_threads(int64_t work)
{
	return work >= 65536;
}

#define F(t) ((float *)(t)->data)
#define IDS(t) ((int32_t *)(t)->data)

static int64_t rows_of(const kn_tensor *t, int64_t cols)
{
	return t->n / cols;
}

static int64_t last_dim(const kn_tensor *t)
{
	return t->shape[t->ndim - 1];
}

static kn_tensor *cpu_alloc(kn_backend *be, kn_dtype dt, int ndim, const int64_t *shape)
{
	kn_tensor *t = cm_xcalloc(1, sizeof *t);
	t->be = be;
	t->dtype = dt;
	kn_reshape(t, ndim, shape);
	size_t bytes = (size_t)t->n * kn_dtype_size(dt);
	/* 64-byte aligned for vector loads; calloc-like so fresh buffers read as zero */
	if (posix_memalign(&t->data, 64, bytes ? bytes : 64))
		cm_die("out of memory allocating %zu bytes", bytes);
	memset(t->data, 0, bytes);
	return t;
}

static void cpu_free(kn_tensor *t)
{
	if (!t->base)
		free(t->data);
	free(t);
}

static void cpu_upload(kn_tensor *t, const void *host, size_t bytes, size_t off)
{
	memcpy((char *)t->data + off, host, bytes);
}

static void cpu_download(const kn_tensor *t, void *host, size_t bytes, size_t off)
{
	memcpy(host, (const char *)t->data + off, bytes);
}

static void cpu_zero(kn_tensor *t)
{
	memset(t->data, 0, kn_bytes(t));
}

static void cpu_copy(kn_tensor *dst, const kn_tensor *src)
{
	memcpy(dst->data, src->data, kn_bytes(src));
}

static void cpu_cast(kn_tensor *dst, const kn_tensor *src)
{
	int64_t n = src->n;
	if (dst->n != n)
		cm_die("kernels: cast of %lld elements into %lld", (long long)n, (long long)dst->n);
	if (dst->dtype == src->dtype) {
		cpu_copy(dst, src);
	} else if (dst->dtype == KN_BF16 && src->dtype == KN_F32) {
		uint16_t *d = dst->data;
		const float *s = src->data;
#pragma omp parallel for schedule(static) if (worth_threads(n))
		for (int64_t i = 0; i < n; i++)
			d[i] = kn_bf16_from_f32(s[i]);
	} else if (dst->dtype == KN_F32 && src->dtype == KN_BF16) {
		float *d = dst->data;
		const uint16_t *s = src->data;
#pragma omp parallel for schedule(static) if (worth_threads(n))
		for (int64_t i = 0; i < n; i++)
			d[i] = kn_f32_from_bf16(s[i]);
	} else {
		cm_die("kernels: no cast between these dtypes");
	}
}

static void cpu_sync(kn_backend *be)
{
	(void)be;
}

static void cpu_embed(kn_tensor *out, const kn_tensor *tok, const kn_tensor *pos,
		      const kn_tensor *wte, const kn_tensor *wpe, int T)
{
	int64_t C = last_dim(out), N = tok->n;
	const int32_t *tk = IDS(tok), *ps = pos ? IDS(pos) : NULL;
	float *o = F(out);
	const float *te = F(wte), *pe = wpe ? F(wpe) : NULL;
#pragma omp parallel for schedule(static) if (worth_threads(N * C))
	for (int64_t i = 0; i < N; i++) {
		const float *a = te + (int64_t)tk[i] * C;
		float *y = o + i * C;
		if (pe) {
			const float *b = pe + (int64_t)(ps ? ps[i] : (int32_t)(i % T)) * C;
			for (int64_t c = 0; c < C; c++)
				y[c] = a[c] + b[c];
		} else {
			memcpy(y, a, C * sizeof(float));
		}
	}
}

static void cpu_embed_bwd(kn_tensor *dwte, kn_tensor *dwpe, const kn_tensor *dout,
			  const kn_tensor *tok, const kn_tensor *pos, int T)
{
	int64_t C = last_dim(dout), N = tok->n;
	const int32_t *tk = IDS(tok), *ps = pos ? IDS(pos) : NULL;
	const float *d = F(dout);
	float *gte = dwte ? F(dwte) : NULL, *gpe = dwpe ? F(dwpe) : NULL;
	/* each thread owns a slice of the channels: no two threads touch one element */
#pragma omp parallel if (worth_threads(N * C))
	{
		int nt = omp_get_num_threads(), id = omp_get_thread_num();
		int64_t c0 = C * id / nt, c1 = C * (id + 1) / nt;
		for (int64_t i = 0; i < N; i++) {
			const float *g = d + i * C;
			if (gte) {
				float *y = gte + (int64_t)tk[i] * C;
				for (int64_t c = c0; c < c1; c++)
					y[c] += g[c];
			}
			if (gpe) {
				float *y = gpe + (int64_t)(ps ? ps[i] : (int32_t)(i % T)) * C;
				for (int64_t c = c0; c < c1; c++)
					y[c] += g[c];
			}
		}
	}
}

/* Few rows (decoding: a token a sample): each row of W read once for every input row, W x in
 * vectors, where OpenBLAS would copy all of W into its panels for each call. Where it pays,
 * measured against OpenBLAS 0.3.21 on Zen 4 (its small-matrix kernels win below a megabyte of
 * weights; its packing pays back from about 8 rows a megabyte, 16 rows at most). */
static int few_rows(int64_t N, int64_t W)
{
	return W >= (1 << 18) && N <= 16 && N * (1 << 18) <= 8 * W;
}

#if defined __AVX512F__
#define VL 16
#elif defined __AVX__
#define VL 8
#else
#define VL 4
#endif
typedef float vfloat __attribute__((vector_size(VL * sizeof(float))));

static inline vfloat vload(const float *p)
{
	vfloat v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* the lanes' sum as a tree of halves (in vector registers down to 4 lanes) */
typedef float vfloat4 __attribute__((vector_size(4 * sizeof(float))));
#if VL > 4
typedef float vfloat8 __attribute__((vector_size(8 * sizeof(float))));
#endif

static inline float vsum(vfloat v)
{
#if VL == 16
	vfloat8 a, b;
	memcpy(&a, &v, sizeof a);
	memcpy(&b, (const char *)&v + sizeof a, sizeof b);
	a += b;
#elif VL == 8
	vfloat8 a = v;
#endif
	vfloat4 c;
#if VL > 4
	vfloat4 d;
	memcpy(&c, &a, sizeof c);
	memcpy(&d, (const char *)&a + sizeof c, sizeof d);
	c += d;
#else
	c = v;
#endif
	return (c[0] + c[2]) + (c[1] + c[3]);
}

/* out[m, o] = bias[o] + x[m, :] . w[o, :] (w's rows ldw apart, C wide) for the outputs
 * [o0, o0 + no) (no <= 4) and the NM rows from m0 (NM 1 or 2, a constant where it is called:
 * the accumulators stay in registers) */
static inline __attribute__((always_inline)) void
rows_tile(float *restrict out, const float *restrict x, const float *restrict w, int64_t ldw,
	  const float *restrict b, int64_t OC, int64_t C, int64_t m0, const int NM, int64_t o0,
	  int no)
{
	vfloat acc[2][4] = { { { 0 } } };
	const float *xr[2], *wr[4];
	for (int i = 0; i < NM; i++)
		xr[i] = x + (m0 + i) * C;
	for (int j = 0; j < 4; j++)
		wr[j] = w + (o0 + (j < no ? j : 0)) * ldw;
	int64_t k = 0;
	for (; k + VL <= C; k += VL) {
		vfloat a[2];
		for (int i = 0; i < NM; i++)
			a[i] = vload(xr[i] + k);
		for (int j = 0; j < 4; j++) {
			vfloat wv = vload(wr[j] + k);
			for (int i = 0; i < NM; i++)
				acc[i][j] += a[i] * wv;
		}
	}
	for (int i = 0; i < NM; i++)
		for (int j = 0; j < no; j++) {
			float s = vsum(acc[i][j]);
			for (int64_t kk = k; kk < C; kk++)
				s += xr[i][kk] * wr[j][kk];
			out[(m0 + i) * OC + o0 + j] = (b ? b[o0 + j] : 0.0f) + s;
		}
}

static void matmul_rows(float *restrict out, const float *restrict x, const float *restrict w,
			const float *restrict b, int64_t N, int64_t OC, int64_t C)
{
	int64_t nob = (OC + 3) / 4;
	/* a megabyte of weights and up (few_rows): worth a team */
#pragma omp parallel for schedule(static)
	for (int64_t ob = 0; ob < nob; ob++) {
		int64_t o0 = ob * 4;
		int no = OC - o0 < 4 ? (int)(OC - o0) : 4;
		int64_t m0 = 0;
		for (; m0 + 2 <= N; m0 += 2)
			rows_tile(out, x, w, C, b, OC, C, m0, 2, o0, no);
		if (m0 < N)
			rows_tile(out, x, w, C, b, OC, C, m0, 1, o0, no);
	}
}

static void cpu_matmul(kn_tensor *out, const kn_tensor *inp, const kn_tensor *w,
		       const kn_tensor *bias)
{
	int64_t OC = w->shape[0], C = w->shape[1], N = rows_of(inp, C);
	float *o = F(out);
	float beta = 0.0f;
	if (few_rows(N, OC * C)) {
		matmul_rows(o, F(inp), F(w), bias ? F(bias) : NULL, N, OC, C);
		return;
	}
	if (bias) {
		const float *b = F(bias);
#pragma omp parallel for schedule(static) if (worth_threads(N * OC))
		for (int64_t i = 0; i < N; i++)
			memcpy(o + i * OC, b, OC * sizeof(float));
		beta = 1.0f;
	}
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)OC, (int)C, 1.0f, F(inp),
		    (int)C, F(w), (int)C, beta, o, (int)OC);
}

static void colsum_add(float *dst, const float *m, int64_t N, int64_t C)
{
#pragma omp parallel if (worth_threads(N * C))
	{
		int nt = omp_get_num_threads(), id = omp_get_thread_num();
		int64_t c0 = C * id / nt, c1 = C * (id + 1) / nt;
		for (int64_t i = 0; i < N; i++) {
			const float *r = m + i * C;
			for (int64_t c = c0; c < c1; c++)
				dst[c] += r[c];
		}
	}
}

static void cpu_matmul_bwd(kn_tensor *dinp, kn_tensor *dw, kn_tensor *dbias, const kn_tensor *dout,
			   const kn_tensor *inp, const kn_tensor *w)
{
	int64_t OC = w->shape[0], C = w->shape[1], N = rows_of(dout, OC);
	if (dinp)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, (int)C, (int)OC, 1.0f,
			    F(dout), (int)OC, F(w), (int)C, 1.0f, F(dinp), (int)C);
	if (dw)
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)OC, (int)C, (int)N, 1.0f,
			    F(dout), (int)OC, F(inp), (int)C, 1.0f, F(dw), (int)C);
	if (dbias)
		colsum_add(F(dbias), F(dout), N, OC);
}

static void cpu_residual_norm(kn_tensor *res, kn_tensor *out, kn_tensor *mean, kn_tensor *rstd,
			      const kn_tensor *a, const kn_tensor *b, const kn_tensor *w,
			      const kn_tensor *bias, float eps)
{
	int64_t C = last_dim(res), N = rows_of(res, C);
	float *r = F(res), *o = F(out), *mu = mean ? F(mean) : NULL, *rs = F(rstd);
	const float *pa = a ? F(a) : NULL, *pb = b ? F(b) : NULL, *pw = F(w);
	const float *pbias = bias ? F(bias) : NULL;
#pragma omp parallel for schedule(static) if (worth_threads(4 * N * C))
	for (int64_t i = 0; i < N; i++) {
		float *x = r + i * C, *y = o + i * C;
		if (pa) {
			const float *u = pa + i * C, *v = pb + i * C;
			for (int64_t c = 0; c < C; c++)
				x[c] = u[c] + v[c];
		}
		float m = 0.0f, s;
		if (mu) {
#pragma omp simd reduction(+:m)
			for (int64_t c = 0; c < C; c++)
				m += x[c];
			m /= (float)C;
		}
		float var = 0.0f;
#pragma omp simd reduction(+:var)
		for (int64_t c = 0; c < C; c++) {
			float d = x[c] - m;
			var += d * d;
		}
		s = 1.0f / sqrtf(var / (float)C + eps);
		for (int64_t c = 0; c < C; c++)
			y[c] = (x[c] - m) * s * pw[c] + (pbias ? pbias[c] : 0.0f);
		if (mu)
			mu[i] = m;
		rs[i] = s;
	}
}

static void cpu_norm_bwd(kn_tensor *dinp, kn_tensor *dw, kn_tensor *dbias, const kn_tensor *dout,
			 const kn_tensor *inp, const kn_tensor *w, const kn_tensor *mean,
			 const kn_tensor *rstd)
{
	int64_t C = last_dim(inp), N = rows_of(inp, C);
	const float *x = F(inp), *d = F(dout), *pw = F(w), *rs = F(rstd);
	const float *mu = mean ? F(mean) : NULL;
	float *di = F(dinp);
#pragma omp parallel for schedule(static) if (worth_threads(4 * N * C))
	for (int64_t i = 0; i < N; i++) {
		const float *xi = x + i * C, *gi = d + i * C;
		float m = mu ? mu[i] : 0.0f, s = rs[i];
		float sum_g = 0.0f, sum_gx = 0.0f;
#pragma omp simd reduction(+:sum_g, sum_gx)
		for (int64_t c = 0; c < C; c++) {
			float g = gi[c] * pw[c], xh = (xi[c] - m) * s;
			sum_g += g;
			sum_gx += g * xh;
		}
		sum_g /= (float)C;
		sum_gx /= (float)C;
		float *y = di + i * C;
		for (int64_t c = 0; c < C; c++) {
			float g = gi[c] * pw[c], xh = (xi[c] - m) * s;
			float v = g - xh * sum_gx;
			if (mu)
				v -= sum_g;
			y[c] += v * s;
		}
	}
	float *gw = dw ? F(dw) : NULL, *gb = dbias ? F(dbias) : NULL;
	if (!gw && !gb)
		return;
#pragma omp parallel if (worth_threads(2 * N * C))
	{
		int nt = omp_get_num_threads(), id = omp_get_thread_num();
		int64_t c0 = C * id / nt, c1 = C * (id + 1) / nt;
		for (int64_t i = 0; i < N; i++) {
			const float *xi = x + i * C, *gi = d + i * C;
			float m = mu ? mu[i] : 0.0f, s = rs[i];
			for (int64_t c = c0; c < c1; c++) {
				if (gw)
					gw[c] += gi[c] * (xi[c] - m) * s;
				if (gb)
					gb[c] += gi[c];
			}
		}
	}
}

static void cpu_add(kn_tensor *out, const kn_tensor *a, const kn_tensor *b)
{
	float *o = F(out);
	const float *x = F(a), *y = F(b);
	int64_t n = out->n;
#pragma omp parallel for schedule(static) if (worth_threads(n))
	for (int64_t i = 0; i < n; i++)
		o[i] = x[i] + y[i];
}

static void cpu_gelu(kn_tensor *out, const kn_tensor *inp)
{
	float *o = F(out);
	const float *x = F(inp);
	int64_t n = out->n;
#pragma omp parallel for schedule(static) if (worth_threads(16 * n))
	for (int64_t i = 0; i < n; i++) {
		float v = x[i];
		o[i] = kn_gelu_from_tanh(v, ftanh(kn_gelu_arg(v)));
	}
}

static void cpu_gelu_bwd(kn_tensor *dinp, const kn_tensor *inp, const kn_tensor *dout)
{
	float *di = F(dinp);
	const float *x = F(inp), *d = F(dout);
	int64_t n = dinp->n;
#pragma omp parallel for schedule(static) if (worth_threads(16 * n))
	for (int64_t i = 0; i < n; i++) {
		float v = x[i];
		di[i] += kn_gelu_grad_from_tanh(v, ftanh(kn_gelu_arg(v))) * d[i];
	}
}

static void cpu_swiglu(kn_tensor *out, const kn_tensor *gu)
{
	int64_t H = last_dim(out), N = rows_of(out, H);
	float *o = F(out);
	const float *p = F(gu);
#pragma omp parallel for schedule(static) if (worth_threads(16 * N * H))
	for (int64_t i = 0; i < N; i++) {
		const float *g = p + i * 2 * H, *u = g + H;
		float *y = o + i * H;
		for (int64_t j = 0; j < H; j++)
			y[j] = g[j] / (1.0f + fexp(-g[j])) * u[j];
	}
}

static void cpu_swiglu_bwd(kn_tensor *dgu, const kn_tensor *gu, const kn_tensor *dout)
{
	int64_t H = last_dim(dout), N = rows_of(dout, H);
	float *dp = F(dgu);
	const float *p = F(gu), *d = F(dout);
#pragma omp parallel for schedule(static) if (worth_threads(16 * N * H))
	for (int64_t i = 0; i < N; i++) {
		const float *g = p + i * 2 * H, *u = g + H, *dy = d + i * H;
		float *dg = dp + i * 2 * H, *du = dg + H;
		for (int64_t j = 0; j < H; j++) {
			float sg = 1.0f / (1.0f + fexp(-g[j])), silu = g[j] * sg;
			du[j] += dy[j] * silu;
			dg[j] += dy[j] * u[j] * sg * (1.0f + g[j] * (1.0f - sg));
		}
	}
}

static void cpu_rope(kn_tensor *qkv, const kn_tensor *pos, const kn_attn_shape *s, float theta,
		     int inverse)
{
	int64_t N = (int64_t)s->B * s->T, hd = s->hd, half = hd / 2;
	int64_t W = (int64_t)(s->nh + 2 * s->nkv) * hd, nrot = s->nh + s->nkv;
	float *p = F(qkv);
	const int32_t *ps = pos ? IDS(pos) : NULL;
	float sign = inverse ? -1.0f : 1.0f;
#pragma omp parallel for schedule(static) if (worth_threads(N * nrot * hd))
	for (int64_t i = 0; i < N; i++) {
		float cs[512], sn[512];
		float at = (float)(ps ? ps[i] : (int32_t)(i % s->T));
		for (int64_t j = 0; j < half; j++) {
			/* as Hugging Face computes it: fp32 inverse frequencies times the position */
			float inv = 1.0f / powf(theta, (float)(2 * j) / (float)hd);
			float a = at * inv;
			cs[j] = cosf(a);
			sn[j] = sign * sinf(a);
		}
		for (int64_t h = 0; h < nrot; h++) {
			float *x = p + i * W + h * hd;
			for (int64_t j = 0; j < half; j++) {
				float x1 = x[j], x2 = x[j + half];
				x[j] = x1 * cs[j] - x2 * sn[j];
				x[j + half] = x2 * cs[j] + x1 * sn[j];
			}
		}
	}
}

/* The first position of token t's document in its row (doc gives it, else 0). */
static inline int64_t doc_start(const int32_t *doc, int64_t row0, int64_t t)
{
	return doc ? doc[row0 + t] : 0;
}

/* The end of the row's shared prefix token t also sees (pre gives it, at most its document's
 * start; else none): its keys are [0, pe) and [t0, t], walked in order by next_key. */
static inline int64_t prefix_end(const int32_t *pre, int64_t row0, int64_t t, int64_t t0)
{
	int64_t pe = pre ? pre[row0 + t] : 0;
	return pe < t0 ? pe : t0;
}

static inline int64_t next_key(int64_t u, int64_t pe, int64_t t0)
{
	return u + 1 == pe ? t0 : u + 1;
}

/* Attention a (row, head) at a time, as small matrix products in a scratch T x T: scores
 * S = Q K^T, probabilities P, then P V (the backward: dP = dO V^T, dS, dQ = dS K, dK = dS^T Q,
 * dV = P^T dO). gemm_small computes each in register tiles of GM x GN, skipping the tiles the
 * causal mask makes zero; the masked entries of P and dS are zeros, so a tile that straddles
 * the diagonal adds nothing for them. */
#define GM 4
#define GN 16

/* C (ldc) (+)= op(A) B (ldb) for C: M x N, over k in [0, K), op(A) = A (M x K, row stride lda)
 * or, with ta, the transpose of A (K x M, row stride lda). causal 1: op(A) lower triangular
 * (row m's k <= m); 2: upper triangular (k >= m); 3: C needed only where n <= m (whole tiles
 * past it skipped). add 0: C = op(A) B. */
/* one full tile of GM rows x NW columns (a constant where it is called: the accumulators stay in
 * registers), over k in [klo, khi) */
static inline __attribute__((always_inline)) void
tile_full(float *restrict C, int64_t ldc, const float *restrict A, int64_t si, int64_t sk,
	  const float *restrict B, int64_t ldb, int m0, int n0, int klo, int khi, int add,
	  const int NW)
{
	float acc[GM][2 * GN];
	for (int i = 0; i < GM; i++)
		for (int j = 0; j < NW; j++)
			acc[i][j] = 0.0f;
	for (int k = klo; k < khi; k++) {
		const float *restrict bk = B + (int64_t)k * ldb + n0;
		for (int i = 0; i < GM; i++) {
			float a = A[(int64_t)(m0 + i) * si + (int64_t)k * sk];
#pragma omp simd
			for (int j = 0; j < NW; j++)
				acc[i][j] += a * bk[j];
		}
	}
	for (int i = 0; i < GM; i++) {
		float *restrict c = C + (int64_t)(m0 + i) * ldc + n0;
		if (add)
			for (int j = 0; j < NW; j++)
				c[j] += acc[i][j];
		else
			for (int j = 0; j < NW; j++)
				c[j] = acc[i][j];
	}
}

/* C (ldc) (+)= op(A) B (ldb) for C: M x N, over k in [0, K), op(A) = A (M x K, row stride lda)
 * or, with ta, the transpose of A (K x M, row stride lda). causal 1: op(A) lower triangular
 * (row m's k <= m); 2: upper triangular (k >= m); 3: C needed only where n <= m (whole tiles
 * past it skipped; those it computes past it hold values). add 0: C = op(A) B. Tiles GM x 2 GN
 * or GM x GN where they fit. */
static void gemm_small(float *restrict C, int64_t ldc, const float *restrict A, int64_t lda, int ta,
		       const float *restrict B, int64_t ldb, int M, int N, int K, int causal, int add)
{
	/* op(A)'s (i, k): the 4 of a tile's rows are contiguous in A^T */
	int64_t si = ta ? 1 : lda, sk = ta ? lda : 1;
	for (int m0 = 0; m0 < M; m0 += GM) {
		int mr = M - m0 < GM ? M - m0 : GM;
		int klo = causal == 2 ? m0 : 0;
		int khi = causal == 1 && m0 + GM < K ? m0 + GM : K;
		/* causal 3: up to the tile's last row, rounded up to whole tiles (C's entries past a
		 * row's own are computed and left alone) */
		int nhi = causal == 3 ? (m0 + GM + GN - 1) / GN * GN : N;
		if (nhi > N)
			nhi = N;
		for (int n0 = 0; n0 < nhi;) {
			int nr = nhi - n0;
			if (mr == GM && nr >= 2 * GN) {
				tile_full(C, ldc, A, si, sk, B, ldb, m0, n0, klo, khi, add, 2 * GN);
				n0 += 2 * GN;
				continue;
			}
			if (mr == GM && nr >= GN) {
				tile_full(C, ldc, A, si, sk, B, ldb, m0, n0, klo, khi, add, GN);
				n0 += GN;
				continue;
			}
			if (nr > GN)
				nr = GN;
			float acc[GM][GN] = { { 0 } };
			for (int k = klo; k < khi; k++) {
				const float *restrict bk = B + (int64_t)k * ldb + n0;
				for (int i = 0; i < mr; i++) {
					float a = A[(int64_t)(m0 + i) * si + (int64_t)k * sk];
					for (int j = 0; j < nr; j++)
						acc[i][j] += a * bk[j];
				}
			}
			for (int i = 0; i < mr; i++) {
				float *restrict c = C + (int64_t)(m0 + i) * ldc + n0;
				if (add)
					for (int j = 0; j < nr; j++)
						c[j] += acc[i][j];
				else
					for (int j = 0; j < nr; j++)
						c[j] = acc[i][j];
			}
			n0 += nr;
		}
	}
}

/* dst[j * ld + u] = src[u * W + j] for u < n, j < hd: rows of a head into columns */
static void transpose_in(float *restrict dst, int64_t ld, const float *restrict src, int64_t W,
			 int hd, int n)
{
	for (int u = 0; u < n; u++)
		for (int j = 0; j < hd; j++)
			dst[(int64_t)j * ld + u] = src[(int64_t)u * W + j];
}

/* the scratch of one thread: S (T x T) and K^T, V^T (hd x T) */
typedef struct {
	float *s, *kt, *vt;
} attn_scratch;

static void scratch_init(attn_scratch *w, int T, int hd)
{
	w->s = cm_xmalloc((size_t)T * T * sizeof(float));
	w->kt = cm_xmalloc((size_t)T * hd * sizeof(float));
	w->vt = cm_xmalloc((size_t)T * hd * sizeof(float));
}

static void scratch_free(attn_scratch *w)
{
	free(w->s);
	free(w->kt);
	free(w->vt);
}

static void cpu_attention(kn_tensor *out, kn_tensor *lse, const kn_tensor *qkv,
			  const kn_tensor *doc, const kn_tensor *pre, const kn_attn_shape *s)
{
	int B = s->B, T = s->T, nh = s->nh, nkv = s->nkv, hd = s->hd, grp = nh / nkv;
	int64_t W = (int64_t)(nh + 2 * nkv) * hd, OW = (int64_t)nh * hd;
	const float *p = F(qkv);
	const int32_t *dc = doc ? IDS(doc) : NULL, *pr = pre ? IDS(pre) : NULL;
	float *o = F(out), *L = F(lse);
	float scale = 1.0f / sqrtf((float)hd);
#pragma omp parallel if (worth_threads((int64_t)B * nh * T * T * hd))
	{
		attn_scratch w;
		scratch_init(&w, T, hd);
#pragma omp for schedule(static) collapse(2)
		for (int b = 0; b < B; b++)
			for (int h = 0; h < nh; h++) {
				int64_t r0 = (int64_t)b * T;
				const float *q = p + r0 * W + (int64_t)h * hd;
				const float *k = p + r0 * W + (int64_t)(nh + h / grp) * hd;
				const float *v = p + r0 * W + (int64_t)(nh + nkv + h / grp) * hd;
				transpose_in(w.kt, T, k, W, hd, T);
				gemm_small(w.s, T, q, W, 0, w.kt, T, T, T, hd, 3, 0);	/* S = Q K^T */
				for (int t = 0; t < T; t++) {
					float *restrict sc = w.s + (int64_t)t * T;
					int64_t t0 = doc_start(dc, r0, t);
					int64_t pe = prefix_end(pr, r0, t, t0), u1 = pe ? 0 : t0;
					float mx = -INFINITY, sum = 0.0f;
					if (!pe) {	/* the keys [t0, t]: loops in vectors */
#pragma omp simd reduction(max:mx)
						for (int64_t u = t0; u <= t; u++) {
							sc[u] *= scale;
							mx = sc[u] > mx ? sc[u] : mx;
						}
#pragma omp simd reduction(+:sum)
						for (int64_t u = t0; u <= t; u++) {
							sc[u] = fexp(sc[u] - mx);
							sum += sc[u];
						}
					} else {
						for (int64_t u = u1; u <= t; u = next_key(u, pe, t0)) {
							sc[u] *= scale;
							mx = sc[u] > mx ? sc[u] : mx;
						}
						for (int64_t u = u1; u <= t; u = next_key(u, pe, t0)) {
							sc[u] = fexp(sc[u] - mx);
							sum += sc[u];
						}
					}
					float inv = 1.0f / sum;
					/* P: the row's keys scaled, zeros for the others up to the tile's end */
					for (int64_t u = 0; u <= t; u++) {
						int in = u < pe || u >= t0;
						sc[u] = in ? sc[u] * inv : 0.0f;
					}
					for (int64_t u = t + 1; u < T; u++)
						sc[u] = 0.0f;
					L[((int64_t)b * nh + h) * T + t] = mx + logf(sum);
				}
				/* O = P V */
				gemm_small(o + r0 * OW + (int64_t)h * hd, OW, w.s, T, 0, v, W, T, hd, T, 1, 0);
			}
		scratch_free(&w);
	}
}

static void cpu_attention_bwd(kn_tensor *dqkv, const kn_tensor *dout, const kn_tensor *out,
			      const kn_tensor *lse, const kn_tensor *qkv, const kn_tensor *doc,
			      const kn_attn_shape *s)
{
	int B = s->B, T = s->T, nh = s->nh, nkv = s->nkv, hd = s->hd, grp = nh / nkv;
	int64_t W = (int64_t)(nh + 2 * nkv) * hd, OW = (int64_t)nh * hd;
	const float *p = F(qkv), *dO = F(dout), *O = F(out), *L = F(lse);
	const int32_t *dc = doc ? IDS(doc) : NULL;
	float *dp = F(dqkv);
	float scale = 1.0f / sqrtf((float)hd);
	/* one task per (row, key/value head): it alone writes that head's dk and dv, and the dq of
	 * the query heads that share it */
#pragma omp parallel if (worth_threads((int64_t)B * nh * T * T * hd))
	{
		attn_scratch w;
		scratch_init(&w, T, hd);
		float *dpm = cm_xmalloc((size_t)T * T * sizeof(float));
#pragma omp for schedule(static) collapse(2)
		for (int b = 0; b < B; b++)
			for (int g = 0; g < nkv; g++) {
				int64_t r0 = (int64_t)b * T;
				const float *k = p + r0 * W + (int64_t)(nh + g) * hd;
				const float *v = p + r0 * W + (int64_t)(nh + nkv + g) * hd;
				float *dk = dp + r0 * W + (int64_t)(nh + g) * hd;
				float *dv = dp + r0 * W + (int64_t)(nh + nkv + g) * hd;
				transpose_in(w.kt, T, k, W, hd, T);
				transpose_in(w.vt, T, v, W, hd, T);
				for (int h = g * grp; h < (g + 1) * grp; h++) {
					const float *q = p + r0 * W + (int64_t)h * hd;
					const float *go = dO + r0 * OW + (int64_t)h * hd;
					const float *yo = O + r0 * OW + (int64_t)h * hd;
					float *dq = dp + r0 * W + (int64_t)h * hd;
					gemm_small(w.s, T, q, W, 0, w.kt, T, T, T, hd, 3, 0);	/* S = Q K^T */
					gemm_small(dpm, T, go, OW, 0, w.vt, T, T, T, hd, 3, 0);	/* dP = dO V^T */
					for (int t = 0; t < T; t++) {
						float *restrict pa = w.s + (int64_t)t * T;
						float *restrict pd = dpm + (int64_t)t * T;
						float l = L[((int64_t)b * nh + h) * T + t];
						int64_t u0 = doc_start(dc, r0, t);
						const float *restrict gt = go + (int64_t)t * OW;
						const float *restrict yt = yo + (int64_t)t * OW;
						float D = 0.0f;
#pragma omp simd reduction(+:D)
						for (int j = 0; j < hd; j++)
							D += gt[j] * yt[j];
						for (int64_t u = 0; u < u0; u++)
							pa[u] = pd[u] = 0.0f;
#pragma omp simd
						for (int64_t u = u0; u <= t; u++) {
							float a = fexp(pa[u] * scale - l);
							pa[u] = a;	/* P */
							pd[u] = a * (pd[u] - D) * scale;	/* dS */
						}
						for (int64_t u = t + 1; u < T; u++)
							pa[u] = pd[u] = 0.0f;
					}
					/* dQ += dS K, dK += dS^T Q, dV += P^T dO */
					gemm_small(dq, W, dpm, T, 0, k, W, T, hd, T, 1, 1);
					gemm_small(dk, W, dpm, T, 1, q, W, T, hd, T, 2, 1);
					gemm_small(dv, W, w.s, T, 1, go, OW, T, hd, T, 2, 1);
				}
			}
		scratch_free(&w);
		free(dpm);
	}
}

static void cpu_attention_decode(kn_tensor *out, const kn_tensor *qkv, kn_tensor *kcache,
				 kn_tensor *vcache, const int32_t *pos, const kn_attn_shape *s,
				 int Tmax)
{
	int B = s->B, nh = s->nh, nkv = s->nkv, hd = s->hd, grp = nh / nkv;
	int64_t W = (int64_t)(nh + 2 * nkv) * hd, KW = (int64_t)nkv * hd;
	const float *p = F(qkv);
	float *kc = F(kcache), *vc = F(vcache), *o = F(out);
	float scale = 1.0f / sqrtf((float)hd);
	int64_t maxpos = 0;
	for (int b = 0; b < B; b++) {
		maxpos = pos[b] + 1 > maxpos ? pos[b] + 1 : maxpos;
		memcpy(kc + ((int64_t)b * Tmax + pos[b]) * KW, p + b * W + (int64_t)nh * hd,
		       KW * sizeof(float));
		memcpy(vc + ((int64_t)b * Tmax + pos[b]) * KW, p + b * W + (int64_t)(nh + nkv) * hd,
		       KW * sizeof(float));
	}
#pragma omp parallel if (worth_threads((int64_t)B * nh * maxpos * hd))
	{
		float *sc = cm_xmalloc((size_t)Tmax * sizeof(float));
#pragma omp for schedule(static) collapse(2)
		for (int b = 0; b < B; b++)
			for (int h = 0; h < nh; h++) {
				const float *q = p + b * W + (int64_t)h * hd;
				int64_t n = pos[b] + 1, g = h / grp;
				const float *kb = kc + (int64_t)b * Tmax * KW + g * hd;
				const float *vb = vc + (int64_t)b * Tmax * KW + g * hd;
				/* the scores q . k_u, 4 keys at a time in vectors */
				for (int64_t u0 = 0; u0 < n; u0 += 4)
					rows_tile(sc, q, kb, KW, NULL, n, hd, 0, 1, u0,
						  n - u0 < 4 ? (int)(n - u0) : 4);
				float mx = -INFINITY, sum = 0.0f;
#pragma omp simd reduction(max:mx)
				for (int64_t u = 0; u < n; u++) {
					sc[u] *= scale;
					mx = sc[u] > mx ? sc[u] : mx;
				}
#pragma omp simd reduction(+:sum)
				for (int64_t u = 0; u < n; u++) {
					sc[u] = fexp(sc[u] - mx);
					sum += sc[u];
				}
				for (int64_t u = 0; u < n; u++)
					sc[u] /= sum;
				/* y = P V, 4 keys a pass over y */
				float *restrict y = o + (int64_t)b * nh * hd + (int64_t)h * hd;
				for (int j = 0; j < hd; j++)
					y[j] = 0.0f;
				int64_t u = 0;
				for (; u + 4 <= n; u += 4) {
					const float *restrict v0 = vb + u * KW, *restrict v1 = v0 + KW;
					const float *restrict v2 = v1 + KW, *restrict v3 = v2 + KW;
					float a0 = sc[u], a1 = sc[u + 1], a2 = sc[u + 2], a3 = sc[u + 3];
#pragma omp simd
					for (int j = 0; j < hd; j++)
						y[j] += (a0 * v0[j] + a1 * v1[j]) + (a2 * v2[j] + a3 * v3[j]);
				}
				for (; u < n; u++) {
					const float *restrict v = vb + u * KW;
					float a = sc[u];
#pragma omp simd
					for (int j = 0; j < hd; j++)
						y[j] += a * v[j];
				}
			}
		free(sc);
	}
}

static void cpu_kv_store(kn_tensor *kcache, kn_tensor *vcache, const kn_tensor *qkv,
			 const kn_attn_shape *s, int Tmax)
{
	int64_t W = (int64_t)(s->nh + 2 * s->nkv) * s->hd, KW = (int64_t)s->nkv * s->hd;
	const float *p = F(qkv);
	float *kc = F(kcache), *vc = F(vcache);
#pragma omp parallel for schedule(static) collapse(2) if (worth_threads((int64_t)s->B * s->T * KW))
	for (int b = 0; b < s->B; b++)
		for (int t = 0; t < s->T; t++) {
			const float *row = p + ((int64_t)b * s->T + t) * W;
			memcpy(kc + ((int64_t)b * Tmax + t) * KW, row + (int64_t)s->nh * s->hd,
			       KW * sizeof(float));
			memcpy(vc + ((int64_t)b * Tmax + t) * KW, row + (int64_t)(s->nh + s->nkv) * s->hd,
			       KW * sizeof(float));
		}
}

static void cpu_xent(kn_tensor *losses, kn_tensor *dlogits, const kn_tensor *logits,
		     const kn_tensor *targets, int V, float dscale)
{
	int64_t Vp = last_dim(logits), N = rows_of(logits, Vp);
	const float *lg = F(logits);
	const int32_t *tg = IDS(targets);
	float *ls = losses ? F(losses) : NULL, *dl = dlogits ? F(dlogits) : NULL;
#pragma omp parallel for schedule(static) if (worth_threads(4 * N * Vp))
	for (int64_t i = 0; i < N; i++) {
		const float *x = lg + i * Vp;
		int32_t t = tg[i];
		float *d = dl ? dl + i * Vp : NULL;
		if (t < 0) {
			if (ls)
				ls[i] = 0.0f;
			if (d)
				memset(d, 0, Vp * sizeof(float));
			continue;
		}
		float mx = -INFINITY;
#pragma omp simd reduction(max:mx)
		for (int64_t j = 0; j < V; j++)
			mx = x[j] > mx ? x[j] : mx;
		float sum = 0.0f;
#pragma omp simd reduction(+:sum)
		for (int64_t j = 0; j < V; j++)
			sum += fexp(x[j] - mx);
		float lse = mx + logf(sum), xt = x[t];
		if (ls)
			ls[i] = lse - xt;
		if (d) {
			/* d may alias x: read the target's logit before overwriting */
			for (int64_t j = 0; j < V; j++)
				d[j] = dscale * fexp(x[j] - lse);
			d[t] -= dscale;
			for (int64_t j = V; j < Vp; j++)
				d[j] = 0.0f;
		}
	}
}

/* Reductions: fixed per-thread slices, partials in double, added in thread order. */
static double reduce(const kn_tensor *t, int squares)
{
	const float *x = F(t);
	int64_t n = t->n;
	double part[256] = { 0 };
	int used = 1;
#pragma omp parallel if (worth_threads(n))
	{
		int nt = omp_get_num_threads(), id = omp_get_thread_num();
		if (nt > 256)
			nt = 256;
		if (id < nt) {
			int64_t a = n * id / nt, b = n * (id + 1) / nt;
			/* eight running sums, one a lane, so that the loop runs in vectors */
			double acc[8] = { 0 };
			int64_t i = a;
			for (; i + 8 <= b; i += 8)
				for (int l = 0; l < 8; l++)
					acc[l] += squares ? (double)x[i + l] * x[i + l] : (double)x[i + l];
			for (; i < b; i++)
				acc[0] += squares ? (double)x[i] * x[i] : (double)x[i];
			part[id] = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
		}
		if (id == 0)
			used = nt;
	}
	double s = 0.0;
	for (int i = 0; i < used; i++)
		s += part[i];
	return s;
}

static double cpu_sumsq(const kn_tensor *t)
{
	return reduce(t, 1);
}

static double cpu_sum(const kn_tensor *t)
{
	return reduce(t, 0);
}

static void cpu_scale(kn_tensor *t, float sc)
{
	float *x = F(t);
	int64_t n = t->n;
#pragma omp parallel for schedule(static) if (worth_threads(n))
	for (int64_t i = 0; i < n; i++)
		x[i] *= sc;
}

static void cpu_adamw(kn_tensor *p, const kn_tensor *g, kn_tensor *m, kn_tensor *v, float lr,
		      float b1, float b2, float eps, float wd, float gscale, int64_t step)
{
	float *w = F(p), *mm = F(m), *vv = F(v);
	const float *gg = F(g);
	int64_t n = p->n;
	float c1 = 1.0f - powf(b1, (float)step), c2 = 1.0f - powf(b2, (float)step);
#pragma omp parallel for schedule(static) if (worth_threads(8 * n))
	for (int64_t i = 0; i < n; i++) {
		float gi = gg[i] * gscale;
		float mi = b1 * mm[i] + (1.0f - b1) * gi;
		float vi = b2 * vv[i] + (1.0f - b2) * gi * gi;
		mm[i] = mi;
		vv[i] = vi;
		float mh = mi / c1, vh = vi / c2;
		w[i] -= lr * (mh / (sqrtf(vh) + eps) + wd * w[i]);
	}
}

/* Built once a level of x86-64 (the Makefile: kn_cpu_ops_v3 with AVX2, kn_cpu_ops_v4 with
 * AVX-512; kernels.c takes the best the processor has), else as kn_cpu_ops alone. */
#ifndef KN_CPU_TABLE
#define KN_CPU_TABLE kn_cpu_ops
#define KN_CPU_NAME "cpu"
#endif
const kn_ops KN_CPU_TABLE = {
	.name = KN_CPU_NAME,
	.alloc = cpu_alloc,
	.free = cpu_free,
	.upload = cpu_upload,
	.download = cpu_download,
	.zero = cpu_zero,
	.copy = cpu_copy,
	.cast = cpu_cast,
	.sync = cpu_sync,
	.embed = cpu_embed,
	.embed_bwd = cpu_embed_bwd,
	.matmul = cpu_matmul,
	.matmul_bwd = cpu_matmul_bwd,
	.residual_norm = cpu_residual_norm,
	.norm_bwd = cpu_norm_bwd,
	.add = cpu_add,
	.gelu = cpu_gelu,
	.gelu_bwd = cpu_gelu_bwd,
	.swiglu = cpu_swiglu,
	.swiglu_bwd = cpu_swiglu_bwd,
	.rope = cpu_rope,
	.attention = cpu_attention,
	.attention_bwd = cpu_attention_bwd,
	.attention_decode = cpu_attention_decode,
	.kv_store = cpu_kv_store,
	.xent = cpu_xent,
	.sumsq = cpu_sumsq,
	.sum = cpu_sum,
	.scale = cpu_scale,
	.adamw = cpu_adamw,
};
