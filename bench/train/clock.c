/* clock.c - the core clock while a benchmark runs, where the VM shows no cycle counters: a
 * chain of 10,000 dependent integer additions (one cycle each, on every x86-64 core) timed
 * 2,001 times on each of N threads at once; the median window is the clock (a window the
 * thread lost its core in is slower, and falls in the tail). Prints each thread's median GHz
 * and the median of those.
 *
 * usage: cc -O2 -pthread -o clock clock.c && ./clock [THREADS]    (x86-64 only) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "timing.h"

#define ADD10 "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t" \
	      "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
#define WINDOWS 2001

static void *run(void *arg)
{
	double *ghz = arg, *w = malloc(WINDOWS * sizeof(double));
	unsigned long x = 0;
	if (!w) {
		*ghz = 0;
		return NULL;
	}
	for (int r = 0; r < WINDOWS; r++) {
		double t0 = seconds(CLOCK_MONOTONIC);
		for (int i = 0; i < 100; i++)	/* 100 x 100 dependent additions */
			__asm__ volatile(ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10
					 : "+r"(x));
		w[r] = 1e4 / (seconds(CLOCK_MONOTONIC) - t0) / 1e9;
	}
	qsort(w, WINDOWS, sizeof w[0], cmp_double);
	*ghz = w[WINDOWS / 2];
	free(w);
	return NULL;
}


int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1;
	if (n < 1 || n > 256) {
		fprintf(stderr, "usage: clock [THREADS 1-256]\n");
		return 2;
	}
	pthread_t th[256];
	double g[256];
	for (int i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, run, &g[i])) {
			perror("clock: pthread_create");
			return 1;
		}
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < n; i++)
		printf("thread %d: %.3f GHz\n", i, g[i]);
	qsort(g, n, sizeof g[0], cmp_double);
	printf("median %.3f GHz\n", g[(n - 1) / 2]);
	return 0;
}
