/* cuda.cu - the CUDA backend's fused mixed-precision operations: their table, the entry point.
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
 * The kernels are one file per family (cuda_eltwise.cu, cuda_reduce.cu, cuda_matmul.cu,
 * cuda_embed.cu, cuda_norm.cu, cuda_attention.cu, cuda_loss.cu, cuda_optim.cu); what they share
 * is in cuda_common.cuh.
 *
 * NOTE: written and compiled without a GPU (nvcc for sm_90 and PTX); make check-gpu compares
 * each operation with the CPU backend and with the plain version (cuda_plain.cu) on a GPU.
 */
#include "cuda_common.cuh"

extern const kn_ops kn_cuda_plain_ops;

/* the scratch buffers of the whole backend (cuda_common.cuh) */
scratch sc_part, sc_lse, sc_tok, sc_ws;

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
