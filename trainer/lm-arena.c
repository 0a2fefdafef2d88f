/* lm-arena - rank models from pairwise battles (Chatbot Arena's JSONL): Bradley-Terry ratings by
 * maximum likelihood with bootstrap intervals, or online Elo, and the length-controlled win rate
 * against a baseline (AlpacaEval 2's). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "cli.h"
#include "input.h"
#include "opt.h"
#include "output.h"

static const cm_opt_info info = {
	"[OPTION]... [FILE]...",
	"Rank models from pairwise battles: JSONL lines {\"model_a\", \"model_b\", \"winner\"} with\n"
	"winner model_a, model_b, tie or \"tie (bothbad)\" (Chatbot Arena's form), from the FILEs or\n"
	"standard input. Bradley-Terry ratings by unregularised maximum likelihood (a tie is half\n"
	"a win to each side) on the Elo scale: 400/ln 10 times the log-strength, the anchor (the\n"
	"first model by name) at 1000; percentile intervals from a bootstrap of the battles. --elo:\n"
	"online Elo in the order of the file instead. --baseline: each model's win rate against\n"
	"the baseline, raw and length-controlled (AlpacaEval 2's logistic regression on the\n"
	"length difference; lengths from len_a/len_b, else the characters of\n"
	"response_a/response_b).\n",
	NULL, "the counts, the fit's Newton steps and the time"
};

#define MAX_LINE ((size_t)1 << 26)
#define MAX_LC ((size_t)1 << 26)	/* battles with lengths against the baseline */

/* a battle against the baseline: the other model, its length minus the baseline's, its score */
typedef struct vs {
	uint32_t m;
	float y;
	double d;
} vs;

typedef struct state {
	lm_ar_table t;
	double *elo;		/* online Elo, per model */
	size_t elo_cap;
	double k;
	const char *baseline;
	long base;		/* its index once seen */
	vs *v;
	size_t nv, cap_v;
	uint64_t *vs_all, *vs_nolen;	/* battles against the baseline per model; those without lengths */
	double *vs_score;		/* their scores' sum */
	size_t vs_cap;
	uint64_t lines, skipped[LM_AR_NREASONS];
	cm_output *rej;
	int strict;
} state;

static void reject(state *s, const char *path, uint64_t lineno, int reason, const char *why,
		   const char *line, size_t len)
{
	s->skipped[reason]++;
	if (s->strict)
		cm_die("%s:%llu: %s: %s (--strict)", path, (unsigned long long)lineno, lm_ar_reason[reason], why);
	if (!s->rej)
		return;
	json_t *j = json_pack("{s:s, s:I, s:s, s:s, s:s%}", "file", path, "line", (json_int_t)lineno, "reason",
			      lm_ar_reason[reason], "detail", why, "text", line, len);
	char *d = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	if (!d) {	/* the line's bytes are not UTF-8: only where it was */
		json_decref(j);
		j = json_pack("{s:s, s:I, s:s, s:s}", "file", path, "line", (json_int_t)lineno, "reason",
			      lm_ar_reason[reason], "detail", why[0] ? why : "not UTF-8");
		d = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
	}
	cm_output_write(s->rej, d, strlen(d));
	cm_output_write(s->rej, "\n", 1);
	free(d);
	json_decref(j);
}

static void grow_models(state *s)
{
	size_t nm = s->t.nm;
	if (nm <= s->elo_cap && nm <= s->vs_cap)
		return;
	size_t cap = nm * 2;
	s->elo = cm_xrealloc(s->elo, cap * sizeof *s->elo);
	for (size_t i = s->elo_cap; i < cap; i++)
		s->elo[i] = 1000;
	s->elo_cap = cap;
	s->vs_all = cm_xrealloc(s->vs_all, cap * sizeof *s->vs_all);
	s->vs_nolen = cm_xrealloc(s->vs_nolen, cap * sizeof *s->vs_nolen);
	s->vs_score = cm_xrealloc(s->vs_score, cap * sizeof *s->vs_score);
	for (size_t i = s->vs_cap; i < cap; i++) {
		s->vs_all[i] = s->vs_nolen[i] = 0;
		s->vs_score[i] = 0;
	}
	s->vs_cap = cap;
}

