/* cuda_plain.cu - the CUDA backend's plain version: every operation of the kernel interface
 * in fp32, one straightforward kernel each (matrix products through cuBLAS), no atomics.
 *
 * It is the reference the fused mixed-precision kernels are checked and bisected against, and
 * what `--device cuda` runs until they exist. It lives in its own library (libkn_cuda.so),
 * loaded by kernels.c at run time, so a binary built with CUDA still runs on the CPU where the
 * CUDA libraries or a GPU are missing. Reductions that feed weights (embedding and norm
 * weight gradients, attention's dk/dv, sums) give each output element to one thread that
 * visits its inputs in a fixed order: results repeat run to run.
 *
 * NOTE: written and compiled without a GPU (nvcc for sm_90 and PTX); `make check-gpu`
 * compares every operation with the CPU backend on a lent GPU.
 */
#include <stdlib.h>
#include <string.h>

#include "cuda_common.cuh"
#include "kmath.h"

cublasHandle_t kn_blas;

/* Memory */

static kn_tensor *g_alloc(kn_backend *be, kn_dtype dt, int ndim, const int64_t *shape)
{
	kn_tensor *t = (kn_tensor *)calloc(1, sizeof *t);
	if (!t)
		die("out of host memory");
	t->be = be;
	t->dtype = dt;
	t->ndim = ndim;
	int64_t n = 1;
	for (int i = 0; i < ndim; i++) {
		t->shape[i] = shape[i];
		n *= shape[i];
	}
	t->n = n;
	size_t bytes = (size_t)n * (dt == KN_BF16 ? 2 : 4);
	cudaError_t e = cudaMalloc(&t->data, bytes ? bytes : 256);
	if (e != cudaSuccess) {
		size_t fr = 0, tot = 0;
		cudaMemGetInfo(&fr, &tot);
		die("out of GPU memory allocating %zu MiB (%zu MiB free of %zu): %s",
		    bytes >> 20, fr >> 20, tot >> 20, cudaGetErrorString(e));
	}
	CK(cudaMemset(t->data, 0, bytes));
	return t;
}

static void g_free(kn_tensor *t)
{
	if (!t->base)
		cudaFree(t->data);
	free(t);
}

static void g_upload(kn_tensor *t, const void *host, size_t bytes, size_t off)
{
	CK(cudaMemcpy((char *)t->data + off, host, bytes, cudaMemcpyHostToDevice));
}

static void g_download(const kn_tensor *t, void *host, size_t bytes, size_t off)
{
	CK(cudaMemcpy(host, (const char *)t->data + off, bytes, cudaMemcpyDeviceToHost));
}

static void g_zero(kn_tensor *t)
{
	CK(cudaMemset(t->data, 0, tbytes(t)));
}

static void g_copy(kn_tensor *dst, const kn_tensor *src)
{
	CK(cudaMemcpy(dst->data, src->data, tbytes(src), cudaMemcpyDeviceToDevice));
}

__global__ static void to_bf16_k(uint16_t *d, const float *s, int64_t n)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i < n)
		d[i] = kn_bf16_from_f32(s[i]);
}

__global__ static void to_f32_k(float *d, const uint16_t *s, int64_t n)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i < n)
		d[i] = kn_f32_from_bf16(s[i]);
}

static void g_cast(kn_tensor *dst, const kn_tensor *src)
{
	if (dst->n != src->n)
		die("cast of %lld elements into %lld", (long long)src->n, (long long)dst->n);
	if (dst->dtype == src->dtype)
		g_copy(dst, src);
	else if (dst->dtype == KN_BF16 && src->dtype == KN_F32)
		to_bf16_k<<<blocks(src->n, 256), 256>>>((uint16_t *)dst->data,
							(const float *)src->data, src->n);
	else if (dst->dtype == KN_F32 && src->dtype == KN_BF16)
		to_f32_k<<<blocks(src->n, 256), 256>>>((float *)dst->data,
						       (const uint16_t *)src->data, src->n);
	else
		die("no cast between these dtypes");
	LAUNCHED("cast");
}

static void g_sync(kn_backend *be)
{
	(void)be;
	CK(cudaDeviceSynchronize());
}

/* Embedding */

__global__ static void embed_k(float *out, const int32_t *tok, const int32_t *pos,
			       const float *wte, const float *wpe, int64_t N, int64_t C, int T)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i >= N * C)
		return;
	int64_t r = i / C, c = i % C;
	float v = wte[(int64_t)tok[r] * C + c];
	if (wpe)
		v += wpe[(int64_t)(pos ? pos[r] : (int32_t)(r % T)) * C + c];
	out[i] = v;
}

