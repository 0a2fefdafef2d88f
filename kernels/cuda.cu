/* cuda.cu - the CUDA backend's fused mixed-precision kernels.
 *
 * Every kernel here is written once for storage type T (float or bf16) and computes in fp32:
 * bf16 is loaded, widened, and the result rounded once on store, which is what the CPU backend
 * does through kernels/mixed.c, the reference these are checked against (make check-gpu).
 * Parameter gradients, norm statistics, log-sum-exps and losses are fp32 whatever T is.
 *
 * - Matrix products: cuBLASLt, bf16 (or fp32) inputs with fp32 accumulation, output bf16 or
 *   fp32 (weight gradients accumulate in fp32), the bias added in the epilogue.
 * - Residual add + LayerNorm/RMSNorm in one pass over a row kept in shared memory; the
 *   backward's row part in one kernel, its weight gradients in fixed-order partial sums.
 * - Softmax + cross-entropy: one pass for the row's log-sum-exp (online max and sum), one
 *   writing the loss and the logits' gradient in place; probabilities never stored.
 * - Attention: tiles of queries against tiles of keys and values staged in shared memory, with
 *   an online softmax; no T x T matrix. Backward: one kernel per key tile for dk, dv, one per
 *   query tile for dq, both recomputing probabilities from the saved log-sum-exp.
 * - Embedding backward: rows grouped by token (a stable order made from the token ids), one
 *   block per distinct token.
 * No kernel uses atomic additions: every result is computed in a fixed order, so runs repeat
 * bit for bit. cuBLASLt is asked for algorithms without split-K reductions under
 * --deterministic.
 *
 * NOTE: written and compiled without a GPU (nvcc for sm_90 and PTX); make check-gpu compares
 * each operation with the CPU backend and with the plain version (cuda_plain.cu) on a GPU.
 */
#include <cublasLt.h>
#include <cuda_bf16.h>
#include <stdint.h>
#include <string.h>

#include "cuda_common.cuh"
#include "kmath.h"

extern const kn_ops kn_cuda_plain_ops;

typedef __nv_bfloat16 bf16;

#define CKL(call)                                                                            \
	do {                                                                                 \
		cublasStatus_t s_ = (call);                                                  \
		if (s_ != CUBLAS_STATUS_SUCCESS)                                             \
			die("%s failed (%s:%d): cuBLASLt status %d", #call, __FILE__,          \
			    __LINE__, (int)s_);                                              \
	} while (0)

__device__ static inline float ld(float x)
{
	return x;
}

__device__ static inline float ld(bf16 x)
{
	return __bfloat162float(x);
}

template <class T> __device__ static inline T st(float x);
template <> __device__ inline float st<float>(float x)
{
	return x;
}
template <> __device__ inline bf16 st<bf16>(float x)
{
	return __float2bfloat16_rn(x);
}

/* dispatch on a tensor's dtype: the body sees T */
#define BY_DTYPE(t, what, ...)                                                               \
	do {                                                                                 \
		if ((t)->dtype == KN_F32) {                                                  \
			typedef float T;                                                     \
			__VA_ARGS__;                                                         \
		} else if ((t)->dtype == KN_BF16) {                                          \
			typedef bf16 T;                                                      \
			__VA_ARGS__;                                                         \
		} else {                                                                     \
			die("%s: a tensor of integers where floats are wanted", what);       \
		}                                                                            \
	} while (0)

#define P(T, t) ((T *)(t)->data)
#define CP(T, t) ((const T *)(t)->data)
#define F32(t) ((float *)(t)->data)

/* the dtype an operation wants of an argument */
static void want(const kn_tensor *t, kn_dtype dt, const char *op, const char *arg)
{
	if (t && t->dtype != dt)
		die("%s: %s is %s, this kernel takes %s (run it plain: KN_PLAIN_OPS=%s)", op, arg,
		    t->dtype == KN_BF16 ? "bf16" : t->dtype == KN_F32 ? "fp32" : "int32",
		    dt == KN_BF16 ? "bf16" : "fp32", op);
}

