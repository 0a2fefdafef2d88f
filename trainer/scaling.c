/* scaling.c - Chinchilla's approaches 3 and 2 (see scaling.h). The optimiser is libLBFGS's
 * L-BFGS (Debian's liblbfgs), stopping as SciPy's L-BFGS-B does by default: the gradient
 * small, or the objective's decrease over an iteration under 2.2e-9 of max(|f|, 1). */
#include <float.h>
#include <lbfgs.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rand.h"
#include "scaling.h"

static const char *const names[5] = { "a", "b", "e", "alpha", "beta" };

void lm_sc_grid_default(lm_sc_grid *g)
{
	/* a, b: 0..25 step 5; e: -1..1 step 0.5; alpha, beta: 0..2 step 0.5 */
	*g = (lm_sc_grid){ .lo = { 0, 0, -1, 0, 0 }, .hi = { 25, 25, 1, 2, 2 },
			   .step = { 5, 5, 0.5, 0.5, 0.5 } };
}

static size_t values(const lm_sc_grid *g, int k)
{
	if (g->step[k] <= 0 || g->hi[k] <= g->lo[k])
		return 1;
	return (size_t)floor((g->hi[k] - g->lo[k]) / g->step[k] + 1e-9) + 1;
}

size_t lm_sc_grid_size(const lm_sc_grid *g)
{
	size_t s = 1;
	for (int k = 0; k < 5; k++)
		s *= values(g, k);
	return s;
}

int lm_sc_grid_set(lm_sc_grid *g, const char *spec, char *err, size_t errlen)
{
	const char *eq = strchr(spec, '=');
	int k;
	for (k = 0; k < 5; k++)
		if (eq && (size_t)(eq - spec) == strlen(names[k]) && !strncmp(spec, names[k], strlen(names[k])))
			break;
	if (k == 5) {
		snprintf(err, errlen, "'%s': want NAME=LO:HI:STEP or NAME=VALUE, NAME one of a, b, e, "
			 "alpha, beta", spec);
		return -1;
	}
	double v[3];
	int nv = 0;
	const char *s = eq + 1;
	for (;;) {
		char *end;
		if (nv == 3)
			break;
		v[nv] = strtod(s, &end);
		if (end == s || !isfinite(v[nv]))
			break;
		nv++;
		s = end;
		if (*s != ':')
			break;
		s++;
	}
	if (*s || (nv != 1 && nv != 3) || (nv == 3 && (v[2] <= 0 || v[1] < v[0] ||
						       (v[1] - v[0]) / v[2] > 1e6))) {
		snprintf(err, errlen, "'%s': want %s=LO:HI:STEP (STEP > 0, HI >= LO) or %s=VALUE", spec,
			 names[k], names[k]);
		return -1;
	}
	g->lo[k] = v[0];
	g->hi[k] = nv == 3 ? v[1] : v[0];
	g->step[k] = nv == 3 ? v[2] : 0;
	return 0;
}

double lm_sc_objective(const lm_sc_point *p, size_t n, double delta, const double *x, double *g)
{
	double a = x[0], b = x[1], e = x[2], al = x[3], be = x[4], f = 0;
	if (g)
		memset(g, 0, 5 * sizeof *g);
	for (size_t i = 0; i < n; i++) {
		double ln = log(p[i].n), ld = log(p[i].d);
		double t1 = a - al * ln, t2 = b - be * ld, t3 = e;
		double m = fmax(t1, fmax(t2, t3));
		double w1 = exp(t1 - m), w2 = exp(t2 - m), w3 = exp(t3 - m), s = w1 + w2 + w3;
		double r = m + log(s) - log(p[i].loss), ar = fabs(r), dr;
		if (ar <= delta) {
			f += 0.5 * r * r;
			dr = r;
		} else {
			f += delta * (ar - 0.5 * delta);
			dr = r > 0 ? delta : -delta;
		}
		if (g) {
			dr /= s;	/* d lse / d t_k = w_k / s */
			g[0] += dr * w1;
			g[1] += dr * w2;
			g[2] += dr * w3;
			g[3] -= dr * w1 * ln;
			g[4] -= dr * w2 * ld;
		}
	}
	return f;
}