static void g_embed(kn_tensor *out, const kn_tensor *tok, const kn_tensor *pos,
		    const kn_tensor *wte, const kn_tensor *wpe, int T)
{
	int64_t C = out->shape[out->ndim - 1], N = tok->n;
	embed_k<<<blocks(N * C, 256), 256>>>(F(out), IDS(tok), pos ? IDS(pos) : NULL, F(wte),
					     wpe ? F(wpe) : NULL, N, C, T);
	LAUNCHED("embed");
}

/* one thread per channel, rows in order: no two threads share an element */
__global__ static void embed_bwd_k(float *dwte, float *dwpe, const float *dout,
				   const int32_t *tok, const int32_t *pos, int64_t N, int64_t C,
				   int T)
{
	int64_t c = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (c >= C)
		return;
	for (int64_t r = 0; r < N; r++) {
		float g = dout[r * C + c];
		if (dwte)
			dwte[(int64_t)tok[r] * C + c] += g;
		if (dwpe)
			dwpe[(int64_t)(pos ? pos[r] : (int32_t)(r % T)) * C + c] += g;
	}
}

static void g_embed_bwd(kn_tensor *dwte, kn_tensor *dwpe, const kn_tensor *dout,
			const kn_tensor *tok, const kn_tensor *pos, int T)
{
	int64_t C = dout->shape[dout->ndim - 1], N = tok->n;
	embed_bwd_k<<<blocks(C, 128), 128>>>(dwte ? F(dwte) : NULL, dwpe ? F(dwpe) : NULL,
					     F(dout), IDS(tok), pos ? IDS(pos) : NULL, N, C, T);
	LAUNCHED("embed_bwd");
}

/* Matrix products: row-major through column-major cuBLAS (out^T = W inp^T) */

__global__ static void fill_rows_k(float *out, const float *b, int64_t N, int64_t OC)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i < N * OC)
		out[i] = b[i % OC];
}

static void g_matmul(kn_tensor *out, const kn_tensor *inp, const kn_tensor *w,
		     const kn_tensor *bias)
{
	int64_t OC = w->shape[0], C = w->shape[1], N = inp->n / C;
	float one = 1.0f, beta = 0.0f;
	if (bias) {
		fill_rows_k<<<blocks(N * OC, 256), 256>>>(F(out), F(bias), N, OC);
		LAUNCHED("fill_rows");
		beta = 1.0f;
	}
	CKB(cublasSgemm(blas, CUBLAS_OP_T, CUBLAS_OP_N, (int)OC, (int)N, (int)C, &one, F(w),
			(int)C, F(inp), (int)C, &beta, F(out), (int)OC));
}

/* dbias[c] += sum over rows, one thread per column */
__global__ static void colsum_k(float *dst, const float *m, int64_t N, int64_t C)
{
	int64_t c = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (c >= C)
		return;
	float s = 0.0f;
	for (int64_t r = 0; r < N; r++)
		s += m[r * C + c];
	dst[c] += s;
}

static void g_matmul_bwd(kn_tensor *dinp, kn_tensor *dw, kn_tensor *dbias, const kn_tensor *dout,
			 const kn_tensor *inp, const kn_tensor *w)
{
	int64_t OC = w->shape[0], C = w->shape[1], N = dout->n / OC;
	float one = 1.0f;
	if (dinp)
		CKB(cublasSgemm(blas, CUBLAS_OP_N, CUBLAS_OP_N, (int)C, (int)N, (int)OC, &one, F(w),
				(int)C, F(dout), (int)OC, &one, F(dinp), (int)C));
	if (dw)
		CKB(cublasSgemm(blas, CUBLAS_OP_N, CUBLAS_OP_T, (int)C, (int)OC, (int)N, &one,
				F(inp), (int)C, F(dout), (int)OC, &one, F(dw), (int)C));
	if (dbias) {
		colsum_k<<<blocks(OC, 128), 128>>>(F(dbias), F(dout), N, OC);
		LAUNCHED("colsum");
	}
}

/* Norms: one block a row */

__global__ static void residual_norm_k(float *res, float *out, float *mean, float *rstd,
				       const float *a, const float *b, const float *w,
				       const float *bias, int64_t C, float eps)
{
	__shared__ float sh[32];
	int64_t r = blockIdx.x;
	float *x = res + r * C, *y = out + r * C;
	if (a)
		for (int64_t c = threadIdx.x; c < C; c += blockDim.x)
			x[c] = a[r * C + c] + b[r * C + c];
	__syncthreads();
	float m = 0.0f;
	if (mean) {
		float s = 0.0f;
		for (int64_t c = threadIdx.x; c < C; c += blockDim.x)
			s += x[c];
		m = block_sum(s, sh) / (float)C;
	}
	float v = 0.0f;
	for (int64_t c = threadIdx.x; c < C; c += blockDim.x)
		v += (x[c] - m) * (x[c] - m);
	float s = rsqrtf(block_sum(v, sh) / (float)C + eps);
	for (int64_t c = threadIdx.x; c < C; c += blockDim.x)
		y[c] = (x[c] - m) * s * w[c] + (bias ? bias[c] : 0.0f);
	if (threadIdx.x == 0) {
		if (mean)
			mean[r] = m;
		rstd[r] = s;
	}
}

