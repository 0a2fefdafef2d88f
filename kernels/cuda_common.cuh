/* cuda_common.cuh - what the CUDA backend's files share: checked calls with messages naming
 * the call, launch sizes, block-wide reductions; and for the fused operations' files, storage
 * types, dispatch on them, scratch memory and the operations' declarations. Header-only (static
 * inline, templates), so each .cu file compiles on its own into libkn_cuda.so; what is shared
 * across files is declared here and defined once. */
#ifndef KN_CUDA_COMMON_CUH
#define KN_CUDA_COMMON_CUH
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

extern "C" {
#include "kernels.h"
}

static inline void die(const char *fmt, ...)
{
	va_list ap;
	fputs("error: cuda: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

#define CK(call)                                                                             \
	do {                                                                                 \
		cudaError_t e_ = (call);                                                     \
		if (e_ != cudaSuccess)                                                       \
			die("%s failed (%s:%d): %s", #call, __FILE__, __LINE__,              \
			    cudaGetErrorString(e_));                                         \
	} while (0)
#define CKB(call)                                                                            \
	do {                                                                                 \
		cublasStatus_t s_ = (call);                                                  \
		if (s_ != CUBLAS_STATUS_SUCCESS)                                             \
			die("%s failed (%s:%d): cuBLAS status %d", #call, __FILE__, __LINE__,  \
			    (int)s_);                                                        \
	} while (0)
/* after a launch: the launch's own error (bad configuration) */
#define LAUNCHED(name) CK(cudaGetLastError())

extern cublasHandle_t kn_blas;
#define blas kn_blas

/* kernels.c's helpers stay in the program; the library keeps its own */
static inline size_t tbytes(const kn_tensor *t)
{
	return (size_t)t->n * (t->dtype == KN_BF16 ? 2 : 4);
}

#define F(t) ((float *)(t)->data)
#define IDS(t) ((const int32_t *)(t)->data)

static inline int blocks(int64_t n, int per)
{
	int64_t b = (n + per - 1) / per;
	return (int)(b < 0x7fffffff ? b : 0x7fffffff);	/* grid x: up to 2^31 - 1 */
}

/* block-wide sum over blockDim.x threads (a multiple of 32, at most 1024) */
__device__ static inline float block_sum(float v, float *sh)
{
	for (int o = 16; o > 0; o >>= 1)
		v += __shfl_xor_sync(0xffffffffu, v, o);
	int w = threadIdx.x / 32, l = threadIdx.x % 32, nw = blockDim.x / 32;
	__syncthreads();
	if (l == 0)
		sh[w] = v;
	__syncthreads();
	v = l < nw ? sh[l] : 0.0f;
	if (w == 0)
		for (int o = 16; o > 0; o >>= 1)
			v += __shfl_xor_sync(0xffffffffu, v, o);
	if (threadIdx.x == 0)
		sh[0] = v;
	__syncthreads();
	v = sh[0];
	__syncthreads();
	return v;
}

__device__ static inline float block_max(float v, float *sh)
{
	for (int o = 16; o > 0; o >>= 1)
		v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
	int w = threadIdx.x / 32, l = threadIdx.x % 32, nw = blockDim.x / 32;
	__syncthreads();
	if (l == 0)
		sh[w] = v;
	__syncthreads();
	v = l < nw ? sh[l] : -INFINITY;
	if (w == 0)
		for (int o = 16; o > 0; o >>= 1)
			v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
	if (threadIdx.x == 0)
		sh[0] = v;
	__syncthreads();
	v = sh[0];
	__syncthreads();
	return v;
}

/* RoPE's inverse frequencies computed on the host exactly as the CPU backend computes them
 * (device powf may differ by an ulp, which grows with the position), in device memory kept
 * for the next call with the same theta and head size: copied once, not every layer. */
static inline const float *rope_inv_table(float theta, int hd)
{
	static float *dev;
	static float last_theta;
	static int last_hd;
	float host[512];
	int half = hd / 2;
	if (half > 512)
		die("rope: head size %d above 1024", hd);
	if (dev && theta == last_theta && hd == last_hd)
		return dev;
	if (!dev)
		CK(cudaMalloc(&dev, 512 * sizeof(float)));
	for (int j = 0; j < half; j++)
		host[j] = 1.0f / powf(theta, (float)(2 * j) / (float)hd);
	/* synchronous: no kernel still reads the old table */
	CK(cudaMemcpy(dev, host, (size_t)half * sizeof(float), cudaMemcpyHostToDevice));
	last_theta = theta;
	last_hd = hd;
	return dev;
}

/* ---- what the fused operations' files share (cuda.cu, cuda_<family>.cu) ---- */

typedef __nv_bfloat16 bf16;

__device__ static inline float ld(float x)
{
	return x;
}

__device__ static inline float ld(bf16 x)
{
	return __bfloat162float(x);
}

template <class T> __device__ static inline T st(float x);
template <> __device__ inline float st<float>(float x)
{
	return x;
}
template <> __device__ inline bf16 st<bf16>(float x)
{
	return __float2bfloat16_rn(x);
}

/* dispatch on a tensor's dtype: the body sees T */
#define BY_DTYPE(t, what, ...)                                                               \
	do {                                                                                 \
		if ((t)->dtype == KN_F32) {                                                  \
			typedef float T;                                                     \
			__VA_ARGS__;                                                         \
		} else if ((t)->dtype == KN_BF16) {                                          \
			typedef bf16 T;                                                      \
			__VA_ARGS__;                                                         \
		} else {                                                                     \
			die("%s: a tensor of integers where floats are wanted", what);       \
		}                                                                            \
	} while (0)

#define P(T, t) ((T *)(t)->data)
#define CP(T, t) ((const T *)(t)->data)
#define F32(t) ((float *)(t)->data)

/* the dtype an operation wants of an argument */
static inline void want(const kn_tensor *t, kn_dtype dt, const char *op, const char *arg)
{
	if (t && t->dtype != dt)
		die("%s: %s is %s, this kernel takes %s (run it plain: KN_PLAIN_OPS=%s)", op, arg,
		    t->dtype == KN_BF16 ? "bf16" : t->dtype == KN_F32 ? "fp32" : "int32",
		    dt == KN_BF16 ? "bf16" : "fp32", op);
}

/* Scratch device memory, grown on demand; operations run in order on one stream, so one
 * buffer per use serves them all. */
typedef struct scratch {
	void *p;
	size_t n;
} scratch;

static inline void *grow(scratch *s, size_t bytes)
{
	if (bytes <= s->n)
		return s->p;
	if (s->p)
		CK(cudaFree(s->p));
	bytes = bytes < 4096 ? 4096 : bytes + bytes / 4;
	cudaError_t e = cudaMalloc(&s->p, bytes);
	if (e != cudaSuccess)
		die("out of GPU memory for %zu bytes of scratch: %s", bytes, cudaGetErrorString(e));
	s->n = bytes;
	return s->p;
}

/* one of each scratch buffer for the whole backend (defined in cuda.cu), and the cuBLASLt
 * handle (cuda_matmul.cu) */
extern scratch kn_sc_part, kn_sc_lse, kn_sc_tok, kn_sc_ws;
#define sc_part kn_sc_part
#define sc_lse kn_sc_lse
#define sc_tok kn_sc_tok
#define sc_ws kn_sc_ws
extern cublasLtHandle_t kn_lt;
#define lt kn_lt

/* dynamic shared memory for a kernel: over 48 KB with its static shared memory, it must be
 * asked for */
template <class K> static void smem(K kernel, size_t bytes, const char *what)
{
	cudaFuncAttributes fa;
	CK(cudaFuncGetAttributes(&fa, kernel));
	if (bytes + fa.sharedSizeBytes > 48 * 1024) {
		cudaError_t e = cudaFuncSetAttribute(kernel,
						     cudaFuncAttributeMaxDynamicSharedMemorySize,
						     (int)bytes);
		if (e != cudaSuccess)
			die("%s: %zu bytes of shared memory: %s", what, bytes,
			    cudaGetErrorString(e));
	}
}

/* dst[c] += sum over rows of g (times the normalised x when given): cuda_reduce.cu */
template <class T>
void colsum(float *dst, const T *g, const T *x, const float *mean, const float *rstd, int64_t N,
	    int64_t C);

/* The fused operations, one file per family: cuda_eltwise.cu, cuda_reduce.cu (sums),
 * cuda_matmul.cu, cuda_embed.cu, cuda_norm.cu, cuda_attention.cu (RoPE, attention, the KV
 * cache), cuda_loss.cu, cuda_optim.cu. Their table is cuda.cu's. */
void f_add(kn_tensor *out, const kn_tensor *a, const kn_tensor *b);
void f_gelu(kn_tensor *out, const kn_tensor *inp);
void f_gelu_bwd(kn_tensor *dinp, const kn_tensor *inp, const kn_tensor *dout);
void f_swiglu(kn_tensor *out, const kn_tensor *gu);
void f_swiglu_bwd(kn_tensor *dgu, const kn_tensor *gu, const kn_tensor *dout);
void f_scale(kn_tensor *t, float s);
double f_sumsq(const kn_tensor *t);
double f_sum(const kn_tensor *t);
void f_matmul(kn_tensor *out, const kn_tensor *inp, const kn_tensor *w,
	      const kn_tensor *bias);
void f_matmul_gelu(kn_tensor *out, kn_tensor *pre, const kn_tensor *inp,
		   const kn_tensor *w, const kn_tensor *bias);
void f_matmul_bwd(kn_tensor *dinp, kn_tensor *dw, kn_tensor *dbias, const kn_tensor *dout,
		  const kn_tensor *inp, const kn_tensor *w);
void f_embed(kn_tensor *out, const kn_tensor *tok, const kn_tensor *pos,
	     const kn_tensor *wte, const kn_tensor *wpe, int Tn);
void f_embed_bwd(kn_tensor *dwte, kn_tensor *dwpe, const kn_tensor *dout,
		 const kn_tensor *tok, const kn_tensor *pos, int Tn);
void f_residual_norm(kn_tensor *res, kn_tensor *out, kn_tensor *mean, kn_tensor *rstd,
		     const kn_tensor *a, const kn_tensor *b, const kn_tensor *w,
		     const kn_tensor *bias, float eps);
void f_norm_bwd(kn_tensor *dinp, kn_tensor *dw, kn_tensor *dbias, const kn_tensor *dout,
		const kn_tensor *inp, const kn_tensor *w, const kn_tensor *mean,
		const kn_tensor *rstd);
void f_rope(kn_tensor *qkv, const kn_tensor *pos, const kn_attn_shape *s, float theta,
	    int inverse);
void f_attention(kn_tensor *out, kn_tensor *lse, const kn_tensor *qkv, const kn_tensor *doc,
		 const kn_tensor *pre, const kn_attn_shape *s);
void f_attention_bwd(kn_tensor *dqkv, const kn_tensor *dout, const kn_tensor *out,
		     const kn_tensor *lse, const kn_tensor *qkv, const kn_tensor *doc,
		     const kn_attn_shape *s);
void f_attention_decode(kn_tensor *out, const kn_tensor *qkv, kn_tensor *kcache,
			kn_tensor *vcache, const int32_t *pos, const kn_attn_shape *s,
			int Tmax);
void f_kv_store(kn_tensor *kcache, kn_tensor *vcache, const kn_tensor *qkv,
		const kn_attn_shape *s, int Tmax);
void f_xent(kn_tensor *losses, kn_tensor *dlogits, const kn_tensor *logits,
	    const kn_tensor *targets, int V, float dscale);
void f_adamw(kn_tensor *p, const kn_tensor *g, kn_tensor *m, kn_tensor *v, float lr,
	     float b1, float b2, float eps, float wd, float gscale, int64_t step);
#endif
