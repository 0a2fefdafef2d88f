/* arena.c - lm-arena's fits: Bradley-Terry by maximum likelihood (Newton's method with
 * OpenBLAS's Cholesky), its bootstrap, online Elo, and the length-controlled win rate.
 *
 * Bradley-Terry: P(i beats j) = 1 / (1 + exp(theta_j - theta_i)); a tie is half a win to each
 * side, as Chatbot Arena's compute_mle_elo counts it (wins twice, ties once, in its logistic
 * regression). The log-likelihood of the pair counts
 *	l(theta) = sum over pairs of a_ij theta_i + a_ji theta_j - n_ij log(e^theta_i + e^theta_j)
 * (a_ij: i's wins plus half the ties, n_ij: their battles) is concave; with theta_anchor = 0 it
 * is strictly concave on a strongly connected group (Zermelo, Ford), where Newton's method
 * with a step-halving line search converges to its maximum in a few steps. */
#include <f77blas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "arena.h"
#include "cli.h"
#include "rand.h"

#define ELO_PER_NAT (400.0 / M_LN10)

/* union-find over the models */
static size_t root(size_t *p, size_t x)
{
	while (p[x] != x)
		x = p[x] = p[p[x]];
	return x;
}

size_t lm_ar_components(size_t nm, const lm_ar_cell *c, size_t nc, long *comp)
{
	size_t *p = cm_xmalloc((nm ? nm : 1) * sizeof *p);
	char *has = cm_xcalloc(nm ? nm : 1, 1);
	for (size_t i = 0; i < nm; i++)
		p[i] = i;
	for (size_t k = 0; k < nc; k++) {
		if (c[k].w[0] + c[k].w[1] + c[k].w[2] <= 0)
			continue;
		has[c[k].i] = has[c[k].j] = 1;
		size_t a = root(p, c[k].i), b = root(p, c[k].j);
		if (a != b)
			p[a > b ? a : b] = a < b ? a : b;	/* the lower index is the root */
	}
	size_t n = 0;
	for (size_t i = 0; i < nm; i++) {
		comp[i] = -1;
		if (!has[i])
			continue;
		size_t r = root(p, i);
		comp[i] = r == i ? (long)n++ : comp[r];	/* roots come first: they are the lowest */
	}
	free(p);
	free(has);
	return n;
}

/* the models reachable from the anchor along "beat or tied" edges (forward) or against them */
static void reach(size_t nm, const lm_ar_cell *c, size_t nc, size_t anchor, int forward, char *seen)
{
	/* out-edges in CSR form: i -> j when i won or tied a battle against j */
	size_t *deg = cm_xcalloc(nm + 1, sizeof *deg), *adj = cm_xmalloc((2 * nc + 1) * sizeof *adj);
	size_t *stack = cm_xmalloc((nm + 1) * sizeof *stack);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t k = 0; k < nc; k++) {
			const lm_ar_cell *e = &c[k];
			int ij = e->w[0] + e->w[2] > 0, ji = e->w[1] + e->w[2] > 0;	/* i beat j, j beat i */
			if (!forward) {
				int t = ij;
				ij = ji;
				ji = t;
			}
			if (pass == 0) {
				deg[e->i + 1] += ij;
				deg[e->j + 1] += ji;
			} else {
				if (ij)
					adj[deg[e->i]++] = e->j;
				if (ji)
					adj[deg[e->j]++] = e->i;
			}
		}
		if (pass == 0)
			for (size_t i = 0; i < nm; i++)
				deg[i + 1] += deg[i];
	}
	/* after the second pass deg[i] is the end of i's list, deg[i - 1] (0 for i = 0) its start */
	memset(seen, 0, nm);
	size_t sp = 0;
	stack[sp++] = anchor;
	seen[anchor] = 1;
	while (sp) {
		size_t v = stack[--sp];
		for (size_t e = v ? deg[v - 1] : 0; e < deg[v]; e++)
			if (!seen[adj[e]]) {
				seen[adj[e]] = 1;
				stack[sp++] = adj[e];
			}
	}
	free(deg);
	free(adj);
	free(stack);
}