static void g_residual_norm(kn_tensor *res, kn_tensor *out, kn_tensor *mean, kn_tensor *rstd,
			    const kn_tensor *a, const kn_tensor *b, const kn_tensor *w,
			    const kn_tensor *bias, float eps)
{
	int64_t C = res->shape[res->ndim - 1], N = res->n / C;
	residual_norm_k<<<(unsigned)N, 256>>>(F(res), F(out), mean ? F(mean) : NULL, F(rstd),
					      a ? F(a) : NULL, b ? F(b) : NULL, F(w),
					      bias ? F(bias) : NULL, C, eps);
	LAUNCHED("residual_norm");
}

__global__ static void norm_bwd_rows_k(float *dinp, const float *dout, const float *inp,
				       const float *w, const float *mean, const float *rstd,
				       int64_t C)
{
	__shared__ float sh[32];
	int64_t r = blockIdx.x;
	const float *x = inp + r * C, *g = dout + r * C;
	float m = mean ? mean[r] : 0.0f, s = rstd[r], sg = 0.0f, sgx = 0.0f;
	for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
		float d = g[c] * w[c];
		sg += d;
		sgx += d * (x[c] - m) * s;
	}
	sg = block_sum(sg, sh) / (float)C;
	sgx = block_sum(sgx, sh) / (float)C;
	for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
		float d = g[c] * w[c], xh = (x[c] - m) * s, v = d - xh * sgx;
		if (mean)
			v -= sg;
		dinp[r * C + c] += v * s;
	}
}

__global__ static void norm_bwd_cols_k(float *dw, float *dbias, const float *dout,
				       const float *inp, const float *mean, const float *rstd,
				       int64_t N, int64_t C)
{
	int64_t c = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (c >= C)
		return;
	float gw = 0.0f, gb = 0.0f;
	for (int64_t r = 0; r < N; r++) {
		float g = dout[r * C + c];
		gw += g * (inp[r * C + c] - (mean ? mean[r] : 0.0f)) * rstd[r];
		gb += g;
	}
	if (dw)
		dw[c] += gw;
	if (dbias)
		dbias[c] += gb;
}

static void g_norm_bwd(kn_tensor *dinp, kn_tensor *dw, kn_tensor *dbias, const kn_tensor *dout,
		       const kn_tensor *inp, const kn_tensor *w, const kn_tensor *mean,
		       const kn_tensor *rstd)
{
	int64_t C = inp->shape[inp->ndim - 1], N = inp->n / C;
	norm_bwd_rows_k<<<(unsigned)N, 256>>>(F(dinp), F(dout), F(inp), F(w),
					      mean ? F(mean) : NULL, F(rstd), C);
	LAUNCHED("norm_bwd_rows");
	if (dw || dbias) {
		norm_bwd_cols_k<<<blocks(C, 128), 128>>>(dw ? F(dw) : NULL, dbias ? F(dbias) : NULL,
							 F(dout), F(inp), mean ? F(mean) : NULL,
							 F(rstd), N, C);
		LAUNCHED("norm_bwd_cols");
	}
}

/* Element-wise */

__global__ static void add_k(float *o, const float *a, const float *b, int64_t n)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i < n)
		o[i] = a[i] + b[i];
}

__global__ static void gelu_k(float *o, const float *x, int64_t n)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i < n) {
		float v = x[i];
		o[i] = kn_gelu_from_tanh(v, tanhf(kn_gelu_arg(v)));
	}
}

__global__ static void gelu_bwd_k(float *di, const float *x, const float *d, int64_t n)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i < n) {
		float v = x[i];
		di[i] += kn_gelu_grad_from_tanh(v, tanhf(kn_gelu_arg(v))) * d[i];
	}
}

__global__ static void swiglu_k(float *o, const float *gu, int64_t N, int64_t H)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i >= N * H)
		return;
	int64_t r = i / H, j = i % H;
	float g = gu[r * 2 * H + j], u = gu[r * 2 * H + H + j];
	o[i] = g / (1.0f + expf(-g)) * u;
}

__global__ static void swiglu_bwd_k(float *dgu, const float *gu, const float *d, int64_t N,
				    int64_t H)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i >= N * H)
		return;
	int64_t r = i / H, j = i % H;
	float g = gu[r * 2 * H + j], u = gu[r * 2 * H + H + j], sg = 1.0f / (1.0f + expf(-g));
	dgu[r * 2 * H + H + j] += d[i] * g * sg;
	dgu[r * 2 * H + j] += d[i] * u * sg * (1.0f + g * (1.0f - sg));
}

