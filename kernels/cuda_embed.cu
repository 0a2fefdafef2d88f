/* cuda_embed.cu - the fused backend's embedding, and its backward grouped by token. */
#include <stdint.h>

#include "cuda_common.cuh"

/* Embedding */

template <class T>
__global__ static void embed_k(T *out, const int32_t *tok, const int32_t *pos, const T *wte,
			       const T *wpe, int64_t N, int64_t C, int Tn)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i >= N * C)
		return;
	int64_t r = i / C, c = i % C;
	float v = ld(wte[(int64_t)tok[r] * C + c]);
	if (wpe)
		v += ld(wpe[(int64_t)(pos ? pos[r] : (int32_t)(r % Tn)) * C + c]);
	out[i] = st<T>(v);
}

void f_embed(kn_tensor *out, const kn_tensor *tok, const kn_tensor *pos,
	     const kn_tensor *wte, const kn_tensor *wpe, int Tn)
{
	int64_t C = out->shape[out->ndim - 1], N = tok->n;
	want(wte, out->dtype, "embed", "wte");
	want(wpe, out->dtype, "embed", "wpe");
	BY_DTYPE(out, "embed",
		 embed_k<T><<<blocks(N * C, 256), 256>>>(P(T, out), IDS(tok),
							 pos ? IDS(pos) : NULL, CP(T, wte),
							 wpe ? CP(T, wpe) : NULL, N, C, Tn));
	LAUNCHED("embed");
}

/* One block per distinct token: its rows (in ascending order) summed into its gradient row. */
template <class T>
__global__ static void embed_bwd_tok_k(float *dwte, const T *dout, const int32_t *rows,
				       const int32_t *start, const int32_t *toks, int64_t C)
{
	int k = blockIdx.x;
	int32_t a = start[k], b = start[k + 1];
	float *dst = dwte + (int64_t)toks[k] * C;
	for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
		float s = 0.0f;
		for (int32_t i = a; i < b; i++)
			s += ld(dout[(int64_t)rows[i] * C + c]);
		dst[c] += s;
	}
}

/* positions: one thread a channel of one position, over the rows at that position in order */
template <class T>
__global__ static void embed_bwd_pos_k(float *dwpe, const T *dout, const int32_t *pos,
				       int64_t N, int64_t C, int Tn)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (pos) {	/* arbitrary positions: one thread a channel over every row */
		if (i >= C)
			return;
		for (int64_t r = 0; r < N; r++)
			dwpe[(int64_t)pos[r] * C + i] += ld(dout[r * C + i]);
		return;
	}
	if (i >= (int64_t)Tn * C)
		return;
	int64_t t = i / C, c = i % C;
	float s = 0.0f;
	for (int64_t r = t; r < N; r += Tn)
		s += ld(dout[r * C + c]);
	dwpe[t * C + c] += s;
}

void f_embed_bwd(kn_tensor *dwte, kn_tensor *dwpe, const kn_tensor *dout,
		 const kn_tensor *tok, const kn_tensor *pos, int Tn)
{
	int64_t C = dout->shape[dout->ndim - 1], N = tok->n;
	if (N == 0)
		return;
	want(dwte, KN_F32, "embed_bwd", "dwte");
	want(dwpe, KN_F32, "embed_bwd", "dwpe");
	if (dwte) {
		/* group the rows by token on the host: a counting sort, stable */
		int32_t *t = (int32_t *)malloc((size_t)N * 4), *rows = (int32_t *)malloc((size_t)N * 4);
		if (!t || !rows)
			die("out of host memory");
		CK(cudaMemcpy(t, tok->data, (size_t)N * 4, cudaMemcpyDeviceToHost));
		int32_t maxt = 0;
		for (int64_t r = 0; r < N; r++) {
			if (t[r] < 0)
				die("embed_bwd: token id %d", t[r]);
			maxt = t[r] > maxt ? t[r] : maxt;
		}
		int32_t *cnt = (int32_t *)calloc((size_t)maxt + 2, 4);
		if (!cnt)
			die("out of host memory");
		for (int64_t r = 0; r < N; r++)
			cnt[t[r] + 1]++;
		int32_t ndist = 0;
		for (int32_t v = 0; v <= maxt; v++)
			ndist += cnt[v + 1] > 0;
		int32_t *start = (int32_t *)malloc(((size_t)ndist + 1) * 4),
			*toks = (int32_t *)malloc((size_t)ndist * 4);
		if (!start || !toks)
			die("out of host memory");
		for (int32_t v = 0, k = 0; v <= maxt; v++)
			if (cnt[v + 1]) {
				toks[k] = v;
				start[k++] = cnt[v];	/* the prefix sum so far */
				cnt[v + 1] += cnt[v];
			} else {
				cnt[v + 1] = cnt[v];
			}
		start[ndist] = (int32_t)N;
		/* cnt[v] is now the first slot of token v */
		for (int64_t r = 0; r < N; r++)
			rows[cnt[t[r]]++] = (int32_t)r;
		size_t nb = (size_t)N * 4 + ((size_t)ndist * 2 + 1) * 4;
		int32_t *d = (int32_t *)grow(&sc_tok, nb);
		CK(cudaMemcpy(d, rows, (size_t)N * 4, cudaMemcpyHostToDevice));
		CK(cudaMemcpy(d + N, start, ((size_t)ndist + 1) * 4, cudaMemcpyHostToDevice));
		CK(cudaMemcpy(d + N + ndist + 1, toks, (size_t)ndist * 4, cudaMemcpyHostToDevice));
		if (ndist)
			BY_DTYPE(dout, "embed_bwd",
				 embed_bwd_tok_k<T><<<(unsigned)ndist, 256>>>(
					 F32(dwte), CP(T, dout), d, d + N, d + N + ndist + 1, C));
		LAUNCHED("embed_bwd tokens");
		free(t);
		free(rows);
		free(cnt);
		free(start);
		free(toks);
	}
	if (dwpe) {
		int64_t n = pos ? C : (int64_t)Tn * C;
		BY_DTYPE(dout, "embed_bwd",
			 embed_bwd_pos_k<T><<<blocks(n, 128), 128>>>(F32(dwpe), CP(T, dout),
								     pos ? IDS(pos) : NULL, N, C,
								     Tn));
		LAUNCHED("embed_bwd positions");
	}
}
