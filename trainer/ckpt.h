/* ckpt.h - weights in Hugging Face's layout (safetensors + config.json), and the files of a
 * training checkpoint (weights, config, tokenizer, optimizer state, trainer state with the
 * checksums of the others). Where checkpoints go and when: run.h. */
#ifndef LM_CKPT_H
#define LM_CKPT_H
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "model.h"
#include "safetensors.h"
#include "tok.h"

/* The config of a checkpoint: PATH/config.json, or the config.json beside a .safetensors file. */
int lm_ckpt_config(const char *path, lm_config *cfg, char *err, size_t errlen);
/* Load weights (fp32, bf16 or fp16) from a directory (model.safetensors, or sharded with
 * model.safetensors.index.json) or one .safetensors file, with Hugging Face names. Every
 * tensor the model needs must be there with the right shape. */
int lm_load_weights(lm_model *m, const char *path, char *err, size_t errlen);
/* Write model.safetensors (fp32, Hugging Face names) to path. */
int lm_save_weights(lm_model *m, const char *path, char *err, size_t errlen);
/* The same layout with the gradients (m->grads) in the weights' places (--dump-grads). */
int lm_save_grads(lm_model *m, const char *path, char *err, size_t errlen);

/* A run directory (with a 'latest' file naming its newest checkpoint) resolves to that
 * checkpoint; anything else to itself. */
void lm_ckpt_resolve(const char *path, char *out, size_t outlen);

/* Checksums (ckpt.c): every file of a checkpoint directory is read through these. When the
 * directory's trainer.json lists the file's size and XXH3-64, the bytes must match: a
 * mismatch is an error naming the file. verified (may be NULL) is set to 1 when a checksum
 * vouched for the file, 0 when none did (no trainer.json, or it does not list the file).
 * lm_ckpt_verify returns the same, or -1 with the reason in err. */
int lm_ckpt_verify(const char *path, const void *data, size_t n, char *err, size_t errlen);
/* A whole file of at most max bytes, NUL-terminated (malloc'd), checked. */
char *lm_ckpt_read(const char *path, size_t max, size_t *n, int *verified, char *err,
		   size_t errlen);
/* cm_st_open after checking the file. */
cm_st *lm_ckpt_st_open(const char *path, int *verified, char *err, size_t errlen);
/* A tokenizer (cm_tok_load), checked when a checkpoint's trainer.json lists it. */
cm_tok *lm_ckpt_tokenizer(const char *path, char *err, size_t errlen);
/* trainer.json of dir: its object, json_null() when there is none, NULL (err) when it cannot
 * be read. */
json_t *lm_ckpt_trainer(const char *dir, char *err, size_t errlen);
/* Size and XXH3-64 of a file (mapped). 0, or -1 with the reason. */
int lm_file_xxh3(const char *path, size_t *n, uint64_t *h, char *err, size_t errlen);
/* XXH3-64 of a tensor's bytes (params_xxh3, optimizer_xxh3). */
uint64_t lm_tensor_xxh3(const kn_tensor *t);

/* The trainer's state in trainer.json beside the weights. */
typedef struct lm_state {
	long long step;		/* optimizer steps taken */
	uint64_t tokens;	/* tokens trained on */
	double elapsed;		/* training seconds */
	long long threads;	/* the threads of the run that saved it (-1: not recorded) */
	int ppo;		/* a PPO run's (lm-train --ppo): kl_coef is its KL coefficient */
	double kl_coef;
} lm_state;

/* Where a checkpoint's AdamW moments come from when the model holds only its part of them
 * (ZeRO-1): get(ctx, which, off, n, buf) puts elements [off, off + n) of the whole m (which
 * 0) or v (1) into buf; on the ranks that do not write, buf is NULL (they send their part). */
typedef struct lm_moments {
	void (*get)(void *ctx, int which, int64_t off, int64_t n, float *buf);
	void *ctx;
} lm_moments;

/* A training checkpoint into the directory dir (made, empty): model.safetensors, config.json,
 * tokenizer.json (when tok is given), optimizer.safetensors (AdamW's moments: the model's
 * own, all of them, when mo is NULL; else through mo, which lm_ckpt_send_moments on every
 * other rank answers; written a piece of 4 MiB at a time either way), and
 * trainer.json: st (its threads: the backend's), the size and XXH3-64 of each file, hashes
 * of the parameters and moments, and options (the options that decide the numbers); the
 * directory synced. 0, or -1 with the reason (the caller removes dir). */
int lm_ckpt_write(const char *dir, lm_model *m, const lm_moments *mo, const cm_tok *tok,
		  const lm_state *st, json_t *options, char *err, size_t errlen);
/* A rank that does not write the checkpoint (ZeRO-1): mo->get with a NULL buffer for the
 * pieces of the n moments of m, then of v, in the order lm_ckpt_write asks for them. */
void lm_ckpt_send_moments(const lm_moments *mo, int64_t n);
/* Remove a checkpoint directory: the files lm_ckpt_write writes there and their temporary
 * files, then the directory (left when it holds anything else). */
void lm_ckpt_remove(const char *dir);
/* The AdamW moments of the checkpoint dir into m (made for training: those of its part,
 * [m->mlo, m->mlo + m->mn), of the whole moments saved) and the state of its trainer.json t,
 * after its weights were loaded: the weights and moments checked against the hashes saved.
 * 0, or -1 with the reason. */
int lm_ckpt_load_state(const char *dir, json_t *t, lm_model *m, lm_state *st, char *err,
		       size_t errlen);
/* The tokenizer of the checkpoint dir against tok: 1 the same ids (or nothing to compare:
 * no tok, no tokenizer.json), 0 another one, -1 when it cannot be read (err). path gets the
 * checkpoint's tokenizer file. */
int lm_ckpt_same_tokenizer(const char *dir, const cm_tok *tok, char *path, size_t pathlen,
			   char *err, size_t errlen);
#endif
