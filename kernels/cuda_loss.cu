/* cuda_loss.cu - the fused backend's softmax + cross-entropy. */
#include <stdint.h>

#include "cuda_common.cuh"

/* Softmax + cross-entropy: one block a row. One pass keeps each thread's running maximum and
 * sum of exponentials (rescaled when the maximum grows); the block combines them into the
 * row's log-sum-exp; a second pass writes the gradient in place. */
template <class T>
__global__ static void xent_k(float *losses, T *dl, const T *lg, const int32_t *tg, int64_t Vp,
			      int V, float dscale)
{
	__shared__ float sh[32];
	int64_t r = blockIdx.x;
	const T *x = lg + r * Vp;
	T *d = dl ? dl + r * Vp : NULL;
	int32_t t = tg[r];
	if (t < 0) {
		if (threadIdx.x == 0 && losses)
			losses[r] = 0.0f;
		if (d)
			for (int64_t j = threadIdx.x; j < Vp; j += blockDim.x)
				d[j] = st<T>(0.0f);
		return;
	}
	float mx = -INFINITY, s = 0.0f;
	for (int64_t j = threadIdx.x; j < V; j += blockDim.x) {
		float v = ld(x[j]);
		if (v > mx) {
			s = s * expf(mx - v) + 1.0f;
			mx = v;
		} else if (v != -INFINITY) {	/* a NaN logit makes the loss NaN */
			s += expf(v - mx);
		}
	}
	float bm = block_max(mx, sh);
	float bs = block_sum(mx == -INFINITY ? 0.0f : s * expf(mx - bm), sh);
	float lse = bm + logf(bs), xt = ld(x[t]);
	if (threadIdx.x == 0 && losses)
		losses[r] = lse - xt;
	__syncthreads();	/* every thread has read x[t] before it is overwritten */
	if (d)
		for (int64_t j = threadIdx.x; j < Vp; j += blockDim.x)
			d[j] = st<T>(j < V ? dscale * (expf(ld(x[j]) - lse) - (j == t ? 1.0f : 0.0f))
				     : 0.0f);
}

void f_xent(kn_tensor *losses, kn_tensor *dlogits, const kn_tensor *logits,
	    const kn_tensor *targets, int V, float dscale)
{
	int64_t Vp = logits->shape[logits->ndim - 1], N = logits->n / Vp;
	want(dlogits, logits->dtype, "xent", "dlogits");
	want(losses, KN_F32, "xent", "losses");
	BY_DTYPE(logits, "xent",
		 xent_k<T><<<(unsigned)N, 512>>>(losses ? F32(losses) : NULL,
						 dlogits ? P(T, dlogits) : NULL, CP(T, logits),
						 IDS(targets), Vp, V, dscale));
	LAUNCHED("xent");
}
