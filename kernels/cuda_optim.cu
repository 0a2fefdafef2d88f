/* cuda_optim.cu - the fused backend's AdamW step. */
#include <stdint.h>

#include "cuda_common.cuh"

/* AdamW over a flat fp32 range, the gradient scaled (clipping, accumulation) on the way */
__global__ static void adamw_k(float *w, const float *g, float *m, float *v, int64_t n, float lr,
			       float b1, float b2, float eps, float wd, float gscale, float c1,
			       float c2)
{
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
	     i += (int64_t)gridDim.x * blockDim.x) {
		float gi = g[i] * gscale, mi = b1 * m[i] + (1.0f - b1) * gi;
		float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
		m[i] = mi;
		v[i] = vi;
		w[i] -= lr * ((mi / c1) / (sqrtf(vi / c2) + eps) + wd * w[i]);
	}
}

void f_adamw(kn_tensor *p, const kn_tensor *g, kn_tensor *m, kn_tensor *v, float lr,
	     float b1, float b2, float eps, float wd, float gscale, int64_t step)
{
	want(p, KN_F32, "adamw", "p");
	want(g, KN_F32, "adamw", "g");
	want(m, KN_F32, "adamw", "m");
	want(v, KN_F32, "adamw", "v");
	float c1 = 1.0f - powf(b1, (float)step), c2 = 1.0f - powf(b2, (float)step);
	adamw_k<<<blocks(p->n, 256), 256>>>(F32(p), F32(g), F32(m), F32(v), p->n, lr, b1, b2, eps,
					    wd, gscale, c1, c2);
	LAUNCHED("adamw");
}
