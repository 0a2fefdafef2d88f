/* ppo.c - PPO's arithmetic on a batch of rollouts (ppo.h). */
#include "ppo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void lm_ppo_batch_alloc(lm_ppo_batch *b, int n, int64_t ntok)
{
	memset(b, 0, sizeof *b);
	b->n = n;
	b->ntok = ntok;
	size_t k = ntok > 0 ? (size_t)ntok : 1, m = n > 0 ? (size_t)n : 1;
	b->at = cm_xcalloc(m, sizeof *b->at);
	b->len = cm_xcalloc(m, sizeof *b->len);
	b->score = cm_xcalloc(m, sizeof *b->score);
	b->lp = cm_xcalloc(6 * k, sizeof *b->lp);	/* one allocation for the six */
	b->ref = b->lp + k;
	b->value = b->ref + k;
	b->reward = b->value + k;
	b->adv = b->reward + k;
	b->ret = b->adv + k;
}

void lm_ppo_batch_free(lm_ppo_batch *b)
{
	free(b->at);
	free(b->len);
	free(b->score);
	free(b->lp);
	memset(b, 0, sizeof *b);
}

void lm_ppo_whiten(float *x, int64_t n)
{
	if (n <= 0)
		return;
	double s = 0;
	for (int64_t i = 0; i < n; i++)
		s += x[i];
	double mean = s / (double)n, ss = 0;
	for (int64_t i = 0; i < n; i++)
		ss += ((double)x[i] - mean) * ((double)x[i] - mean);
	/* the unbiased variance; one token has none (and is centred only) */
	double var = n > 1 ? ss / (double)(n - 1) : 0, inv = n > 1 ? 1.0 / sqrt(var + 1e-8) : 1;
	for (int64_t i = 0; i < n; i++)
		x[i] = (float)(((double)x[i] - mean) * inv);
}

void lm_ppo_advantages(lm_ppo_batch *b, double kl_coef, double gamma, double lam, int whiten)
{
	for (int i = 0; i < b->n; i++) {
		int64_t a = b->at[i];
		int32_t L = b->len[i];
		for (int32_t t = 0; t < L; t++)
			b->reward[a + t] = (float)(-kl_coef * ((double)b->lp[a + t] - b->ref[a + t]));
		b->reward[a + L - 1] = (float)((double)b->reward[a + L - 1] + b->score[i]);
		double next = 0, gae = 0;
		for (int32_t t = L - 1; t >= 0; t--) {
			double v = b->value[a + t];
			double delta = (double)b->reward[a + t] + gamma * next - v;
			gae = delta + gamma * lam * gae;
			b->adv[a + t] = (float)gae;
			b->ret[a + t] = (float)(gae + v);
			next = v;
		}
	}
	if (whiten)
		lm_ppo_whiten(b->adv, b->ntok);
}

/* d max(a, b) / d a and / d b: 1 and 0 to the larger, a half each at a tie */
static void dmax(double a, double b, double *da, double *db)
{
	*da = a > b ? 1 : a < b ? 0 : 0.5;
	*db = 1 - *da;
}

double lm_ppo_policy_loss(int64_t n, const float *lp, const float *old, const float *adv,
			  double clip, double *g, lm_ppo_stats *st)
{
	double sum = 0;
	for (int64_t t = 0; t < n; t++) {
		double d = (double)lp[t] - old[t], r = exp(d), A = adv[t];
		double rc = r < 1 - clip ? 1 - clip : r > 1 + clip ? 1 + clip : r;
		double l1 = -A * r, l2 = -A * rc, w1, w2;
		dmax(l1, l2, &w1, &w2);
		/* d l1 / d lp = -A r; d l2 / d lp = -A r inside [1 - clip, 1 + clip], else 0 */
		int inside = r >= 1 - clip && r <= 1 + clip;
		g[t] = -A * r * (w1 + (inside ? w2 : 0));
		double l = l1 > l2 ? l1 : l2;
		sum += l;
		if (st) {
			st->pg += l;
			st->clipfrac += l2 > l1;
			st->approxkl += 0.5 * d * d;
			st->policykl += -d;
			st->ratio += r;
			st->tokens += 1;
		}
	}
	return sum;
}

double lm_ppo_value_loss(int64_t n, const float *v, const float *old, const float *ret,
			 double clip, double *g, lm_ppo_stats *st)
{
	double sum = 0;
	for (int64_t t = 0; t < n; t++) {
		double x = v[t], lo = (double)old[t] - clip, hi = (double)old[t] + clip;
		double xc = x < lo ? lo : x > hi ? hi : x, R = ret[t];
		double l1 = (x - R) * (x - R), l2 = (xc - R) * (xc - R), w1, w2;
		dmax(l1, l2, &w1, &w2);
		int inside = x >= lo && x <= hi;
		/* 0.5 d l1 / d x = x - R; 0.5 d l2 / d x = xc - R inside, else 0 */
		g[t] = w1 * (x - R) + (inside ? w2 * (xc - R) : 0);
		double l = 0.5 * (l1 > l2 ? l1 : l2);
		sum += l;
		if (st) {
			st->vf += l;
			st->vclipfrac += l2 > l1;
			st->verror += l1;
			st->vpred += x;
		}
	}
	return sum;
}

double lm_ppo_kl_update(double coef, double kl, double n, double target, double horizon)
{
	if (target <= 0 || horizon <= 0 || !isfinite(kl))
		return coef;
	double e = kl / target - 1;
	e = e < -0.2 ? -0.2 : e > 0.2 ? 0.2 : e;
	return coef * (1 + e * n / horizon);
}
