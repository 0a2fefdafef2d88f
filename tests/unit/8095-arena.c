/* 8095-arena.c - lm-arena's pieces (trainer/battle.c, trainer/arena.c): each reason a line is not
 * a battle, lengths from responses in characters; the Bradley-Terry fit meets the likelihood's
 * score equations (expected = observed score per model) on random counts, anchored at 1000,
 * with infinite and undefined ratings where the maximum does not exist; components; the
 * bootstrap the same with 1 and 3 threads; quantiles as numpy's; the length-controlled fit's
 * score equations and its special cases. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "tap.h"

static int parse(const char *s, lm_ar_battle *b)
{
	char why[400];
	int r = lm_ar_parse(s, strlen(s), b, why, sizeof why);
	if (r != LM_AR_OK && !why[0])
		return -1;	/* a refusal always says why */
	return r;
}

static void test_parse(void)
{
	lm_ar_battle b;
	is_int(parse("{\"model_a\":\"x\",\"model_b\":\"y\",\"winner\":\"model_b\"}", &b), LM_AR_OK, "a battle");
	ok(!strcmp(b.a, "x") && !strcmp(b.b, "y") && b.winner == LM_AR_WIN_B && !b.has_len, "  its fields, no lengths");
	is_int(parse("{\"model_a\":\"x\",\"model_b\":\"y\",\"winner\":\"tie (bothbad)\",\"len_a\":3,\"len_b\":4.5}", &b),
	       LM_AR_OK, "tie (bothbad) with len_a/len_b");
	ok(b.winner == LM_AR_BOTHBAD && b.has_len && b.len_a == 3 && b.len_b == 4.5, "  the lengths");
	is_int(parse("{\"model_a\":\"x\",\"model_b\":\"y\",\"winner\":\"tie\",\"response_a\":\"\\u00e9t\\u00e9\","
		     "\"response_b\":\"\\ud83d\\ude00\"}", &b), LM_AR_OK, "responses");
	ok(b.len_a == 3 && b.len_b == 1, "  their lengths in characters: %g %g", b.len_a, b.len_b);
	static const struct { const char *s; int r; } bad[] = {
		{ "", LM_AR_NOT_JSON }, { "nope", LM_AR_NOT_JSON }, { "[]", LM_AR_NOT_JSON },
		{ "{\"model_a\":\"x\",\"model_a\":\"y\"}", LM_AR_NOT_JSON },
		{ "{\"model_b\":\"y\",\"winner\":\"tie\"}", LM_AR_NO_MODEL },
		{ "{\"model_a\":1,\"model_b\":\"y\",\"winner\":\"tie\"}", LM_AR_NO_MODEL },
		{ "{\"model_a\":\"\",\"model_b\":\"y\",\"winner\":\"tie\"}", LM_AR_BAD_MODEL },
		{ "{\"model_a\":\"a\\u0000b\",\"model_b\":\"y\",\"winner\":\"tie\"}", LM_AR_NOT_JSON },	/* jansson refuses NUL */
		{ "{\"model_a\":\"x\",\"model_b\":\"y\"}", LM_AR_NO_WINNER },
		{ "{\"model_a\":\"x\",\"model_b\":\"y\",\"winner\":null}", LM_AR_NO_WINNER },
		{ "{\"model_a\":\"x\",\"model_b\":\"y\",\"winner\":\"Tie\"}", LM_AR_BAD_WINNER },
		{ "{\"model_a\":\"x\",\"model_b\":\"y\",\"winner\":\"model_a \"}", LM_AR_BAD_WINNER },
		{ "{\"model_a\":\"x\",\"model_b\":\"x\",\"winner\":\"tie\"}", LM_AR_SAME_MODEL },
		{ "{\"model_a\":\"x\",\"model_b\":\"y\",\"winner\":\"tie\",\"len_a\":1}", LM_AR_BAD_LENGTH },
		{ "{\"model_a\":\"x\",\"model_b\":\"y\",\"winner\":\"tie\",\"len_a\":-1,\"len_b\":1}", LM_AR_BAD_LENGTH },
		{ "{\"model_a\":\"x\",\"model_b\":\"y\",\"winner\":\"tie\",\"len_a\":\"1\",\"len_b\":1}", LM_AR_BAD_LENGTH },
		{ "{\"model_a\":\"x\",\"model_b\":\"y\",\"winner\":\"tie\",\"response_a\":[],\"response_b\":\"\"}", LM_AR_BAD_LENGTH },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		is_int(parse(bad[i].s, &b), bad[i].r, "'%s': %s", bad[i].s, lm_ar_reason[bad[i].r]);
	char big[600];
	int n = snprintf(big, sizeof big, "{\"model_a\":\"%0300d\",\"model_b\":\"y\",\"winner\":\"tie\"}", 0);
	is_int(lm_ar_parse(big, (size_t)n, &b, (char[64]){ 0 }, 64), LM_AR_BAD_MODEL, "a name of 300 bytes");
}

/* the score equations: per model, the sum of P(win) over its battles equals its wins + ties / 2 */
static double score_gap(size_t nm, const lm_ar_cell *c, size_t nc, const double *r)
{
	double worst = 0, *g = calloc(nm, sizeof *g);
	for (size_t k = 0; k < nc; k++) {
		double n = c[k].w[0] + c[k].w[1] + c[k].w[2];
		double p = 1 / (1 + pow(10, (r[c[k].j] - r[c[k].i]) / 400));
		g[c[k].i] += c[k].w[0] + c[k].w[2] / 2 - n * p;
		g[c[k].j] -= c[k].w[0] + c[k].w[2] / 2 - n * p;
	}
	for (size_t i = 0; i < nm; i++)
		worst = fmax(worst, fabs(g[i]));
	free(g);
	return worst;
}

static void test_bt(void)
{
	enum { M = 9 };
	lm_ar_cell c[M * (M - 1) / 2];
	size_t nc = 0;
	for (uint32_t i = 0; i < M; i++)
		for (uint32_t j = i + 1; j < M; j++)
			if (tap_rand(4))	/* some pairs never met */
				c[nc++] = (lm_ar_cell){ i, j, { 1 + tap_rand(30), 1 + tap_rand(30), tap_rand(5) } };
	double r[M];
	char err[256];
	int it;
	is_int(lm_ar_bt(M, c, nc, 3, r, &it, err, sizeof err), 0, "Bradley-Terry on %zu random pairs of %d models", nc, M);
	ok(r[3] == 1000, "  the anchor at 1000");
	double gap = score_gap(M, c, nc, r);
	ok(gap < 1e-8, "  the score equations hold: largest gap %.3g battles, after %d Newton steps", gap, it);
	double r2[M];
	lm_ar_bt(M, c, nc, 0, r2, NULL, err, sizeof err);
	double d = 0;
	for (int i = 0; i < M; i++)
		d = fmax(d, fabs((r2[i] - r2[3]) - (r[i] - r[3])));
	ok(d < 1e-8, "  another anchor moves every rating by the same amount (%.3g)", d);

	/* 0 beat 1 only; 1 and 2 split; 2 beat 3 only; 4 beat 3 only; 5 no battles */
	lm_ar_cell g[] = { { 0, 1, { 2, 0, 0 } }, { 1, 2, { 1, 1, 0 } }, { 2, 3, { 1, 0, 0 } }, { 3, 4, { 0, 1, 0 } } };
	double q[6];
	lm_ar_bt(6, g, 4, 1, q, NULL, err, sizeof err);
	ok(q[0] == INFINITY && q[1] == 1000 && q[2] == 1000 && q[3] == -INFINITY && isnan(q[4]) && isnan(q[5]),
	   "never lost: inf, never won: -inf, not comparable or no battles: NaN (%g %g %g %g %g %g)",
	   q[0], q[1], q[2], q[3], q[4], q[5]);
	lm_ar_cell tie[] = { { 0, 1, { 0, 0, 3 } } };
	lm_ar_bt(2, tie, 1, 0, q, NULL, err, sizeof err);
	ok(q[0] == 1000 && fabs(q[1] - 1000) < 1e-9, "ties only: equal ratings, finite");
	long comp[6];
	is_int(lm_ar_components(6, g, 4, comp), 1, "one component");
	ok(comp[5] == -1 && comp[0] == 0 && comp[4] == 0, "  a model without battles in none");
	lm_ar_cell two[] = { { 0, 1, { 1, 1, 0 } }, { 2, 3, { 1, 1, 0 } } };
	is_int(lm_ar_components(4, two, 2, comp), 2, "two groups that never met");
	ok(comp[0] == 0 && comp[1] == 0 && comp[2] == 1 && comp[3] == 1, "  numbered from the lowest model");
}

static void test_bootstrap(void)
{
	lm_ar_table t;
	lm_ar_table_init(&t, 16);
	lm_ar_battle b = { .alen = 1, .blen = 1 };
	for (int k = 0; k < 400; k++) {
		snprintf(b.a, sizeof b.a, "%c", 'a' + tap_rand(5));
		do
			snprintf(b.b, sizeof b.b, "%c", 'a' + tap_rand(5));
		while (b.b[0] == b.a[0]);
		b.winner = (int)tap_rand(4);
		long ia, ib;
		lm_ar_add(&t, &b, &ia, &ib);
	}
	is_int(t.battles, 400, "400 battles counted");
	is_int(t.nm, 5, "  5 models");
	double x[50 * 5], y[50 * 5];
	size_t a = lm_ar_first_by_name(&t);
	ok(!strcmp(t.m[a].name, "a"), "  the first by name");
	lm_ar_bootstrap(&t, a, 50, 7, 1, x);
	lm_ar_bootstrap(&t, a, 50, 7, 3, y);
	ok(!memcmp(x, y, sizeof x), "bootstrap: the same with 1 and 3 threads");
	int finite = 1, varies = 0;
	for (int i = 0; i < 50 * 5; i++) {
		finite &= isfinite(x[i]);
		varies |= x[i] != x[i % 5];
	}
	ok(finite && varies, "  finite ratings that vary between rounds");
	lm_ar_table_free(&t);
}

static void test_quantile(void)
{
	double v[] = { 4, NAN, 1, 3, 2 };
	ok(lm_ar_quantile(v, 5, 0.25) == 1.75, "quantile 0.25 of 1..4 (NaN left out): 1.75, as numpy");
	double w[] = { -INFINITY, 1, 2, INFINITY };
	ok(lm_ar_quantile(w, 4, 0) == -INFINITY && lm_ar_quantile(w, 4, 1) == INFINITY &&
	   lm_ar_quantile(w, 4, 0.5) == 1.5, "  infinities at the ends");
	double z[] = { NAN };
	ok(isnan(lm_ar_quantile(z, 1, 0.5)), "  none left: NaN");
}

static void test_lc(void)
{
	enum { N = 400 };
	double d[N], y[N];
	for (int i = 0; i < N; i++) {
		d[i] = (double)tap_rand(1000) - 300;
		double p = 1 / (1 + exp(-(0.3 + 1.2 * tanh(d[i] / 400))));
		y[i] = tap_rand(10) == 0 ? 0.5 : (tap_rand(1u << 20) < p * (1u << 20));
	}
	lm_ar_lc o;
	lm_ar_lc_fit(d, y, N, &o);
	is_int(o.status, LM_AR_LC_OK, "length control: a fit");
	double g0 = 0, g1 = 0;
	for (int i = 0; i < N; i++) {
		double x = tanh(d[i] / o.s), p = 1 / (1 + exp(-(o.beta + o.phi * x)));
		g0 += y[i] - p;
		g1 += (y[i] - p) * x;
	}
	ok(fabs(g0) < 1e-9 && fabs(g1) < 1e-9, "  the score equations hold (%.2g, %.2g)", g0, g1);
	ok(fabs(o.lc - 1 / (1 + exp(-o.beta))) < 1e-15 && o.phi > 0.5, "  LC = sigmoid(beta) = %.4f, phi %.3f", o.lc, o.phi);
	double e[3] = { 5, 5, 5 }, s[3] = { 1, 0, 0.5 };
	lm_ar_lc_fit(e, s, 3, &o);
	ok(o.status == LM_AR_LC_NO_SPREAD && fabs(o.lc - 0.5) < 1e-15, "equal lengths: LC = raw");
	double f[3] = { 1, 2, 3 }, w[3] = { 1, 1, 1 };
	lm_ar_lc_fit(f, w, 3, &o);
	ok(o.status == LM_AR_LC_ALL_SAME && o.lc == 1, "every battle won: LC = raw = 1");
	double sep[4] = { 0, 1, 0, 1 }, dl[4] = { -5, 5, -3, 7 };
	lm_ar_lc_fit(dl, sep, 4, &o);
	ok(o.status == LM_AR_LC_SEPARATED && isnan(o.lc), "wins only when longer: separated, LC undefined");
	double tl[4] = { 0, 1, 0.5, 1 }, dt[4] = { -5, 5, 5, 7 };
	lm_ar_lc_fit(dt, tl, 4, &o);
	ok(o.status == LM_AR_LC_SEPARATED, "  a tie at the boundary does not help");
	double ol[4] = { 0, 1, 0, 1 }, dov[4] = { -5, 5, 6, -7 };
	lm_ar_lc_fit(dov, ol, 4, &o);
	ok(o.status == LM_AR_LC_OK && isfinite(o.lc), "overlapping: a fit");
}

static void test_elo(void)
{
	double a = 1000, b = 1000;
	lm_ar_elo_update(&a, &b, 1, 4);
	ok(a == 1002 && b == 998, "Elo: a win between equals moves K/2 each way");
}

int main(void)
{
	test_parse();
	test_bt();
	test_bootstrap();
	test_quantile();
	test_lc();
	test_elo();
	return tap_done();
}
