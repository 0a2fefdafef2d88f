/* session.h - what every trainer program sets up the same way: the backend from --device,
 * --threads, --precision and --deterministic, and the model of a checkpoint (a run
 * directory, one of its checkpoints, or a Hugging Face model directory) with its tokenizer. */
#ifndef LM_SESSION_H
#define LM_SESSION_H
#include <stddef.h>

#include "config.h"
#include "kernels.h"
#include "model.h"
#include "tok.h"

/* The options that choose the device. */
typedef struct lm_device {
	const char *name;	/* --device: cpu, cuda, cuda:plain or auto (NULL: auto) */
	int threads;		/* --threads (0: all) */
	int precision;		/* --precision: a kn_dtype, or -1 for the backend's default */
	int deterministic;	/* --deterministic */
} lm_device;

/* The names of the precisions, indexed by kn_dtype: "fp32", "bf16", NULL. */
extern const char *const lm_precisions[];
const char *lm_precision_name(kn_dtype dt);
/* The option table fragment (opt.h) under "Device:": --device, --precision and -j/--threads,
 * into d (its defaults set by the caller: name NULL or "auto", precision -1, threads 0). */
struct cm_opt;
const struct cm_opt *lm_device_opts(lm_device *d);

typedef struct lm_session {
	kn_backend *be;
	kn_dtype adt;		/* the precision the model computes in */
	lm_config cfg;		/* the checkpoint's (lm_session_checkpoint), or the caller's */
	char dir[4096];		/* the checkpoint's directory, resolved ("" when none) */
	cm_tok *tok;		/* NULL until lm_session_tokenizer */
	lm_model *m;		/* NULL until lm_session_model */
} lm_session;

/* Open the backend d names, with its threads and precision. 0, or -1 with the reason. */
int lm_session_open(lm_session *s, const lm_device *d, char *err, size_t errlen);
/* The checkpoint at path: its directory (a run directory's latest) and its config into
 * s->cfg. 0, or -1 with the reason. */
int lm_session_checkpoint(lm_session *s, const char *path, char *err, size_t errlen);
/* The tokenizer at path (NULL: the checkpoint's tokenizer.json), checked against the
 * checkpoint's checksums when it is one of its files; another than the checkpoint's own
 * tokenizer.json (where it has one) must have the same tokens and merges (cm_tok_hash). 0, or
 * -1 with the reason. */
int lm_session_tokenizer(lm_session *s, const char *path, char *err, size_t errlen);
/* The model for s->cfg (training: with AdamW's moments) in s->adt, with the checkpoint's
 * weights when one was opened (else as made: lm_model_init). NULL with the reason. */
lm_model *lm_session_model(lm_session *s, int training, char *err, size_t errlen);
/* The same for training with the moments of part `part` of `parts` only (lm_model_new_part). */
lm_model *lm_session_model_part(lm_session *s, int part, int parts, char *err, size_t errlen);
void lm_session_close(lm_session *s);
/* A model beside s's (a reference, a reward or value model) from the checkpoint at dir, in s's
 * backend and precision (training: with AdamW's moments), checked: the tokenizer of s (the
 * same ids), its vocabulary, `labels` labels (0: a language model, 1: a reward model, not a
 * classifier), at least T positions, and on the CPU the memory left for its state, all
 * before its weights load. *bytes (may be NULL) gets its state's size (lm_state_bytes). NULL
 * with the reason. */
lm_model *lm_session_companion(lm_session *s, const char *dir, int training, int labels, int T,
			       double *bytes, char *err, size_t errlen);

/* The CPU's peak FLOP/s on threads cores, for the MFU estimate. */
double lm_cpu_peak_flops(int threads);
#endif
