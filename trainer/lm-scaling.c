/* lm-scaling - scaling laws: fit L(N, D) to training runs (Chinchilla's approaches 3 and 2),
 * plan a compute budget's model size and tokens from a fit, plot the runs and the fit. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "buf.h"
#include "cli.h"
#include "input.h"
#include "opt.h"
#include "output.h"
#include "safetensors.h"
#include "scaling.h"

static const cm_opt_info info = {
	"fit [OPTION]... RUNS...\n"
	"  or:  lm-scaling plan (--compute C | --tokens D | --params N) [OPTION]... (RUNS... | --fit FILE)\n"
	"  or:  lm-scaling plot -o PNG [OPTION]... RUNS...",
	"Scaling laws from training runs. RUNS: CSV files (a header naming N or params, D or\n"
	"tokens, or C or compute, and loss) or lm-train run directories (their parameters,\n"
	"tokens and last validation loss). fit: L(N, D) = E + A/N^alpha + B/D^beta by the Huber\n"
	"loss of log L (Chinchilla's approach 3, as Epoch AI refit it: L-BFGS from every start\n"
	"of a grid), bootstrap intervals, and IsoFLOP profiles (approach 2). plan: the\n"
	"compute-optimal model size and tokens. plot: the runs, the fit and the IsoFLOP\n"
	"curves as PNG.\n",
	NULL, "the starts, iterations and time"
};

#define MAX_POINTS (1 << 22)
#define MAX_LINE (1 << 20)

typedef struct pts {
	lm_sc_point *p;
	size_t n, cap;
} pts;

static void add(pts *s, double n, double d, double loss)
{
	if (s->n == MAX_POINTS)
		cm_die("more than %d runs", MAX_POINTS);
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->p = cm_xrealloc(s->p, s->cap * sizeof *s->p);
	}
	s->p[s->n++] = (lm_sc_point){ n, d, loss };
}

/* the column of a header cell: 0 N, 1 D, 2 C, 3 loss, -1 none */
static int column(const char *h)
{
	static const char *const names[][6] = {
		{ "n", "params", "parameters", "model size", "model_size", NULL },
		{ "d", "tokens", "training tokens", "training_tokens", NULL },
		{ "c", "compute", "flops", "training flop", "training flops", "training_flop" },
		{ "loss", "final loss", "final_loss", "val_loss", NULL },
	};
	for (int c = 0; c < 4; c++)
		for (int k = 0; k < 6 && names[c][k]; k++)
			if (!strcasecmp(h, names[c][k]))
				return c;
	return -1;
}

/* the next cell of a CSV line (double quotes around a cell allowed, "" inside one), trimmed,
 * into cell; the position after it (past the comma), or NULL at the end */
static const char *cell(const char *s, const char *end, cm_buf *cellb)
{
	cm_buf_reset(cellb);
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s < end && *s == '"') {
		for (s++; s < end; s++) {
			if (*s == '"' && s + 1 < end && s[1] == '"')
				cm_buf_add(cellb, s++, 1);
			else if (*s == '"')
				break;
			else
				cm_buf_add(cellb, s, 1);
		}
		s += s < end;
		while (s < end && *s != ',')
			s++;
	} else {
		const char *c = s;
		while (s < end && *s != ',')
			s++;
		const char *e = s;
		while (e > c && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		cm_buf_add(cellb, c, (size_t)(e - c));
	}
	cm_buf_add(cellb, "", 1);
	cellb->len--;
	return s < end ? s + 1 : NULL;
}

