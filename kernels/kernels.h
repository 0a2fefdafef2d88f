/* kernels.h - the transformer kernel interface: every operation the model needs, forward and
 * backward, behind one table of functions per backend (CPU here, CUDA beside it).
 *
 * The model code calls only these functions. Tensors are opaque handles allocated by the
 * backend (shape, dtype, device); the host reads or writes them only through kn_upload and
 * kn_download, and scalars (loss, gradient norm) come back only through explicit readbacks.
 * Parameters, gradients and optimizer state live in flat buffers: a parameter is a view into
 * one, so a single fused AdamW pass covers them all.
 *
 * Conventions, the same for every backend:
 * - Row-major; a matrix product's weight is [out, in] (PyTorch's nn.Linear layout).
 * - Tokens are flattened to N = B x T rows; `T` is given where positions matter.
 * - Backward functions ADD into every gradient they produce (weights, biases and inputs), as in
 *   llm.c: gradient accumulation over micro-steps and residual branches come for free; the
 *   caller zeroes gradient buffers when a sum should start.
 * - Attention takes `doc`, the row index where each token's document starts (int32 [B x T], or
 *   NULL for one document per row): a token attends to tokens of its own document only, which
 *   serves packed SFT samples and batched scoring.
 * - Cross-entropy takes targets with -1 meaning "ignore this position" and can return each
 *   token's log-probability of its target (evaluation, DPO, model-based filtering).
 * - Every function returns nothing; a backend that fails (out of memory, device error) reports
 *   and exits, as allocation does everywhere in this project.
 */
#ifndef KN_KERNELS_H
#define KN_KERNELS_H
#include <stddef.h>
#include <stdint.h>

typedef enum { KN_F32, KN_BF16, KN_I32 } kn_dtype;

typedef struct kn_backend kn_backend;
typedef struct kn_tensor kn_tensor;

#define KN_MAXDIM 4

/* What every backend's tensor starts with; backends may keep more after it. */
struct kn_tensor {
	kn_backend *be;
	kn_dtype dtype;
	int ndim;
	int64_t shape[KN_MAXDIM];
	int64_t n;		/* elements */
	void *data;		/* device (or host) address of element 0 */
	kn_tensor *base;	/* the tensor this is a view of, or NULL */
};

/* Attention shapes: query heads, key/value heads (grouped-query when fewer), head size. */
typedef struct kn_attn_shape {
	int B, T;		/* batch rows and positions per row */
	int nh, nkv, hd;
} kn_attn_shape;