static void g_add(kn_tensor *out, const kn_tensor *a, const kn_tensor *b)
{
	add_k<<<blocks(out->n, 256), 256>>>(F(out), F(a), F(b), out->n);
	LAUNCHED("add");
}

static void g_gelu(kn_tensor *out, const kn_tensor *inp)
{
	gelu_k<<<blocks(out->n, 256), 256>>>(F(out), F(inp), out->n);
	LAUNCHED("gelu");
}

static void g_gelu_bwd(kn_tensor *dinp, const kn_tensor *inp, const kn_tensor *dout)
{
	gelu_bwd_k<<<blocks(dinp->n, 256), 256>>>(F(dinp), F(inp), F(dout), dinp->n);
	LAUNCHED("gelu_bwd");
}

static void g_swiglu(kn_tensor *out, const kn_tensor *gu)
{
	int64_t H = out->shape[out->ndim - 1], N = out->n / H;
	swiglu_k<<<blocks(N * H, 256), 256>>>(F(out), F(gu), N, H);
	LAUNCHED("swiglu");
}

static void g_swiglu_bwd(kn_tensor *dgu, const kn_tensor *gu, const kn_tensor *dout)
{
	int64_t H = dout->shape[dout->ndim - 1], N = dout->n / H;
	swiglu_bwd_k<<<blocks(N * H, 256), 256>>>(F(dgu), F(gu), F(dout), N, H);
	LAUNCHED("swiglu_bwd");
}

/* RoPE: one thread per (row, rotated head, pair) */
__global__ static void rope_k(float *p, const int32_t *pos, int64_t N, int T, int nrot, int hd,
			      int64_t W, const float *inv, float sign)
{
	int half = hd / 2;
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i >= N * nrot * half)
		return;
	int64_t r = i / ((int64_t)nrot * half);
	int h = (int)(i / half % nrot), j = (int)(i % half);
	float at = (float)(pos ? pos[r] : (int32_t)(r % T));
	float a = at * inv[j];
	float c = cosf(a), s = sign * sinf(a);
	float *x = p + r * W + (int64_t)h * hd;
	float x1 = x[j], x2 = x[j + half];
	x[j] = x1 * c - x2 * s;
	x[j + half] = x2 * c + x1 * s;
}

static void g_rope(kn_tensor *qkv, const kn_tensor *pos, const kn_attn_shape *s, float theta,
		   int inverse)
{
	int64_t N = (int64_t)s->B * s->T, W = (int64_t)(s->nh + 2 * s->nkv) * s->hd;
	int nrot = s->nh + s->nkv;
	rope_k<<<blocks(N * nrot * (s->hd / 2), 256), 256>>>(F(qkv), pos ? IDS(pos) : NULL, N, s->T,
							     nrot, s->hd, W,
							     rope_inv_table(theta, s->hd),
							     inverse ? -1.0f : 1.0f);
	LAUNCHED("rope");
}

__device__ static float dot(const float *a, const float *b, int n)
{
	float d = 0.0f;
	for (int j = 0; j < n; j++)
		d += a[j] * b[j];
	return d;
}

/* Attention, plain: one thread per query (b, h, t), two passes over its keys (max and sum,
 * then the output), no T x T matrix. */
__global__ static void attention_k(float *out, float *lse, const float *p, const int32_t *doc,
				   const int32_t *pre, int B, int T, int nh, int nkv, int hd)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i >= (int64_t)B * nh * T)
		return;
	int t = (int)(i % T), h = (int)(i / T % nh), b = (int)(i / ((int64_t)T * nh));
	int grp = nh / nkv;
	int64_t W = (int64_t)(nh + 2 * nkv) * hd, r0 = (int64_t)b * T;
	int64_t koff = (int64_t)(nh + h / grp) * hd, voff = (int64_t)(nh + nkv + h / grp) * hd;
	const float *q = p + (r0 + t) * W + (int64_t)h * hd;
	float scale = rsqrtf((float)hd), mx = -INFINITY, sum = 0.0f;
	/* keys [0, pe) (a shared prefix) and [u0, t], in order */
	int u0 = doc ? doc[r0 + t] : 0, pe = pre ? min(pre[r0 + t], u0) : 0, u1 = pe ? 0 : u0;
