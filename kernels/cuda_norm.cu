/* cuda_norm.cu - the fused backend's residual add + LayerNorm/RMSNorm, and its backward. */
#include <stdint.h>

#include "cuda_common.cuh"

/* Residual + norm: one block a row, the row in shared memory as fp32 */

template <class T>
__global__ static void residual_norm_k(T *res, T *out, float *mean, float *rstd, const T *a,
				       const T *b, const T *w, const T *bias, int64_t C, float eps)
{
	extern __shared__ float row[];
	__shared__ float sh[32];
	int64_t r = blockIdx.x;
	T *x = res + r * C, *y = out + r * C;
	float s = 0.0f;
	for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
		float v;
		if (a) {
			v = ld(a[r * C + c]) + ld(b[r * C + c]);
			x[c] = st<T>(v);
		} else {
			v = ld(x[c]);
		}
		row[c] = v;
		s += v;
	}
	float m = mean ? block_sum(s, sh) / (float)C : 0.0f;
	float q = 0.0f;
	for (int64_t c = threadIdx.x; c < C; c += blockDim.x)
		q += (row[c] - m) * (row[c] - m);
	float rs = rsqrtf(block_sum(q, sh) / (float)C + eps);
	for (int64_t c = threadIdx.x; c < C; c += blockDim.x)
		y[c] = st<T>((row[c] - m) * rs * ld(w[c]) + (bias ? ld(bias[c]) : 0.0f));
	if (threadIdx.x == 0) {
		if (mean)
			mean[r] = m;
		rstd[r] = rs;
	}
}

void f_residual_norm(kn_tensor *res, kn_tensor *out, kn_tensor *mean, kn_tensor *rstd,
		     const kn_tensor *a, const kn_tensor *b, const kn_tensor *w,
		     const kn_tensor *bias, float eps)
{
	int64_t C = res->shape[res->ndim - 1], N = res->n / C;
	size_t sm = (size_t)C * sizeof(float);
	want(out, res->dtype, "residual_norm", "out");
	want(a, res->dtype, "residual_norm", "a");
	want(b, res->dtype, "residual_norm", "b");
	want(w, res->dtype, "residual_norm", "w");
	want(bias, res->dtype, "residual_norm", "bias");
	want(mean, KN_F32, "residual_norm", "mean");
	want(rstd, KN_F32, "residual_norm", "rstd");
	BY_DTYPE(res, "residual_norm", {
		smem(residual_norm_k<T>, sm, "residual_norm");
		residual_norm_k<T><<<(unsigned)N, 256, sm>>>(
			P(T, res), P(T, out), mean ? F32(mean) : NULL, F32(rstd),
			a ? CP(T, a) : NULL, b ? CP(T, b) : NULL, CP(T, w),
			bias ? CP(T, bias) : NULL, C, eps);
	});
	LAUNCHED("residual_norm");
}

template <class T>
__global__ static void norm_bwd_rows_k(T *dinp, const T *dout, const T *inp, const T *w,
				       const float *mean, const float *rstd, int64_t C)
{
	__shared__ float sh[32];
	int64_t r = blockIdx.x;
	const T *x = inp + r * C, *g = dout + r * C;
	float m = mean ? mean[r] : 0.0f, s = rstd[r], sg = 0.0f, sgx = 0.0f;
	for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
		float d = ld(g[c]) * ld(w[c]);
		sg += d;
		sgx += d * (ld(x[c]) - m) * s;
	}
	sg = block_sum(sg, sh) / (float)C;
	sgx = block_sum(sgx, sh) / (float)C;
	for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
		float d = ld(g[c]) * ld(w[c]), xh = (ld(x[c]) - m) * s, v = d - xh * sgx;
		if (mean)
			v -= sg;
		dinp[r * C + c] = st<T>(ld(dinp[r * C + c]) + v * s);
	}
}

void f_norm_bwd(kn_tensor *dinp, kn_tensor *dw, kn_tensor *dbias, const kn_tensor *dout,
		const kn_tensor *inp, const kn_tensor *w, const kn_tensor *mean,
		const kn_tensor *rstd)
{
	int64_t C = inp->shape[inp->ndim - 1], N = inp->n / C;
	want(dout, inp->dtype, "norm_bwd", "dout");
	want(dinp, inp->dtype, "norm_bwd", "dinp");
	want(w, inp->dtype, "norm_bwd", "w");
	want(dw, KN_F32, "norm_bwd", "dw");
	want(dbias, KN_F32, "norm_bwd", "dbias");
	BY_DTYPE(inp, "norm_bwd", {
		norm_bwd_rows_k<T><<<(unsigned)N, 256>>>(P(T, dinp), CP(T, dout), CP(T, inp),
							 CP(T, w), mean ? F32(mean) : NULL,
							 F32(rstd), C);
		LAUNCHED("norm_bwd rows");
		if (dw)
			colsum<T>(F32(dw), CP(T, dout), CP(T, inp), mean ? F32(mean) : NULL,
				  F32(rstd), N, C);
		if (dbias)
			colsum<T>(F32(dbias), CP(T, dout), (const T *)NULL, NULL, NULL, N, C);
	});
}
