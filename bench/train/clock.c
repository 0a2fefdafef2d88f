/* clock.c - the core clock while a benchmark runs, where the VM shows no cycle counters: a
 * chain of dependent integer additions (one cycle each, on every x86-64 core) timed for about
 * 0.3 s of CPU time on each of N threads at once (time the thread ran, so other work on the
 * machine does not count); prints each thread's GHz and their median.
 *
 * usage: cc -O2 -pthread -o clock clock.c && ./clock [THREADS]    (x86-64 only) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);	/* the time this thread ran */
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#define ADD10 "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t" \
	      "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"

static void *run(void *arg)
{
	double *ghz = arg;
	unsigned long x = 0, n = 0;
	double t0 = now(), t;
	do {	/* 1,000 dependent additions a round: the loop's own work runs beside them */
		for (int i = 0; i < 10; i++)
			__asm__ volatile(ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10
					 : "+r"(x));
		n += 1000;
		t = now();
	} while (t - t0 < 0.3);
	*ghz = n / (t - t0) / 1e9;
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