#define NEXT_KEY(u) ((u) + 1 == pe ? u0 : (u) + 1)
	for (int u = u1; u <= t; u = NEXT_KEY(u)) {
		const float *k = p + (r0 + u) * W + koff;
		float d = dot(q, k, hd);
		mx = fmaxf(mx, d * scale);
	}
	for (int u = u1; u <= t; u = NEXT_KEY(u)) {
		const float *k = p + (r0 + u) * W + koff;
		float d = dot(q, k, hd);
		sum += expf(d * scale - mx);
	}
	float l = mx + logf(sum);
	float *y = out + (r0 + t) * (int64_t)nh * hd + (int64_t)h * hd;
	for (int j = 0; j < hd; j++)
		y[j] = 0.0f;
	for (int u = u1; u <= t; u = NEXT_KEY(u)) {
		const float *k = p + (r0 + u) * W + koff, *v = p + (r0 + u) * W + voff;
		float d = dot(q, k, hd);
		float a = expf(d * scale - l);
		for (int j = 0; j < hd; j++)
			y[j] += a * v[j];
	}
#undef NEXT_KEY
	lse[((int64_t)b * nh + h) * T + t] = l;
}

static void g_attention(kn_tensor *out, kn_tensor *lse, const kn_tensor *qkv, const kn_tensor *doc,
			const kn_tensor *pre, const kn_attn_shape *s)
{
	int64_t n = (int64_t)s->B * s->nh * s->T;
	attention_k<<<blocks(n, 128), 128>>>(F(out), F(lse), F(qkv), doc ? IDS(doc) : NULL,
					     pre ? IDS(pre) : NULL, s->B, s->T, s->nh, s->nkv,
					     s->hd);
	LAUNCHED("attention");
}

/* D[b,h,t] = dout . out for each query */
__global__ static void attn_d_k(float *D, const float *dout, const float *out, int B, int T,
				int nh, int hd)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i >= (int64_t)B * nh * T)
		return;
	int t = (int)(i % T), h = (int)(i / T % nh), b = (int)(i / ((int64_t)T * nh));
	int64_t o = ((int64_t)b * T + t) * nh * hd + (int64_t)h * hd;
	D[i] = dot(dout + o, out + o, hd);
}

/* dq: one thread per query */
__global__ static void attn_dq_k(float *dp, const float *p, const float *dout, const float *lse,
				 const float *D, const int32_t *doc, int B, int T, int nh, int nkv,
				 int hd)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i >= (int64_t)B * nh * T)
		return;
	int t = (int)(i % T), h = (int)(i / T % nh), b = (int)(i / ((int64_t)T * nh));
	int grp = nh / nkv;
	int64_t W = (int64_t)(nh + 2 * nkv) * hd, r0 = (int64_t)b * T;
	int64_t koff = (int64_t)(nh + h / grp) * hd, voff = (int64_t)(nh + nkv + h / grp) * hd;
	const float *q = p + (r0 + t) * W + (int64_t)h * hd;
	const float *go = dout + (r0 + t) * (int64_t)nh * hd + (int64_t)h * hd;
	float *dq = dp + (r0 + t) * W + (int64_t)h * hd;
	float scale = rsqrtf((float)hd), l = lse[i], Di = D[i];
	for (int u = doc ? doc[r0 + t] : 0; u <= t; u++) {
		const float *k = p + (r0 + u) * W + koff, *v = p + (r0 + u) * W + voff;
		float s = 0.0f, dpv = 0.0f;
		for (int j = 0; j < hd; j++) {
			s += q[j] * k[j];
			dpv += go[j] * v[j];
		}
		float a = expf(s * scale - l), ds = a * (dpv - Di) * scale;
		for (int j = 0; j < hd; j++)
			dq[j] += ds * k[j];
	}
}

/* dk, dv: one thread per key (b, key/value head, u), over the queries that see it */
__global__ static void attn_dkv_k(float *dp, const float *p, const float *dout, const float *lse,
				  const float *D, const int32_t *doc, int B, int T, int nh, int nkv,
				  int hd)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i >= (int64_t)B * nkv * T)
		return;
	int u = (int)(i % T), g = (int)(i / T % nkv), b = (int)(i / ((int64_t)T * nkv));
	int grp = nh / nkv;
	int64_t W = (int64_t)(nh + 2 * nkv) * hd, r0 = (int64_t)b * T;
	int64_t koff = (int64_t)(nh + g) * hd, voff = (int64_t)(nh + nkv + g) * hd;
	const float *k = p + (r0 + u) * W + koff, *v = p + (r0 + u) * W + voff;
	float *dk = dp + (r0 + u) * W + koff, *dv = dp + (r0 + u) * W + voff;
	float scale = rsqrtf((float)hd);
	for (int h = g * grp; h < (g + 1) * grp; h++)
		for (int t = u; t < T; t++) {
			if (doc && doc[r0 + t] > u)
				continue;
			const float *q = p + (r0 + t) * W + (int64_t)h * hd;
			const float *go = dout + (r0 + t) * (int64_t)nh * hd + (int64_t)h * hd;
			int64_t qi = ((int64_t)b * nh + h) * T + t;
			float s = 0.0f, dpv = 0.0f;
			for (int j = 0; j < hd; j++) {
				s += q[j] * k[j];
				dpv += go[j] * v[j];
			}
			float a = expf(s * scale - lse[qi]), ds = a * (dpv - D[qi]) * scale;
			for (int j = 0; j < hd; j++) {
				dk[j] += ds * q[j];
				dv[j] += a * go[j];
			}
		}
}

