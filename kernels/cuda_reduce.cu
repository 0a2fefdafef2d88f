/* cuda_reduce.cu - the fused backend's sums in a fixed order: of a tensor (sum, sum of
 * squares) and of columns (colsum: bias and norm weight gradients). */
#include <stdint.h>

#include "cuda_common.cuh"

/* Sums: a fixed grid of partials in double, added on the host in order */
#define RED_BLOCKS 256

template <class T>
__global__ static void reduce_k(double *part, const T *x, int64_t n, int squares)
{
	__shared__ double sh[256];
	double acc = 0.0;
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
	     i += (int64_t)gridDim.x * blockDim.x) {
		double v = ld(x[i]);
		acc += squares ? v * v : v;
	}
	sh[threadIdx.x] = acc;
	__syncthreads();
	for (int o = blockDim.x / 2; o > 0; o >>= 1) {
		if ((int)threadIdx.x < o)
			sh[threadIdx.x] += sh[threadIdx.x + o];
		__syncthreads();
	}
	if (threadIdx.x == 0)
		part[blockIdx.x] = sh[0];
}

static double reduce(const kn_tensor *t, int squares)
{
	double part[RED_BLOCKS], s = 0.0;
	double *dpart = (double *)grow(&sc_part, sizeof part);
	BY_DTYPE(t, "sum", reduce_k<T><<<RED_BLOCKS, 256>>>(dpart, CP(T, t), t->n, squares));
	LAUNCHED("sum");
	CK(cudaMemcpy(part, dpart, sizeof part, cudaMemcpyDeviceToHost));
	for (int i = 0; i < RED_BLOCKS; i++)
		s += part[i];
	return s;
}

double f_sumsq(const kn_tensor *t)
{
	return reduce(t, 1);
}

double f_sum(const kn_tensor *t)
{
	return reduce(t, 0);
}

/* Column sums in a fixed order: partial sums over row chunks (a block of 32 columns x 8 row
 * lanes each), then one thread a column adds the chunks in order into dst. m may be scaled
 * per row by (x - mean) * rstd for a norm's weight gradient. */
#define CS_ROWS 256	/* rows per chunk */

template <class T>
__global__ static void colsum_part_k(float *part, const T *g, const T *x, const float *mean,
				     const float *rstd, int64_t N, int64_t C)
{
	__shared__ float sh[8][33];
	int64_t c = blockIdx.x * 32 + threadIdx.x, r0 = (int64_t)blockIdx.y * CS_ROWS;
	float s = 0.0f;
	if (c < C)
		for (int64_t r = r0 + threadIdx.y; r < r0 + CS_ROWS && r < N; r += 8) {
			float v = ld(g[r * C + c]);
			if (x)
				v *= (ld(x[r * C + c]) - (mean ? mean[r] : 0.0f)) * rstd[r];
			s += v;
		}
	sh[threadIdx.y][threadIdx.x] = s;
	__syncthreads();
	if (threadIdx.y == 0 && c < C) {
		for (int k = 1; k < 8; k++)
			s += sh[k][threadIdx.x];
		part[(int64_t)blockIdx.y * C + c] = s;
	}
}

__global__ static void colsum_final_k(float *dst, const float *part, int64_t chunks, int64_t C)
{
	int64_t c = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (c >= C)
		return;
	float s = 0.0f;
	for (int64_t k = 0; k < chunks; k++)
		s += part[k * C + c];
	dst[c] += s;
}

/* dst[c] += sum over rows of g (times the normalised x when given) */
template <class T>
void colsum(float *dst, const T *g, const T *x, const float *mean, const float *rstd,
	    int64_t N, int64_t C)
{
	int64_t chunks = (N + CS_ROWS - 1) / CS_ROWS;
	float *part = (float *)grow(&sc_part, (size_t)(chunks * C) * sizeof(float));
	dim3 grid((unsigned)((C + 31) / 32), (unsigned)chunks), blk(32, 8);
	colsum_part_k<T><<<grid, blk>>>(part, g, x, mean, rstd, N, C);
	LAUNCHED("colsum partial");
	colsum_final_k<<<blocks(C, 128), 128>>>(dst, part, chunks, C);
	LAUNCHED("colsum final");
}

/* for both storage types: the matrix products' bias and the norms' gradients (cuda_common.cuh) */
template void colsum<float>(float *, const float *, const float *, const float *, const float *,
			    int64_t, int64_t);
template void colsum<bf16>(float *, const bf16 *, const bf16 *, const float *, const float *,
			   int64_t, int64_t);
