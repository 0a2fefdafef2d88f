/* ppotrain.h - PPO on the models (lm-train --ppo): the prompts, the reference, reward and
 * value models beside the policy in one process, a batch of rollouts sampled with the KV cache
 * and scored, and the minibatches the optimisation epochs go over. The arithmetic is ppo.h's.
 *
 * A rollout: the prompt's ids (its last --context - --max-new ids when longer, counted), a
 * response sampled from the policy at the temperature (at most max_new ids, ending with the
 * end token: <|im_end|> after a chat prompt, else end-of-text), and then, in batched forward
 * passes over prompt + response:
 * - the policy's and the reference's log-probabilities of each response id (the logits divided
 *   by the temperature), and the policy's entropy at those positions;
 * - the value model's value at each response id's position (the state it was chosen in);
 * - the reward model's score of prompt + response at its last token (after a chat response's
 *   <|im_end|> the "\n" the chat template puts after every message, as the reward model saw
 *   its transcripts; the last ids the reward model's context holds).
 * The value model starts as the reward model (or --value's model) with its score head, and
 * scores every position (TRL's value model). Every model uses the policy's tokenizer. */
#ifndef LM_PPOTRAIN_H
#define LM_PPOTRAIN_H
#include <stddef.h>
#include <stdint.h>

#include "dpo.h"
#include "model.h"
#include "optim.h"
#include "ppo.h"
#include "session.h"

/* A file of prompts: the usable records (ppo prompts of dpo.h's lm_dpo_encode_prompt), a
 * seeded shuffle, the first val_fraction held out; every epoch reads the training prompts in
 * another seeded order. Memory: a few words a prompt (each is encoded again when used). */
typedef struct lm_ppo_prompts {
	char path[4096];
	void *map;
	size_t size;
	lm_dpo_enc enc;
	int maxp;		/* a prompt keeps its last maxp ids */
	uint64_t seed;
	uint64_t *off;		/* the usable records: offsets of their lines */
	uint32_t *len;		/* their lengths in bytes */
	size_t n;
	uint32_t *train, *val;
	size_t ntrain, nval;
	uint32_t *perm;
	int64_t perm_epoch;
	uint64_t records, skipped, truncated;
	char first_skip[512];
} lm_ppo_prompts;

int lm_ppo_prompts_open(lm_ppo_prompts *d, const char *path, const cm_tok *tok, int maxp,
			uint64_t seed, double val_fraction, char *err, size_t errlen);
void lm_ppo_prompts_close(lm_ppo_prompts *d);
/* Training prompt g of the global order (epoch g / ntrain). */
uint32_t lm_ppo_train_prompt(lm_ppo_prompts *d, uint64_t g);

/* What a batch of rollouts gave (means over its rollouts unless said). */
typedef struct lm_ppo_roll {
	int n;
	double kl;		/* sum over a response of lp - ref (objective/kl) */
	double kl_sq;		/* its square (summed over rollouts, like scores_sq) */
	double entropy;		/* sum over a response of -lp (objective/entropy) */
	double token_entropy;	/* the policy's entropy a response token (policy/entropy) */
	double scores, scores_sq;	/* the reward model's score (objective/scores) */
	double non_score;	/* -kl_coef times the kl (objective/non_score_reward) */
	double len;		/* response ids */
	double ended;		/* rollouts whose response ended with the end token (a count) */
	double cut;		/* prompts cut to their last ids (a count) */
	double ret_mean, ret_var, val_mean, val_var;	/* over tokens */
} lm_ppo_roll;

typedef struct lm_ppo {
	lm_ppo_opts o;
	lm_model *pol;		/* the policy (the caller's, made for training) */
	lm_model *ref, *rm;	/* the reference and the reward model, frozen */
	lm_model *vm;		/* the value model, made for training */
	lm_adamw vadam;		/* its AdamW */
	const cm_tok *tok;
	int T;			/* positions of prompt + response at most */
	double kl_coef;
	int64_t eot, end;	/* end-of-text, <|im_end|> (-1 when absent) */
	cm_ids nl;		/* the ids of "\n" */
	double bytes[4];	/* the models' state in bytes: policy, reference, reward, value */
	/* the current batch: rows of Tb positions, prompt then response, padding after */
	int n, Tb;
	int32_t *x, *y;		/* [n x Tb]: ids, and each response id at the position before it */
	int32_t *plen;		/* prompt ids a row */
	uint8_t *ended, *chat;
	lm_ppo_batch b;
	/* scratch */
	int32_t *xb, *yb;
	float *tl, *vals, *lg;
	double *g;
} lm_ppo;

/* The reference (ref_dir), the reward model (rm_dir) and the value model (value_dir, or
 * rm_dir) loaded into s's backend and precision beside the policy pol, checked: the policy's
 * tokenizer and vocabulary, a reward and value model with one label, a policy and reference
 * without, contexts of T positions. 0, or -1 with the reason. */
int lm_ppo_open(lm_ppo *p, lm_session *s, lm_model *pol, const char *ref_dir, const char *rm_dir,
		const char *value_dir, const lm_ppo_opts *o, const lm_adamw_opts *ad, int T,
		char *err, size_t errlen);
void lm_ppo_close(lm_ppo *p);

/* A batch of rollouts for prompts list[0..n) of d (several may be the same prompt): sampled
 * (row i from seed and i), scored; to train on (train), the values, rewards and advantages
 * too (lm_ppo_advantages); sums into st (st->n the rollouts; the returns' and values' figures
 * with train only). */
void lm_ppo_rollout(lm_ppo *p, lm_ppo_prompts *d, const uint32_t *list, int n, uint64_t seed,
		    int train, lm_ppo_roll *st);
/* The minibatch of rows rows[0..k) of the batch: both losses over their response tokens,
 * their gradients summed into the policy's and the value model's grads (the caller zeroes
 * them); sums into st. Returns the loss (policy + vf_coef value). */
double lm_ppo_minibatch(lm_ppo *p, const int *rows, int k, lm_ppo_stats *st);
#endif
