/* 8030-kmath.c - the scalar math the CPU and CUDA kernels share (kernels/kmath.h): bf16
 * conversions against a reference rounding (every bf16 value, edges, ten million floats) and
 * GELU's pieces against double precision. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "kmath.h"
#include "tap.h"

static float f32(uint32_t u)
{
	float f;
	memcpy(&f, &u, 4);
	return f;
}

static uint32_t bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}

/* reference: the nearer of the two bf16 neighbours, ties to the even one (in double) */
static uint16_t ref_bf16(float f)
{
	uint32_t u = bits(f);
	uint16_t lo = (uint16_t)(u >> 16), hi = (uint16_t)(lo + 1);
	if (isnan(f))
		return (uint16_t)(lo | 0x40);
	if ((u & 0xffff) == 0)
		return lo;
	double dl = fabs((double)f - (double)kn_f32_from_bf16(lo));
	double dh = isinf(kn_f32_from_bf16(hi)) ? INFINITY
						: fabs((double)kn_f32_from_bf16(hi) - (double)f);
	if ((hi & 0x7fff) == 0x7f80)	/* rounding up reaches infinity: bf16 rounds as if unbounded */
		dh = fabs(ldexp(1.0, 128) * (f < 0 ? -1 : 1) - (double)f);
	if (dl < dh)
		return lo;
	if (dh < dl)
		return hi;
	return (lo & 1) ? hi : lo;
}

int main(void)
{
	int bad = 0;
	for (uint32_t h = 0; h < 65536; h++) {
		float f = kn_f32_from_bf16((uint16_t)h);
		if (isnan(f))
			bad += !isnan(kn_f32_from_bf16(kn_bf16_from_f32(f)));
		else
			bad += kn_bf16_from_f32(f) != h;
	}
	ok(bad == 0, "every bf16 value converts to fp32 and back exactly (%d wrong)", bad);

	uint64_t s = 88172645463325252ull;
	bad = 0;
	int shown = 0;
	for (int i = 0; i < 10000000; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		uint32_t u = (uint32_t)s;
		if (i % 4 == 0)
			u = (u & 0xffff0000u) | 0x8000u;	/* exact ties */
		float f = f32(u);
		uint16_t got = kn_bf16_from_f32(f), want = ref_bf16(f);
		int same = isnan(f) ? isnan(kn_f32_from_bf16(got)) : got == want;
		if (!same && shown++ < 3)
			printf("# %08x: got %04x want %04x\n", u, got, want);
		bad += !same;
	}
	ok(bad == 0, "ten million floats (a quarter of them exact ties) round to nearest even (%d wrong)",
	   bad);
	is_int(kn_bf16_from_f32(f32(0x7f7fffffu)), 0x7f80, "the largest float rounds to infinity");
	is_int(kn_bf16_from_f32(-0.0f), 0x8000, "-0 keeps its sign");
	is_int(kn_bf16_from_f32(f32(0x00000001u)), 0x0000, "the smallest subnormal rounds to 0");
	ok(isnan(kn_f32_from_bf16(kn_bf16_from_f32(f32(0x7f800001u)))),
	   "a signalling NaN whose payload is in the low bits stays NaN");
	is_int(kn_bf16_from_f32(1.0f + 1.0f / 256.0f), 0x3f80, "1 + 2^-8 ties to even: 1");
	is_int(kn_bf16_from_f32(1.0f + 3.0f / 256.0f), 0x3f82, "1 + 3 x 2^-8 ties to even: 1 + 2^-6");

	double worst = 0, worst_g = 0;
	for (int i = -4000; i <= 4000; i++) {
		double x = i / 500.0, u = sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x), th = tanh(u);
		double y = 0.5 * x * (1 + th);
		double g = 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * sqrt(2.0 / M_PI) *
					    (1 + 3 * 0.044715 * x * x);
		float fx = (float)x, ft = tanhf(kn_gelu_arg(fx));
		worst = fmax(worst, fabs(kn_gelu_from_tanh(fx, ft) - y) / fmax(1.0, fabs(y)));
		worst_g = fmax(worst_g, fabs(kn_gelu_grad_from_tanh(fx, ft) - g) / fmax(1.0, fabs(g)));
	}
	ok(worst < 1e-6, "GELU on [-8, 8] within %.1e of double", worst);
	ok(worst_g < 1e-6, "GELU's derivative on [-8, 8] within %.1e of double", worst_g);

	/* the backends' cast uses the same conversions */
	char err[128];
	kn_backend *be = kn_open("cpu", 0, err, sizeof err);
	int64_t n = 100003;
	kn_tensor *a = kn_new1(be, KN_F32, n), *h = kn_new1(be, KN_BF16, n), *b = kn_new1(be, KN_F32, n);
	float *x = malloc((size_t)n * 4), *y = malloc((size_t)n * 4);
	for (int64_t i = 0; i < n; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		x[i] = f32((uint32_t)s & 0xbfffffffu);	/* finite, any sign and size below 2 */
	}
	kn_upload(a, x, (size_t)n * 4);
	be->ops->cast(h, a);
	be->ops->cast(b, h);
	kn_download(b, y, (size_t)n * 4);
	bad = 0;
	for (int64_t i = 0; i < n; i++)
		bad += bits(y[i]) != bits(kn_f32_from_bf16(kn_bf16_from_f32(x[i])));
	ok(bad == 0, "cast F32 -> BF16 -> F32 rounds each value as kn_bf16_from_f32 does (%d wrong)", bad);
	free(x);
	free(y);
	kn_free(a);
	kn_free(h);
	kn_free(b);
	kn_close(be);
	return tap_done();
}