typedef struct problem {
	const lm_sc_point *p;
	size_t n;
	double delta;
	double prev;	/* the objective at the last iteration */
	double ftol;	/* the stop on the objective's decrease */
	int iters;
} problem;

static lbfgsfloatval_t evaluate(void *inst, const lbfgsfloatval_t *x, lbfgsfloatval_t *g,
				const int n, const lbfgsfloatval_t step)
{
	const problem *pr = inst;
	double xd[5], gd[5];
	(void)step;
	for (int k = 0; k < 5; k++)
		xd[k] = x[k];
	double f = lm_sc_objective(pr->p, pr->n, pr->delta, xd, gd);
	for (int k = 0; k < n; k++)
		g[k] = k < 5 ? gd[k] : 0;
	return f;
}

/* SciPy L-BFGS-B's default stop on the objective: (f_prev - f) / max(|f_prev|, |f|, 1) <= ftol */
static int progress(void *inst, const lbfgsfloatval_t *x, const lbfgsfloatval_t *g,
		    const lbfgsfloatval_t fx, const lbfgsfloatval_t xnorm,
		    const lbfgsfloatval_t gnorm, const lbfgsfloatval_t step, int n, int k, int ls)
{
	problem *pr = inst;
	(void)x, (void)g, (void)xnorm, (void)gnorm, (void)step, (void)n, (void)ls;
	pr->iters = k;
	int stop = k > 1 && (pr->prev - fx) / fmax(fmax(fabs(pr->prev), fabs(fx)), 1) <= pr->ftol;
	pr->prev = fx;
	return stop;
}

/* libLBFGS built with SSE wants a multiple of 16 variables: the five, then eleven that the
 * objective ignores (their gradient is 0, so they stay where they start) */
#define NVAR 16

int lm_sc_minimise(const lm_sc_point *p, size_t n, double delta, const double *x0, int tight,
		   lm_sc_fit *out, char *err, size_t errlen)
{
	lbfgsfloatval_t *x = lbfgs_malloc(NVAR), fx = 0;
	if (!x)
		cm_die("out of memory");
	for (int k = 0; k < NVAR; k++)
		x[k] = k < 5 ? x0[k] : 0;
	lbfgs_parameter_t prm;
	lbfgs_parameter_init(&prm);
	prm.m = 10;
	prm.epsilon = tight ? 1e-10 : 1e-5;
	prm.max_iterations = tight ? 100000 : 15000;
	problem pr = { p, n, delta, INFINITY, tight ? 1e-15 : 2.220446049250313e-09, 0 };
	double f0 = lm_sc_objective(p, n, delta, x0, NULL);
	if (!isfinite(f0)) {
		lbfgs_free(x);
		snprintf(err, errlen, "the objective is not finite at the start");
		return -1;
	}
	/* any end (converged, stopped by progress, or a line search that cannot go further at
	 * the minimum) leaves x at the best point found */
	(void)lbfgs(NVAR, x, &fx, evaluate, progress, &pr, &prm);
	double xd[5];
	for (int k = 0; k < 5; k++)
		xd[k] = x[k];
	lbfgs_free(x);
	double f = lm_sc_objective(p, n, delta, xd, NULL);
	if (!isfinite(f) || f > f0) {	/* no better than the start: keep the start */
		memcpy(xd, x0, sizeof xd);
		f = f0;
	}
	*out = (lm_sc_fit){ xd[0], xd[1], xd[2], xd[3], xd[4], f, pr.iters };
	return 0;
}

static int distinct(const lm_sc_point *p, size_t n, int tokens)
{
	for (size_t i = 1; i < n; i++)
		if (tokens ? p[i].d != p[0].d : p[i].n != p[0].n)
			return 1;
	return 0;
}