/* Scratch device memory, grown on demand; operations run in order on one stream, so one
 * buffer per use serves them all. */
typedef struct scratch {
	void *p;
	size_t n;
} scratch;

static void *grow(scratch *s, size_t bytes)
{
	if (bytes <= s->n)
		return s->p;
	if (s->p)
		CK(cudaFree(s->p));
	bytes = bytes < 4096 ? 4096 : bytes + bytes / 4;
	cudaError_t e = cudaMalloc(&s->p, bytes);
	if (e != cudaSuccess)
		die("out of GPU memory for %zu bytes of scratch: %s", bytes, cudaGetErrorString(e));
	s->n = bytes;
	return s->p;
}

static scratch sc_part, sc_lse, sc_tok, sc_ws;

/* Element-wise */

template <class T> __global__ static void add_k(T *o, const T *a, const T *b, int64_t n)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i < n)
		o[i] = st<T>(ld(a[i]) + ld(b[i]));
}

static void f_add(kn_tensor *out, const kn_tensor *a, const kn_tensor *b)
{
	want(a, out->dtype, "add", "a");
	want(b, out->dtype, "add", "b");
	BY_DTYPE(out, "add", add_k<T><<<blocks(out->n, 256), 256>>>(P(T, out), CP(T, a),
								     CP(T, b), out->n));
	LAUNCHED("add");
}

template <class T> __global__ static void gelu_k(T *o, const T *x, int64_t n)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i < n) {
		float v = ld(x[i]);
		o[i] = st<T>(kn_gelu_from_tanh(v, tanhf(kn_gelu_arg(v))));
	}
}

template <class T> __global__ static void gelu_bwd_k(T *di, const T *x, const T *d, int64_t n)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i < n) {
		float v = ld(x[i]);
		di[i] = st<T>(ld(di[i]) + kn_gelu_grad_from_tanh(v, tanhf(kn_gelu_arg(v))) *
			      ld(d[i]));
	}
}

static void f_gelu(kn_tensor *out, const kn_tensor *inp)
{
	want(inp, out->dtype, "gelu", "inp");
	BY_DTYPE(out, "gelu", gelu_k<T><<<blocks(out->n, 256), 256>>>(P(T, out), CP(T, inp),
								       out->n));
	LAUNCHED("gelu");
}

static void f_gelu_bwd(kn_tensor *dinp, const kn_tensor *inp, const kn_tensor *dout)
{
	want(inp, dinp->dtype, "gelu_bwd", "inp");
	want(dout, dinp->dtype, "gelu_bwd", "dout");
	BY_DTYPE(dinp, "gelu_bwd",
		 gelu_bwd_k<T><<<blocks(dinp->n, 256), 256>>>(P(T, dinp), CP(T, inp),
							      CP(T, dout), dinp->n));
	LAUNCHED("gelu_bwd");
}

template <class T> __global__ static void swiglu_k(T *o, const T *gu, int64_t N, int64_t H)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i >= N * H)
		return;
	int64_t r = i / H, j = i % H;
	float g = ld(gu[r * 2 * H + j]), u = ld(gu[r * 2 * H + H + j]);
	o[i] = st<T>(g / (1.0f + expf(-g)) * u);
}

template <class T>
__global__ static void swiglu_bwd_k(T *dgu, const T *gu, const T *d, int64_t N, int64_t H)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i >= N * H)
		return;
	int64_t r = i / H, j = i % H, gi = r * 2 * H + j, ui = gi + H;
	float g = ld(gu[gi]), u = ld(gu[ui]), sg = 1.0f / (1.0f + expf(-g)), dd = ld(d[i]);
	dgu[ui] = st<T>(ld(dgu[ui]) + dd * g * sg);
	dgu[gi] = st<T>(ld(dgu[gi]) + dd * u * sg * (1.0f + g * (1.0f - sg)));
}

static void f_swiglu(kn_tensor *out, const kn_tensor *gu)
{
	int64_t H = out->shape[out->ndim - 1], N = out->n / H;
	want(gu, out->dtype, "swiglu", "gu");
	BY_DTYPE(out, "swiglu", swiglu_k<T><<<blocks(N * H, 256), 256>>>(P(T, out), CP(T, gu),
									  N, H));
	LAUNCHED("swiglu");
}

