/* cuda_matmul.cu - the fused backend's matrix products through cuBLASLt: plans kept by
 * shape, the bias and GELU in the epilogue, the backward's products and bias gradient. */
#include <stdint.h>
#include <string.h>

#include "cuda_common.cuh"

#define CKL(call)                                                                            \
	do {                                                                                 \
		cublasStatus_t s_ = (call);                                                  \
		if (s_ != CUBLAS_STATUS_SUCCESS)                                             \
			die("%s failed (%s:%d): cuBLASLt status %d", #call, __FILE__,          \
			    __LINE__, (int)s_);                                              \
	} while (0)

/* Matrix products through cuBLASLt. Row-major out[N,OC] = inp[N,C] W[OC,C]^T is column-major
 * out^T = W^T-as-stored... : D (OC x N, ld OC) = op(A) B with A = W (C x OC column-major, ld C,
 * transposed) and B = inp (C x N, ld C). */

cublasLtHandle_t lt;	/* kn_cuda_open makes it */

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

void f_matmul(kn_tensor *out, const kn_tensor *inp, const kn_tensor *w,
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

/* bf16: GELU in the product's epilogue, the pre-activation as its auxiliary output (cuBLASLt
 * wants that one's leading dimension a multiple of 8). fp32, the reference precision: the
 * product, then the GELU kernel. */
void f_matmul_gelu(kn_tensor *out, kn_tensor *pre, const kn_tensor *inp,
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

void f_matmul_bwd(kn_tensor *dinp, kn_tensor *dw, kn_tensor *dbias, const kn_tensor *dout,
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