typedef struct kn_ops {
	const char *name;
	kn_tensor *(*alloc)(kn_backend *be, kn_dtype dt, int ndim, const int64_t *shape);
	void (*free)(kn_tensor *t);
	void (*upload)(kn_tensor *t, const void *host, size_t bytes, size_t offset);
	void (*download)(const kn_tensor *t, void *host, size_t bytes, size_t offset);
	void (*zero)(kn_tensor *t);
	void (*copy)(kn_tensor *dst, const kn_tensor *src);
	/* dst = src converted (F32 <-> BF16, rounding to nearest even; same dtype: a copy) */
	void (*cast)(kn_tensor *dst, const kn_tensor *src);
	void (*sync)(kn_backend *be);

	/* out[N,C] = wte[tok] (+ wpe[pos]; pos may be NULL: position = row index mod T) */
	void (*embed)(kn_tensor *out, const kn_tensor *tok, const kn_tensor *pos,
		      const kn_tensor *wte, const kn_tensor *wpe, int T);
	void (*embed_bwd)(kn_tensor *dwte, kn_tensor *dwpe, const kn_tensor *dout,
			  const kn_tensor *tok, const kn_tensor *pos, int T);
	/* out[N,OC] = inp[N,C] W[OC,C]^T (+ bias[OC]) */
	void (*matmul)(kn_tensor *out, const kn_tensor *inp, const kn_tensor *w,
		       const kn_tensor *bias);
	/* dinp += dout W; dw += dout^T inp; dbias += sum of dout (each may be NULL to skip) */
	void (*matmul_bwd)(kn_tensor *dinp, kn_tensor *dw, kn_tensor *dbias,
			   const kn_tensor *dout, const kn_tensor *inp, const kn_tensor *w);
	/* res = a + b (res may be a); out = norm(res) with saved mean (LayerNorm) and rstd.
	 * bias == NULL and mean == NULL select RMSNorm. a == NULL: res is the input as it is. */
	void (*residual_norm)(kn_tensor *res, kn_tensor *out, kn_tensor *mean, kn_tensor *rstd,
			      const kn_tensor *a, const kn_tensor *b, const kn_tensor *w,
			      const kn_tensor *bias, float eps);
	/* dinp += d norm(inp) / d inp applied to dout; dw, dbias += their gradients */
	void (*norm_bwd)(kn_tensor *dinp, kn_tensor *dw, kn_tensor *dbias, const kn_tensor *dout,
			 const kn_tensor *inp, const kn_tensor *w, const kn_tensor *mean,
			 const kn_tensor *rstd);
	void (*add)(kn_tensor *out, const kn_tensor *a, const kn_tensor *b);
	/* GELU, tanh approximation (GPT-2) */
	void (*gelu)(kn_tensor *out, const kn_tensor *inp);
	void (*gelu_bwd)(kn_tensor *dinp, const kn_tensor *inp, const kn_tensor *dout);
	/* SwiGLU on packed [N, 2H] (gate then up): out[N,H] = silu(gate) * up */
	void (*swiglu)(kn_tensor *out, const kn_tensor *gu);
	void (*swiglu_bwd)(kn_tensor *dgu, const kn_tensor *gu, const kn_tensor *dout);
	/* Rotary embedding in place on the q and k heads of packed qkv [N, (nh + 2 nkv) hd],
	 * rotate-half layout (Hugging Face Llama); pos as in embed. inverse: the backward. */
	void (*rope)(kn_tensor *qkv, const kn_tensor *pos, const kn_attn_shape *s, float theta,
		     int inverse);
	/* Causal attention on packed qkv; out [N, nh hd]; lse [B, nh, T] saved for backward.
	 * pre (int32 [B x T] or NULL), forward only: token t also sees its row's positions
	 * [0, min(pre[t], doc[t])), a prefix its document continues (continuations scored after
	 * one shared context, each a document of its own, positions given as if alone). */
	void (*attention)(kn_tensor *out, kn_tensor *lse, const kn_tensor *qkv,
			  const kn_tensor *doc, const kn_tensor *pre, const kn_attn_shape *s);
	void (*attention_bwd)(kn_tensor *dqkv, const kn_tensor *dout, const kn_tensor *out,
			      const kn_tensor *lse, const kn_tensor *qkv, const kn_tensor *doc,
			      const kn_attn_shape *s);
	/* One decoding step: appends each row's k, v (from qkv [B, (nh + 2 nkv) hd], already
	 * rotated) at position pos[b] of the caches [B, Tmax, nkv hd], then attends over 0..pos[b]. */
	void (*attention_decode)(kn_tensor *out, const kn_tensor *qkv, kn_tensor *kcache,
				 kn_tensor *vcache, const int32_t *pos, const kn_attn_shape *s,
				 int Tmax);
	/* Prefilling the caches [B, Tmax, nkv hd]: positions 0..T-1 of each row get the k and v
	 * of packed qkv [B x T, (nh + 2 nkv) hd] (already rotated). */
	void (*kv_store)(kn_tensor *kcache, kn_tensor *vcache, const kn_tensor *qkv,
			 const kn_attn_shape *s, int Tmax);
	/* Softmax cross-entropy over the first V of Vp logits per row. Targets -1 are ignored.
	 * losses[N] (may be NULL) gets -log p(target) (0 where ignored). When dlogits is given
	 * (may be the logits tensor itself), it becomes dscale * (softmax - onehot), 0 at ignored
	 * rows and padded columns. Returns nothing: read losses back, or use kn_sum. */
	void (*xent)(kn_tensor *losses, kn_tensor *dlogits, const kn_tensor *logits,
		     const kn_tensor *targets, int V, float dscale);
	/* sum of squares of t, read back to the host (gradient norm) */
	double (*sumsq)(const kn_tensor *t);
	/* sum of t (fp32), read back */
	double (*sum)(const kn_tensor *t);
	void (*scale)(kn_tensor *t, float s);
	/* AdamW on flat buffers: p -= lr (mhat / (sqrt(vhat) + eps) + wd p), gradient scaled by
	 * gscale first (clipping, accumulation); step counts from 1. */
	void (*adamw)(kn_tensor *p, const kn_tensor *g, kn_tensor *m, kn_tensor *v, float lr,
		      float b1, float b2, float eps, float wd, float gscale, int64_t step);
	/* pre[N,OC] = inp W^T + bias and out = gelu(pre) (GPT-2's MLP): matmul then gelu, in one
	 * product's epilogue where a backend can (NULL in a backend table: the two operations) */
	void (*matmul_gelu)(kn_tensor *out, kn_tensor *pre, const kn_tensor *inp,
			    const kn_tensor *w, const kn_tensor *bias);
} kn_ops;

/* The operations by name, in table order after `name` (for composing tables). */
#define KN_OPS(X)                                                                            \
	X(alloc) X(free) X(upload) X(download) X(zero) X(copy) X(cast) X(sync) X(embed)      \
	X(embed_bwd) X(matmul) X(matmul_bwd) X(residual_norm) X(norm_bwd) X(add) X(gelu)     \
	X(gelu_bwd) X(swiglu) X(swiglu_bwd) X(rope) X(attention) X(attention_bwd)            \
	X(attention_decode) X(kv_store) X(xent) X(sumsq) X(sum) X(scale) X(adamw)        \
	X(matmul_gelu)

