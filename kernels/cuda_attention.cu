/* cuda_attention.cu - the fused backend's RoPE, tiled attention forward and backward with
 * document boundaries, and decoding with the KV cache. */
#include <stdint.h>

#include "cuda_common.cuh"

/* RoPE: one thread per (row, rotated head, pair) */
template <class T>
__global__ static void rope_k(T *p, const int32_t *pos, int64_t N, int Tn, int nrot, int hd,
			      int64_t W, const float *inv, float sign)
{
	int half = hd / 2;
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i >= N * nrot * half)
		return;
	int64_t r = i / ((int64_t)nrot * half);
	int h = (int)(i / half % nrot), j = (int)(i % half);
	float at = (float)(pos ? pos[r] : (int32_t)(r % Tn));
	float a = at * inv[j];
	float c = cosf(a), s = sign * sinf(a);
	T *x = p + r * W + (int64_t)h * hd;
	float x1 = ld(x[j]), x2 = ld(x[j + half]);
	x[j] = st<T>(x1 * c - x2 * s);
	x[j + half] = st<T>(x2 * c + x1 * s);
}

void f_rope(kn_tensor *qkv, const kn_tensor *pos, const kn_attn_shape *s, float theta,
	    int inverse)
{
	int64_t N = (int64_t)s->B * s->T, W = (int64_t)(s->nh + 2 * s->nkv) * s->hd;
	int nrot = s->nh + s->nkv;
	BY_DTYPE(qkv, "rope",
		 rope_k<T><<<blocks(N * nrot * (s->hd / 2), 256), 256>>>(
			 P(T, qkv), pos ? IDS(pos) : NULL, N, s->T, nrot, s->hd, W,
			 rope_inv_table(theta, s->hd), inverse ? -1.0f : 1.0f));
	LAUNCHED("rope");
}

/* Attention, tiled. A block takes BQ consecutive queries of one (row b, head h), one thread
 * each, with its query and output accumulator in registers (HD >= hd, a compile-time bound);
 * key/value tiles of BK positions are staged in shared memory as fp32 and every thread reads
 * the same key at once (a broadcast). Softmax online: per tile, the new maximum rescales the
 * accumulator and the running sum once. */
#define BQ 64
#define BK 32

struct attn_args {
	int B, T, nh, nkv, hd;
	int64_t W;		/* qkv row width */
	float scale;
};

static attn_args attn_of(const kn_attn_shape *s)
{
	attn_args a = { s->B, s->T, s->nh, s->nkv, s->hd, (int64_t)(s->nh + 2 * s->nkv) * s->hd,
			 1.0f / sqrtf((float)s->hd) };
	return a;
}

/* the first key any query of the block [t0, t0 + BQ) may see (0 where one sees a prefix) */
__device__ static int block_first_key(const int32_t *doc, const int32_t *pre, int64_t r0,
				      int t0, int T, int *sh)
{
	int t = t0 + (int)threadIdx.x;
	int u0 = doc && t < T ? doc[r0 + t] : (doc ? T : 0);
	if (pre && t < T && pre[r0 + t] > 0)
		u0 = 0;
	if (!doc)
		return 0;
	sh[threadIdx.x] = u0;
	__syncthreads();
	for (int o = blockDim.x / 2; o > 0; o >>= 1) {
		if ((int)threadIdx.x < o)
			sh[threadIdx.x] = min(sh[threadIdx.x], sh[threadIdx.x + o]);
		__syncthreads();
	}
	int m = sh[0];
	__syncthreads();
	return m;
}

/* keys and values u0 .. u0 + BK - 1 of one row into shared memory as fp32, zero past the end
 * and past the head size; between barriers, so the tile before is no longer read */