static void g_attention_bwd(kn_tensor *dqkv, const kn_tensor *dout, const kn_tensor *out,
			    const kn_tensor *lse, const kn_tensor *qkv, const kn_tensor *doc,
			    const kn_attn_shape *s)
{
	int64_t nq = (int64_t)s->B * s->nh * s->T, nk = (int64_t)s->B * s->nkv * s->T;
	float *D;
	CK(cudaMalloc(&D, (size_t)nq * sizeof(float)));
	attn_d_k<<<blocks(nq, 128), 128>>>(D, F(dout), F(out), s->B, s->T, s->nh, s->hd);
	LAUNCHED("attention_bwd D");
	attn_dq_k<<<blocks(nq, 128), 128>>>(F(dqkv), F(qkv), F(dout), F(lse), D,
					    doc ? IDS(doc) : NULL, s->B, s->T, s->nh, s->nkv,
					    s->hd);
	LAUNCHED("attention_bwd dq");
	attn_dkv_k<<<blocks(nk, 128), 128>>>(F(dqkv), F(qkv), F(dout), F(lse), D,
					     doc ? IDS(doc) : NULL, s->B, s->T, s->nh, s->nkv,
					     s->hd);
	LAUNCHED("attention_bwd dk dv");
	CK(cudaFree(D));
}

__global__ static void kv_append_k(float *kc, float *vc, const float *p, const int32_t *pos,
				   int B, int nh, int nkv, int hd, int Tmax)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	int64_t KW = (int64_t)nkv * hd, W = (int64_t)(nh + 2 * nkv) * hd;
	if (i >= B * KW)
		return;
	int b = (int)(i / KW);
	int64_t j = i % KW, dst = ((int64_t)b * Tmax + pos[b]) * KW + j;
	kc[dst] = p[b * W + (int64_t)nh * hd + j];
	vc[dst] = p[b * W + (int64_t)(nh + nkv) * hd + j];
}

__global__ static void decode_k(float *out, const float *p, const float *kc, const float *vc,
				const int32_t *pos, int B, int nh, int nkv, int hd, int Tmax)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i >= (int64_t)B * nh)
		return;
	int b = (int)(i / nh), h = (int)(i % nh), g = h / (nh / nkv);
	int64_t KW = (int64_t)nkv * hd, W = (int64_t)(nh + 2 * nkv) * hd;
	const float *q = p + b * W + (int64_t)h * hd;
	float scale = rsqrtf((float)hd), mx = -INFINITY, sum = 0.0f;
	int n = pos[b] + 1;
	for (int u = 0; u < n; u++) {
		const float *k = kc + ((int64_t)b * Tmax + u) * KW + (int64_t)g * hd;
		float d = dot(q, k, hd);
		mx = fmaxf(mx, d * scale);
	}
	for (int u = 0; u < n; u++) {
		const float *k = kc + ((int64_t)b * Tmax + u) * KW + (int64_t)g * hd;
		float d = dot(q, k, hd);
		sum += expf(d * scale - mx);
	}
	float *y = out + (int64_t)b * nh * hd + (int64_t)h * hd;
	for (int j = 0; j < hd; j++)
		y[j] = 0.0f;
	for (int u = 0; u < n; u++) {
		const float *k = kc + ((int64_t)b * Tmax + u) * KW + (int64_t)g * hd;
		const float *v = vc + ((int64_t)b * Tmax + u) * KW + (int64_t)g * hd;
		float d = dot(q, k, hd);
		float a = expf(d * scale - mx) / sum;
		for (int j = 0; j < hd; j++)
			y[j] += a * v[j];
	}
}