static void f_swiglu_bwd(kn_tensor *dgu, const kn_tensor *gu, const kn_tensor *dout)
{
	int64_t H = dout->shape[dout->ndim - 1], N = dout->n / H;
	want(gu, dgu->dtype, "swiglu_bwd", "gu");
	want(dout, dgu->dtype, "swiglu_bwd", "dout");
	BY_DTYPE(dgu, "swiglu_bwd",
		 swiglu_bwd_k<T><<<blocks(N * H, 256), 256>>>(P(T, dgu), CP(T, gu), CP(T, dout),
							      N, H));
	LAUNCHED("swiglu_bwd");
}

template <class T> __global__ static void scale_k(T *x, float s, int64_t n)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i < n)
		x[i] = st<T>(ld(x[i]) * s);
}

static void f_scale(kn_tensor *t, float s)
{
	BY_DTYPE(t, "scale", scale_k<T><<<blocks(t->n, 256), 256>>>(P(T, t), s, t->n));
	LAUNCHED("scale");
}

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

static double f_sumsq(const kn_tensor *t)
{
	return reduce(t, 1);
}

static double f_sum(const kn_tensor *t)
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
static void colsum(float *dst, const T *g, const T *x, const float *mean, const float *rstd,
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

/* Matrix products through cuBLASLt. Row-major out[N,OC] = inp[N,C] W[OC,C]^T is column-major
 * out^T = W^T-as-stored... : D (OC x N, ld OC) = op(A) B with A = W (C x OC column-major, ld C,
 * transposed) and B = inp (C x N, ld C). */

static cublasLtHandle_t lt;

static cudaDataType_t cuda_type(const kn_tensor *t)
{
	return t->dtype == KN_BF16 ? CUDA_R_16BF : CUDA_R_32F;
}

/* the largest power of two (up to 256) dividing the address */
static uint32_t align_of(const void *p)
{
	uintptr_t a = (uintptr_t)p;
	uint32_t al = 256;
	while (al > 1 && a % al)
		al /= 2;
	return al;
}

#define WS_BYTES (32u << 20)

/* A product's plan: its descriptors and the algorithm the heuristic chose, kept for the next
 * product of the same shape, types, alignments and epilogue (a training step repeats the
 * same few dozen), so each call only sets the pointers and runs. */
typedef struct lt_key {
	int ta, tb, epi, det;
	int64_t m, n, k, lda, ldb, ldd;
	int tA, tB, tD;
	uint32_t al[5];
} lt_key;

typedef struct lt_plan {
	lt_key key;
	int state;	/* 0 free, 1 an algorithm, 2 none for the epilogue, 3 none at all */
	cublasLtMatmulDesc_t op;
	cublasLtMatrixLayout_t la, lb, ld;
	cublasLtMatmulAlgo_t algo;
} lt_plan;

#define LT_PLANS 64
static lt_plan plans[LT_PLANS];
static int nplans, next_evict;

static void plan_free(lt_plan *p)
{
	if (p->state == 1) {
		cublasLtMatrixLayoutDestroy(p->la);
		cublasLtMatrixLayoutDestroy(p->lb);
		cublasLtMatrixLayoutDestroy(p->ld);
		cublasLtMatmulDescDestroy(p->op);
	}
	p->state = 0;
}

static void plan_make(lt_plan *p, const lt_key *key, const kn_tensor *bias,
		      const kn_tensor *aux)
{
	cublasOperation_t ta = (cublasOperation_t)key->ta, tb = (cublasOperation_t)key->tb;
	cublasLtMatmulDesc_t op;
	cublasLtMatrixLayout_t la, lb, ld_;
	CKL(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
	CKL(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
	CKL(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
	if (key->epi) {
		cublasLtEpilogue_t ep = key->epi == 1 ? CUBLASLT_EPILOGUE_BIAS : key->epi == 3 ?
			CUBLASLT_EPILOGUE_GELU_AUX_BIAS : CUBLASLT_EPILOGUE_GELU_AUX;
		CKL(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE, &ep,
						   sizeof ep));
	}
	/* the bias and auxiliary output take D's type (the default): the callers check it */
	if (aux) {
		CKL(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD,
						   &key->ldd, sizeof key->ldd));
		CKL(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER,
						   &aux->data, sizeof aux->data));
	}
	if (bias)	/* the heuristic sees the pointers, and so their alignment */
		CKL(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
						   &bias->data, sizeof bias->data));
	int64_t m = key->m, n = key->n, k = key->k;
	CKL(cublasLtMatrixLayoutCreate(&la, (cudaDataType_t)key->tA, ta == CUBLAS_OP_N ? m : k,
				       ta == CUBLAS_OP_N ? k : m, key->lda));
	CKL(cublasLtMatrixLayoutCreate(&lb, (cudaDataType_t)key->tB, tb == CUBLAS_OP_N ? k : n,
				       tb == CUBLAS_OP_N ? n : k, key->ldb));
	CKL(cublasLtMatrixLayoutCreate(&ld_, (cudaDataType_t)key->tD, m, n, key->ldd));
	cublasLtMatmulPreference_t pref;
	CKL(cublasLtMatmulPreferenceCreate(&pref));
	uint64_t ws = WS_BYTES;
	CKL(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
						 &ws, sizeof ws));
	const cublasLtMatmulPreferenceAttributes_t at[4] = {
		CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
		CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES
	};
	for (int i = 0; i < 4; i++)
		CKL(cublasLtMatmulPreferenceSetAttribute(pref, at[i], &key->al[i < 3 ? i : 2],
							 sizeof key->al[0]));
	if (key->det) {
		uint32_t mask = CUBLASLT_REDUCTION_SCHEME_NONE;
		CKL(cublasLtMatmulPreferenceSetAttribute(
			pref, CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK, &mask, sizeof mask));
	}
	cublasLtMatmulHeuristicResult_t h;
	int found = 0;
	cublasStatus_t st_ = cublasLtMatmulAlgoGetHeuristic(lt, op, la, lb, ld_, ld_, pref, 1, &h,
							     &found);
	cublasLtMatmulPreferenceDestroy(pref);
	p->key = *key;
	if (st_ == CUBLAS_STATUS_SUCCESS && found > 0) {
		p->state = 1;
		p->op = op;
		p->la = la;
		p->lb = lb;
		p->ld = ld_;
		p->algo = h.algo;
		return;
	}
	cublasLtMatrixLayoutDestroy(la);
	cublasLtMatrixLayoutDestroy(lb);
	cublasLtMatrixLayoutDestroy(ld_);
	cublasLtMatmulDescDestroy(op);
	if (st_ != CUBLAS_STATUS_SUCCESS && st_ != CUBLAS_STATUS_NOT_SUPPORTED)
		die("cublasLtMatmulAlgoGetHeuristic failed: cuBLASLt status %d (%lld x %lld x %lld, "
		    "types %d %d %d)", (int)st_, (long long)m, (long long)n, (long long)k, key->tA,
		    key->tB, key->tD);
	p->state = key->epi ? 2 : 3;
}