struct kn_backend {
	const kn_ops *ops;	/* what callers use: every operation takes fp32 and bf16 tensors */
	const kn_ops *base;	/* fp32 operations that kn_mixed_ops runs bf16 tensors through */
	int threads;		/* OpenMP (and OpenBLAS) threads */
	int host;		/* tensors in host memory (the CPU backend): the process's own */
	kn_dtype precision;	/* what to compute in unless told: KN_BF16 on a GPU, else KN_F32 */
	int deterministic;	/* restrict to run-to-run reproducible algorithms */
	void *priv;
	int64_t bytes, peak;	/* tensor memory allocated through kn_new now, and at most */
	kn_ops table;		/* the composed operations ops points to */
	char desc[160];		/* which kernels run: "cpu", "cuda (fused; plain: xent)" */
};

/* "cpu", "cuda" (the fused kernels, and the plain version of each operation named in the
 * environment variable KN_PLAIN_OPS, a comma-separated list, or "all"), "cuda:plain" (the
 * plain version of every operation), or "auto" (cuda when an NVIDIA device node is there and
 * the library loads and finds a GPU, else cpu). threads: the CPU threads (OpenMP's and
 * OpenBLAS's) from now on, 0 for OpenMP's default (OMP_NUM_THREADS, else every core). NULL when the backend is not available, with
 * the reason in err. */
kn_backend *kn_open(const char *name, int threads, char *err, size_t errlen);
void kn_close(kn_backend *be);

/* Rank `rank` of `size`'s part of n elements (data parallel training's slices of a flat
 * tensor, ZeRO-1's shards of the optimizer state): [*lo, *lo + *cnt), n / size elements
 * each, the last rank the n % size left over too (NCCL's reduce-scatter wants equal parts;
 * the rest goes through a reduce and a broadcast). */
static inline void kn_part(int64_t n, int rank, int size, int64_t *lo, int64_t *cnt)
{
	int64_t q = n / size;
	*lo = q * rank;
	*cnt = rank == size - 1 ? n - q * rank : q;
}

/* Sums across processes with NCCL, one GPU a process (the CUDA backend; libnccl.so.2 is
 * loaded when first used). Rank 0 makes the 128-byte id and sends it to the others (MPI), each
 * rank opens the group with it; kn_nccl_sum makes an fp32 tensor the sum of every rank's, the
 * same on every rank; kn_nccl_reduce_scatter makes this rank's part of it (kn_part) the sum
 * of every rank's part, the rest of it left undefined; kn_nccl_all_gather copies each rank's
 * part of it to every rank. All in place, done when they return. 0 (or the group), or -1
 * (NULL) with the reason: not the CUDA backend, no NCCL, NCCL's error. */
typedef struct kn_nccl kn_nccl;
int kn_nccl_id(kn_backend *be, unsigned char id[128], char *err, size_t errlen);
kn_nccl *kn_nccl_open(kn_backend *be, const unsigned char id[128], int rank, int size,
		      char *err, size_t errlen);
int kn_nccl_sum(kn_nccl *c, kn_tensor *t, char *err, size_t errlen);
int kn_nccl_reduce_scatter(kn_nccl *c, kn_tensor *t, char *err, size_t errlen);
int kn_nccl_all_gather(kn_nccl *c, kn_tensor *t, char *err, size_t errlen);
void kn_nccl_close(kn_nccl *c);

/* A view of n contiguous elements of base starting at element off, with the given shape. */
kn_tensor *kn_view(kn_tensor *base, int64_t off, int ndim, const int64_t *shape);
kn_tensor *kn_new(kn_backend *be, kn_dtype dt, int ndim, const int64_t *shape);
kn_tensor *kn_new1(kn_backend *be, kn_dtype dt, int64_t n0);
kn_tensor *kn_new2(kn_backend *be, kn_dtype dt, int64_t n0, int64_t n1);
void kn_free(kn_tensor *t);
size_t kn_dtype_size(kn_dtype dt);
static inline size_t kn_bytes(const kn_tensor *t)
{
	return (size_t)t->n * kn_dtype_size(t->dtype);
}
/* Reshape (same element count) without touching the data. */
void kn_reshape(kn_tensor *t, int ndim, const int64_t *shape);
void kn_upload(kn_tensor *t, const void *host, size_t bytes);
void kn_download(const kn_tensor *t, void *host, size_t bytes);
/* One row of logits on the host: the log-sum-exp of x[0..V) (exps of the difference to the
 * maximum in float, vectorized, summed in double) into *lse and the first maximum's index
 * (torch's argmax) into *argmax. Returns 0, setting neither, when a value is NaN or
 * infinite (or V < 1). */
int kn_logits_row(const float *x, int64_t V, double *lse, int64_t *argmax);

/* the CPU backend's table (fp32 only), for tests that call a reference directly: the one
 * built for any x86-64 (or other) processor ... */
extern const kn_ops kn_cpu_ops;
/* ... and the one kn_open uses: the same code built for the newest x86-64 level this
 * processor runs (x86-64-v4: AVX-512; v3: AVX2 and FMA), or the one KN_CPU_ISA names
 * (x86-64, x86-64-v3, x86-64-v4); NULL with the reason when KN_CPU_ISA names a level
 * unknown or beyond the processor. Results differ between levels by fp32 rounding only. */
const kn_ops *kn_cpu_table(char *err, size_t errlen);
/* bf16 tensors through a backend's fp32 operations (be->base): see mixed.c */
extern const kn_ops kn_mixed_ops;
#endif