static void g_attention_decode(kn_tensor *out, const kn_tensor *qkv, kn_tensor *kcache,
			       kn_tensor *vcache, const int32_t *pos, const kn_attn_shape *s,
			       int Tmax)
{
	int32_t *dpos;
	CK(cudaMalloc(&dpos, (size_t)s->B * sizeof(int32_t)));
	CK(cudaMemcpy(dpos, pos, (size_t)s->B * sizeof(int32_t), cudaMemcpyHostToDevice));
	int64_t KW = (int64_t)s->nkv * s->hd;
	kv_append_k<<<blocks(s->B * KW, 128), 128>>>(F(kcache), F(vcache), F(qkv), dpos, s->B,
						     s->nh, s->nkv, s->hd, Tmax);
	LAUNCHED("kv_append");
	decode_k<<<blocks((int64_t)s->B * s->nh, 64), 64>>>(F(out), F(qkv), F(kcache),
							     F(vcache), dpos, s->B, s->nh, s->nkv,
							     s->hd, Tmax);
	LAUNCHED("attention_decode");
	CK(cudaFree(dpos));
}

__global__ static void kv_store_k(float *kc, float *vc, const float *p, int B, int T, int nh,
				  int nkv, int hd, int Tmax)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	int64_t KW = (int64_t)nkv * hd, W = (int64_t)(nh + 2 * nkv) * hd;
	if (i >= (int64_t)B * T * KW)
		return;
	int64_t r = i / KW, j = i % KW, b = r / T, t = r % T;
	int64_t dst = (b * Tmax + t) * KW + j;
	kc[dst] = p[r * W + (int64_t)nh * hd + j];
	vc[dst] = p[r * W + (int64_t)(nh + nkv) * hd + j];
}

static void g_kv_store(kn_tensor *kcache, kn_tensor *vcache, const kn_tensor *qkv,
		       const kn_attn_shape *s, int Tmax)
{
	int64_t n = (int64_t)s->B * s->T * s->nkv * s->hd;
	kv_store_k<<<blocks(n, 256), 256>>>(F(kcache), F(vcache), F(qkv), s->B, s->T, s->nh,
					    s->nkv, s->hd, Tmax);
	LAUNCHED("kv_store");
}

/* Cross-entropy: one block a row */
__global__ static void xent_k(float *losses, float *dl, const float *lg, const int32_t *tg,
			      int64_t Vp, int V, float dscale)
{
	__shared__ float sh[32];
	int64_t r = blockIdx.x;
	const float *x = lg + r * Vp;
	float *d = dl ? dl + r * Vp : NULL;
	int32_t t = tg[r];
	if (t < 0) {
		if (threadIdx.x == 0 && losses)
			losses[r] = 0.0f;
		if (d)
			for (int64_t j = threadIdx.x; j < Vp; j += blockDim.x)
				d[j] = 0.0f;
		return;
	}
	float mx = -INFINITY;
	for (int64_t j = threadIdx.x; j < V; j += blockDim.x)
		mx = fmaxf(mx, x[j]);
	mx = block_max(mx, sh);
	float s = 0.0f;
	for (int64_t j = threadIdx.x; j < V; j += blockDim.x)
		s += expf(x[j] - mx);
	float lse = mx + logf(block_sum(s, sh)), xt = x[t];
	if (threadIdx.x == 0 && losses)
		losses[r] = lse - xt;
	__syncthreads();	/* every thread has read x[t] before it is overwritten */
	if (d) {
		for (int64_t j = threadIdx.x; j < Vp; j += blockDim.x)
			d[j] = j < V ? dscale * (expf(x[j] - lse) - (j == t ? 1.0f : 0.0f)) : 0.0f;
	}
}

static void g_xent(kn_tensor *losses, kn_tensor *dlogits, const kn_tensor *logits,
		   const kn_tensor *targets, int V, float dscale)
{
	int64_t Vp = logits->shape[logits->ndim - 1], N = logits->n / Vp;
	xent_k<<<(unsigned)N, 256>>>(losses ? F(losses) : NULL, dlogits ? F(dlogits) : NULL,
				     F(logits), IDS(targets), Vp, V, dscale);
	LAUNCHED("xent");
}

/* Sums: a fixed grid of partial sums in double, added on the host in order */
#define RED_BLOCKS 256

__global__ static void reduce_k(double *part, const float *x, int64_t n, int squares)
{
	__shared__ double sh[256];
	double acc = 0.0;
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
	     i += (int64_t)gridDim.x * blockDim.x)
		acc += squares ? (double)x[i] * x[i] : (double)x[i];
	sh[threadIdx.x] = acc;
	__syncthreads();
	for (int o = blockDim.x / 2; o > 0; o >>= 1) {
		if ((int)threadIdx.x < o)
			sh[threadIdx.x] += sh[threadIdx.x + o];
		__syncthreads();
	}
	if (threadIdx.x == 0)
		part[blockIdx.x] = sh[0];
}

static double reduce(const kn_tensor *t, int squares)
{
	double *dpart, part[RED_BLOCKS], s = 0.0;
	CK(cudaMalloc(&dpart, sizeof part));
	reduce_k<<<RED_BLOCKS, 256>>>(dpart, F(t), t->n, squares);
	LAUNCHED("reduce");
	CK(cudaMemcpy(part, dpart, sizeof part, cudaMemcpyDeviceToHost));
	CK(cudaFree(dpart));
	for (int i = 0; i < RED_BLOCKS; i++)
		s += part[i];
	return s;
}