template <class T, int HD>
__device__ static void load_kv_tile(float (*ks)[HD], float (*vs)[HD], const T *p, int64_t r0,
				    int u0, int64_t koff, int64_t voff, const attn_args &a)
{
	__syncthreads();
	for (int e = threadIdx.x; e < BK * HD; e += blockDim.x) {
		int i = e / HD, j = e % HD, u = u0 + i;
		float kv = 0.0f, vv = 0.0f;
		if (u < a.T && j < a.hd) {
			kv = ld(p[(r0 + u) * a.W + koff + j]);
			vv = ld(p[(r0 + u) * a.W + voff + j]);
		}
		ks[i][j] = kv;
		vs[i][j] = vv;
	}
	__syncthreads();
}

template <class T, int HD>
__global__ static void __launch_bounds__(BQ)
	attn_fwd_k(T *out, float *lse, const T *p, const int32_t *doc, const int32_t *pre,
		   attn_args a)
{
	__shared__ float ks[BK][HD], vs[BK][HD];
	__shared__ int shi[BQ];
	int h = blockIdx.y, b = blockIdx.z, t0 = blockIdx.x * BQ, t = t0 + threadIdx.x;
	int g = h / (a.nh / a.nkv), hd = a.hd;
	int64_t r0 = (int64_t)b * a.T;
	int64_t koff = (int64_t)(a.nh + g) * hd, voff = (int64_t)(a.nh + a.nkv + g) * hd;
	bool live = t < a.T;
	float q[HD], acc[HD];
	const T *qp = p + (r0 + (live ? t : 0)) * a.W + (int64_t)h * hd;
#pragma unroll
	for (int j = 0; j < HD; j++) {
		q[j] = j < hd ? ld(qp[j]) * a.scale : 0.0f;
		acc[j] = 0.0f;
	}
	int lo = live && doc ? doc[r0 + t] : 0;
	int pe = live && pre ? min(pre[r0 + t], lo) : 0;	/* keys [0, pe) seen too */
	int first = block_first_key(doc, pre, r0, t0, a.T, shi);
	int last = min(t0 + BQ, a.T) - 1;	/* the last key any query here sees */
	float mx = -INFINITY, sum = 0.0f;
	for (int u0 = first - first % BK; u0 <= last; u0 += BK) {
		load_kv_tile<T, HD>(ks, vs, p, r0, u0, koff, voff, a);
		if (!live)
			continue;
		float s[BK], tmx = -INFINITY;
#pragma unroll
		for (int i = 0; i < BK; i++) {
			int u = u0 + i;
			float d = 0.0f;
#pragma unroll
			for (int j = 0; j < HD; j++)
				d += q[j] * ks[i][j];
			s[i] = (u >= lo || u < pe) && u <= t ? d : -INFINITY;
			tmx = fmaxf(tmx, s[i]);
		}
		if (tmx == -INFINITY)
			continue;
		float nm = fmaxf(mx, tmx), corr = expf(mx - nm);
		sum *= corr;
#pragma unroll
		for (int j = 0; j < HD; j++)
			acc[j] *= corr;
#pragma unroll
		for (int i = 0; i < BK; i++) {
			float e = expf(s[i] - nm);
			sum += e;
#pragma unroll
			for (int j = 0; j < HD; j++)
				acc[j] += e * vs[i][j];
		}
		mx = nm;
	}
	if (!live)
		return;
	T *y = out + (r0 + t) * (int64_t)a.nh * hd + (int64_t)h * hd;
	float inv = 1.0f / sum;
#pragma unroll
	for (int j = 0; j < HD; j++)
		if (j < hd)
			y[j] = st<T>(acc[j] * inv);
	lse[((int64_t)b * a.nh + h) * a.T + t] = mx + logf(sum);
}

/* the head-size bound a kernel is instantiated for */
#define BY_HD(hd, what, ...)                                                                 \
	do {                                                                                 \
		if ((hd) <= 32) {                                                            \
			const int HDM = 32;                                                  \
			__VA_ARGS__;                                                         \
		} else if ((hd) <= 64) {                                                     \
			const int HDM = 64;                                                  \
			__VA_ARGS__;                                                         \
		} else if ((hd) <= 128) {                                                    \
			const int HDM = 128;                                                 \
			__VA_ARGS__;                                                         \
		} else {                                                                     \
			die("%s: head size %d is above the fused kernel's 128 (run it plain: " \
			    "KN_PLAIN_OPS=attention,attention_bwd)", what, (hd));            \
		}                                                                            \
	} while (0)