static double logaddexp(double a, double b)
{
	double m = a > b ? a : b;
	return m + log1p(exp(-fabs(a - b)));
}

/* the log-likelihood at theta over the cells inside the group (pos[m] >= 0) */
static double loglik(const lm_ar_cell *c, size_t nc, const long *pos, const double *th)
{
	double l = 0;
	for (size_t k = 0; k < nc; k++) {
		long pi = pos[c[k].i], pj = pos[c[k].j];
		if (pi < 0 || pj < 0)
			continue;
		double ai = c[k].w[0] + c[k].w[2] / 2, aj = c[k].w[1] + c[k].w[2] / 2;
		l += ai * th[pi] + aj * th[pj] - (ai + aj) * logaddexp(th[pi], th[pj]);
	}
	return l;
}

int lm_ar_bt(size_t nm, const lm_ar_cell *c, size_t nc, size_t anchor, double *rating,
	     int *iterations, char *err, size_t errlen)
{
	char *fw = cm_xmalloc(nm ? nm : 1), *bw = cm_xmalloc(nm ? nm : 1);
	char *has = cm_xcalloc(nm ? nm : 1, 1);
	for (size_t k = 0; k < nc; k++)
		if (c[k].w[0] + c[k].w[1] + c[k].w[2] > 0)
			has[c[k].i] = has[c[k].j] = 1;
	if (iterations)
		*iterations = 0;
	if (anchor >= nm || !has[anchor]) {	/* nothing to anchor to */
		for (size_t i = 0; i < nm; i++)
			rating[i] = NAN;
		free(fw);
		free(bw);
		free(has);
		return 0;
	}
	reach(nm, c, nc, anchor, 1, fw);
	reach(nm, c, nc, anchor, 0, bw);
	/* the anchor's strongly connected group: positions 0 (the anchor) .. k - 1 */
	long *pos = cm_xmalloc(nm * sizeof *pos);
	size_t k = 1;
	for (size_t i = 0; i < nm; i++) {
		pos[i] = -1;
		if (i == anchor)
			pos[i] = 0;
		else if (has[i] && fw[i] && bw[i])
			pos[i] = (long)k++;
		rating[i] = !has[i] ? NAN : fw[i] && !bw[i] ? -INFINITY : bw[i] && !fw[i] ? INFINITY :
			fw[i] ? 0 : NAN;
	}
	double *th = cm_xcalloc(k, sizeof *th), *nt = cm_xmalloc(k * sizeof *nt);
	size_t d = k - 1;	/* the free strengths: positions 1 .. k - 1 */
	double *h = cm_xmalloc((d * d + 1) * sizeof *h), *g = cm_xmalloc((d + 1) * sizeof *g);
	int rc = 0, it;
	double l = loglik(c, nc, pos, th);
	for (it = 0; d && it < 200; it++) {
		memset(h, 0, d * d * sizeof *h);
		memset(g, 0, d * sizeof *g);
		for (size_t e = 0; e < nc; e++) {
			long pi = pos[c[e].i], pj = pos[c[e].j];
			if (pi < 0 || pj < 0)
				continue;
			double ai = c[e].w[0] + c[e].w[2] / 2, n = c[e].w[0] + c[e].w[1] + c[e].w[2];
			double p = 1 / (1 + exp(th[pj] - th[pi])), v = n * p * (1 - p);
			/* g: the gradient; h: minus the Hessian, over positions 1 .. k - 1 */
			if (pi > 0) {
				g[pi - 1] += ai - n * p;
				h[(pi - 1) * d + pi - 1] += v;
			}
			if (pj > 0) {
				g[pj - 1] -= ai - n * p;
				h[(pj - 1) * d + pj - 1] += v;
			}
			if (pi > 0 && pj > 0) {
				h[(pi - 1) * d + pj - 1] -= v;
				h[(pj - 1) * d + pi - 1] -= v;
			}
		}
		blasint nn = (blasint)d, one = 1, info = 0;
		char up = 'L';
		dpotrf_(&up, &nn, h, &nn, &info);
		if (info == 0)
			dpotrs_(&up, &nn, &one, h, &nn, g, &nn, &info);
		if (info != 0) {
			snprintf(err, errlen, "Bradley-Terry: the Hessian is singular (LAPACK info %d)", (int)info);
			rc = -1;
			break;
		}
		/* g is now Newton's step; halve it until the likelihood does not fall */
		double t = 1, nl = l, step = 0;
		for (int tries = 0; tries < 60; tries++, t /= 2) {
			nt[0] = 0;
			for (size_t i = 0; i < d; i++)
				nt[i + 1] = th[i + 1] + t * g[i];
			nl = loglik(c, nc, pos, nt);
			if (nl >= l - 1e-12 * fabs(l))
				break;
		}
		for (size_t i = 0; i < d; i++) {
			step = fmax(step, fabs(nt[i + 1] - th[i + 1]));
			th[i + 1] = nt[i + 1];
		}
		l = nl;
		if (step < 1e-11)
			break;
	}
	if (rc == 0 && d && it >= 200) {
		snprintf(err, errlen, "Bradley-Terry: Newton's method did not converge in 200 steps");
		rc = -1;
	}
	if (iterations)
		*iterations = it + (d > 0);
	for (size_t i = 0; i < nm; i++)
		if (pos[i] >= 0)
			rating[i] = 1000 + ELO_PER_NAT * th[pos[i]];
	free(fw);
	free(bw);
	free(has);
	free(pos);
	free(th);
	free(nt);
	free(h);
	free(g);
	return rc;
}

