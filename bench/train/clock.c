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
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#define ADD10 "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t" \
	      "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
#define WINDOWS 2001

static int cmp(const void *a, const void *b);

static void *run(void *arg)
{
	double *ghz = arg, *w = malloc(WINDOWS * sizeof(double));
	unsigned long x = 0;
	if (!w) {
		*ghz = 0;
		return NULL;
	}
	for (int r = 0; r < WINDOWS; r++) {
		double t0 = now();
		for (int i = 0; i < 100; i++)	/* 100 x 100 dependent additions */
			__asm__ volatile(ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10
					 : "+r"(x));
		w[r] = 1e4 / (now() - t0) / 1e9;
	}
	qsort(w, WINDOWS, sizeof w[0], cmp);
	*ghz = w[WINDOWS / 2];
	free(w);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
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
	qsort(g, n, sizeof g[0], cmp);
	printf("median %.3f GHz\n", g[(n - 1) / 2]);
	return 0;
}