void f_attention(kn_tensor *out, kn_tensor *lse, const kn_tensor *qkv, const kn_tensor *doc,
		 const kn_tensor *pre, const kn_attn_shape *s)
{
	attn_args a = attn_of(s);
	want(out, qkv->dtype, "attention", "out");
	want(lse, KN_F32, "attention", "lse");
	dim3 grid((unsigned)((s->T + BQ - 1) / BQ), (unsigned)s->nh, (unsigned)s->B);
	BY_DTYPE(qkv, "attention", BY_HD(s->hd, "attention",
		 attn_fwd_k<T, HDM><<<grid, BQ>>>(P(T, out), F32(lse), CP(T, qkv),
						  doc ? IDS(doc) : NULL, pre ? IDS(pre) : NULL,
						  a)));
	LAUNCHED("attention");
}

/* D[b,h,t] = dout . out, one thread a query */
template <class T>
__global__ static void attn_d_k(float *D, const T *dout, const T *out, int B, int Tn, int nh,
				int hd)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i >= (int64_t)B * nh * Tn)
		return;
	int t = (int)(i % Tn), h = (int)(i / Tn % nh), b = (int)(i / ((int64_t)Tn * nh));
	int64_t o = ((int64_t)b * Tn + t) * nh * hd + (int64_t)h * hd;
	float d = 0.0f;
	for (int j = 0; j < hd; j++)
		d += ld(dout[o + j]) * ld(out[o + j]);
	D[i] = d;
}

/* dk, dv: a block takes BQ keys of one (row b, key/value head g), one thread each, k and v in
 * registers, dk and dv accumulated in shared memory (padded rows: each thread its own);
 * query tiles (q, dout, lse, D) staged in shared memory for every query head of the group. */
#define BT 16	/* queries per staged tile */

template <class T, int HD>
__global__ static void __launch_bounds__(BQ)
	attn_dkv_k(T *dp, const T *p, const T *dout, const float *lse, const float *D,
		   const int32_t *doc, attn_args a)
{
	extern __shared__ float smf[];
	float *dks = smf, *dvs = smf + BQ * (HD + 1);
	__shared__ float qs[BT][HD], gs[BT][HD], ls[BT], Ds[BT];
	__shared__ int dc[BT];
	int g = blockIdx.y, b = blockIdx.z, u0 = blockIdx.x * BQ, u = u0 + threadIdx.x;
	int grp = a.nh / a.nkv, hd = a.hd;
	int64_t r0 = (int64_t)b * a.T;
	int64_t koff = (int64_t)(a.nh + g) * hd, voff = (int64_t)(a.nh + a.nkv + g) * hd;
	bool live = u < a.T;
	float k[HD], v[HD];
	float *dk = dks + threadIdx.x * (HD + 1), *dv = dvs + threadIdx.x * (HD + 1);
#pragma unroll
	for (int j = 0; j < HD; j++) {
		k[j] = live && j < hd ? ld(p[(r0 + u) * a.W + koff + j]) : 0.0f;
		v[j] = live && j < hd ? ld(p[(r0 + u) * a.W + voff + j]) : 0.0f;
		dk[j] = 0.0f;
		dv[j] = 0.0f;
	}
	for (int h = g * grp; h < (g + 1) * grp; h++)
		for (int t0 = u0; t0 < a.T; t0 += BT) {
			__syncthreads();
			for (int e = threadIdx.x; e < BT * HD; e += BQ) {
				int i = e / HD, j = e % HD, t = t0 + i;
				float qv = 0.0f, gv = 0.0f;
				if (t < a.T && j < hd) {
					qv = ld(p[(r0 + t) * a.W + (int64_t)h * hd + j]);
					gv = ld(dout[(r0 + t) * (int64_t)a.nh * hd + (int64_t)h * hd + j]);
				}
				qs[i][j] = qv;
				gs[i][j] = gv;
			}
			if (threadIdx.x < BT) {
				int t = t0 + threadIdx.x;
				int64_t qi = ((int64_t)b * a.nh + h) * a.T + t;
				ls[threadIdx.x] = t < a.T ? lse[qi] : 0.0f;
				Ds[threadIdx.x] = t < a.T ? D[qi] : 0.0f;
				dc[threadIdx.x] = t < a.T ? (doc ? doc[r0 + t] : 0) : a.T;
			}
			__syncthreads();
			if (!live)
				continue;
			for (int i = 0; i < BT; i++) {
				int t = t0 + i;
				if (t < u || t >= a.T || dc[i] > u)
					continue;
				float s = 0.0f, dpv = 0.0f;
#pragma unroll
				for (int j = 0; j < HD; j++) {
					s += qs[i][j] * k[j];
					dpv += gs[i][j] * v[j];
				}
				float pr = expf(s * a.scale - ls[i]), ds = pr * (dpv - Ds[i]) * a.scale;
#pragma unroll
				for (int j = 0; j < HD; j++) {
					dk[j] += ds * qs[i][j];
					dv[j] += pr * gs[i][j];
				}
			}
		}
	if (!live)
		return;
	T *dkp = dp + (r0 + u) * a.W + koff, *dvp = dp + (r0 + u) * a.W + voff;
	for (int j = 0; j < hd; j++) {
		dkp[j] = st<T>(ld(dkp[j]) + dk[j]);
		dvp[j] = st<T>(ld(dvp[j]) + dv[j]);
	}
}