static double g_sumsq(const kn_tensor *t)
{
	return reduce(t, 1);
}

static double g_sum(const kn_tensor *t)
{
	return reduce(t, 0);
}

__global__ static void scale_k(float *x, float s, int64_t n)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i < n)
		x[i] *= s;
}

static void g_scale(kn_tensor *t, float s)
{
	scale_k<<<blocks(t->n, 256), 256>>>(F(t), s, t->n);
	LAUNCHED("scale");
}

__global__ static void adamw_k(float *w, const float *g, float *m, float *v, int64_t n, float lr,
			       float b1, float b2, float eps, float wd, float gscale, float c1,
			       float c2)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i >= n)
		return;
	float gi = g[i] * gscale, mi = b1 * m[i] + (1.0f - b1) * gi;
	float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
	m[i] = mi;
	v[i] = vi;
	w[i] -= lr * ((mi / c1) / (sqrtf(vi / c2) + eps) + wd * w[i]);
}

static void g_adamw(kn_tensor *p, const kn_tensor *g, kn_tensor *m, kn_tensor *v, float lr,
		    float b1, float b2, float eps, float wd, float gscale, int64_t step)
{
	float c1 = 1.0f - powf(b1, (float)step), c2 = 1.0f - powf(b2, (float)step);
	adamw_k<<<blocks(p->n, 256), 256>>>(F(p), F(g), F(m), F(v), p->n, lr, b1, b2, eps, wd,
					    gscale, c1, c2);
	LAUNCHED("adamw");
}

extern const kn_ops kn_cuda_plain_ops = {
	"cuda",
	g_alloc,
	g_free,
	g_upload,
	g_download,
	g_zero,
	g_copy,
	g_cast,
	g_sync,
	g_embed,
	g_embed_bwd,
	g_matmul,
	g_matmul_bwd,
	g_residual_norm,
	g_norm_bwd,
	g_add,
	g_gelu,
	g_gelu_bwd,
	g_swiglu,
	g_swiglu_bwd,
	g_rope,
	g_attention,
	g_attention_bwd,
	g_attention_decode,
	g_kv_store,
	g_xent,
	g_sumsq,
	g_sum,
	g_scale,
	g_adamw,
	NULL,	/* matmul_gelu: matmul then gelu */
};

/* This process's GPU among the n it sees: a launcher's local rank (the process's number on
 * its node) picks GPU rank mod n, so N ranks started on a node of N GPUs by mpirun or srun each
 * take their own; a process started alone, or seeing one GPU (CUDA_VISIBLE_DEVICES, srun
 * --gpus-per-task=1), takes the first. */
static int local_device(int n)
{
	static const char *const vars[] = { "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID",
					    "SLURM_LOCALID", "LOCAL_RANK" };
	for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
		const char *s = getenv(vars[i]);
		char *end;
		long r = s && *s ? strtol(s, &end, 10) : -1;
		if (s && *s && !*end && r >= 0)
			return (int)(r % n);
	}
	return 0;
}

/* The plain operations, or NULL with the reason (no GPU, a GPU this build has no code for);
 * cuda.cu's kn_cuda_open, the library's entry point, starts here. */
const kn_ops *kn_cuda_plain_open(char *err, size_t errlen)
{
	int n = 0;
	cudaError_t e = cudaGetDeviceCount(&n);
	if (e != cudaSuccess || n == 0) {
		snprintf(err, errlen, "no CUDA device (%s)",
			 e != cudaSuccess ? cudaGetErrorString(e) : "none found");
		return NULL;
	}
	int dev = local_device(n);
	if ((e = cudaSetDevice(dev)) != cudaSuccess) {
		snprintf(err, errlen, "cannot use GPU %d of %d: %s", dev, n, cudaGetErrorString(e));
		return NULL;
	}
	cudaDeviceProp pr;
	CK(cudaGetDeviceProperties(&pr, dev));
	if (pr.major < 8) {
		snprintf(err, errlen, "GPU %s has compute capability %d.%d; this build needs 8.0 or "
			 "later", pr.name, pr.major, pr.minor);
		return NULL;
	}
	if (cublasCreate(&blas) != CUBLAS_STATUS_SUCCESS) {
		snprintf(err, errlen, "cannot initialise cuBLAS on %s", pr.name);
		return NULL;
	}
	/* fp32 products stay fp32: no TF32 in the plain version */
	CKB(cublasSetMathMode(blas, CUBLAS_DEFAULT_MATH));
	return &kn_cuda_plain_ops;
}