static lt_plan *plan_for(const lt_key *key, const kn_tensor *bias, const kn_tensor *aux)
{
	for (int i = 0; i < nplans; i++)
		if (!memcmp(&plans[i].key, key, sizeof *key))
			return &plans[i];
	lt_plan *p;
	if (nplans < LT_PLANS) {
		p = &plans[nplans++];
	} else {	/* more shapes than plans: replace them in turn */
		p = &plans[next_evict];
		next_evict = (next_evict + 1) % LT_PLANS;
		plan_free(p);
	}
	plan_make(p, key, bias, aux);
	return p;
}

/* D = alpha op(A) op(B) + beta D, column-major; bias (length m) added when given; with aux,
 * D = gelu(the product + bias) and aux the product + bias (its ld that of D). Returns -1
 * when cuBLASLt has no algorithm for an epilogue (the caller does without); without an
 * epilogue and an algorithm, cuBLAS's cublasGemmEx; dies on any other failure. */
static int lt_gemm(cublasOperation_t ta, cublasOperation_t tb, int64_t m, int64_t n, int64_t k,
		    const kn_tensor *A, int64_t lda, const kn_tensor *B, int64_t ldb, kn_tensor *D,
		    int64_t ldd, float beta, const kn_tensor *bias, kn_tensor *aux,
		    int deterministic, const char *what)
{
	lt_key key;
	memset(&key, 0, sizeof key);	/* compared with memcmp: no stray padding bytes */
	key.ta = (int)ta;
	key.tb = (int)tb;
	key.epi = (bias ? 1 : 0) + (aux ? 2 : 0);
	key.det = deterministic != 0;
	key.m = m;
	key.n = n;
	key.k = k;
	key.lda = lda;
	key.ldb = ldb;
	key.ldd = ldd;
	key.tA = (int)cuda_type(A);
	key.tB = (int)cuda_type(B);
	key.tD = (int)cuda_type(D);
	key.al[0] = align_of(A->data);
	key.al[1] = align_of(B->data);
	key.al[2] = align_of(D->data);
	key.al[3] = bias ? align_of(bias->data) : 0;
	key.al[4] = aux ? align_of(aux->data) : 0;
	lt_plan *p = plan_for(&key, bias, aux);
	if (p->state == 2)
		return -1;
	if (p->state == 3) {
		/* no cuBLASLt algorithm for these leading dimensions or alignments: cuBLAS's
		 * general product takes any */
		float one = 1.0f;
		CKB(cublasGemmEx(blas, ta, tb, (int)m, (int)n, (int)k, &one, A->data, cuda_type(A),
				 (int)lda, B->data, cuda_type(B), (int)ldb, &beta, D->data,
				 cuda_type(D), (int)ldd, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
		return 0;
	}
	if (aux)
		CKL(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER,
						   &aux->data, sizeof aux->data));
	if (bias)
		CKL(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
						   &bias->data, sizeof bias->data));
	float alpha = 1.0f;
	void *w = grow(&sc_ws, WS_BYTES);
	cublasStatus_t st_ = cublasLtMatmul(lt, p->op, &alpha, A->data, p->la, B->data, p->lb,
					    &beta, D->data, p->ld, D->data, p->ld, &p->algo, w,
					    WS_BYTES, 0);
	if (st_ == CUBLAS_STATUS_NOT_SUPPORTED && key.epi) {	/* the caller does without */
		plan_free(p);
		p->key = key;
		p->state = 2;
		return -1;
	}
	if (st_ != CUBLAS_STATUS_SUCCESS)
		die("%s: cublasLtMatmul failed: cuBLASLt status %d (%lld x %lld x %lld)", what,
		    (int)st_, (long long)m, (long long)n, (long long)k);
	return 0;
}

