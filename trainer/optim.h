/* optim.h - the optimizer: the learning-rate schedule, parsed once, and AdamW over the
 * model's two parameter groups (decayed: matrices and embeddings; not: norms and biases). */
#ifndef LM_OPTIM_H
#define LM_OPTIM_H

#include "model.h"

typedef enum { LM_COSINE, LM_WSD, LM_CONSTANT } lm_sched_kind;

typedef struct lm_schedule {
	lm_sched_kind kind;
	double lr, min_lr;	/* peak and final learning rates */
	long long steps, warmup;
	double decay;		/* wsd: the fraction of the steps in the final decay */
} lm_schedule;

/* The names of the kinds, indexed by lm_sched_kind: "cosine", "wsd", "constant", NULL. */
extern const char *const lm_schedules[];
const char *lm_schedule_name(lm_sched_kind kind);
/* The learning rate at step s (0-based): linear warmup over the first `warmup` steps, then
 * cosine to min_lr, constant, or wsd (constant, then linear to min_lr over the decay). */
double lm_lr_at(const lm_schedule *s, long long step);
/* wsd's decay (where the anneal data mix trains): step is in it. */
int lm_in_decay(const lm_schedule *s, long long step);

typedef struct lm_adamw_opts {
	double beta1, beta2, eps;
	double weight_decay;	/* decoupled, on the decayed group only */
	double clip;		/* the gradient norm is clipped to this (0: not clipped) */
} lm_adamw_opts;

typedef struct lm_adamw {
	lm_adamw_opts o;
	lm_model *m;
	kn_tensor *pd, *gd, *md, *vd;	/* the decayed range of params, grads, m and v */
	kn_tensor *pn, *gn, *mn, *vn;	/* the rest (NULL: a part without any) */
} lm_adamw;

/* AdamW on m (made for training: m->m, m->v) over the parameters whose moments m holds,
 * [m->mlo, m->mlo + m->mn): all of them, or a data parallel rank's part (ZeRO-1), split
 * where it crosses from the decayed group to the rest (either group may be empty). */
void lm_adamw_init(lm_adamw *a, lm_model *m, const lm_adamw_opts *o);
/* One step at learning rate lr after the gradients of the step were summed into m->grads
 * (of those parameters at least), whose norm is gnorm (clipping); step counts from 1. The
 * bf16 copy follows when every parameter was updated; after a part, the caller gathers the
 * others' parts, then calls lm_params_changed. */
void lm_adamw_step(lm_adamw *a, double lr, double gnorm, long long step);
void lm_adamw_free(lm_adamw *a);
#endif
