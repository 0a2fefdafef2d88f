/* optim.c - the learning-rate schedules and AdamW's two parameter groups. */
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

void lm_adamw_init(lm_adamw *a, lm_model *m, const lm_adamw_opts *o)
{
	int64_t nd = m->ndecay, nn = m->nparams - m->ndecay;
	a->o = *o;
	a->m = m;
	a->pd = kn_view(m->params, 0, 1, &nd);
	a->gd = kn_view(m->grads, 0, 1, &nd);
	a->md = kn_view(m->m, 0, 1, &nd);
	a->vd = kn_view(m->v, 0, 1, &nd);
	a->pn = kn_view(m->params, nd, 1, &nn);
	a->gn = kn_view(m->grads, nd, 1, &nn);
	a->mn = kn_view(m->m, nd, 1, &nn);
	a->vn = kn_view(m->v, nd, 1, &nn);
}

void lm_adamw_step(lm_adamw *a, double lr, double gnorm, long long step)
{
	const lm_adamw_opts *o = &a->o;
	const kn_ops *ops = a->m->be->ops;
	float gscale = o->clip > 0 && gnorm > o->clip ? (float)(o->clip / gnorm) : 1.0f;
	ops->adamw(a->pd, a->gd, a->md, a->vd, (float)lr, (float)o->beta1, (float)o->beta2,
		   (float)o->eps, (float)o->weight_decay, gscale, step);
	ops->adamw(a->pn, a->gn, a->mn, a->vn, (float)lr, (float)o->beta1, (float)o->beta2,
		   (float)o->eps, 0.0f, gscale, step);
	lm_params_changed(a->m);
}

void lm_adamw_free(lm_adamw *a)
{
	kn_tensor *views[] = { a->pd, a->gd, a->md, a->vd, a->pn, a->gn, a->mn, a->vn };
	for (size_t i = 0; i < sizeof views / sizeof *views; i++)
		kn_free(views[i]);
}