int lm_sc_fit_grid(const lm_sc_point *p, size_t n, double delta, const lm_sc_grid *g,
		   lm_sc_fit *out, char *err, size_t errlen)
{
	if (n < 5) {
		snprintf(err, errlen, "%zu point%s: a fit of 5 parameters needs 5 at least", n,
			 n == 1 ? "" : "s");
		return -1;
	}
	if (!distinct(p, n, 0) || !distinct(p, n, 1)) {
		snprintf(err, errlen, "every run has the same %s: approach 3 cannot tell A from E "
			 "(approach 2 needs several sizes per budget)", !distinct(p, n, 0) ?
			 "model size" : "token count");
		return -1;
	}
	size_t cnt[5], total = lm_sc_grid_size(g);
	for (int k = 0; k < 5; k++)
		cnt[k] = values(g, k);
	lm_sc_fit best = { .objective = INFINITY };
	size_t best_i = SIZE_MAX;
#pragma omp parallel
	{
		lm_sc_fit mine = { .objective = INFINITY };
		size_t mine_i = SIZE_MAX;
		char e2[128];
#pragma omp for schedule(dynamic, 8)
		for (size_t i = 0; i < total; i++) {
			double x0[5];
			size_t r = i;
			for (int k = 4; k >= 0; k--) {
				x0[k] = g->lo[k] + (double)(r % cnt[k]) * g->step[k];
				r /= cnt[k];
			}
			lm_sc_fit f;
			if (lm_sc_minimise(p, n, delta, x0, 0, &f, e2, sizeof e2) == 0 &&
			    (f.objective < mine.objective || (f.objective == mine.objective && i < mine_i))) {
				mine = f;
				mine_i = i;
			}
		}
#pragma omp critical
		if (mine.objective < best.objective || (mine.objective == best.objective && mine_i < best_i)) {
			best = mine;
			best_i = mine_i;
		}
	}
	if (!isfinite(best.objective)) {
		snprintf(err, errlen, "no start of the grid gives a finite objective");
		return -1;
	}
	*out = best;
	return 0;
}

void lm_sc_bootstrap(const lm_sc_point *p, size_t n, double delta, const lm_sc_fit *fit, int nb,
		     uint64_t seed, lm_sc_fit *out)
{
	double x0[5] = { fit->a, fit->b, fit->e, fit->alpha, fit->beta };
#pragma omp parallel
	{
		lm_sc_point *s = cm_xmalloc(n * sizeof *s);
		char e2[128];
#pragma omp for schedule(dynamic, 1)
		for (int j = 0; j < nb; j++) {
			uint64_t st = seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(j + 1));
			for (size_t i = 0; i < n; i++)
				s[i] = p[cm_splitmix64(&st) % n];
			if (lm_sc_minimise(s, n, delta, x0, 1, &out[j], e2, sizeof e2) < 0)
				out[j] = (lm_sc_fit){ NAN, NAN, NAN, NAN, NAN, NAN, 0 };
		}
		free(s);
	}
}

/* ---- approach 2 ---- */

static int by_compute(const void *x, const void *y)
{
	const lm_sc_point *a = x, *b = y;
	double ca = a->n * a->d, cb = b->n * b->d;
	return ca < cb ? -1 : ca > cb;
}

/* least squares y = c0 + c1 x + c2 x^2 over k points: 0, or -1 when singular */
static int parabola(const double *x, const double *y, size_t k, double c[3])
{
	double s[5] = { 0 }, t[3] = { 0 };
	for (size_t i = 0; i < k; i++) {
		double xp = 1;
		for (int j = 0; j < 5; j++) {
			s[j] += xp;
			if (j < 3)
				t[j] += xp * y[i];
			xp *= x[i];
		}
	}
	double m[3][4] = { { s[0], s[1], s[2], t[0] }, { s[1], s[2], s[3], t[1] }, { s[2], s[3], s[4], t[2] } };
	for (int col = 0; col < 3; col++) {	/* Gauss-Jordan with partial pivoting */
		int piv = col;
		for (int r = col + 1; r < 3; r++)
			if (fabs(m[r][col]) > fabs(m[piv][col]))
				piv = r;
		if (fabs(m[piv][col]) < 1e-300)
			return -1;
		for (int j = 0; j < 4; j++) {
			double tmp = m[col][j];
			m[col][j] = m[piv][j];
			m[piv][j] = tmp;
		}
		for (int r = 0; r < 3; r++)
			if (r != col) {
				double q = m[r][col] / m[col][col];
				for (int j = col; j < 4; j++)
					m[r][j] -= q * m[col][j];
			}
	}
	for (int j = 0; j < 3; j++)
		c[j] = m[j][3] / m[j][j];
	return isfinite(c[0]) && isfinite(c[1]) && isfinite(c[2]) ? 0 : -1;
}