static void read_csv(const char *path, pts *s)
{
	char err[512];
	cm_input *in = cm_input_open_err(path, err, sizeof err);
	if (!in)
		cm_die("%s", err);
	char *line;
	size_t len, lineno = 0;
	int col[16], ncol = 0, have[4] = { 0 }, r;
	cm_buf cb = CM_BUF_INIT;
	while ((r = cm_input_line(in, &line, &len, MAX_LINE)) != 0) {
		lineno++;
		if (r < 0)
			cm_die("%s:%zu: a line of over %d bytes", path, lineno, MAX_LINE);
		if (!len || (len == 1 && line[0] == '\r'))
			continue;
		const char *p = line, *end = line + len;
		if (!ncol) {	/* the header */
			for (; p && ncol < 16; ncol++) {
				p = cell(p, end, &cb);
				col[ncol] = column(cb.p);
				if (col[ncol] >= 0) {
					if (have[col[ncol]])
						cm_die("%s:%zu: two columns for the same quantity ('%s')", path,
						       lineno, cb.p);
					have[col[ncol]] = 1;
				}
			}
			if (!have[0] || !have[3] || (!have[1] && !have[2]))
				cm_die("%s:%zu: the header needs columns for N (params), D (tokens) or C "
				       "(compute), and loss", path, lineno);
			continue;
		}
		double v[4] = { NAN, NAN, NAN, NAN };
		for (int c = 0; p && c < ncol; c++) {
			p = cell(p, end, &cb);
			if (col[c] < 0)
				continue;
			char *e;
			errno = 0;
			double x = strtod(cb.p, &e);
			if (e == cb.p || *e || !isfinite(x) || x <= 0)
				cm_die("%s:%zu: %s '%s': want a positive, finite number", path, lineno,
				       (const char *[]){ "N", "D", "C", "loss" }[col[c]], cb.p);
			v[col[c]] = x;
		}
		if (isnan(v[0]) || isnan(v[3]) || (isnan(v[1]) && isnan(v[2])))
			cm_die("%s:%zu: a row with missing cells", path, lineno);
		double d = !isnan(v[1]) ? v[1] : v[2] / (6 * v[0]);
		add(s, v[0], d, v[3]);
	}
	if (cm_input_failed(in) || cm_input_truncated(in))
		cm_die("%s: %s", path, cm_input_error(in));
	cm_input_close(in);
	cm_buf_free(&cb);
	if (!ncol)
		cm_die("%s: empty (no header)", path);
}

/* an lm-train run directory: parameters (the checkpoint's tensors), tokens (trainer.json),
 * the last validation loss (metrics.jsonl) */
static void read_run(const char *dir, pts *s)
{
	char path[4096], err[512], step[256];
	snprintf(path, sizeof path, "%s/latest", dir);
	cm_buf b = CM_BUF_INIT;
	if (cm_input_load(path, &b, 255, err, sizeof err) < 0)
		cm_die("%s: not an lm-train run directory (%s)", dir, err);
	size_t l = b.len;
	while (l && (b.p[l - 1] == '\n' || b.p[l - 1] == '\r'))
		l--;
	snprintf(step, sizeof step, "%.*s", (int)l, b.p);
	if (!l || strchr(step, '/'))
		cm_die("%s/latest: not a checkpoint name", dir);
	snprintf(path, sizeof path, "%s/%s/trainer.json", dir, step);
	json_t *tj = cm_json_load_file(path, 1 << 24, err, sizeof err);
	if (!tj)
		cm_die("%s", err);
	json_t *tk = json_object_get(tj, "tokens");
	double tokens = json_is_integer(tk) ? (double)json_integer_value(tk) : -1;
	json_decref(tj);
	if (tokens <= 0)
		cm_die("%s: no tokens trained", path);
	snprintf(path, sizeof path, "%s/%s/model.safetensors", dir, step);
	cm_st *st = cm_st_open(path, err, sizeof err);
	if (!st)
		cm_die("%s", err);
	double params = 0;
	for (size_t i = 0; i < st->n; i++)
		params += (double)st->t[i].n;
	cm_st_close(st);
	snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
	cm_input *in = cm_input_open_err(path, err, sizeof err);
	if (!in)
		cm_die("%s", err);
	char *line;
	size_t len;
	int r;
	double loss = NAN;
	size_t lineno = 0;
	while ((r = cm_input_line(in, &line, &len, MAX_LINE)) != 0) {
		lineno++;
		json_t *j = r > 0 ? json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
		if (!j)	/* a damaged line could hide the last evaluation: not skipped */
			cm_die("%s:%zu: not a JSON object of lm-train's", path, lineno);
		json_t *v = json_object_get(j, "val_loss");
		if (json_is_number(v))
			loss = json_number_value(v);
		json_decref(j);
	}
	cm_input_close(in);
	cm_buf_free(&b);
	if (!(loss > 0) || !isfinite(loss))
		cm_die("%s: no validation loss (train with --val)", path);
	add(s, params, tokens, loss);
}