template <class T> __global__ static void add_bias_k(T *o, const T *b, int64_t N, int64_t OC)
{
	int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
	if (i < N * OC)
		o[i] = st<T>(ld(o[i]) + ld(b[i % OC]));
}

static void f_matmul(kn_tensor *out, const kn_tensor *inp, const kn_tensor *w,
		     const kn_tensor *bias)
{
	int64_t OC = w->shape[0], C = w->shape[1], N = inp->n / C;
	want(inp, w->dtype, "matmul", "inp");
	want(bias, out->dtype, "matmul", "bias");
	if (lt_gemm(CUBLAS_OP_T, CUBLAS_OP_N, OC, N, C, w, C, inp, C, out, OC, 0.0f, bias, NULL,
		    out->be->deterministic, "matmul") == 0)
		return;
	/* no algorithm with the bias epilogue (a bias view aligned to less than 16 bytes) */
	lt_gemm(CUBLAS_OP_T, CUBLAS_OP_N, OC, N, C, w, C, inp, C, out, OC, 0.0f, NULL, NULL,
		out->be->deterministic, "matmul");
	BY_DTYPE(out, "matmul", add_bias_k<T><<<blocks(N * OC, 256), 256>>>(P(T, out), CP(T, bias),
									   N, OC));
	LAUNCHED("matmul bias");
}

