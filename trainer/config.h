/* config.h - what a model is, before any tensor exists: its configuration (presets,
 * config.json in and out), the parameter tensors that configuration has and their order in
 * the flat buffers, Hugging Face's names for them, and the FLOPs a token costs.
 *
 * Parameters are stored with the tensors that take weight decay (matrices, embeddings) first,
 * then those that do not (norms, biases). Each parameter has its Hugging Face name(s): a fused
 * tensor of ours (GPT-2's qkv, Llama's q/k/v and gate/up) maps to row ranges, and GPT-2's
 * Conv1D weights are stored transposed.
 */
#ifndef LM_CONFIG_H
#define LM_CONFIG_H
#include <stddef.h>
#include <stdint.h>

enum { LM_GPT2, LM_LLAMA };

typedef struct lm_config {
	int style;
	int vocab;		/* true vocabulary size (checkpoints keep it) */
	int vocab_padded;	/* rounded up to 64 for the matrix products */
	int ctx;		/* maximum positions */
	int layers, heads, kv_heads, dim, head_dim, hidden;
	int tied;
	float norm_eps, rope_theta;
	int bos, eos;		/* token ids written into config.json (-1: none) */
	/* 0: a causal language model (the token head). n > 0: a sequence classification model
	 * (a reward model: 1), a score head of n outputs, Hugging Face's score.weight [n, dim]
	 * without a bias, on the final norm's output, in place of the token head (an untied
	 * head is dropped; a tied one stays the embedding) */
	int labels;
	int problem;		/* a classifier's loss, config.json's problem_type: LM_PROBLEM_* */
} lm_config;

/* A classifier's problem_type: none (a reward model), binary cross-entropy on each label as
 * a logit (transformers' multi_label_classification), squared error (regression). */
enum { LM_PROBLEM_NONE, LM_PROBLEM_BCE, LM_PROBLEM_MSE };

/* The width of the head's output a position: labels, or the padded vocabulary. */
static inline int lm_out_width(const lm_config *cfg)
{
	return cfg->labels > 0 ? cfg->labels : cfg->vocab_padded;
}

/* Fill cfg from a preset name (tiny, small, gpt2-124m, llama-125m) or a JSON file (ours or a
 * Hugging Face config.json). vocab > 0 overrides the vocabulary size. 0, or -1 with the
 * reason in err. */
int lm_config_load(lm_config *cfg, const char *name_or_path, int vocab, char *err, size_t errlen);
int lm_config_parse(lm_config *cfg, const char *json, char *err, size_t errlen);
int lm_config_check(const lm_config *cfg, char *err, size_t errlen);
/* config.json for transformers (malloc'd). */
char *lm_config_json(const lm_config *cfg);
int64_t lm_config_nparams(const lm_config *cfg);	/* with the padded vocabulary */
const char *lm_presets(void);	/* "tiny, small, gpt2-124m, llama-125m" */
/* Width of the packed q, k, v projection: (heads + 2 kv_heads) x head_dim. */
int lm_qkv_width(const lm_config *cfg);
/* FLOPs of training on a token (forward and backward) with T positions a row: the
 * estimate MFU is measured against. */
double lm_config_flops(const lm_config *cfg, int T);

enum {
	P_LN1_W, P_LN1_B, P_QKV_W, P_QKV_B, P_O_W, P_O_B, P_LN2_W, P_LN2_B, P_FC_W, P_FC_B,
	P_PROJ_W, P_PROJ_B, P_NLAYER
};
enum { P_WTE, P_WPE, P_LNF_W, P_LNF_B, P_HEAD, P_SCORE, P_NGLOBAL };

/* One parameter tensor in the flat buffer. */
typedef struct lm_param {
	int layer, field;	/* layer -1: global */
	int ndim;
	int64_t shape[2];
	int64_t off, n;
	int decay;
} lm_param;

/* The parameters of cfg in storage order, with their offsets (malloc'd; *n of them). */
lm_param *lm_config_params(const lm_config *cfg, int *n);

/* A tensor as Hugging Face names and lays it out: rows [row0, row0 + rows) of a parameter,
 * transposed when GPT-2's Conv1D stores it [in, out]. */
typedef struct lm_hf_tensor {
	char name[96];
	int param;		/* index into the parameters (lm_config_params) */
	int64_t row0, rows, cols;
	int transpose;
	int ndim;
} lm_hf_tensor;

/* Hugging Face's tensors for the parameters p[0..np) of cfg (malloc'd; *n of them). */
lm_hf_tensor *lm_config_hf(const lm_config *cfg, const lm_param *p, int np, int *n);
#endif