static void battle(state *s, const lm_ar_battle *b)
{
	long ia, ib;
	if (lm_ar_add(&s->t, b, &ia, &ib) < 0)
		cm_die("more than %zu models (--max-models)", s->t.max_models);
	grow_models(s);
	double sa = b->winner == LM_AR_WIN_A ? 1 : b->winner == LM_AR_WIN_B ? 0 : 0.5;
	lm_ar_elo_update(&s->elo[ia], &s->elo[ib], sa, s->k);
	if (s->baseline && s->base < 0)
		s->base = lm_ar_model_find(&s->t, s->baseline);
	if (s->base < 0 || (ia != s->base && ib != s->base))
		return;
	int a_is_base = ia == s->base;
	long m = a_is_base ? ib : ia;
	double y = a_is_base ? 1 - sa : sa;
	s->vs_all[m]++;
	s->vs_score[m] += y;
	if (!b->has_len) {
		s->vs_nolen[m]++;
		return;
	}
	if (s->nv == MAX_LC)
		cm_die("more than %zu battles with lengths against the baseline", MAX_LC);
	if (s->nv == s->cap_v) {
		s->cap_v = s->cap_v ? 2 * s->cap_v : 1024;
		s->v = cm_xrealloc(s->v, s->cap_v * sizeof *s->v);
	}
	double d = a_is_base ? b->len_b - b->len_a : b->len_a - b->len_b;
	s->v[s->nv++] = (vs){ (uint32_t)m, (float)y, d };
}

static void read_file(state *s, const char *path)
{
	char err[512], why[400];
	cm_input *in = cm_input_open_err(path ? path : "-", err, sizeof err);
	if (!in)
		cm_die("%s", err);
	const char *name = path && strcmp(path, "-") ? path : "standard input";
	char *line;
	size_t len;
	uint64_t lineno = 0;
	int r;
	lm_ar_battle b;
	while ((r = cm_input_line(in, &line, &len, MAX_LINE)) != 0) {
		lineno++;
		s->lines++;
		if (r < 0) {
			snprintf(why, sizeof why, "%zu bytes, over %zu", len, MAX_LINE);
			reject(s, name, lineno, LM_AR_LONG_LINE, why, "", 0);
			continue;
		}
		size_t n = len;
		while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
			n--;
		if (!n) {	/* a blank line is no record */
			s->lines--;
			continue;
		}
		int rc = lm_ar_parse(line, n, &b, why, sizeof why);
		if (rc != LM_AR_OK) {
			reject(s, name, lineno, rc, why, line, n);
			continue;
		}
		battle(s, &b);
	}
	if (cm_input_failed(in) || cm_input_truncated(in))
		cm_die("%s: %s", name, cm_input_error(in));
	cm_input_close(in);
}

/* a rating, an interval's end: a number, "inf"/"-inf", or null when undefined */
static json_t *jnum(double x)
{
	return isnan(x) ? json_null() : isinf(x) ? json_string(x > 0 ? "inf" : "-inf") : json_real(x);
}

static void fmt(char *buf, size_t n, double x, int prec)
{
	if (isnan(x))
		snprintf(buf, n, "-");
	else if (isinf(x))
		snprintf(buf, n, "%s", x > 0 ? "inf" : "-inf");
	else
		snprintf(buf, n, "%.*f", prec, x);
}

static const double *sort_key;
static const lm_ar_table *sort_t;
/* by rating, highest first, undefined last; then by name */
static int by_rating(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	double ra = sort_key[a], rb = sort_key[b];
	int na = isnan(ra), nb = isnan(rb);
	if (na != nb)
		return na - nb;
	if (!na && ra != rb)
		return ra > rb ? -1 : 1;
	return strcmp(sort_t->m[a].name, sort_t->m[b].name);
}

static void put(const cm_buf *o)
{
	cm_fwrite(o->p, o->len, stdout, "standard output");
}

