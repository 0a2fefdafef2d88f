/* timing.h - what the products' and peak benchmarks of bench/train share: a clock, the median's
 * comparison and a matrix of fixed pseudo-random values (the same values in every program). */
#ifndef BENCH_TIMING_H
#define BENCH_TIMING_H
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* seconds of clock id (CLOCK_MONOTONIC: wall time; CLOCK_THREAD_CPUTIME_ID: the thread's CPU) */
static inline double seconds(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* qsort() of doubles, ascending */
static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* n floats in [-0.5, 0.5), the same for every n's prefix */
static inline float *matrix(long n)
{
	float *m = malloc(n * sizeof(float));
	if (!m) {
		perror("matrix");
		exit(1);
	}
	for (long i = 0; i < n; i++)
		m[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
	return m;
}
#endif
