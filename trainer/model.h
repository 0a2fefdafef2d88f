/* model.h - the decoder-only transformer (GPT-2 and Llama styles) on the kernel interface.
 *
 * Parameters and their gradients are two flat buffers with the same layout (config.h): the
 * tensors that take weight decay first, then those that do not, so AdamW runs as two passes
 * over two ranges (optim.h).
 */
#ifndef LM_MODEL_H
#define LM_MODEL_H
#include <stdint.h>

#include "config.h"
#include "kernels.h"

typedef struct lm_weights {
	kn_tensor *g[P_NGLOBAL];
	kn_tensor *(*l)[P_NLAYER];	/* [layers][P_NLAYER] */
} lm_weights;

typedef struct lm_acts lm_acts;

typedef struct lm_model {
	lm_config cfg;
	kn_backend *be;
	kn_tensor *params, *grads, *m, *v;	/* flat: params always; grads, m and v for training
						 * (grads: else from the first backward) */
	int64_t nparams, ndecay;		/* decay range: [0, ndecay) */
	int64_t mlo, mn;	/* m and v: the moments of parameters [mlo, mlo + mn) (training) */
	lm_param *p;
	int np;
	lm_weights w, gw;
	lm_hf_tensor *hf;
	int nhf;
	kn_dtype adt;		/* weights as the products read them, and activations */
	kn_tensor *wlow;	/* bf16 copy of params (mixed precision), or NULL; w views it */
	lm_acts *acts;
	int B, T;		/* the shape the activations were made for */
	kn_tensor **store;	/* inference activations' storage, kept across shapes (model.c) */
	int nstore;
	kn_tensor *kc, *vc;	/* KV caches, [layers] x [B, Tmax, kv_heads x head_dim] */
	kn_tensor **kcl, **vcl;	/* their per-layer views */
	int kv_B, kv_T;
} lm_model;

/* A model; training: with AdamW's moments of every parameter. lm_model_new_part: with the
 * moments of part `part` of `parts` of the flat parameters only (kn_part; ZeRO-1: a data
 * parallel rank's), m and v that long. */
lm_model *lm_model_new(kn_backend *be, const lm_config *cfg, int training);
lm_model *lm_model_new_part(kn_backend *be, const lm_config *cfg, int part, int parts);
/* Mixed precision: KN_BF16 keeps a bf16 copy of the (fp32) parameters for the forward and
 * backward, bf16 activations and activation gradients, fp32 parameter gradients, norm
 * statistics and losses; KN_F32 (the default) computes in fp32 throughout. */
void lm_model_set_precision(lm_model *m, kn_dtype dt);
/* After the fp32 parameters changed (optimizer step, loading): refresh the bf16 copy. */
void lm_params_changed(lm_model *m);
/* Logits rows [row0, row0 + rows) of the last forward as fp32 (rows x vocab_padded). */
void lm_logits_get(lm_model *m, int64_t row0, int64_t rows, float *dst);
void lm_model_free(lm_model *m);
/* Initialise weights from a seed (normal 0.02, residual projections 0.02 / sqrt(2 layers)). */
void lm_model_init(lm_model *m, uint64_t seed);

/* Tensor memory in bytes, as the backend counts it (kn_backend.peak), before allocating
 * any: the state (weights; gradients and AdamW's moments when training; the bf16 copy), the
 * activations of a B x T forward (and backward when training), the KV caches. */
double lm_state_bytes(const lm_config *cfg, int training, kn_dtype adt);
double lm_acts_bytes(const lm_config *cfg, int B, int T, int training, kn_dtype adt);
double lm_kv_bytes(const lm_config *cfg, int B, int Tmax, kn_dtype adt);

/* Forward over tokens [B x T] (host ids); logits end in lm_logits(m) [B x T, vocab_padded].
 * pos, doc: optional host arrays [B x T] (positions; first row index of each token's
 * document). */
void lm_forward(lm_model *m, int B, int T, const int32_t *tokens, const int32_t *pos,
		const int32_t *doc);
kn_tensor *lm_logits(lm_model *m);
/* lm_forward computing the logits of some positions only: runs[2i] a first position (in the
 * B x T order) and runs[2i + 1] how many follow it; the logits of the k-th selected position
 * are then row k (lm_logits_get). pos, doc as lm_forward's; pre (optional, [B x T]): token t
 * also sees its row's positions [0, pre[t]) before its document (pre[t] <= doc[t]), a shared
 * context several continuations follow (kernels.h). For inference: the final norm's input is
 * overwritten, no backward may follow. */
void lm_forward_select(lm_model *m, int B, int T, const int32_t *tokens, const int32_t *pos,
		       const int32_t *doc, const int32_t *pre, const int64_t *runs, int nruns);
/* Cross-entropy against targets [B x T] (-1 ignored) after lm_forward. When dscale != 0 the
 * logits are replaced by their gradient (scaled by dscale) for lm_backward. Per-token losses
 * are downloaded into losses when given. Returns the sum of the losses. */
double lm_loss(lm_model *m, const int32_t *targets, float dscale, float *losses);
/* Backward after lm_loss with dscale != 0: adds into m->grads. */
void lm_backward(lm_model *m);

/* Decoding with the KV cache: one token per row at positions pos[b]; logits [B, vocab_padded]
 * downloaded into out (B x vocab_padded floats). */
void lm_kv_reset(lm_model *m, int B, int Tmax);
void lm_kv_free(lm_model *m);
void lm_decode_step(lm_model *m, const int32_t *tokens, const int32_t *pos, float *out);
/* The first T positions of every row in one forward pass (tokens [B x T]), filling the
 * caches; the logits at position T - 1 go to last ([B, vocab_padded]). Decoding goes on at
 * position T. */
void lm_prefill(lm_model *m, const int32_t *tokens, int T, float *last);

/* A model of vocabulary `vocab` (more than old's) with old's weights: the rows of the token
 * embedding (and the output layer when untied) for the new ids are the mean of old's rows,
 * as Hugging Face's resize_token_embeddings(mean_resizing=True) starts them less its noise. */
lm_model *lm_model_grow_vocab(lm_model *old, int vocab, int training);

/* A sequence classifier (lm_config.labels): after lm_forward, lm_logits_get reads each
 * position's scores (rows of labels); lm_head_grad puts the gradient of the loss with respect
 * to every one of them (host [B x T x labels], 0 where a position is not scored) where
 * lm_backward takes it. */
void lm_head_grad(lm_model *m, const float *d);
/* A model with old's weights and a score head of `labels` outputs (config.h) in place of the
 * token head, the head initialised as lm_model_init does (normal, standard deviation 0.02,
 * from seed): a language model made a reward model or classifier. */
lm_model *lm_model_with_head(lm_model *old, int labels, int training, uint64_t seed);

/* Hugging Face naming */
const lm_hf_tensor *lm_hf_find(const lm_model *m, const char *name);
/* Copy a parameter's HF view to/from host fp32 [rows x cols] (transposed as HF stores it). */
void lm_hf_get(lm_model *m, const lm_hf_tensor *h, kn_tensor *flat, float *dst);
void lm_hf_set(lm_model *m, const lm_hf_tensor *h, kn_tensor *flat, const float *src);
#endif
