/* optim.c - the learning-rate schedules and AdamW's two parameter groups (of the parameters
 * whose moments the model holds: all, or a ZeRO-1 part, which may take some of each). */
#include <math.h>

#include "optim.h"

const char *const lm_schedules[] = { [LM_COSINE] = "cosine", [LM_WSD] = "wsd",
	[LM_CONSTANT] = "constant", NULL };

const char *lm_schedule_name(lm_sched_kind kind)
{
	return lm_schedules[kind];
}

/* wsd: steps in the final decay */
static long long decay_steps(const lm_schedule *s)
{
	return (long long)llround(s->decay * (double)s->steps);
}

double lm_lr_at(const lm_schedule *s, long long step)
{
	double lr = s->lr, lo = s->min_lr;
	if (step < s->warmup)
		return lr * (double)(step + 1) / (double)(s->warmup + 1);
	if (s->kind == LM_CONSTANT)
		return lr;
	if (s->kind == LM_WSD) {
		long long nd = decay_steps(s), d0 = s->steps - nd;
		if (step < d0)
			return lr;
		double f = nd > 0 ? (double)(step - d0 + 1) / (double)nd : 1.0;
		return lr + (lo - lr) * f;	/* linear to the final rate */
	}
	long long span = s->steps - s->warmup;
	double r = span > 0 ? (double)(step - s->warmup) / (double)span : 1.0;
	return lo + 0.5 * (1.0 + cos(M_PI * r)) * (lr - lo);
}

int lm_in_decay(const lm_schedule *s, long long step)
{
	return s->kind == LM_WSD && step >= s->steps - decay_steps(s);
}

/* a view of n elements of t from off, or NULL when there are none */
static kn_tensor *part_view(kn_tensor *t, int64_t off, int64_t n)
{
	return n > 0 ? kn_view(t, off, 1, &n) : NULL;
}

void lm_adamw_init(lm_adamw *a, lm_model *m, const lm_adamw_opts *o)
{
	/* the parameters whose moments m holds, [lo, hi): its decayed part, then the rest */
	int64_t lo = m->mlo, hi = m->mlo + m->mn, nd = m->ndecay;
	int64_t d0 = lo, d1 = hi < nd ? hi : nd, n0 = lo > nd ? lo : nd, n1 = hi;
	int64_t dn = d1 - d0, nn = n1 - n0;
	a->o = *o;
	a->m = m;
	a->pd = part_view(m->params, d0, dn);
	a->gd = part_view(m->grads, d0, dn);
	a->md = part_view(m->m, d0 - lo, dn);
	a->vd = part_view(m->v, d0 - lo, dn);
	a->pn = part_view(m->params, n0, nn);
	a->gn = part_view(m->grads, n0, nn);
	a->mn = part_view(m->m, n0 - lo, nn);
	a->vn = part_view(m->v, n0 - lo, nn);
}

void lm_adamw_step(lm_adamw *a, double lr, double gnorm, long long step)
{
	const lm_adamw_opts *o = &a->o;
	const kn_ops *ops = a->m->be->ops;
	float gscale = o->clip > 0 && gnorm > o->clip ? (float)(o->clip / gnorm) : 1.0f;
	if (a->pd)
		ops->adamw(a->pd, a->gd, a->md, a->vd, (float)lr, (float)o->beta1, (float)o->beta2,
			   (float)o->eps, (float)o->weight_decay, gscale, step);
	if (a->pn)
		ops->adamw(a->pn, a->gn, a->mn, a->vn, (float)lr, (float)o->beta1, (float)o->beta2,
			   (float)o->eps, 0.0f, gscale, step);
	if (a->m->mn == a->m->nparams)
		lm_params_changed(a->m);
}

void lm_adamw_free(lm_adamw *a)
{
	kn_tensor *views[] = { a->pd, a->gd, a->md, a->vd, a->pn, a->gn, a->mn, a->vn };
	for (size_t i = 0; i < sizeof views / sizeof *views; i++)
		kn_free(views[i]);
}