void lm_sc_isoflop_fit(const lm_sc_point *p, size_t n, double gap, lm_sc_isoflop *out)
{
	*out = (lm_sc_isoflop){ 0 };
	if (!n)
		return;
	lm_sc_point *s = cm_xmalloc(n * sizeof *s);
	double *x = cm_xmalloc(n * sizeof *x), *y = cm_xmalloc(n * sizeof *y);
	memcpy(s, p, n * sizeof *s);
	qsort(s, n, sizeof *s, by_compute);
	out->b = cm_xcalloc(n, sizeof *out->b);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && log10(6 * s[j].n * s[j].d) - log10(6 * s[j - 1].n * s[j - 1].d) <= gap)
			j++;
		lm_sc_budget *b = &out->b[out->nb++];
		double lc = 0, lo = INFINITY, hi = -INFINITY;
		b->points = j - i;
		for (size_t k = i; k < j; k++) {
			lc += log(6 * s[k].n * s[k].d);
			x[k - i] = log(s[k].n);
			y[k - i] = s[k].loss;
			lo = fmin(lo, x[k - i]);
			hi = fmax(hi, x[k - i]);
			int seen = 0;
			for (size_t q = i; q < k && !seen; q++)
				seen = s[q].n == s[k].n;
			b->sizes += !seen;
		}
		b->c = exp(lc / (double)b->points);
		b->c_lo = 6 * s[i].n * s[i].d;
		b->c_hi = 6 * s[j - 1].n * s[j - 1].d;
		double *c = b->coef;
		if (b->sizes >= 3 && parabola(x, y, b->points, c) == 0 && c[2] > 0) {
			double xm = -c[1] / (2 * c[2]), w = hi - lo;
			if (xm >= lo - w / 2 && xm <= hi + w / 2) {
				b->ok = 1;
				b->n_opt = exp(xm);
				b->d_opt = b->c / (6 * b->n_opt);
				b->loss = c[0] + c[1] * xm + c[2] * xm * xm;
				out->nok++;
			}
		}
		i = j;
	}
	if (out->nok >= 2) {	/* ln N_opt = ln k + a ln C, least squares */
		double sx = 0, sy = 0, sxx = 0, sxy = 0, m = 0;
		for (size_t i = 0; i < out->nb; i++)
			if (out->b[i].ok) {
				double lx = log(out->b[i].c), ly = log(out->b[i].n_opt);
				sx += lx;
				sy += ly;
				sxx += lx * lx;
				sxy += lx * ly;
				m++;
			}
		double den = m * sxx - sx * sx;
		if (den > 0) {
			out->a = (m * sxy - sx * sy) / den;
			out->k = exp((sy - out->a * sx) / m);
			out->ok = 1;
		}
	}
	free(s);
	free(x);
	free(y);
}

void lm_sc_isoflop_free(lm_sc_isoflop *f)
{
	free(f->b);
	f->b = NULL;
}

double lm_sc_loss(const lm_sc_fit *f, double n, double d)
{
	return exp(f->e) + exp(f->a) * pow(n, -f->alpha) + exp(f->b) * pow(d, -f->beta);
}

void lm_sc_plan(const lm_sc_fit *f, double c, double d, double n, double *n_opt, double *d_opt,
		double *loss)
{
	/* minimising E + A N^-alpha + B D^-beta on N D = C / 6:
	 * N_opt = G (C/6)^(beta/(alpha+beta)), D_opt = (C/6)^(alpha/(alpha+beta)) / G,
	 * G = (alpha A / (beta B))^(1/(alpha+beta)) */
	double al = f->alpha, be = f->beta, s = al + be;
	double lg = (log(al) + f->a - log(be) - f->b) / s;	/* ln G */
	double lc;	/* ln(C / 6) */
	if (c > 0)
		lc = log(c / 6);
	else if (d > 0)	/* ln D = lc al/s - lg */
		lc = (log(d) + lg) * s / al;
	else		/* ln N = lg + lc be/s */
		lc = (log(n) - lg) * s / be;
	*n_opt = exp(lg + lc * be / s);
	*d_opt = exp(lc * al / s - lg);
	*loss = lm_sc_loss(f, *n_opt, *d_opt);
}