/* dq: a block takes BQ queries of one (b, h), q and dout in registers, dq accumulated in
 * shared memory; key/value tiles staged in shared memory. */
template <class T, int HD>
__global__ static void __launch_bounds__(BQ)
	attn_dq_k(T *dp, const T *p, const T *dout, const float *lse, const float *D,
		  const int32_t *doc, attn_args a)
{
	extern __shared__ float smf[];
	__shared__ float ks[BK][HD], vs[BK][HD];
	__shared__ int shi[BQ];
	int h = blockIdx.y, b = blockIdx.z, t0 = blockIdx.x * BQ, t = t0 + threadIdx.x;
	int g = h / (a.nh / a.nkv), hd = a.hd;
	int64_t r0 = (int64_t)b * a.T;
	int64_t koff = (int64_t)(a.nh + g) * hd, voff = (int64_t)(a.nh + a.nkv + g) * hd;
	bool live = t < a.T;
	int64_t qi = ((int64_t)b * a.nh + h) * a.T + (live ? t : 0);
	float q[HD], go[HD], l = live ? lse[qi] : 0.0f, Di = live ? D[qi] : 0.0f;
	float *dq = smf + threadIdx.x * (HD + 1);
#pragma unroll
	for (int j = 0; j < HD; j++) {
		q[j] = live && j < hd ? ld(p[(r0 + t) * a.W + (int64_t)h * hd + j]) : 0.0f;
		go[j] = live && j < hd ? ld(dout[(r0 + t) * (int64_t)a.nh * hd + (int64_t)h * hd + j])
				       : 0.0f;
		dq[j] = 0.0f;
	}
	int lo = live && doc ? doc[r0 + t] : 0;
	int first = block_first_key(doc, NULL, r0, t0, a.T, shi);
	int last = min(t0 + BQ, a.T) - 1;
	for (int u0 = first - first % BK; u0 <= last; u0 += BK) {
		load_kv_tile<T, HD>(ks, vs, p, r0, u0, koff, voff, a);
		if (!live)
			continue;
		for (int i = 0; i < BK; i++) {
			int u = u0 + i;
			if (u < lo || u > t)
				continue;
			float s = 0.0f, dpv = 0.0f;
#pragma unroll
			for (int j = 0; j < HD; j++) {
				s += q[j] * ks[i][j];
				dpv += go[j] * vs[i][j];
			}
			float pr = expf(s * a.scale - l), ds = pr * (dpv - Di) * a.scale;
#pragma unroll
			for (int j = 0; j < HD; j++)
				dq[j] += ds * ks[i][j];
		}
	}
	if (!live)
		return;
	T *dqp = dp + (r0 + t) * a.W + (int64_t)h * hd;
	for (int j = 0; j < hd; j++)
		dqp[j] = st<T>(ld(dqp[j]) + dq[j]);
}