/* a uniform integer in [0, n) */
static uint64_t below(uint64_t *s, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)cm_splitmix64(s) * n) >> 64);
}

void lm_ar_bootstrap(const lm_ar_table *t, size_t anchor, int nb, uint64_t seed, int threads,
		     double *out)
{
	/* the outcomes (cell, which) in a row, with the running count of battles before each */
	size_t no = 3 * t->nc;
	uint64_t *cum = cm_xmalloc((no + 1) * sizeof *cum), total = 0;
	for (size_t k = 0; k < no; k++) {
		cum[k] = total;
		total += (uint64_t)t->c[k / 3].w[k % 3];
	}
	cum[no] = total;
	int nt = threads > 0 ? threads : 1;
#ifdef _OPENMP
	if (threads <= 0)
		nt = omp_get_max_threads();
#endif
#pragma omp parallel num_threads(nt)
	{
		lm_ar_cell *s = cm_xmalloc((t->nc + 1) * sizeof *s);
#pragma omp for schedule(dynamic)
		for (int r = 0; r < nb; r++) {
			uint64_t st = seed ^ (0x632be59bd9b4e019ULL * (uint64_t)(r + 1));
			cm_splitmix64(&st);
			for (size_t k = 0; k < t->nc; k++)
				s[k] = (lm_ar_cell){ t->c[k].i, t->c[k].j, { 0, 0, 0 } };
			for (uint64_t n = 0; n < total; n++) {
				uint64_t x = below(&st, total);
				size_t lo = 0, hi = no;	/* the outcome k with cum[k] <= x < cum[k + 1] */
				while (hi - lo > 1) {
					size_t mid = (lo + hi) / 2;
					if (cum[mid] <= x)
						lo = mid;
					else
						hi = mid;
				}
				s[lo / 3].w[lo % 3]++;
			}
			char err[256];
			if (lm_ar_bt(t->nm, s, t->nc, anchor, out + (size_t)r * t->nm, NULL, err, sizeof err) < 0)
				for (size_t i = 0; i < t->nm; i++)
					out[(size_t)r * t->nm + i] = NAN;
		}
		free(s);
	}
	free(cum);
}

static int by_value(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

double lm_ar_quantile(double *v, size_t n, double q)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i]))
			v[k++] = v[i];
	if (!k)
		return NAN;
	qsort(v, k, sizeof *v, by_value);
	double pos = q * (double)(k - 1);
	size_t i = (size_t)pos;
	double f = pos - (double)i;
	if (i + 1 >= k || f == 0 || v[i] == v[i + 1])
		return v[i];
	if (isinf(v[i]) || isinf(v[i + 1]))	/* no line between: the nearer rank */
		return f < 0.5 ? v[i] : v[i + 1];
	return v[i] + f * (v[i + 1] - v[i]);
}