static void f_gelu(kn_tensor *out, const kn_tensor *inp);

/* bf16: GELU in the product's epilogue, the pre-activation as its auxiliary output (cuBLASLt
 * wants that one's leading dimension a multiple of 8). fp32, the reference precision: the
 * product, then the GELU kernel. */
static void f_matmul_gelu(kn_tensor *out, kn_tensor *pre, const kn_tensor *inp,
			  const kn_tensor *w, const kn_tensor *bias)
{
	int64_t OC = w->shape[0], C = w->shape[1], N = inp->n / C;
	want(pre, out->dtype, "matmul_gelu", "pre");
	if (out->dtype != KN_BF16 || OC % 8 || align_of(pre->data) < 16) {
		f_matmul(pre, inp, w, bias);
		f_gelu(out, pre);
		return;
	}
	want(inp, w->dtype, "matmul_gelu", "inp");
	want(bias, out->dtype, "matmul_gelu", "bias");
	if (lt_gemm(CUBLAS_OP_T, CUBLAS_OP_N, OC, N, C, w, C, inp, C, out, OC, 0.0f, bias, pre,
		    out->be->deterministic, "matmul_gelu") < 0) {
		f_matmul(pre, inp, w, bias);
		f_gelu(out, pre);
	}
}

static void f_matmul_bwd(kn_tensor *dinp, kn_tensor *dw, kn_tensor *dbias, const kn_tensor *dout,
			 const kn_tensor *inp, const kn_tensor *w)
{
	int64_t OC = w->shape[0], C = w->shape[1], N = dout->n / OC;
	int det = dout->be->deterministic;
	want(dout, w->dtype, "matmul_bwd", "dout");
	want(inp, w->dtype, "matmul_bwd", "inp");
	want(dw, KN_F32, "matmul_bwd", "dw");
	want(dbias, KN_F32, "matmul_bwd", "dbias");
	/* dinp^T (C x N) += W^T (C x OC) dout^T (OC x N) */
	if (dinp)
		lt_gemm(CUBLAS_OP_N, CUBLAS_OP_N, C, N, OC, w, C, dout, OC, dinp, C, 1.0f, NULL,
			NULL, det, "matmul_bwd dinp");
	/* dW^T (C x OC) += inp^T (C x N) dout (N x OC) */
	if (dw)
		lt_gemm(CUBLAS_OP_N, CUBLAS_OP_T, C, OC, N, inp, C, dout, OC, dw, C, 1.0f, NULL,
			NULL, det, "matmul_bwd dw");
	if (dbias)
		BY_DTYPE(dout, "matmul_bwd",
			 colsum<T>(F32(dbias), CP(T, dout), (const T *)NULL, NULL, NULL, N, OC));
}

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