void f_attention_bwd(kn_tensor *dqkv, const kn_tensor *dout, const kn_tensor *out,
		     const kn_tensor *lse, const kn_tensor *qkv, const kn_tensor *doc,
		     const kn_attn_shape *s)
{
	attn_args a = attn_of(s);
	int64_t nq = (int64_t)s->B * s->nh * s->T;
	want(dqkv, qkv->dtype, "attention_bwd", "dqkv");
	want(dout, qkv->dtype, "attention_bwd", "dout");
	want(out, qkv->dtype, "attention_bwd", "out");
	want(lse, KN_F32, "attention_bwd", "lse");
	float *D = (float *)grow(&sc_lse, (size_t)nq * sizeof(float));
	const int32_t *dc = doc ? IDS(doc) : NULL;
	unsigned tiles = (unsigned)((s->T + BQ - 1) / BQ);
	BY_DTYPE(qkv, "attention_bwd", {
		attn_d_k<T><<<blocks(nq, 128), 128>>>(D, CP(T, dout), CP(T, out), s->B, s->T,
						      s->nh, s->hd);
		LAUNCHED("attention_bwd D");
		BY_HD(s->hd, "attention_bwd", {
			size_t sm = (size_t)2 * BQ * (HDM + 1) * sizeof(float);
			smem(attn_dkv_k<T, HDM>, sm, "attention_bwd dk dv");
			attn_dkv_k<T, HDM><<<dim3(tiles, (unsigned)s->nkv, (unsigned)s->B), BQ, sm>>>(
				P(T, dqkv), CP(T, qkv), CP(T, dout), F32(lse), D, dc, a);
			LAUNCHED("attention_bwd dk dv");
			size_t sq = (size_t)BQ * (HDM + 1) * sizeof(float);
			smem(attn_dq_k<T, HDM>, sq, "attention_bwd dq");
			attn_dq_k<T, HDM><<<dim3(tiles, (unsigned)s->nh, (unsigned)s->B), BQ, sq>>>(
				P(T, dqkv), CP(T, qkv), CP(T, dout), F32(lse), D, dc, a);
			LAUNCHED("attention_bwd dq");
		});
	});
}

/* Decoding with the KV cache (one query a row): append k, v at pos[b], then one thread a
 * (row, head) over its cached keys, online softmax. */
template <class T>
__global__ static void kv_append_k(T *kc, T *vc, const T *p, const int32_t *pos, int B, int nh,
				   int nkv, int hd, int Tmax)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	int64_t KW = (int64_t)nkv * hd, W = (int64_t)(nh + 2 * nkv) * hd;
	if (i >= B * KW)
		return;
	int b = (int)(i / KW);
	int64_t j = i % KW, dst = ((int64_t)b * Tmax + pos[b]) * KW + j;
	kc[dst] = p[b * W + (int64_t)nh * hd + j];
	vc[dst] = p[b * W + (int64_t)(nh + nkv) * hd + j];
}

template <class T, int HD>
__global__ static void decode_k(T *out, const T *p, const T *kc, const T *vc,
				const int32_t *pos, int B, int nh, int nkv, int hd, int Tmax)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i >= (int64_t)B * nh)
		return;
	int b = (int)(i / nh), h = (int)(i % nh), g = h / (nh / nkv);
	int64_t KW = (int64_t)nkv * hd, W = (int64_t)(nh + 2 * nkv) * hd;
	float q[HD], acc[HD], scale = rsqrtf((float)hd), mx = -INFINITY, sum = 0.0f;
