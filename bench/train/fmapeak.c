/* fmapeak.c - one core's fp32 peak, measured: 12 independent chains of 512-bit fused
 * multiply-adds held in registers (no memory traffic), 20 million rounds, 21 times, each timed
 * in the thread's CPU time (a busy machine taking the core away does not count); prints the
 * median and best GFLOP/s. What step.sh's bound assumes (32 FLOP a cycle at the clock clock.c
 * measures) checked on the machine: on Zen 4, 1 zmm FMA a cycle = 2 x 16 FLOP.
 *
 * usage: cc -O2 -o fmapeak fmapeak.c && ./fmapeak      (x86-64; AVX-512 at run time, or it says so;
 * `make bench` builds it as build/bench/train/fmapeak) */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>

#include "timing.h"

#define RUNS 21
#define ROUNDS 20000000L

/* Fills r with RUNS GFLOP/s figures; returns a checksum of the chains. */
__attribute__((target("avx512f"))) static float peak(double *r)
{
	__m512 x = _mm512_set1_ps(1.0000001f), y = _mm512_set1_ps(0.9999999f);
	__m512 a0 = _mm512_set1_ps(0.0f), a1 = _mm512_set1_ps(1.0f), a2 = _mm512_set1_ps(2.0f);
	__m512 a3 = _mm512_set1_ps(3.0f), a4 = _mm512_set1_ps(4.0f), a5 = _mm512_set1_ps(5.0f);
	__m512 a6 = _mm512_set1_ps(6.0f), a7 = _mm512_set1_ps(7.0f), a8 = _mm512_set1_ps(8.0f);
	__m512 a9 = _mm512_set1_ps(9.0f), a10 = _mm512_set1_ps(10.0f), a11 = _mm512_set1_ps(11.0f);
	for (int k = 0; k < RUNS; k++) {
		double t0 = seconds(CLOCK_THREAD_CPUTIME_ID);
		for (long i = 0; i < ROUNDS; i++) {
#define FMA(a) a = _mm512_fmadd_ps(a, x, y);
			FMA(a0) FMA(a1) FMA(a2) FMA(a3) FMA(a4) FMA(a5)
			FMA(a6) FMA(a7) FMA(a8) FMA(a9) FMA(a10) FMA(a11)
			/* the chains stay in registers (the compiler may not fold the rounds) */
			__asm__ volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5),
				 "+v"(a6), "+v"(a7), "+v"(a8), "+v"(a9), "+v"(a10), "+v"(a11));
		}
		r[k] = ROUNDS * 12.0 * 32.0 / (seconds(CLOCK_THREAD_CPUTIME_ID) - t0) / 1e9;
	}
	__m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
				 _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
	s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
	return _mm512_reduce_add_ps(s);
}

int main(void)
{
	double r[RUNS];
	float sum;

	if (!__builtin_cpu_supports("avx512f")) {
		fprintf(stderr, "fmapeak: this CPU has no AVX-512\n");
		return 1;
	}
	sum = peak(r);
	qsort(r, RUNS, sizeof r[0], cmp_double);
	printf("512-bit FMA, one thread: median %.1f GFLOP/s, best %.1f (checksum %g)\n", r[RUNS / 2],
	       r[RUNS - 1], (double)sum);
	return 0;
}
