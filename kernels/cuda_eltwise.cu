/* cuda_eltwise.cu - the fused backend's element-wise operations: add, GELU and SwiGLU with
 * their backward, scale. */
#include <stdint.h>

#include "cuda_common.cuh"
#include "kmath.h"

/* Element-wise */

template <class T> __global__ static void add_k(T *o, const T *a, const T *b, int64_t n)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i < n)
		o[i] = st<T>(ld(a[i]) + ld(b[i]));
}

void f_add(kn_tensor *out, const kn_tensor *a, const kn_tensor *b)
{
	want(a, out->dtype, "add", "a");
	want(b, out->dtype, "add", "b");
	BY_DTYPE(out, "add", add_k<T><<<blocks(out->n, 256), 256>>>(P(T, out), CP(T, a),
								     CP(T, b), out->n));
	LAUNCHED("add");
}

template <class T> __global__ static void gelu_k(T *o, const T *x, int64_t n)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i < n) {
		float v = ld(x[i]);
		o[i] = st<T>(kn_gelu_from_tanh(v, tanhf(kn_gelu_arg(v))));
	}
}

template <class T> __global__ static void gelu_bwd_k(T *di, const T *x, const T *d, int64_t n)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i < n) {
		float v = ld(x[i]);
		di[i] = st<T>(ld(di[i]) + kn_gelu_grad_from_tanh(v, tanhf(kn_gelu_arg(v))) *
			      ld(d[i]));
	}
}

void f_gelu(kn_tensor *out, const kn_tensor *inp)
{
	want(inp, out->dtype, "gelu", "inp");
	BY_DTYPE(out, "gelu", gelu_k<T><<<blocks(out->n, 256), 256>>>(P(T, out), CP(T, inp),
								       out->n));
	LAUNCHED("gelu");
}

void f_gelu_bwd(kn_tensor *dinp, const kn_tensor *inp, const kn_tensor *dout)
{
	want(inp, dinp->dtype, "gelu_bwd", "inp");
	want(dout, dinp->dtype, "gelu_bwd", "dout");
	BY_DTYPE(dinp, "gelu_bwd",
		 gelu_bwd_k<T><<<blocks(dinp->n, 256), 256>>>(P(T, dinp), CP(T, inp),
							      CP(T, dout), dinp->n));
	LAUNCHED("gelu_bwd");
}

template <class T> __global__ static void swiglu_k(T *o, const T *gu, int64_t N, int64_t H)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i >= N * H)
		return;
	int64_t r = i / H, j = i % H;
	float g = ld(gu[r * 2 * H + j]), u = ld(gu[r * 2 * H + H + j]);
	o[i] = st<T>(g / (1.0f + expf(-g)) * u);
}

template <class T>
__global__ static void swiglu_bwd_k(T *dgu, const T *gu, const T *d, int64_t N, int64_t H)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i >= N * H)
		return;
	int64_t r = i / H, j = i % H, gi = r * 2 * H + j, ui = gi + H;
	float g = ld(gu[gi]), u = ld(gu[ui]), sg = 1.0f / (1.0f + expf(-g)), dd = ld(d[i]);
	dgu[ui] = st<T>(ld(dgu[ui]) + dd * g * sg);
	dgu[gi] = st<T>(ld(dgu[gi]) + dd * u * sg * (1.0f + g * (1.0f - sg)));
}

void f_swiglu(kn_tensor *out, const kn_tensor *gu)
{
	int64_t H = out->shape[out->ndim - 1], N = out->n / H;
	want(gu, out->dtype, "swiglu", "gu");
	BY_DTYPE(out, "swiglu", swiglu_k<T><<<blocks(N * H, 256), 256>>>(P(T, out), CP(T, gu),
									  N, H));
	LAUNCHED("swiglu");
}

void f_swiglu_bwd(kn_tensor *dgu, const kn_tensor *gu, const kn_tensor *dout)
{
	int64_t H = dout->shape[dout->ndim - 1], N = dout->n / H;
	want(gu, dgu->dtype, "swiglu_bwd", "gu");
	want(dout, dgu->dtype, "swiglu_bwd", "dout");
	BY_DTYPE(dgu, "swiglu_bwd",
		 swiglu_bwd_k<T><<<blocks(N * H, 256), 256>>>(P(T, dgu), CP(T, gu), CP(T, dout),
							      N, H));
	LAUNCHED("swiglu_bwd");
}

template <class T> __global__ static void scale_k(T *x, float s, int64_t n)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i < n)
		x[i] = st<T>(ld(x[i]) * s);
}

void f_scale(kn_tensor *t, float s)
{
	BY_DTYPE(t, "scale", scale_k<T><<<blocks(t->n, 256), 256>>>(P(T, t), s, t->n));
	LAUNCHED("scale");
}
