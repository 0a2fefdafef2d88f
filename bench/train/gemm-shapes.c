/* gemm-shapes.c - the matrix products of one training step of a GPT-2 style model, timed one
 * shape at a time through the same cblas_sgemm calls as the CPU backend (kernels/cpu.c):
 * forward out = inp W^T, backward dinp += dout W and dW += dout^T inp. Prints each product's
 * median time, GFLOP/s and its share of a step (layers x calls), on the threads OpenBLAS has
 * (OPENBLAS_NUM_THREADS / OMP_NUM_THREADS).
 *
 * usage: gemm-shapes TOKENS WIDTH LAYERS VOCAB [REPS]      (baby GPT: 768 128 4 257)
 * build: cc -O2 -I/usr/include/x86_64-linux-gnu/openblas-openmp gemm-shapes.c \
 *           -L/usr/lib/x86_64-linux-gnu/openblas-openmp -lopenblas -lm -o gemm-shapes */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>

#include "timing.h"

/* kind 0: forward, 1: dinp, 2: dW; the median seconds of reps calls */
static double timeit(int kind, int N, int C, int OC, int reps)
{
	float *a = matrix((long)N * (kind == 0 ? C : OC)), *w = matrix((long)OC * C);
	float *o = matrix((long)N * (kind == 0 ? OC : C)), *dw = matrix((long)OC * C), *inp = matrix((long)N * C);
	double *t = malloc(reps * sizeof(double));
	for (int r = -3; r < reps; r++) {
		double t0 = seconds(CLOCK_MONOTONIC);
		if (kind == 0)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, C, 1.0f, a, C, w, C,
				    0.0f, o, OC);
		else if (kind == 1)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, C, OC, 1.0f, a, OC, w,
				    C, 1.0f, o, C);
		else
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, N, 1.0f, a, OC, inp,
				    C, 1.0f, dw, C);
		if (r >= 0)
			t[r] = seconds(CLOCK_MONOTONIC) - t0;
	}
	qsort(t, reps, sizeof t[0], cmp_double);
	double m = t[reps / 2];
	free(a), free(w), free(o), free(dw), free(inp), free(t);
	return m;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: gemm-shapes TOKENS WIDTH LAYERS VOCAB [REPS]\n");
		return 2;
	}
	int N = atoi(argv[1]), D = atoi(argv[2]), L = atoi(argv[3]), V = atoi(argv[4]);
	int reps = argc > 5 ? atoi(argv[5]) : 51;
	struct {
		const char *name;
		int C, OC, per_step;
	} s[] = { { "qkv", D, 3 * D, L }, { "attn proj", D, D, L }, { "fc", D, 4 * D, L },
		  { "mlp proj", 4 * D, D, L }, { "head", D, V, 1 } };
	const char *kn[] = { "forward", "dinp", "dW" };
	double total = 0, flops = 0;
	printf("%-10s %-8s %5s x %5s x %5s  %9s  %7s  %9s\n", "product", "pass", "M", "N", "K",
	       "median ms", "GFLOP/s", "ms a step");
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
		for (int k = 0; k < 3; k++) {
			double sec = timeit(k, N, s[i].C, s[i].OC, reps);
			double f = 2.0 * N * s[i].C * s[i].OC;
			int m = k == 2 ? s[i].OC : N, n = k == 0 ? s[i].OC : s[i].C;
			int kk = k == 0 ? s[i].C : k == 1 ? s[i].OC : N;
			printf("%-10s %-8s %5d x %5d x %5d  %9.3f  %7.1f  %9.2f\n", s[i].name, kn[k], m, n,
			       kk, sec * 1e3, f / sec / 1e9, sec * 1e3 * s[i].per_step);
			total += sec * s[i].per_step;
			flops += f * s[i].per_step;
		}
	printf("all products of a step: %.2f ms, %.3g FLOP, %.1f GFLOP/s\n", total * 1e3, flops,
	       flops / total / 1e9);
	return 0;
}
