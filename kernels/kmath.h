/* kmath.h - scalar math shared by the CPU and CUDA kernels (__host__ __device__ under nvcc),
 * so that both backends compute the same formulas and the CPU tests check them once:
 * bf16 conversions (round to nearest even, as the GPU's conversions do) and GELU's pieces. */
#ifndef KN_KMATH_H
#define KN_KMATH_H
#include <stdint.h>
#include <string.h>

#ifdef __CUDACC__
#define KN_HD __host__ __device__
#else
#define KN_HD
#endif

static inline KN_HD float kn_f32_from_bf16(uint16_t h)
{
	uint32_t u = (uint32_t)h << 16;
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

/* Round to nearest, ties to even; NaN stays NaN (quiet), overflow gives infinity. */
static inline KN_HD uint16_t kn_bf16_from_f32(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	if ((u & 0x7fffffffu) > 0x7f800000u)
		return (uint16_t)((u >> 16) | 0x40u);
	u += 0x7fffu + ((u >> 16) & 1u);
	return (uint16_t)(u >> 16);
}

/* GELU, tanh approximation (GPT-2): the tanh's argument, then the value and the derivative
 * from the tanh of it (each backend brings its own tanh). */
#define KN_GELU_K 0.7978845608028654f	/* sqrt(2 / pi) */
static inline KN_HD float kn_gelu_arg(float x)
{
	return KN_GELU_K * (x + 0.044715f * x * x * x);
}

static inline KN_HD float kn_gelu_from_tanh(float x, float th)
{
	return 0.5f * x * (1.0f + th);
}

static inline KN_HD float kn_gelu_grad_from_tanh(float x, float th)
{
	return 0.5f * (1.0f + th) + 0.5f * x * (1.0f - th * th) * KN_GELU_K *
					    (1.0f + 3.0f * 0.044715f * x * x);
}
#endif
