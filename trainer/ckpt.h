/* ckpt.h - weights in Hugging Face's layout (safetensors + config.json), and training
 * checkpoints (weights, optimizer state, trainer state) written atomically. */
#ifndef LM_CKPT_H
#define LM_CKPT_H
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* The config of a checkpoint: PATH/config.json, or the config.json beside a .safetensors file. */
int lm_ckpt_config(const char *path, lm_config *cfg, char *err, size_t errlen);
/* Load weights (fp32, bf16 or fp16) from a directory (model.safetensors, or sharded with
 * model.safetensors.index.json) or one .safetensors file, with Hugging Face names. Every
 * tensor the model needs must be there with the right shape. */
int lm_load_weights(lm_model *m, const char *path, char *err, size_t errlen);
/* Write model.safetensors (fp32, Hugging Face names) to path. */
int lm_save_weights(lm_model *m, const char *path, char *err, size_t errlen);
#endif

/* A run directory (with a 'latest' file naming its newest checkpoint) resolves to that
 * checkpoint; anything else to itself. */
void lm_ckpt_resolve(const char *path, char *out, size_t outlen);
/* Model from a checkpoint (ours or Hugging Face's): config, then weights. */
lm_model *lm_ckpt_open(kn_backend *be, const char *path, int training, char *err, size_t errlen);
/* Write a small file durably: to path.tmp, fsync, rename, fsync the directory. */
int lm_write_file(const char *path, const void *data, size_t n, char *err, size_t errlen);
int lm_fsync_dir(const char *dir);