int main(int argc, char **argv)
{
	cm_init("lm-arena");
	static state s;
	long long nboot = 0, seed = 1, threads = 0, max_models = 4096;
	double level = 0.95;
	int json = 0, elo = 0;
	const char *rejects = NULL, *anchor_name = NULL;
	s.k = 4;
	const cm_opt opts[] = {
		CM_OPT_GROUP("Ratings:"),
		CM_OPT_STRING(0, "anchor", &anchor_name, "MODEL",
			      "the model rated 1000 (default: the first by name)"),
		CM_OPT_INT(0, "bootstrap", &nboot, "N", 0, 1000000,
			   "N fits on the battles drawn with replacement: percentile\n"
			   "intervals (default: 0, none)"),
		CM_OPT_DOUBLE(0, "level", &level, "X", 0.5, 0.9999, "the intervals' level (default: 0.95)"),
		CM_OPT_INT(0, "seed", &seed, "N", 0, 1LL << 62, "the bootstrap's seed (default: 1)"),
		CM_OPT_INT('j', "threads", &threads, "N", 1, 4096, "bootstrap threads (default: all cores)"),
		CM_OPT_FLAG(0, "elo", &elo, "online Elo in the order of the battles instead (no intervals)"),
		CM_OPT_DOUBLE(0, "k-factor", &s.k, "K", 0, 1000, "--elo's K (default: 4, Chatbot Arena's)"),
		CM_OPT_STRING(0, "baseline", &s.baseline, "MODEL",
			      "win rates against MODEL, raw and length-controlled"),
		CM_OPT_GROUP("Input and output:"),
		CM_OPT_FLAG(0, "json", &json, "JSON on standard output: {MODEL: {\"rating\", \"lo\", \"hi\", ...}}"),
		CM_OPT_STRING(0, "rejects", &rejects, "FILE",
			      "the lines that are not battles, one JSON object each with the\n"
			      "reason"),
		CM_OPT_FLAG(0, "strict", &s.strict, "a line that is not a battle is an error"),
		CM_OPT_INT(0, "max-models", &max_models, "N", 2, 1 << 20,
			   "at most N distinct models (default: 4096)"),
		CM_OPT_END()
	};
	int na = cm_opt_parse(argc, argv, opts, &info);
	char **args = argv + 1;
	if (elo && (nboot || anchor_name))
		cm_usage_error("--%s is for the Bradley-Terry ratings, not --elo's", nboot ? "bootstrap" : "anchor");
	if (na > 0)
		na = cm_opt_lists(na, &args);
	lm_ar_table_init(&s.t, (size_t)max_models);
	s.base = -1;
	if (rejects)
		s.rej = cm_output_open(rejects, 0);
	double t0 = cm_now();
	if (na == 0)
		read_file(&s, NULL);
	for (int i = 0; i < na; i++)
		read_file(&s, args[i]);
	if (s.rej)
		cm_output_close(s.rej);
	uint64_t nskip = 0;
	cm_buf msg = CM_BUF_INIT;
	for (int r = 1; r < LM_AR_NREASONS; r++)
		if (s.skipped[r]) {
			cm_buf_printf(&msg, "%s%llu %s", nskip ? ", " : "", (unsigned long long)s.skipped[r],
				      lm_ar_reason[r]);
			nskip += s.skipped[r];
		}
	if (nskip)
		cm_warn("%llu of %llu lines skipped: %s%s", (unsigned long long)nskip,
			(unsigned long long)s.lines, msg.p, rejects ? "" : " (--rejects FILE keeps them)");
	lm_ar_table *t = &s.t;
	if (!t->battles)
		cm_die("no battles in the input");
	if (s.baseline && s.base < 0)
		cm_die("--baseline '%s': no battle names it", s.baseline);
	size_t nm = t->nm, anchor = lm_ar_first_by_name(t);
	if (anchor_name) {
		long a = lm_ar_model_find(t, anchor_name);
		if (a < 0)
			cm_die("--anchor '%s': no battle names it", anchor_name);
		anchor = (size_t)a;
	}

	double *rating = cm_xmalloc(nm * sizeof *rating), *lo = cm_xmalloc(nm * sizeof *lo);
	double *hi = cm_xmalloc(nm * sizeof *hi);
	int iters = 0;
	char err[512];
	if (elo) {
		memcpy(rating, s.elo, nm * sizeof *rating);
	} else {
		long *comp = cm_xmalloc(nm * sizeof *comp);
		size_t nc = lm_ar_components(nm, t->c, t->nc, comp);
		if (nc > 1) {
			cm_buf b = CM_BUF_INIT;
			for (size_t c = 0; c < nc && c < 5; c++) {
				size_t first = 0, size = 0;
				for (size_t i = 0; i < nm; i++)
					if (comp[i] == (long)c && !size++)
						first = i;
				cm_buf_printf(&b, "%s'%s'%s", c ? "; " : "", t->m[first].name,
					      size > 1 ? "" : " alone");
				if (size > 1)
					cm_buf_printf(&b, " and %zu more", size - 1);
			}
			cm_die("the battles form %zu groups of models that never met, whose ratings cannot be "
			       "compared: %s%s (rank each group alone)", nc, b.p, nc > 5 ? "; ..." : "");
		}
		free(comp);
		if (lm_ar_bt(nm, t->c, t->nc, anchor, rating, &iters, err, sizeof err) < 0)
			cm_die("%s", err);
	}
	double t1 = cm_now();
	for (size_t i = 0; i < nm; i++)
		lo[i] = hi[i] = NAN;
	size_t undefined_boot = 0;
	if (nboot > 0) {
		double *bs = cm_xmalloc((size_t)nboot * nm * sizeof *bs), *col = cm_xmalloc((size_t)nboot * sizeof *col);
		lm_ar_bootstrap(t, anchor, (int)nboot, (uint64_t)seed, (int)threads, bs);
		for (size_t i = 0; i < nm; i++) {
			for (long long r = 0; r < nboot; r++) {
				col[r] = bs[(size_t)r * nm + i];
				undefined_boot += isnan(col[r]) != 0;
			}
			lo[i] = lm_ar_quantile(col, (size_t)nboot, (1 - level) / 2);
			hi[i] = lm_ar_quantile(col, (size_t)nboot, (1 + level) / 2);
		}
		free(bs);
		free(col);
	}
	double t2 = cm_now();
	size_t ninf = 0, nnan = 0;
	for (size_t i = 0; i < nm; i++) {
		ninf += isinf(rating[i]) != 0;
		nnan += isnan(rating[i]) != 0;
	}
	if (ninf)
		cm_warn("%zu model%s never lost (inf) or never won (-inf) against the group of '%s' and "
			"the models it beats or loses to: no finite maximum-likelihood rating", ninf,
			ninf > 1 ? "s" : "", t->m[anchor].name);
	if (nnan)
		cm_warn("%zu model%s neither above nor below '%s' by any chain of battles: rating undefined",
			nnan, nnan > 1 ? "s" : "", t->m[anchor].name);

	/* the baseline: per model, the raw win rate and the length-controlled one */
	lm_ar_lc *lc = NULL;
	uint64_t nolen = 0;
	if (s.baseline) {
		lc = cm_xcalloc(nm, sizeof *lc);
		size_t *start = cm_xcalloc(nm + 1, sizeof *start);
		for (size_t i = 0; i < s.nv; i++)
			start[s.v[i].m + 1]++;
		for (size_t i = 0; i < nm; i++)
			start[i + 1] += start[i];
		double *d = cm_xmalloc((s.nv + 1) * sizeof *d), *y = cm_xmalloc((s.nv + 1) * sizeof *y);
		size_t *fill = cm_xmalloc((nm + 1) * sizeof *fill);
		memcpy(fill, start, nm * sizeof *fill);
		for (size_t i = 0; i < s.nv; i++) {
			size_t p = fill[s.v[i].m]++;
			d[p] = s.v[i].d;
			y[p] = s.v[i].y;
		}
		for (size_t i = 0; i < nm; i++) {
			lm_ar_lc_fit(d + start[i], y + start[i], start[i + 1] - start[i], &lc[i]);
			nolen += s.vs_nolen[i];
		}
		if (nolen)
			cm_warn("%llu battles against '%s' without lengths: counted in the raw win rates, not in "
				"the length-controlled ones", (unsigned long long)nolen, s.baseline);
		free(start);
		free(fill);
		free(d);
		free(y);
	}

	size_t *order = cm_xmalloc(nm * sizeof *order);
	for (size_t i = 0; i < nm; i++)
		order[i] = i;
	sort_key = rating;
	sort_t = t;
	qsort(order, nm, sizeof *order, by_rating);

	cm_buf o = CM_BUF_INIT;
	if (json) {
		json_t *j = json_object();
		for (size_t r = 0; r < nm; r++) {
			size_t i = order[r];
			const lm_ar_model *m = &t->m[i];
			json_t *x = json_object();
			json_object_set_new(x, "rating", jnum(rating[i]));
			json_object_set_new(x, "lo", jnum(lo[i]));
			json_object_set_new(x, "hi", jnum(hi[i]));
			if (nboot)
				json_object_set_new(x, "level", json_real(level));
			json_object_set_new(x, "battles", json_integer((json_int_t)m->battles));
			json_object_set_new(x, "wins", json_integer((json_int_t)m->wins));
			json_object_set_new(x, "ties", json_integer((json_int_t)m->ties));
			json_object_set_new(x, "win_rate", json_real(((double)m->wins + (double)m->ties / 2) /
								     (double)m->battles));
			if (lc && (long)i != s.base && s.vs_all[i]) {
				const lm_ar_lc *l = &lc[i];
				static const char *const st[] = { "ok", "no length spread", "all the same outcome",
								  "separated by length" };
				json_t *bj = json_pack("{s:I, s:I, s:f}", "battles", (json_int_t)s.vs_all[i],
						       "with_lengths", (json_int_t)l->n,
						       "win_rate", s.vs_score[i] / (double)s.vs_all[i]);
				json_object_set_new(bj, "lc_win_rate", jnum(l->lc));
				json_object_set_new(bj, "length_coef", jnum(l->n ? l->phi : NAN));
				json_object_set_new(bj, "length_scale", jnum(l->n ? l->s : NAN));
				json_object_set_new(bj, "lc_status", json_string(l->n ? st[l->status] : "no lengths"));
				json_object_set_new(x, "vs_baseline", bj);
			}
			json_object_set_new(j, m->name, x);
		}
		char *d = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(12) | JSON_PRESERVE_ORDER);
		if (!d)
			cm_die("cannot write the JSON (out of memory)");
		cm_buf_printf(&o, "%s\n", d);
		free(d);
		json_decref(j);
	} else {
		int w = 5;
		for (size_t i = 0; i < nm; i++)
			if ((int)strlen(t->m[i].name) > w)
				w = (int)strlen(t->m[i].name);
		char lvl[32];
		snprintf(lvl, sizeof lvl, "%g%% interval", level * 100);
		cm_buf_printf(&o, "%4s  %-*s  %8s  %-21s  %8s  %8s\n", "rank", w, "model",
			      elo ? "elo" : "rating", nboot ? lvl : "", "battles", "win rate");
		for (size_t r = 0; r < nm; r++) {
			size_t i = order[r], rank = 1;
			for (size_t k = 0; k < nm; k++)
				rank += !isnan(rating[k]) && rating[k] > rating[i];
			const lm_ar_model *m = &t->m[i];
			char rs[32], ls[32], hs[32], iv[72] = "", rk[24];
			fmt(rs, sizeof rs, rating[i], 1);
			if (nboot) {
				fmt(ls, sizeof ls, lo[i], 1);
				fmt(hs, sizeof hs, hi[i], 1);
				snprintf(iv, sizeof iv, "[%s, %s]", ls, hs);
			}
			snprintf(rk, sizeof rk, isnan(rating[i]) ? "-" : "%zu", rank);
			cm_buf_printf(&o, "%4s  %-*s  %8s  %-21s  %8llu  %7.2f%%\n", rk, w, m->name, rs, iv,
				      (unsigned long long)m->battles,
				      100 * ((double)m->wins + (double)m->ties / 2) / (double)m->battles);
		}
		if (lc) {
			cm_buf_printf(&o, "\nagainst %s: win rates, raw and length-controlled (LC)\n", s.baseline);
			cm_buf_printf(&o, "%-*s  %8s  %8s  %8s  %10s\n", w, "model", "battles", "raw", "LC",
				      "length coef");
			for (size_t r = 0; r < nm; r++) {
				size_t i = order[r];
				if ((long)i == s.base || !s.vs_all[i])
					continue;
				const lm_ar_lc *l = &lc[i];
				char lcs[32], ph[32];
				fmt(lcs, sizeof lcs, 100 * l->lc, 2);
				if (!isnan(l->lc))
					strcat(lcs, "%");
				fmt(ph, sizeof ph, l->n ? l->phi : NAN, 3);
				cm_buf_printf(&o, "%-*s  %8llu  %7.2f%%  %8s  %10s%s\n", w, t->m[i].name,
					      (unsigned long long)s.vs_all[i], 100 * s.vs_score[i] / (double)s.vs_all[i],
					      lcs, ph, l->status == LM_AR_LC_SEPARATED ? "  (separated by length)" :
					      !l->n ? "  (no lengths)" : "");
			}
		}
	}
	if (o.len)
		put(&o);
	cm_fflush(stdout, "standard output");
	if (cm_verbosity > 0) {
		cm_info("%llu lines, %llu battles, %llu skipped, %zu models, %zu pairs", (unsigned long long)s.lines,
			(unsigned long long)t->battles, (unsigned long long)nskip, nm, t->nc);
		if (!elo)
			cm_info("read and fitted in %.3f s (%d Newton steps); bootstrap: %lld fits, %zu undefined "
				"ratings left out, %.3f s", t1 - t0, iters, nboot, undefined_boot, t2 - t1);
	}
	cm_buf_free(&o);
	cm_buf_free(&msg);
	free(order);
	free(lc);
	free(rating);
	free(lo);
	free(hi);
	free(s.elo);
	free(s.v);
	free(s.vs_all);
	free(s.vs_nolen);
	free(s.vs_score);
	lm_ar_table_free(t);
	return 0;
}
