/* ppo.h - the arithmetic of proximal policy optimisation for RLHF (lm-train --ppo) on a batch
 * of rollouts held on the host: per-token rewards (the reward model's score at the last token
 * and a KL penalty against the reference at every token), generalised advantage estimation,
 * whitening, the clipped policy and value losses with their gradients, and the adaptive KL
 * coefficient. The models' passes are ppotrain.h's.
 *
 * The formulas (Ziegler et al. 2019; Schulman et al. 2017; TRL's PPOTrainer), for a response
 * of tokens t = 0..L-1 with the policy's log-probabilities lp_t at rollout time, the
 * reference's ref_t, the value model's v_t and the reward model's score s:
 *   kl_t   = lp_t - ref_t
 *   r_t    = -kl_coef kl_t, plus s at t = L - 1
 *   delta_t = r_t + gamma v_{t+1} - v_t   (v_L = 0)
 *   A_t    = delta_t + gamma lambda A_{t+1}   (A_L = 0);  R_t = A_t + v_t (the returns)
 *   A      whitened over every token of the batch: (A - mean) / sqrt(var + 1e-8), var with
 *          Bessel's correction (of one token: A - mean)
 * and for a minibatch of N tokens with the policy's lp'_t and the value model's v'_t now:
 *   ratio  = exp(lp'_t - lp_t)
 *   policy = 1/N sum max(-A_t ratio, -A_t clamp(ratio, 1 - clip, 1 + clip))
 *   value  = 1/N sum 0.5 max((v'_t - R_t)^2, (clamp(v'_t, v_t - clipv, v_t + clipv) - R_t)^2)
 *   loss   = policy + vf_coef value
 * Gradients as automatic differentiation gives them (PyTorch's: at a tie of the two terms of
 * a max each takes half, and clamp passes the gradient at its bounds).
 */
#ifndef LM_PPO_H
#define LM_PPO_H
#include <stddef.h>
#include <stdint.h>

typedef struct lm_ppo_opts {
	double gamma, lam;	/* GAE's discount and lambda (default 1, 0.95) */
	double clip;		/* the policy ratio's clip range (0.2) */
	double clip_value;	/* the value's clip range around its rollout value (0.2) */
	double vf_coef;		/* the value loss's weight (0.1) */
	double kl_coef;		/* the KL penalty's coefficient at the start (0.05) */
	double kl_target;	/* > 0: the coefficient adapts to hold this KL a sequence */
	double kl_horizon;	/* the adaptive controller's horizon, in rollouts (10000) */
	double temperature;	/* sampling, and the policy's distribution (1) */
	double eot_penalty;	/* subtracted from the score of a response that did not end */
	int epochs;		/* optimisation passes over a batch of rollouts (4) */
	int mini;		/* rollouts a minibatch (an optimizer step) */
	int max_new;		/* response tokens at most */
} lm_ppo_opts;

/* A batch of rollouts: sequence i's response tokens are [at[i], at[i] + len[i]) of the
 * per-token arrays (len[i] >= 1). */
typedef struct lm_ppo_batch {
	int n;
	int64_t *at;
	int32_t *len;
	int64_t ntok;
	float *lp, *ref, *value;	/* at rollout time: policy, reference, value model */
	float *reward, *adv, *ret;	/* lm_ppo_advantages' */
	float *score;			/* [n]: the reward model's (less any eot penalty) */
} lm_ppo_batch;

/* Room for n sequences of ntok tokens in all; lm_ppo_batch_free frees it. */
void lm_ppo_batch_alloc(lm_ppo_batch *b, int n, int64_t ntok);
void lm_ppo_batch_free(lm_ppo_batch *b);

/* rewards, advantages (GAE, then whitened when whiten) and returns from lp, ref, value and
 * score. */
void lm_ppo_advantages(lm_ppo_batch *b, double kl_coef, double gamma, double lam, int whiten);
/* x[0..n) whitened in place as above. */
void lm_ppo_whiten(float *x, int64_t n);

/* Sums over a minibatch's tokens (divide by tokens for the means TRL logs). */
typedef struct lm_ppo_stats {
	double tokens;
	double pg, vf;			/* the terms of the policy and value losses */
	double clipfrac, vclipfrac;	/* tokens whose clipped term is the larger */
	double approxkl, policykl;	/* 0.5 (lp' - lp)^2, lp - lp' */
	double ratio, verror, vpred;	/* ratio, (v' - R)^2, v' */
	double entropy;			/* the policy's entropy at the tokens' positions */
} lm_ppo_stats;

/* The policy loss's terms over tokens t < n: their sum; g[t] gets d term_t / d lp'_t. lp:
 * now; old: at rollout time. */
double lm_ppo_policy_loss(int64_t n, const float *lp, const float *old, const float *adv,
			  double clip, double *g, lm_ppo_stats *st);
/* The value loss's terms (0.5 max(...)) over tokens t < n: their sum; g[t] gets d term_t /
 * d v'_t. v: now; old: at rollout time; ret: the returns. */
double lm_ppo_value_loss(int64_t n, const float *v, const float *old, const float *ret,
			 double clip, double *g, lm_ppo_stats *st);

/* The adaptive KL controller (Ziegler et al.): the coefficient after a batch of n rollouts
 * whose KL a sequence was kl: coef (1 + clamp(kl / target - 1, -0.2, 0.2) n / horizon). */
double lm_ppo_kl_update(double coef, double kl, double n, double target, double horizon);
#endif
