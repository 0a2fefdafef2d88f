/* xsmm-shapes.c - libxsmm's JIT kernels against OpenBLAS on a training step's matrix products,
 * one thread, shape by shape: can a small-matrix library beat OpenBLAS where a step's time goes?
 * The products of kernels/cpu.c (row-major): forward out = inp W^T, backward dinp += dout W and
 * dW += dout^T inp. libxsmm is column-major and its JIT kernels (1.17) take B transposed but not
 * A, so: forward = NN on a transposed copy of W (the copy not timed), dinp = NN, dW = NT; each
 * tiled MB rows by NB columns of the result, K whole (no packing, no K blocks). Prints the
 * medians in GFLOP/s of CPU time and the largest relative difference to OpenBLAS.
 *
 * usage: xsmm-shapes [MB NB]        (default 128 32; shapes: the baby GPT's and GPT-2 124M's)
 * build (libxsmm-dev, Debian; not a dependency of the project):
 *   cc -O2 -I/usr/include/x86_64-linux-gnu/openblas-openmp xsmm-shapes.c -o xsmm-shapes \
 *      /usr/lib/libxsmm.a /usr/lib/libxsmmnoblas.a \
 *      -L/usr/lib/x86_64-linux-gnu/openblas-openmp -lopenblas -lm -lpthread -ldl -lrt
 *   OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 ./xsmm-shapes */
#include <cblas.h>
#include <libxsmm.h>
#include <stdio.h>
#include <stdlib.h>

#include "timing.h"

/* column-major C (M x N, ldc) += A (M x K, lda) op(B), op(B) = B (K x N, ldb) or, with transb,
 * B^T (B: N x K, ldb); beta 0 or 1 */
static void tiled(int transb, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
		  float *C, int ldc, float beta, int mb, int nb)
{
	float alpha = 1;
	int flags = transb ? LIBXSMM_GEMM_FLAGS('N', 'T') : LIBXSMM_GEMM_FLAGS('N', 'N');
	for (int m0 = 0; m0 < M; m0 += mb) {
		int m = M - m0 < mb ? M - m0 : mb;
		for (int n0 = 0; n0 < N; n0 += nb) {
			int n = N - n0 < nb ? N - n0 : nb;
			libxsmm_smmfunction k = libxsmm_smmdispatch(m, n, K, &lda, &ldb, &ldc, &alpha,
								    &beta, &flags, NULL);
			if (!k) {
				fprintf(stderr, "xsmm-shapes: no kernel for %d x %d x %d\n", m, n, K);
				exit(1);
			}
			k(A + m0, transb ? B + n0 : B + (long)n0 * ldb, C + (long)n0 * ldc + m0);
		}
	}
}

static double maxrel(const float *a, const float *b, long n)
{
	double e = 0;
	for (long i = 0; i < n; i++) {
		double d = (a[i] - b[i]) / (1.0 + (a[i] < 0 ? -a[i] : a[i]));
		if (d < 0)
			d = -d;
		if (d > e)
			e = d;
	}
	return e;
}

int main(int argc, char **argv)
{
	/* tokens, width C, outputs OC: the baby GPT (B12 T64) and GPT-2 124M (B4 T64) */
	static const int shapes[][3] = { { 768, 128, 384 }, { 768, 128, 128 }, { 768, 128, 512 },
					 { 768, 512, 128 }, { 768, 128, 257 }, { 256, 768, 2304 },
					 { 256, 768, 768 }, { 256, 768, 3072 }, { 256, 3072, 768 } };
	int mb = argc > 1 ? atoi(argv[1]) : 128, nb = argc > 2 ? atoi(argv[2]) : 32;
	if (mb <= 0 || nb <= 0) {
		fprintf(stderr, "usage: xsmm-shapes [MB NB]\n");
		return 2;
	}
	libxsmm_init();
	printf("libxsmm target %s, tiles %d x %d; GFLOP/s (OpenBLAS / libxsmm), one thread\n",
	       libxsmm_get_target_arch(), mb, nb);
	for (size_t s = 0; s < sizeof(shapes) / sizeof(*shapes); s++) {
		int N = shapes[s][0], C = shapes[s][1], OC = shapes[s][2], R = N * C * OC > 1 << 27 ? 7 : 21;
		float *inp = matrix((long)N * C), *W = matrix((long)OC * C), *Wt = matrix((long)OC * C);
		float *dout = matrix((long)N * OC), *o1 = matrix((long)N * OC), *o2 = matrix((long)N * OC);
		float *d1 = matrix((long)N * C), *d2 = matrix((long)N * C), *w1 = matrix((long)OC * C), *w2 = matrix((long)OC * C);
		double t[6][21], flop = 2.0 * N * C * OC;
		for (int i = 0; i < OC; i++)
			for (int j = 0; j < C; j++)
				Wt[(long)j * OC + i] = W[(long)i * C + j];
		for (long i = 0; i < (long)N * C; i++)
			d2[i] = d1[i];
		for (long i = 0; i < (long)OC * C; i++)
			w2[i] = w1[i];
		for (int r = 0; r < R; r++) {
			double t0 = seconds(CLOCK_THREAD_CPUTIME_ID);
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, C, 1.0f, inp, C, W, C,
				    0.0f, o1, OC);
			t[0][r] = seconds(CLOCK_THREAD_CPUTIME_ID) - t0;
			t0 = seconds(CLOCK_THREAD_CPUTIME_ID);
			tiled(0, OC, N, C, Wt, OC, inp, C, o2, OC, 0.0f, mb, nb);
			t[1][r] = seconds(CLOCK_THREAD_CPUTIME_ID) - t0;
			t0 = seconds(CLOCK_THREAD_CPUTIME_ID);
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, C, OC, 1.0f, dout, OC, W,
				    C, 1.0f, d1, C);
			t[2][r] = seconds(CLOCK_THREAD_CPUTIME_ID) - t0;
			t0 = seconds(CLOCK_THREAD_CPUTIME_ID);
			tiled(0, C, N, OC, W, C, dout, OC, d2, C, 1.0f, mb, nb);
			t[3][r] = seconds(CLOCK_THREAD_CPUTIME_ID) - t0;
			t0 = seconds(CLOCK_THREAD_CPUTIME_ID);
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, N, 1.0f, dout, OC, inp,
				    C, 1.0f, w1, C);
			t[4][r] = seconds(CLOCK_THREAD_CPUTIME_ID) - t0;
			t0 = seconds(CLOCK_THREAD_CPUTIME_ID);
			tiled(1, C, OC, N, inp, C, dout, OC, w2, C, 1.0f, mb, nb);
			t[5][r] = seconds(CLOCK_THREAD_CPUTIME_ID) - t0;
		}
		for (int q = 0; q < 6; q++)
			qsort(t[q], R, sizeof(double), cmp_double);
		printf("N %4d C %4d OC %4d  fwd %5.1f / %5.1f  dinp %5.1f / %5.1f  dW %5.1f / %5.1f"
		       "  (rel diff %.0e %.0e %.0e)\n", N, C, OC, flop / t[0][R / 2] / 1e9,
		       flop / t[1][R / 2] / 1e9, flop / t[2][R / 2] / 1e9, flop / t[3][R / 2] / 1e9,
		       flop / t[4][R / 2] / 1e9, flop / t[5][R / 2] / 1e9,
		       maxrel(o1, o2, (long)N * OC), maxrel(d1, d2, (long)N * C), maxrel(w1, w2, (long)OC * C));
		free(inp); free(W); free(Wt); free(dout); free(o1); free(o2);
		free(d1); free(d2); free(w1); free(w2);
	}
	return 0;
}