#pragma unroll
	for (int j = 0; j < HD; j++) {
		q[j] = j < hd ? ld(p[b * W + (int64_t)h * hd + j]) * scale : 0.0f;
		acc[j] = 0.0f;
	}
	for (int u = 0; u <= pos[b]; u++) {
		const T *k = kc + ((int64_t)b * Tmax + u) * KW + (int64_t)g * hd;
		const T *v = vc + ((int64_t)b * Tmax + u) * KW + (int64_t)g * hd;
		float d = 0.0f;
#pragma unroll
		for (int j = 0; j < HD; j++)
			if (j < hd)
				d += q[j] * ld(k[j]);
		float nm = fmaxf(mx, d), corr = expf(mx - nm), e = expf(d - nm);
		sum = sum * corr + e;
#pragma unroll
		for (int j = 0; j < HD; j++)
			if (j < hd)
				acc[j] = acc[j] * corr + e * ld(v[j]);
		mx = nm;
	}
	T *y = out + (int64_t)b * nh * hd + (int64_t)h * hd;
#pragma unroll
	for (int j = 0; j < HD; j++)
		if (j < hd)
			y[j] = st<T>(acc[j] / sum);
}

void f_attention_decode(kn_tensor *out, const kn_tensor *qkv, kn_tensor *kcache,
			kn_tensor *vcache, const int32_t *pos, const kn_attn_shape *s,
			int Tmax)
{
	int32_t *dpos = (int32_t *)grow(&sc_tok, (size_t)s->B * sizeof(int32_t));
	want(out, qkv->dtype, "attention_decode", "out");
	want(kcache, qkv->dtype, "attention_decode", "kcache");
	want(vcache, qkv->dtype, "attention_decode", "vcache");
	CK(cudaMemcpy(dpos, pos, (size_t)s->B * sizeof(int32_t), cudaMemcpyHostToDevice));
	int64_t KW = (int64_t)s->nkv * s->hd;
	BY_DTYPE(qkv, "attention_decode", {
		kv_append_k<T><<<blocks(s->B * KW, 128), 128>>>(P(T, kcache), P(T, vcache),
								CP(T, qkv), dpos, s->B, s->nh,
								s->nkv, s->hd, Tmax);
		LAUNCHED("kv_append");
		BY_HD(s->hd, "attention_decode",
		      decode_k<T, HDM><<<blocks((int64_t)s->B * s->nh, 64), 64>>>(
			      P(T, out), CP(T, qkv), CP(T, kcache), CP(T, vcache), dpos, s->B,
			      s->nh, s->nkv, s->hd, Tmax));
		LAUNCHED("attention_decode");
	});
}

template <class T>
__global__ static void kv_store_k(T *kc, T *vc, const T *p, int B, int Tn, int nh, int nkv,
				  int hd, int Tmax)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	int64_t KW = (int64_t)nkv * hd, W = (int64_t)(nh + 2 * nkv) * hd;
	if (i >= (int64_t)B * Tn * KW)
		return;
	int64_t r = i / KW, j = i % KW, b = r / Tn, t = r % Tn;
	int64_t dst = (b * Tmax + t) * KW + j;
	kc[dst] = p[r * W + (int64_t)nh * hd + j];
	vc[dst] = p[r * W + (int64_t)(nh + nkv) * hd + j];
}

void f_kv_store(kn_tensor *kcache, kn_tensor *vcache, const kn_tensor *qkv,
		const kn_attn_shape *s, int Tmax)
{
	int64_t n = (int64_t)s->B * s->T * s->nkv * s->hd;
	want(kcache, qkv->dtype, "kv_store", "kcache");
	want(vcache, qkv->dtype, "kv_store", "vcache");
	BY_DTYPE(qkv, "kv_store",
		 kv_store_k<T><<<blocks(n, 256), 256>>>(P(T, kcache), P(T, vcache), CP(T, qkv),
							s->B, s->T, s->nh, s->nkv, s->hd, Tmax));
	LAUNCHED("kv_store");
}