static void read_inputs(char **args, int n, pts *s)
{
	for (int i = 0; i < n; i++) {
		struct stat sb;
		if (stat(args[i], &sb) == 0 && S_ISDIR(sb.st_mode))
			read_run(args[i], s);
		else
			read_csv(args[i], s);
	}
}

static int by_value(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

/* the q-quantile of v[0..n) (sorted in place; NaN left out), linear between ranks */
static double quantile(double *v, size_t n, double q)
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
	return i + 1 < k ? v[i] + (pos - (double)i) * (v[i + 1] - v[i]) : v[k - 1];
}

/* a fit's five reported values: E, A, B, alpha, beta */
static void values5(const lm_sc_fit *f, double v[5])
{
	v[0] = exp(f->e);
	v[1] = exp(f->a);
	v[2] = exp(f->b);
	v[3] = f->alpha;
	v[4] = f->beta;
}

static const char *const vname[5] = { "E", "A", "B", "alpha", "beta" };

typedef struct run {
	lm_sc_fit fit;
	lm_sc_fit *boot;	/* nboot bootstrap fits, or NULL */
	int nboot;
	double lo[5], hi[5];
} run;

static void intervals(run *r, double level)
{
	double *v = cm_xmalloc((size_t)r->nboot * sizeof *v);
	for (int k = 0; k < 5; k++) {
		for (int j = 0; j < r->nboot; j++) {
			double x[5];
			values5(&r->boot[j], x);
			v[j] = x[k];
		}
		r->lo[k] = quantile(v, (size_t)r->nboot, (1 - level) / 2);
		r->hi[k] = quantile(v, (size_t)r->nboot, (1 + level) / 2);
	}
	free(v);
}

static void put(const char *s)
{
	cm_fwrite(s, strlen(s), stdout, "standard output");
}

/* the fit of a JSON file that `fit --json` wrote: its five values and bootstrap fits */
static void read_fit(const char *path, run *r)
{
	char err[512];
	json_t *j = cm_json_load_file(path, (size_t)1 << 28, err, sizeof err);
	if (!j)
		cm_die("%s", err);
	double v[5];
	for (int k = 0; k < 5; k++) {
		json_t *x = json_object_get(j, vname[k]);
		if (!json_is_number(x) || !(json_number_value(x) > 0) || !isfinite(json_number_value(x)))
			cm_die("%s: no positive number '%s' (a file of lm-scaling fit --json)", path, vname[k]);
		v[k] = json_number_value(x);
	}
	r->fit = (lm_sc_fit){ log(v[1]), log(v[2]), log(v[0]), v[3], v[4], NAN, 0 };
	json_t *bs = json_object_get(j, "bootstrap");
	if (json_is_array(bs) && json_array_size(bs) > 0) {
		r->nboot = (int)json_array_size(bs);
		r->boot = cm_xcalloc((size_t)r->nboot, sizeof *r->boot);
		for (int i = 0; i < r->nboot; i++) {
			json_t *row = json_array_get(bs, (size_t)i);
			double w[5];
			for (int k = 0; k < 5; k++) {
				json_t *x = json_array_get(row, (size_t)k);
				w[k] = json_is_number(x) ? json_number_value(x) : NAN;
			}
			r->boot[i] = (lm_sc_fit){ log(w[1]), log(w[2]), log(w[0]), w[3], w[4], NAN, 0 };
		}
	}
	json_decref(j);
}