static void f_embed(kn_tensor *out, const kn_tensor *tok, const kn_tensor *pos,
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

static void f_embed_bwd(kn_tensor *dwte, kn_tensor *dwpe, const kn_tensor *dout,
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

/* Residual + norm: one block a row, the row in shared memory as fp32 */

template <class T>
__global__ static void residual_norm_k(T *res, T *out, float *mean, float *rstd, const T *a,
				       const T *b, const T *w, const T *bias, int64_t C, float eps)
{
	extern __shared__ float row[];
	__shared__ float sh[32];
	int64_t r = blockIdx.x;
	T *x = res + r * C, *y = out + r * C;
	float s = 0.0f;
	for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
		float v;
		if (a) {
			v = ld(a[r * C + c]) + ld(b[r * C + c]);
			x[c] = st<T>(v);
		} else {
			v = ld(x[c]);
		}
		row[c] = v;
		s += v;
	}
	float m = mean ? block_sum(s, sh) / (float)C : 0.0f;
	float q = 0.0f;
	for (int64_t c = threadIdx.x; c < C; c += blockDim.x)
		q += (row[c] - m) * (row[c] - m);
	float rs = rsqrtf(block_sum(q, sh) / (float)C + eps);
	for (int64_t c = threadIdx.x; c < C; c += blockDim.x)
		y[c] = st<T>((row[c] - m) * rs * ld(w[c]) + (bias ? ld(bias[c]) : 0.0f));
	if (threadIdx.x == 0) {
		if (mean)
			mean[r] = m;
		rstd[r] = rs;
	}
}

/* dynamic shared memory for a kernel: over 48 KB with its static shared memory, it must be
 * asked for */
template <class K> static void smem(K kernel, size_t bytes, const char *what)
{
	cudaFuncAttributes fa;
	CK(cudaFuncGetAttributes(&fa, kernel));
	if (bytes + fa.sharedSizeBytes > 48 * 1024) {
		cudaError_t e = cudaFuncSetAttribute(kernel,
						     cudaFuncAttributeMaxDynamicSharedMemorySize,
						     (int)bytes);
		if (e != cudaSuccess)
			die("%s: %zu bytes of shared memory: %s", what, bytes,
			    cudaGetErrorString(e));
	}
}

static void f_residual_norm(kn_tensor *res, kn_tensor *out, kn_tensor *mean, kn_tensor *rstd,
			    const kn_tensor *a, const kn_tensor *b, const kn_tensor *w,
			    const kn_tensor *bias, float eps)
{
	int64_t C = res->shape[res->ndim - 1], N = res->n / C;
	size_t sm = (size_t)C * sizeof(float);
	want(out, res->dtype, "residual_norm", "out");
	want(a, res->dtype, "residual_norm", "a");
	want(b, res->dtype, "residual_norm", "b");
	want(w, res->dtype, "residual_norm", "w");
	want(bias, res->dtype, "residual_norm", "bias");
	want(mean, KN_F32, "residual_norm", "mean");
	want(rstd, KN_F32, "residual_norm", "rstd");
	BY_DTYPE(res, "residual_norm", {
		smem(residual_norm_k<T>, sm, "residual_norm");
		residual_norm_k<T><<<(unsigned)N, 256, sm>>>(
			P(T, res), P(T, out), mean ? F32(mean) : NULL, F32(rstd),
			a ? CP(T, a) : NULL, b ? CP(T, b) : NULL, CP(T, w),
			bias ? CP(T, bias) : NULL, C, eps);
	});
	LAUNCHED("residual_norm");
}

template <class T>
__global__ static void norm_bwd_rows_k(T *dinp, const T *dout, const T *inp, const T *w,
				       const float *mean, const float *rstd, int64_t C)
{
	__shared__ float sh[32];
	int64_t r = blockIdx.x;
	const T *x = inp + r * C, *g = dout + r * C;
	float m = mean ? mean[r] : 0.0f, s = rstd[r], sg = 0.0f, sgx = 0.0f;
	for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
		float d = ld(g[c]) * ld(w[c]);
		sg += d;
		sgx += d * (ld(x[c]) - m) * s;
	}
	sg = block_sum(sg, sh) / (float)C;
	sgx = block_sum(sgx, sh) / (float)C;
	for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
		float d = ld(g[c]) * ld(w[c]), xh = (ld(x[c]) - m) * s, v = d - xh * sgx;
		if (mean)
			v -= sg;
		dinp[r * C + c] = st<T>(ld(dinp[r * C + c]) + v * s);
	}
}

static void f_norm_bwd(kn_tensor *dinp, kn_tensor *dw, kn_tensor *dbias, const kn_tensor *dout,
		       const kn_tensor *inp, const kn_tensor *w, const kn_tensor *mean,
		       const kn_tensor *rstd)
{
	int64_t C = inp->shape[inp->ndim - 1], N = inp->n / C;
	want(dout, inp->dtype, "norm_bwd", "dout");
	want(dinp, inp->dtype, "norm_bwd", "dinp");
	want(w, inp->dtype, "norm_bwd", "w");
	want(dw, KN_F32, "norm_bwd", "dw");
	want(dbias, KN_F32, "norm_bwd", "dbias");
	BY_DTYPE(inp, "norm_bwd", {
		norm_bwd_rows_k<T><<<(unsigned)N, 256>>>(P(T, dinp), CP(T, dout), CP(T, inp),
							 CP(T, w), mean ? F32(mean) : NULL,
							 F32(rstd), C);
		LAUNCHED("norm_bwd rows");
		if (dw)
			colsum<T>(F32(dw), CP(T, dout), CP(T, inp), mean ? F32(mean) : NULL,
				  F32(rstd), N, C);
		if (dbias)
			colsum<T>(F32(dbias), CP(T, dout), (const T *)NULL, NULL, NULL, N, C);
	});
}

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