void lm_ar_elo_update(double *ra, double *rb, double sa, double k)
{
	double ea = 1 / (1 + pow(10, (*rb - *ra) / 400)), eb = 1 / (1 + pow(10, (*ra - *rb) / 400));
	*ra += k * (sa - ea);
	*rb += k * (1 - sa - eb);
}

static double sigmoid(double x)
{
	return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x));
}

/* the log-likelihood of beta + phi x */
static double lc_loglik(const double *x, const double *y, size_t n, double beta, double phi)
{
	double l = 0;
	for (size_t i = 0; i < n; i++) {
		double eta = beta + phi * x[i];
		l += y[i] * eta - logaddexp(0, eta);	/* y log p + (1 - y) log(1 - p) */
	}
	return l;
}

void lm_ar_lc_fit(const double *d, const double *y, size_t n, lm_ar_lc *o)
{
	memset(o, 0, sizeof *o);
	o->n = n;
	o->lc = o->raw = o->beta = o->phi = o->s = NAN;
	if (!n)
		return;
	double sy = 0, md = 0;
	for (size_t i = 0; i < n; i++) {
		sy += y[i];
		md += d[i];
	}
	o->raw = sy / (double)n;
	md /= (double)n;
	double ss = 0;
	for (size_t i = 0; i < n; i++)
		ss += (d[i] - md) * (d[i] - md);
	o->s = n > 1 ? sqrt(ss / (double)(n - 1)) : 0;
	if (o->raw <= 0 || o->raw >= 1) {
		o->status = LM_AR_LC_ALL_SAME;
		o->lc = o->raw;
		o->beta = o->raw > 0 ? INFINITY : -INFINITY;
		o->phi = 0;
		return;
	}
	if (!(o->s > 0)) {
		o->status = LM_AR_LC_NO_SPREAD;
		o->lc = o->raw;
		o->beta = log(o->raw / (1 - o->raw));
		o->phi = 0;
		return;
	}
	double *x = cm_xmalloc(n * sizeof *x);
	double wmin = INFINITY, wmax = -INFINITY, lmin = INFINITY, lmax = -INFINITY;
	for (size_t i = 0; i < n; i++) {
		x[i] = tanh(d[i] / o->s);
		if (y[i] > 0) {	/* a win or tie: a win's share */
			wmin = fmin(wmin, x[i]);
			wmax = fmax(wmax, x[i]);
		}
		if (y[i] < 1) {
			lmin = fmin(lmin, x[i]);
			lmax = fmax(lmax, x[i]);
		}
	}
	if (lmax <= wmin || wmax <= lmin) {	/* separated: phi grows without end */
		o->status = LM_AR_LC_SEPARATED;
		free(x);
		return;
	}
	double beta = log(o->raw / (1 - o->raw)), phi = 0, l = lc_loglik(x, y, n, beta, phi);
	for (int it = 0; it < 200; it++) {
		double g0 = 0, g1 = 0, h00 = 0, h01 = 0, h11 = 0;
		for (size_t i = 0; i < n; i++) {
			double p = sigmoid(beta + phi * x[i]), r = y[i] - p, v = p * (1 - p);
			g0 += r;
			g1 += r * x[i];
			h00 += v;
			h01 += v * x[i];
			h11 += v * x[i] * x[i];
		}
		double det = h00 * h11 - h01 * h01;
		if (!(det > 0))
			break;
		double db = (h11 * g0 - h01 * g1) / det, dp = (h00 * g1 - h01 * g0) / det, t = 1, nl = l;
		for (int tries = 0; tries < 60; tries++, t /= 2) {
			nl = lc_loglik(x, y, n, beta + t * db, phi + t * dp);
			if (nl >= l - 1e-12 * fabs(l))
				break;
		}
		beta += t * db;
		phi += t * dp;
		l = nl;
		if (fabs(t * db) < 1e-12 && fabs(t * dp) < 1e-12)
			break;
	}
	free(x);
	o->beta = beta;
	o->phi = phi;
	o->lc = sigmoid(beta);
	o->status = LM_AR_LC_OK;
}