static void set_grid(const cm_opt *o, const char *v)
{
	char err[256];
	if (lm_sc_grid_set(o->ctx, v, err, sizeof err) < 0)
		cm_usage_error("option '--grid': %s", err);
}

int main(int argc, char **argv)
{
	cm_init("lm-scaling");
	double delta = 1e-3, gap = 0.02, level = 0.95, compute = 0, tokens = 0, params = 0;
	long long nboot = 0, seed = 1, drop = 0, threads = 0;
	int json = 0;
	const char *fit_path = NULL, *out = NULL;
	static lm_sc_grid grid;
	lm_sc_grid_default(&grid);
	const cm_opt opts[] = {
		CM_OPT_GROUP("Fit (fit, and plan or plot from runs):"),
		CM_OPT_DOUBLE(0, "delta", &delta, "X", 1e-12, 10, "the Huber loss's delta (default: 1e-3)"),
		CM_OPT_CALLBACK(0, "grid", set_grid, &grid, "NAME=LO:HI:STEP",
				"the starts of one parameter (a, b, e, alpha, beta; a = log A;\n"
				"repeatable); default Epoch's: alpha, beta 0:2:0.5, e -1:1:0.5,\n"
				"a, b 0:25:5"),
		CM_OPT_INT(0, "bootstrap", &nboot, "N", 0, 100000,
			   "N fits on resampled runs, from the fit: intervals (default: 0)"),
		CM_OPT_DOUBLE(0, "level", &level, "X", 0.5, 0.9999, "the intervals' level (default: 0.95)"),
		CM_OPT_INT(0, "seed", &seed, "N", 0, 1LL << 62, "the bootstrap's seed (default: 1)"),
		CM_OPT_INT(0, "drop-highest", &drop, "K", 0, 1 << 20,
			   "leave out the K runs of highest loss (Epoch's notebook can)"),
		CM_OPT_DOUBLE(0, "isoflop-gap", &gap, "X", 0, 10,
			      "approach 2: a budget ends where log10 compute jumps by more\n"
			      "than X (default: 0.02)"),
		CM_OPT_INT('j', "threads", &threads, "N", 1, 4096, "threads (default: all cores)"),
		CM_OPT_FLAG(0, "json", &json, "fit, plan: JSON on standard output"),
		CM_OPT_GROUP("Plan:"),
		CM_OPT_DOUBLE(0, "compute", &compute, "C", 0, 1e40, "a compute budget in FLOP (C = 6 N D)"),
		CM_OPT_DOUBLE(0, "tokens", &tokens, "D", 0, 1e30, "or a token budget"),
		CM_OPT_DOUBLE(0, "params", &params, "N", 0, 1e30, "or a model size"),
		CM_OPT_STRING(0, "fit", &fit_path, "FILE", "plan from a fit --json file, not from runs"),
		CM_OPT_GROUP("Plot:"),
		CM_OPT_STRING('o', "output", &out, "PNG", "the image"),
		CM_OPT_END()
	};
	int na = cm_opt_parse(argc, argv, opts, &info);
	if (na < 1)
		cm_usage_error("want a command: fit, plan or plot");
	const char *cmd = argv[1];
	char **args = argv + 2;
	int nargs = na - 1;
	int is_fit = !strcmp(cmd, "fit"), is_plan = !strcmp(cmd, "plan"), is_plot = !strcmp(cmd, "plot");
	if (!is_fit && !is_plan && !is_plot)
		cm_usage_error("unknown command '%s' (fit, plan or plot)", cmd);
	if (is_plan && (compute > 0) + (tokens > 0) + (params > 0) != 1)
		cm_usage_error("plan wants one of --compute, --tokens, --params");
	if (is_plot && !out)
		cm_usage_error("plot wants -o PNG");
	if (fit_path && (!is_plan || nargs))
		cm_usage_error("--fit is for plan, instead of runs");
	if (!fit_path && !nargs)
		cm_usage_error("no runs (CSV files or lm-train run directories)");
#ifdef _OPENMP
	if (threads > 0)
		omp_set_num_threads((int)threads);
#endif

	pts s = { 0 };
	run r = { 0 };
	char err[512];
	cm_buf o = CM_BUF_INIT;
	if (!fit_path) {
		nargs = cm_opt_lists(nargs, &args);
		read_inputs(args, nargs, &s);
		if (drop > 0) {	/* the K of highest loss out */
			if ((size_t)drop >= s.n)
				cm_usage_error("--drop-highest %lld leaves no run of %zu", drop, s.n);
			double *l = cm_xmalloc(s.n * sizeof *l);
			for (size_t i = 0; i < s.n; i++)
				l[i] = s.p[i].loss;
			qsort(l, s.n, sizeof *l, by_value);
			double cut = l[s.n - (size_t)drop];	/* the lowest loss dropped */
			size_t k = 0, dropped = 0;
			for (size_t i = 0; i < s.n; i++)
				if (s.p[i].loss < cut || (s.p[i].loss == cut && dropped >= (size_t)drop))
					s.p[k++] = s.p[i];
				else
					dropped++;
			s.n = k;
			free(l);
		}
	}
	int have3 = 0;
	lm_sc_isoflop iso = { 0 };
	if (fit_path) {
		read_fit(fit_path, &r);
		have3 = 1;
	} else {
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		have3 = lm_sc_fit_grid(s.p, s.n, delta, &grid, &r.fit, err, sizeof err) == 0;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (have3 && cm_verbosity > 0)
			cm_info("%zu runs, %zu starts in %.3f s; the best start ended after %d iterations, "
				"objective %.9g", s.n, lm_sc_grid_size(&grid), (double)(t1.tv_sec - t0.tv_sec) +
				(double)(t1.tv_nsec - t0.tv_nsec) * 1e-9, r.fit.iterations, r.fit.objective);
		if (!have3 && (is_plan || is_fit))
			cm_error("approach 3: %s", err);
		if (have3 && nboot > 0) {
			r.nboot = (int)nboot;
			r.boot = cm_xmalloc((size_t)nboot * sizeof *r.boot);
			lm_sc_bootstrap(s.p, s.n, delta, &r.fit, (int)nboot, (uint64_t)seed, r.boot);
		}
		lm_sc_isoflop_fit(s.p, s.n, gap, &iso);
	}
	if (r.nboot)
		intervals(&r, level);
	if (is_plan && !have3)
		return 1;

	if (is_fit) {
		double v[5] = { 0 };
		if (have3)
			values5(&r.fit, v);
		if (json) {
			json_t *j = json_object();
			if (have3) {
				for (int k = 0; k < 5; k++) {
					json_object_set_new(j, vname[k], json_real(v[k]));
					if (r.nboot) {
						char key[32];
						snprintf(key, sizeof key, "%s_lo", vname[k]);
						json_object_set_new(j, key, json_real(r.lo[k]));
						snprintf(key, sizeof key, "%s_hi", vname[k]);
						json_object_set_new(j, key, json_real(r.hi[k]));
					}
				}
				json_object_set_new(j, "objective", json_real(r.fit.objective));
			} else {
				json_object_set_new(j, "approach3_error", json_string(err));
			}
			json_object_set_new(j, "points", json_integer((json_int_t)s.n));
			json_object_set_new(j, "starts", json_integer((json_int_t)lm_sc_grid_size(&grid)));
			json_object_set_new(j, "delta", json_real(delta));
			if (r.nboot) {
				json_object_set_new(j, "level", json_real(level));
				json_t *a = json_array();
				for (int i = 0; i < r.nboot; i++) {
					double w[5];
					values5(&r.boot[i], w);
					json_t *row = json_array();
					for (int k = 0; k < 5; k++)
						json_array_append_new(row, isnan(w[k]) ? json_null() : json_real(w[k]));
					json_array_append_new(a, row);
				}
				json_object_set_new(j, "bootstrap", a);
			}
			json_t *ij = json_object();
			json_t *bud = json_array();
			for (size_t i = 0; i < iso.nb; i++) {
				const lm_sc_budget *b = &iso.b[i];
				json_t *x = json_pack("{s:f, s:I, s:I}", "C", b->c, "points", (json_int_t)b->points,
						      "sizes", (json_int_t)b->sizes);
				if (b->ok) {
					json_object_set_new(x, "N_opt", json_real(b->n_opt));
					json_object_set_new(x, "D_opt", json_real(b->d_opt));
					json_object_set_new(x, "loss", json_real(b->loss));
				}
				json_array_append_new(bud, x);
			}
			json_object_set_new(ij, "budgets", bud);
			if (iso.ok) {
				json_object_set_new(ij, "a", json_real(iso.a));
				json_object_set_new(ij, "b", json_real(1 - iso.a));
				json_object_set_new(ij, "k", json_real(iso.k));
			}
			json_object_set_new(j, "isoflop", ij);
			char *d = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
			cm_buf_printf(&o, "%s\n", d);
			free(d);
			json_decref(j);
		} else {
			if (have3) {
				cm_buf_printf(&o, "approach 3: L(N, D) = E + A/N^alpha + B/D^beta  (%zu runs, %zu starts, "
					      "Huber delta %g)\n", s.n, lm_sc_grid_size(&grid), delta);
				for (int k = 0; k < 5; k++) {
					cm_buf_printf(&o, "  %-6s %12.6g", vname[k], v[k]);
					if (r.nboot)
						cm_buf_printf(&o, "   [%.6g, %.6g]", r.lo[k], r.hi[k]);
					cm_buf_printf(&o, "\n");
				}
				if (r.nboot)
					cm_buf_printf(&o, "  (%g intervals from %d bootstrap fits)\n", level, r.nboot);
				cm_buf_printf(&o, "  objective %.6g (sum of Huber losses of log L)\n", r.fit.objective);
			} else {
				cm_buf_printf(&o, "approach 3: not fitted: %s\n", err);
			}
			cm_buf_printf(&o, "approach 2: IsoFLOP profiles, %zu budget%s, %zu with a minimum\n", iso.nb,
				      iso.nb == 1 ? "" : "s", iso.nok);
			for (size_t i = 0; i < iso.nb; i++) {
				const lm_sc_budget *b = &iso.b[i];
				cm_buf_printf(&o, "  C %-10.4g %3zu runs, %2zu sizes", b->c, b->points, b->sizes);
				if (b->ok)
					cm_buf_printf(&o, ": N_opt %.4g, D_opt %.4g, loss %.4f\n", b->n_opt, b->d_opt,
						      b->loss);
				else
					cm_buf_printf(&o, ": %s\n", b->sizes < 3 ? "under 3 sizes, no parabola" :
						      "no minimum inside the sizes");
			}
			if (iso.ok)
				cm_buf_printf(&o, "  N_opt = %.4g C^%.4f, D_opt proportional to C^%.4f\n", iso.k, iso.a,
					      1 - iso.a);
			else
				cm_buf_printf(&o, "  no power law: under 2 budgets with a minimum\n");
		}
	} else if (is_plan) {
		double no, dno, lo_;
		lm_sc_plan(&r.fit, compute, tokens, params, &no, &dno, &lo_);
		double q[4][2] = { { NAN, NAN }, { NAN, NAN }, { NAN, NAN }, { NAN, NAN } };
		if (r.nboot) {
			double *v[4];
			for (int k = 0; k < 4; k++)
				v[k] = cm_xmalloc((size_t)r.nboot * sizeof *v[k]);
			for (int j = 0; j < r.nboot; j++) {
				double bn, bd, bl;
				lm_sc_plan(&r.boot[j], compute, tokens, params, &bn, &bd, &bl);
				v[0][j] = bn;
				v[1][j] = bd;
				v[2][j] = bd / bn;
				v[3][j] = bl;
			}
			for (int k = 0; k < 4; k++) {
				q[k][0] = quantile(v[k], (size_t)r.nboot, (1 - level) / 2);
				q[k][1] = quantile(v[k], (size_t)r.nboot, (1 + level) / 2);
				free(v[k]);
			}
		}
		double val[4] = { no, dno, dno / no, lo_ };
		static const char *const pn[4] = { "N", "D", "tokens_per_param", "loss" };
		if (json) {
			json_t *j = json_object();
			json_object_set_new(j, "C", json_real(6 * no * dno));
			for (int k = 0; k < 4; k++) {
				json_object_set_new(j, pn[k], json_real(val[k]));
				if (r.nboot) {
					char key[40];
					snprintf(key, sizeof key, "%s_lo", pn[k]);
					json_object_set_new(j, key, json_real(q[k][0]));
					snprintf(key, sizeof key, "%s_hi", pn[k]);
					json_object_set_new(j, key, json_real(q[k][1]));
				}
			}
			char *d = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
			cm_buf_printf(&o, "%s\n", d);
			free(d);
			json_decref(j);
		} else {
			cm_buf_printf(&o, "compute %.4g FLOP (C = 6 N D)\n", 6 * no * dno);
			static const char *const label[4] = { "parameters", "tokens", "tokens/param", "loss" };
			for (int k = 0; k < 4; k++) {
				cm_buf_printf(&o, "  %-13s %12.4g", label[k], val[k]);
				if (r.nboot)
					cm_buf_printf(&o, "   [%.4g, %.4g]", q[k][0], q[k][1]);
				cm_buf_printf(&o, "\n");
			}
			if (r.nboot)
				cm_buf_printf(&o, "  (%g intervals from %d bootstrap fits)\n", level, r.nboot);
		}
	} else {	/* plot: gnuplot draws into a temporary file, written whole to -o */
		const char *td = getenv("TMPDIR");
		char tmpl[4096];
		snprintf(tmpl, sizeof tmpl, "%s/lm-scaling-XXXXXX", td && *td ? td : "/tmp");
		int fd = mkstemp(tmpl);
		if (fd < 0)
			cm_die("cannot make a temporary file in %s: %s", td && *td ? td : "/tmp", strerror(errno));
		close(fd);	/* gnuplot writes it; only its name is needed here */
		FILE *g = popen("gnuplot", "w");
		if (!g)
			cm_die("cannot run gnuplot (Debian's gnuplot-nox): %s", strerror(errno));
		cm_buf sc = CM_BUF_INIT;
		cm_buf_printf(&sc, "set terminal pngcairo size 1400,600 font 'sans,10'\nset output '%s'\n"
			      "set multiplot layout 1,2\nset logscale x\nset grid\n$runs << EOD\n", tmpl);
		for (size_t i = 0; i < s.n; i++)
			cm_buf_printf(&sc, "%.8g %.8g %.8g\n", 6 * s.p[i].n * s.p[i].d, s.p[i].loss, log10(s.p[i].n));
		cm_buf_printf(&sc, "EOD\n");
		double cmin = INFINITY, cmax = -INFINITY;
		for (size_t i = 0; i < s.n; i++) {
			cmin = fmin(cmin, 6 * s.p[i].n * s.p[i].d);
			cmax = fmax(cmax, 6 * s.p[i].n * s.p[i].d);
		}
		cm_buf_printf(&sc, "$front << EOD\n");
		if (have3)
			for (int i = 0; i <= 100; i++) {
				double c = cmin * pow(cmax * 10 / cmin, i / 100.0), no, dno, l;
				lm_sc_plan(&r.fit, c, 0, 0, &no, &dno, &l);
				cm_buf_printf(&sc, "%.8g %.8g\n", c, l);
			}
		cm_buf_printf(&sc, "EOD\nset title 'Runs and the compute-optimal frontier of the fit'\n"
			      "set xlabel 'compute (FLOP, 6 N D)'\nset ylabel 'loss'\nset cblabel 'log10 N'\n"
			      "plot $runs using 1:2:3 with points pt 7 ps 0.6 palette title 'runs'%s\n",
			      have3 ? ", $front using 1:2 with lines lw 2 lc rgb 'black' title 'fit: L(N_{opt}, D_{opt})'" : "");
		/* the IsoFLOP profiles: each budget's runs and parabola against N */
		cm_buf_printf(&sc, "set title 'IsoFLOP profiles (approach 2)'\nset xlabel 'parameters N'\n"
			      "unset colorbox\nplot ");
		int first = 1;
		for (size_t bi = 0; bi < iso.nb; bi++) {
			const lm_sc_budget *b = &iso.b[bi];
			if (b->sizes < 3)
				continue;
			cm_buf_printf(&sc, "%s'-' using 1:2 with points pt 7 ps 0.5 lc %zu title 'C %.2g'", first ? "" : ", ",
				      bi + 1, b->c);
			if (b->ok)
				cm_buf_printf(&sc, ", '-' using 1:2 with lines lc %zu notitle", bi + 1);
			first = 0;
		}
		if (first)
			cm_buf_printf(&sc, "NaN title 'no budget of 3 sizes'");
		cm_buf_printf(&sc, "\n");
		for (size_t bi = 0; bi < iso.nb; bi++) {
			const lm_sc_budget *b = &iso.b[bi];
			if (b->sizes < 3)
				continue;
			double nlo = INFINITY, nhi = 0;
			for (size_t i = 0; i < s.n; i++) {
				double c = 6 * s.p[i].n * s.p[i].d;
				if (c >= b->c_lo && c <= b->c_hi) {	/* the budget's runs */
					cm_buf_printf(&sc, "%.8g %.8g\n", s.p[i].n, s.p[i].loss);
					nlo = fmin(nlo, s.p[i].n);
					nhi = fmax(nhi, s.p[i].n);
				}
			}
			cm_buf_printf(&sc, "e\n");
			if (b->ok) {	/* its parabola over the sizes */
				for (int i = 0; i <= 50; i++) {
					double x = log(nlo) + (log(nhi) - log(nlo)) * i / 50.0;
					cm_buf_printf(&sc, "%.8g %.8g\n", exp(x), b->coef[0] + b->coef[1] * x + b->coef[2] * x * x);
				}
				cm_buf_printf(&sc, "e\n");
			}
		}
		cm_buf_printf(&sc, "unset multiplot\n");
		int short_write = fwrite(sc.p, 1, sc.len, g) != sc.len;
		int st = pclose(g);
		cm_buf_free(&sc);
		if (short_write || st != 0) {
			unlink(tmpl);
			cm_die("gnuplot failed (status %d): is Debian's gnuplot-nox installed?", st);
		}
		cm_buf img = CM_BUF_INIT;
		if (cm_input_load(tmpl, &img, (size_t)1 << 30, err, sizeof err) < 0 || img.len < 8 ||
		    memcmp(img.p, "\x89PNG", 4)) {
			unlink(tmpl);
			cm_die("gnuplot wrote no PNG");
		}
		unlink(tmpl);
		if (cm_afile_put(out, img.p, img.len, err, sizeof err) < 0)
			cm_die("%s", err);
		cm_buf_free(&img);
		if (cm_verbosity >= 0)
			cm_info("%s: %zu runs%s, %zu IsoFLOP budgets", out, s.n, have3 ? " and the fit" : "", iso.nb);
	}
	if (o.len) {
		put(o.p);
		cm_fflush(stdout, "standard output");
	}
	cm_buf_free(&o);
	lm_sc_isoflop_free(&iso);
	free(r.boot);
	free(s.p);
	return is_fit && !have3 && !iso.ok ? 1 : 0;
}