static void f_rope(kn_tensor *qkv, const kn_tensor *pos, const kn_attn_shape *s, float theta,
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

/* the first key any query of the block [t0, t0 + BQ) may see */
__device__ static int block_first_key(const int32_t *doc, int64_t r0, int t0, int T, int *sh)
{
	int t = t0 + (int)threadIdx.x;
	int u0 = doc && t < T ? doc[r0 + t] : (doc ? T : 0);
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
	attn_fwd_k(T *out, float *lse, const T *p, const int32_t *doc, attn_args a)
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
	int first = block_first_key(doc, r0, t0, a.T, shi);
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
			s[i] = u >= lo && u <= t ? d : -INFINITY;
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

static void f_attention(kn_tensor *out, kn_tensor *lse, const kn_tensor *qkv, const kn_tensor *doc,
			const kn_attn_shape *s)
{
	attn_args a = attn_of(s);
	want(out, qkv->dtype, "attention", "out");
	want(lse, KN_F32, "attention", "lse");
	dim3 grid((unsigned)((s->T + BQ - 1) / BQ), (unsigned)s->nh, (unsigned)s->B);
	BY_DTYPE(qkv, "attention", BY_HD(s->hd, "attention",
		 attn_fwd_k<T, HDM><<<grid, BQ>>>(P(T, out), F32(lse), CP(T, qkv),
						  doc ? IDS(doc) : NULL, a)));
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
	int first = block_first_key(doc, r0, t0, a.T, shi);
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

static void f_attention_bwd(kn_tensor *dqkv, const kn_tensor *dout, const kn_tensor *out,
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

static void f_attention_decode(kn_tensor *out, const kn_tensor *qkv, kn_tensor *kcache,
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

static void f_kv_store(kn_tensor *kcache, kn_tensor *vcache, const kn_tensor *qkv,
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

static void f_xent(kn_tensor *losses, kn_tensor *dlogits, const kn_tensor *logits,
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

static void f_adamw(kn_tensor *p, const kn_tensor *g, kn_tensor *m, kn_tensor *v, float lr,
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

/* What the fused version implements; memory operations and casts are the plain version's
 * (kernels.c takes those from the plain table). */
static const kn_ops fused_ops = {
	"cuda",
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	f_embed,
	f_embed_bwd,
	f_matmul,
	f_matmul_bwd,
	f_residual_norm,
	f_norm_bwd,
	f_add,
	f_gelu,
	f_gelu_bwd,
	f_swiglu,
	f_swiglu_bwd,
	f_rope,
	f_attention,
	f_attention_bwd,
	f_attention_decode,
	f_kv_store,
	f_xent,
	f_sumsq,
	f_sum,
	f_scale,
	f_adamw,
	f_matmul_gelu,
};

const kn_ops *kn_cuda_plain_open(char *err, size_t errlen);

/* The library's entry point: the plain operations (fp32), and in *fused the fused ones, or
 * NULL with the reason (no GPU, a GPU this build has no code for). */
extern "C" const kn_ops *kn_cuda_open(char *err, size_t errlen, const kn_ops **fused)
{
	*fused = NULL;
	const kn_ops *plain = kn_cuda_plain_open(err, errlen);
	if (!plain)
		return NULL;
	if (cublasLtCreate(&lt) != CUBLAS_STATUS_SUCCESS) {
		snprintf(err, errlen, "cannot initialise cuBLASLt");
		return NULL;
	}
	*fused = &fused_ops;
	return plain;
}
