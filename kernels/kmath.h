/* kmath.h - scalar math shared by the CPU and CUDA kernels (__host__ __device__ under nvcc),
 * so that both backends compute the same formulas and the CPU tests check them once:
 * bf16 conversions (round to nearest even, as the GPU's conversions do), exp and GELU's pieces. */
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

/* exp as plain arithmetic, so that loops over it vectorize (glibc's expf is a call: GELU alone
 * was a third of a small model's step): Cephes' expf, x = n ln2 + r, a degree-7 polynomial in
 * r, 2^n from the exponent bits; within 2 ulp of expf. Arguments below -87 give exp(-87), not
 * 0: they only ever meet sums where that is nothing. */
static inline KN_HD float kn_fexp(float x)
{
	/* selects, not fminf (a call without -ffast-math); with -fno-trapping-math they vectorize */
	x = x < -87.0f ? -87.0f : x;
	x = x > 88.0f ? 88.0f : x;
	float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;	/* round to nearest */
	float r = x - n * 0.693359375f + n * 2.12194440e-4f;
	float p = 1.9875691500e-4f;
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	p = p * r * r + r + 1.0f;
	/* a NaN argument gives NaN (through p), and converts no NaN to an integer */
	int32_t e = (int32_t)((uint32_t)((int32_t)(n == n ? n : 0.0f) + 127) << 23);
	float s;
	memcpy(&s, &e, sizeof s);
	return p * s;
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
