/* scaling.h - scaling laws from training runs: Chinchilla's approach 3 (a parametric fit of
 * L(N, D) = E + A/N^alpha + B/D^beta, as Epoch AI refit it: the Huber loss of log L against
 * the log-sum-exp of the three terms, minimised by L-BFGS from every start of a grid, intervals
 * by bootstrap) and approach 2 (IsoFLOP profiles: a parabola of the loss in log N per compute
 * budget, and a power law through their minima), and the compute-optimal plan of a fit. */
#ifndef LM_SCALING_H
#define LM_SCALING_H
#include <stddef.h>
#include <stdint.h>

typedef struct lm_sc_point {
	double n, d, loss;	/* parameters, tokens, final loss */
} lm_sc_point;

/* the fit's parameters: a = log A, b = log B, e = log E */
typedef struct lm_sc_fit {
	double a, b, e, alpha, beta;
	double objective;	/* the sum of the Huber losses at the minimum */
	int iterations;		/* of the start that won */
} lm_sc_fit;

/* a grid of starts: for each of a, b, e, alpha, beta the values lo, lo + step, ..., hi */
typedef struct lm_sc_grid {
	double lo[5], hi[5], step[5];	/* in the order a, b, e, alpha, beta */
} lm_sc_grid;

/* Epoch's grid: alpha, beta 0..2 step 0.5; e -1..1 step 0.5; a, b 0..25 step 5 (4,500) */
void lm_sc_grid_default(lm_sc_grid *g);
/* The grid's size (the product of the values per parameter) */
size_t lm_sc_grid_size(const lm_sc_grid *g);
/* Set one parameter's values from "NAME=LO:HI:STEP" (or "NAME=V"): 0, or -1 with a message */
int lm_sc_grid_set(lm_sc_grid *g, const char *spec, char *err, size_t errlen);

/* The objective at x = {a, b, e, alpha, beta} over p[0..n), its gradient into g (may be NULL) */
double lm_sc_objective(const lm_sc_point *p, size_t n, double delta, const double *x, double *g);

/* Minimise from one start (x0: a, b, e, alpha, beta) with L-BFGS: 0, or -1 with a message
 * (the objective not finite there); out holds the end point. The stop is SciPy L-BFGS-B's
 * default (the objective's decrease under 2.2e-9 of max(|f|, 1), or the gradient under 1e-5),
 * or with tight, one a million times finer: along the fit's flat valleys (A against alpha, B
 * against beta) the default stops where the valley is still falling. */
int lm_sc_minimise(const lm_sc_point *p, size_t n, double delta, const double *x0, int tight,
		   lm_sc_fit *out, char *err, size_t errlen);
/* The best minimum over every start of the grid; threads: OpenMP threads (0: default).
 * 0, or -1 with a message (fewer than 5 points, one model size or one token count, no start
 * ends finite). */
int lm_sc_fit_grid(const lm_sc_point *p, size_t n, double delta, const lm_sc_grid *g,
		   lm_sc_fit *out, char *err, size_t errlen);

/* Bootstrap: nb fits on samples of the points drawn with replacement (seeded), each from
 * the fit's minimum; the fits into out[0..nb) (a sample whose fit failed has NaN). */
void lm_sc_bootstrap(const lm_sc_point *p, size_t n, double delta, const lm_sc_fit *fit, int nb,
		     uint64_t seed, lm_sc_fit *out);

/* Approach 2. Budgets: the points sorted by compute (6 N D) and cut where log10 C jumps by
 * more than gap (Chinchilla's extracted runs: 0.02 separates its budgets). A budget with at least 3 model sizes gets a parabola in ln N; its minimum
 * (when the parabola opens up, inside the sizes' range widened by half) is the budget's
 * optimum. */
typedef struct lm_sc_budget {
	double c;		/* the budget: the geometric mean of its points' compute */
	size_t points, sizes;
	double c_lo, c_hi;	/* its points' least and greatest compute */
	int ok;			/* a minimum was found */
	double n_opt, d_opt, loss;
	double coef[3];		/* the parabola: loss = coef[0] + coef[1] ln N + coef[2] ln^2 N */
} lm_sc_budget;

typedef struct lm_sc_isoflop {
	lm_sc_budget *b;
	size_t nb, nok;
	int ok;			/* at least 2 budgets with a minimum: the power law below */
	double a, k;		/* N_opt = k C^a (and D_opt = C / 6 N_opt: exponent 1 - a) */
} lm_sc_isoflop;

void lm_sc_isoflop_fit(const lm_sc_point *p, size_t n, double gap, lm_sc_isoflop *out);
void lm_sc_isoflop_free(lm_sc_isoflop *f);

/* The compute-optimal split of a fit (with C = 6 N D): given one of compute c, tokens d or
 * parameters n (the others 0), the optimal N and D; the predicted loss into *loss. */
void lm_sc_plan(const lm_sc_fit *f, double c, double d, double n, double *n_opt, double *d_opt,
		double *loss);
/* L(N, D) of a fit */
double lm_sc_loss(const lm_sc_fit *f, double n, double d);
#endif
