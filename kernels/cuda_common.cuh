/* cuda_common.cuh - what the CUDA backend's files share: checked calls with messages naming
 * the call, launch sizes, block-wide reductions. Header-only (static inline), so each .cu file
 * compiles on its own into libkn_cuda.so. */
#ifndef KN_CUDA_COMMON_CUH
#define KN_CUDA_COMMON_CUH
#include <cublas_v2.h>
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
#endif
