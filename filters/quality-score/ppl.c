/* ppl.c - quality-score --model: perplexity under a language model, CCNet's buckets (ppl.h). */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "harness.h"
#include "mem.h"
#include "output.h"
#include "ppl.h"
#include "score.h"
#include "session.h"

/* Calibration: a histogram of bits per byte a language, bins of 1/256 bit over [0, 64) (the
 * last bin takes what is above): cut points to 1/256 bit, 128 KiB a language, whatever the
 * number of documents. */
#define HIST_SCALE 256
#define HIST_BINS (64 * HIST_SCALE)
#define MAX_CAL_LANGS 1024
static const double cal_pct[2] = { 100.0 / 3, 200.0 / 3 };	/* CCNet's thirds */

static const char *const bucket_names[] = { "head", "middle", "tail", NULL };

/* a record of the batch */
typedef struct prec {
	size_t tok0, ntok;	/* its tokens: toks.v[tok0 ..] */
	size_t bytes;		/* its text's */
	double ll;		/* the sum of its tokens' log-probabilities */
	double score;		/* a classifier's score */
	int bad;		/* a logit was NaN or infinite */
} prec;

/* a window (lm_req_rolling's request) placed in a row */
typedef struct place {
	size_t req;
	int len;		/* input positions: its tokens but the last */
	int row, at;
} place;

typedef struct lang_hist {
	char code[16];
	uint64_t n;
	uint64_t *h;
} lang_hist;

typedef struct lang_cut {
	char code[16];
	double c[2];
} lang_cut;

struct qs_ppl {
	qs_ppl_opts o;
	lm_session S;
	lm_model *m;
	cm_tok_ctx *tc;
	int64_t eot;
	int ctx, V, Vp;
	int cls;		/* the model is a classifier: LM_PROBLEM_* + 1 */
	uint64_t below, truncated;	/* classifier: records dropped under --model-min-score, cut */
	/* the batch */
	cm_ids toks;
	prec *r;
	size_t nr, rcap;
	lm_req *req;
	size_t nreq, reqcap;
	size_t *req_rec, req_rec_cap;
	place *pl;
	size_t plcap;
	/* the record picked */
	const prec *cur;
	int bucket;		/* QS_BUCKET_*, or QS_BUCKET_NONE */
	int fallback;		/* its language had no cut points: the "all" ones */
	char lang[16];		/* its language */
	/* cut points */
	lang_cut *cuts;
	size_t ncuts;
	int have_all;
	double all[2];
	/* calibration */
	lang_hist *cal;
	size_t ncal;
	lang_hist cal_all;
	uint64_t cal_over;	/* languages past MAX_CAL_LANGS: in "all" only */
	/* statistics */
	double tok_s, model_s;
	uint64_t docs, tokens, empty, nonfinite, windows, positions, padded, passes;
	uint64_t in_bucket[3], unscored_dropped, fallbacks, no_cuts;
};

static lm_device dev = { .name = "auto", .precision = -1 };

void qs_ppl_defaults(qs_ppl_opts *o)
{
	memset(o, 0, sizeof *o);
	o->bucket = QS_BUCKET_NONE;
	o->batch_tokens = 4096;
	o->batch_bytes = (size_t)16 << 20;
	o->batch_records = 4096;
	o->min_score = NAN;
}

static void set_bucket(const cm_opt *opt, const char *v)
{
	qs_ppl_opts *o = opt->ctx;
	int b;

	for (b = 0; bucket_names[b]; b++)
		if (strcmp(v, bucket_names[b]) == 0) {
			o->bucket = b;
			return;
		}
	cm_usage_error("option '--ppl-bucket' wants head, middle or tail, not '%s'", v);
}

const cm_opt *qs_ppl_opt_table(qs_ppl_opts *o)
{
	static cm_opt t[13];
	int n = 0;
#define ROW(...) (t[n++] = (cm_opt)__VA_ARGS__)
	ROW(CM_OPT_GROUP("Perplexity under a language model (CCNet's method):"));
	ROW(CM_OPT_STRING(0, "model", &o->model, "DIR",
			  "an lm-train run (or checkpoint) or a Hugging Face model\n"
			  "directory: each record's bits per byte, mean token\n"
			  "log-probability and tokens, in metadata.quality.model"));
	ROW(CM_OPT_STRING(0, "tokenizer", &o->tokenizer, "FILE",
			  "the model's tokenizer (default: DIR/tokenizer.json)"));
	ROW(CM_OPT_INT(0, "batch-tokens", &o->batch_tokens, "N", 1, 1 << 24,
		       "positions per forward pass at most (default: 4096)"));
	ROW(CM_OPT_INT(0, "batch-records", &o->batch_records, "N", 1, 1 << 24,
		       "records scored together at most (default: 4096; and\n"
		       "16 MiB of their lines)"));
	ROW(CM_OPT_STRING(0, "ppl-calibrate", &o->calibrate, "FILE",
			  "write each language's cut points (the 33rd and 67th\n"
			  "percentiles of bits per byte of the records kept otherwise)\n"
			  "into FILE (JSON)"));
	ROW(CM_OPT_STRING(0, "ppl-cuts", &o->cuts, "FILE", "cut points of --ppl-calibrate"));
	ROW(CM_OPT_CALLBACK(0, "ppl-bucket", set_bucket, o, "B",
			    "keep the records of bucket B only: head (the lowest\n"
			    "perplexity third), middle or tail (with --ppl-cuts)"));
	ROW(CM_OPT_DOUBLE(0, "model-min-score", &o->min_score, "X", -1e30, 1e30,
			  "a classifier as --model (lm-train --classify): drop\n"
			  "records scored below X (binary: the probability)"));
	ROW(CM_OPT_INCLUDE(lm_device_opts(&dev)));
	ROW(CM_OPT_END());
#undef ROW
	return t;
}

/* --ppl-cuts FILE */
static void load_cuts(qs_ppl *p, const char *path)
{
	json_error_t je;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je), *langs, *v;
	const char *code;

	if (!j)
		cm_usage_error("option '--ppl-cuts': '%s': %s", path, je.text);
	langs = json_object_get(j, "languages");
	if (!json_is_object(j) || (langs && !json_is_object(langs)))
		cm_usage_error("option '--ppl-cuts': '%s': not a file of --ppl-calibrate", path);
	p->cuts = cm_xcalloc(json_object_size(langs) + 1, sizeof *p->cuts);
	for (int all = 0; all < 2; all++) {
		void *it = all ? NULL : json_object_iter(langs);
		for (;;) {
			if (all) {
				v = json_object_get(j, "all");
				code = "all";
				if (!v)
					break;
			} else {
				if (!it)
					break;
				code = json_object_iter_key(it);
				v = json_object_iter_value(it);
				it = json_object_iter_next(langs, it);
			}
			json_t *c = json_object_get(v, "cuts");
			double c0, c1;
			if (json_array_size(c) != 2 || !json_is_number(json_array_get(c, 0)) ||
			    !json_is_number(json_array_get(c, 1)) || strlen(code) >= 16)
				cm_usage_error("option '--ppl-cuts': '%s': '%s' has no \"cuts\": [a, b]",
					       path, code);
			c0 = json_number_value(json_array_get(c, 0));
			c1 = json_number_value(json_array_get(c, 1));
			if (!(c0 <= c1))
				cm_usage_error("option '--ppl-cuts': '%s': '%s': cut points out of order",
					       path, code);
			if (all) {
				p->have_all = 1;
				p->all[0] = c0;
				p->all[1] = c1;
				break;
			}
			snprintf(p->cuts[p->ncuts].code, sizeof p->cuts[p->ncuts].code, "%s", code);
			p->cuts[p->ncuts].c[0] = c0;
			p->cuts[p->ncuts].c[1] = c1;
			p->ncuts++;
		}
	}
	json_decref(j);
}

qs_ppl *qs_ppl_open(const qs_ppl_opts *o)
{
	qs_ppl *p = cm_xcalloc(1, sizeof *p);
	char err[8192], info[1024];

	p->o = *o;
	if (o->bucket != QS_BUCKET_NONE && !o->cuts)
		cm_usage_error("option '--ppl-bucket' wants the cut points of --ppl-cuts");
	if (o->cuts)
		load_cuts(p, o->cuts);
	if (lm_session_open(&p->S, &dev, err, sizeof err) < 0)
		cm_usage_error("option '--device': %s", err);
	if (lm_session_checkpoint(&p->S, o->model, err, sizeof err) < 0)
		cm_usage_error("option '--model': %s", err);
	if (lm_session_tokenizer(&p->S, o->tokenizer, err, sizeof err) < 0)
		cm_usage_error("option '--model': %s", err);
	if (p->S.cfg.labels > 1)
		cm_usage_error("option '--model': '%s' is a classifier of %d labels (one is scored)",
			       o->model, p->S.cfg.labels);
	p->cls = p->S.cfg.labels ? p->S.cfg.problem + 1 : 0;
	if (p->cls && (o->calibrate || o->cuts))
		cm_usage_error("options '--ppl-calibrate' and '--ppl-cuts' want a language model as "
			       "--model, not a classifier");
	if (!p->cls && !isnan(o->min_score))
		cm_usage_error("option '--model-min-score' wants a classifier as --model "
			       "(lm-train --classify)");
	if (cm_tok_vocab_size(p->S.tok) > (uint32_t)p->S.cfg.vocab)
		cm_usage_error("option '--model': the tokenizer has %u tokens, the model %d: they do "
			       "not belong together", cm_tok_vocab_size(p->S.tok), p->S.cfg.vocab);
	p->ctx = p->S.cfg.ctx;
	p->V = p->S.cfg.vocab;
	p->Vp = p->S.cfg.vocab_padded;
	p->eot = cm_tok_eot(p->S.tok);
	p->tc = cm_tok_ctx_new(p->S.tok);
	int rows = o->batch_tokens / p->ctx > 1 ? o->batch_tokens / p->ctx : 1;
	/* the batch's tokens and windows: about a token a byte at most, 4 bytes each, twice */
	double held = 8.0 * (double)o->batch_bytes;
	int fits = lm_mem_check_eval(&p->S.cfg, p->S.be, p->S.adt, rows, p->ctx, 0, 0, held, info,
				     sizeof info, err, sizeof err);
	if (cm_verbosity > 0)
		cm_info("--model: %s", info);
	if (fits < 0)
		cm_die("--model: %s", err);
	if (!(p->m = lm_session_model(&p->S, 0, err, sizeof err)))
		cm_usage_error("option '--model': %s", err);
	if (cm_verbosity > 0)
		cm_info("--model '%s': context %d, vocabulary %d, on %s in %s", p->S.dir, p->ctx, p->V,
			p->S.be->desc, lm_precision_name(p->S.adt));
	return p;
}

void qs_ppl_add(qs_ppl *p, const cm_jrec *rec, const char *text_field, size_t index)
{
	const cm_jfield *t = cm_jrec_get(rec, text_field);
	double t0 = cm_now();
	prec *x;

	if (index == 0) {	/* a new batch */
		p->nr = 0;
		p->toks.n = 0;
	}
	if (p->nr == p->rcap) {
		p->rcap = p->rcap ? 2 * p->rcap : 256;
		p->r = cm_xrealloc(p->r, p->rcap * sizeof *p->r);
	}
	x = &p->r[p->nr++];
	memset(x, 0, sizeof *x);
	x->tok0 = p->toks.n;
	if (t && t->str && t->str_len) {	/* a classifier: as lm-train --classify encodes */
		cm_tok_encode(p->tc, t->str, t->str_len, !p->cls, &p->toks);
		x->bytes = t->str_len;
	}
	x->ntok = p->toks.n - x->tok0;
	p->tok_s += cm_now() - t0;
}

static int by_len(const void *a, const void *b)
{
	const place *x = a, *y = b;

	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	return x->req < y->req ? -1 : 1;
}

static int by_row(const void *a, const void *b)
{
	const place *x = a, *y = b;

	if (x->row != y->row)
		return x->row < y->row ? -1 : 1;
	return x->at < y->at ? -1 : 1;
}

/* One forward pass over rows [r0, r0 + B) of T positions, the windows pl[0 .. n) placed in
 * them (sorted by row), each window's scored tokens added to its record. */
static void forward_pass(qs_ppl *p, const place *pl, size_t n, int r0, int B, int T)
{
	size_t NT = (size_t)B * T, nsel = 0;
	int32_t *tk = cm_xmalloc(NT * sizeof *tk), *pos = cm_xmalloc(NT * sizeof *pos);
	int32_t *doc = cm_xmalloc(NT * sizeof *doc);
	int64_t *runs = cm_xmalloc(2 * n * sizeof *runs);
	int32_t *tgt, *rec;
	size_t k, t, nruns = 0;

	for (t = 0; t < NT; t++) {	/* padding: token 0, a document of its own */
		tk[t] = 0;
		pos[t] = 0;
		doc[t] = (int32_t)(t % (size_t)T);
	}
	for (k = 0; k < n; k++) {
		const lm_req *q = &p->req[pl[k].req];
		size_t base = (size_t)(pl[k].row - r0) * T + (size_t)pl[k].at;
		for (t = 0; t < (size_t)pl[k].len; t++) {
			tk[base + t] = (int32_t)q->tok[t];
			pos[base + t] = (int32_t)t;
			doc[base + t] = pl[k].at;
		}
		/* its scored positions: the last ncont of its input, one run */
		runs[2 * nruns] = (int64_t)(base + (size_t)pl[k].len - q->ncont);
		runs[2 * nruns + 1] = (int64_t)q->ncont;
		nruns++;
		nsel += q->ncont;
	}
	tgt = cm_xmalloc(nsel * sizeof *tgt);
	rec = cm_xmalloc(nsel * sizeof *rec);
	nsel = 0;
	for (k = 0; k < n; k++) {
		const lm_req *q = &p->req[pl[k].req];
		for (t = q->n - q->ncont; t < q->n; t++) {
			tgt[nsel] = (int32_t)q->tok[t];
			rec[nsel++] = (int32_t)p->req_rec[pl[k].req];
		}
	}
	lm_forward_select(p->m, B, T, tk, pos, doc, NULL, runs, (int)nruns);
	/* the logits a chunk of rows at a time; each token's log-probability, then the sums in
	 * token order */
	enum { CHUNK = 256 };
	float *lg = cm_xmalloc((size_t)CHUNK * p->Vp * sizeof *lg);
	double lp[CHUNK];
	int fin[CHUNK];
	for (size_t c0 = 0; c0 < nsel; c0 += CHUNK) {
		int64_t c = nsel - c0 < CHUNK ? (int64_t)(nsel - c0) : CHUNK;
		lm_logits_get(p->m, (int64_t)c0, c, lg);
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 4)
#endif
		for (int64_t q = 0; q < c; q++) {
			double lse;
			int64_t best;
			const float *z = lg + (size_t)q * p->Vp;
			fin[q] = kn_logits_row(z, p->V, &lse, &best);
			lp[q] = fin[q] ? (double)z[tgt[c0 + q]] - lse : NAN;
		}
		for (int64_t q = 0; q < c; q++) {
			prec *x = &p->r[rec[c0 + q]];
			if (!fin[q])
				x->bad = 1;
			else
				x->ll += lp[q];
		}
	}
	p->positions += NT;
	p->passes++;
	free(lg);
	free(rec);
	free(tgt);
	free(runs);
	free(doc);
	free(pos);
	free(tk);
}

static const prec *len_base;

static int by_ntok(const void *a, const void *b)
{
	size_t x = len_base[*(const size_t *)a].ntok, y = len_base[*(const size_t *)b].ntok;
	return x != y ? (x > y ? -1 : 1) : *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* A classifier's batch: each record's first ctx tokens, rows sorted by length, as many a pass
 * as --batch-tokens holds */
static void classify_flush(qs_ppl *p)
{
	size_t *ord = cm_xmalloc((p->nr + 1) * sizeof *ord), n = 0;
	for (size_t i = 0; i < p->nr; i++) {
		prec *x = &p->r[i];
		p->docs++;
		p->tokens += x->ntok;
		if (!x->ntok) {
			p->empty++;
			continue;
		}
		p->truncated += x->ntok > (size_t)p->ctx;
		ord[n++] = i;
	}
	len_base = p->r;
	qsort(ord, n, sizeof *ord, by_ntok);
	int32_t *x = NULL, *len = NULL;
	float *s = NULL;
	for (size_t k = 0; k < n;) {
		size_t l0 = p->r[ord[k]].ntok;
		int T = l0 < (size_t)p->ctx ? (int)l0 : p->ctx;
		int per = p->o.batch_tokens / T > 1 ? p->o.batch_tokens / T : 1;
		int B = n - k < (size_t)per ? (int)(n - k) : per;
		x = cm_xrealloc(x, (size_t)B * T * sizeof *x);
		len = cm_xrealloc(len, (size_t)B * sizeof *len);
		s = cm_xrealloc(s, (size_t)B * sizeof *s);
		for (int b = 0; b < B; b++) {
			const prec *r = &p->r[ord[k + (size_t)b]];
			int L = r->ntok < (size_t)T ? (int)r->ntok : T;
			for (int t = 0; t < T; t++)
				x[(size_t)b * T + t] = t < L ? (int32_t)p->toks.v[r->tok0 + (size_t)t] :
					(int32_t)(p->eot >= 0 ? p->eot : 0);
			len[b] = L;
		}
		lm_score_last(p->m, B, T, x, len, s);
		for (int b = 0; b < B; b++) {
			prec *r = &p->r[ord[k + (size_t)b]];
			double z = s[b];
			r->bad = !isfinite(z);
			r->score = p->cls == LM_PROBLEM_BCE + 1 ? 1.0 / (1.0 + exp(-z)) : z;
		}
		p->positions += (uint64_t)B * T;
		p->passes++;
		k += (size_t)B;
	}
	for (size_t i = 0; i < p->nr; i++)
		p->nonfinite += p->r[i].ntok && p->r[i].bad;
	free(x);
	free(len);
	free(s);
	free(ord);
}

void qs_ppl_flush(qs_ppl *p, size_t n)
{
	double t0 = cm_now();
	size_t i, k, nrow = 0;
	int T = 1;

	(void)n;
	if (p->cls) {
		classify_flush(p);
		p->model_s += cm_now() - t0;
		return;
	}
	/* the windows: lm-eval's rolling ones, the first after end-of-text */
	p->nreq = 0;
	for (i = 0; i < p->nr; i++) {
		prec *x = &p->r[i];
		size_t before = p->nreq, w;
		p->docs++;
		p->tokens += x->ntok;
		if (!x->ntok) {
			p->empty++;
			continue;
		}
		lm_req_rolling(p->toks.v + x->tok0, x->ntok, p->ctx, p->eot, &p->req, &p->nreq,
			       &p->reqcap);
		if (p->nreq > p->req_rec_cap) {
			p->req_rec_cap = p->reqcap;
			p->req_rec = cm_xrealloc(p->req_rec, p->req_rec_cap * sizeof *p->req_rec);
		}
		for (w = before; w < p->nreq; w++)
			p->req_rec[w] = i;
	}
	p->windows += p->nreq;
	if (p->nreq > p->plcap) {
		p->plcap = p->nreq;
		p->pl = cm_xrealloc(p->pl, p->plcap * sizeof *p->pl);
	}
	/* rows of T positions (the longest window's input), filled first-fit by decreasing
	 * length: short documents several to a row, each a document of its own */
	for (k = 0; k < p->nreq; k++) {
		p->pl[k].req = k;
		p->pl[k].len = (int)(p->req[k].n - 1);
		if (p->pl[k].len > T)
			T = p->pl[k].len;
	}
	qsort(p->pl, p->nreq, sizeof *p->pl, by_len);
	int *fill = NULL;
	size_t fcap = 0;
	for (k = 0; k < p->nreq; k++) {
		size_t r;
		for (r = 0; r < nrow && fill[r] + p->pl[k].len > T; r++)
			;
		if (r == nrow) {
			if (nrow == fcap) {
				fcap = fcap ? 2 * fcap : 64;
				fill = cm_xrealloc(fill, fcap * sizeof *fill);
			}
			fill[nrow++] = 0;
		}
		p->pl[k].row = (int)r;
		p->pl[k].at = fill[r];
		fill[r] += p->pl[k].len;
	}
	for (size_t r = 0; r < nrow; r++)
		p->padded += (uint64_t)(T - fill[r]);
	free(fill);
	qsort(p->pl, p->nreq, sizeof *p->pl, by_row);
	/* passes of as many rows as --batch-tokens holds (one at least) */
	int per = p->o.batch_tokens / T > 1 ? p->o.batch_tokens / T : 1;
	for (k = 0; k < p->nreq;) {
		int r0 = p->pl[k].row, B = (int)nrow - r0 < per ? (int)nrow - r0 : per;
		size_t e = k;
		while (e < p->nreq && p->pl[e].row < r0 + B)
			e++;
		forward_pass(p, p->pl + k, e - k, r0, B, T);
		k = e;
	}
	for (k = 0; k < p->nreq; k++)
		lm_req_free(&p->req[k]);
	for (i = 0; i < p->nr; i++)
		p->nonfinite += p->r[i].ntok && p->r[i].bad;
	p->model_s += cm_now() - t0;
}

static double bpb(const prec *x)
{
	return -x->ll / (double)x->bytes / log(2);
}

static int scored(const prec *x)
{
	return x->ntok && !x->bad && x->bytes;
}

/* a classifier's record */
static void classifier_meta(qs_ppl *p, cm_jw *w)
{
	const prec *x = p->cur;

	cm_jw_key(w, "model");
	cm_jw_obj(w);
	if (scored(x))
		cm_jw_key_double(w, "score", x->score);
	cm_jw_key_uint(w, "tokens", x->ntok);
	if (x->ntok > (size_t)p->ctx)
		cm_jw_key_bool(w, "truncated", 1);
	if (x->ntok && x->bad)
		cm_jw_key_bool(w, "nonfinite", 1);
	cm_jw_end(w, '}');
}

void qs_ppl_pick(qs_ppl *p, size_t i, const char *lang)
{
	const double *c = NULL;
	size_t k;

	p->cur = &p->r[i];
	snprintf(p->lang, sizeof p->lang, "%s", lang);
	p->bucket = QS_BUCKET_NONE;
	p->fallback = 0;
	if (!p->o.cuts || !scored(p->cur))
		return;
	for (k = 0; k < p->ncuts && !c; k++)
		if (strcmp(p->cuts[k].code, lang) == 0)
			c = p->cuts[k].c;
	if (!c && p->have_all) {
		c = p->all;
		p->fallback = 1;
	}
	if (!c)
		return;
	double b = bpb(p->cur);
	p->bucket = b < c[0] ? QS_BUCKET_HEAD : b < c[1] ? QS_BUCKET_MIDDLE : QS_BUCKET_TAIL;
}

void qs_ppl_meta(qs_ppl *p, cm_jw *w)
{
	const prec *x = p->cur;

	if (p->cls) {
		classifier_meta(p, w);
		return;
	}
	cm_jw_key(w, "model");
	cm_jw_obj(w);
	if (scored(x)) {
		cm_jw_key_double(w, "bits_per_byte", bpb(x));
		cm_jw_key_double(w, "token_logprob", x->ll / (double)x->ntok);
	}
	cm_jw_key_uint(w, "tokens", x->ntok);
	if (x->ntok && x->bad)
		cm_jw_key_bool(w, "nonfinite", 1);
	if (p->bucket != QS_BUCKET_NONE)
		cm_jw_key_str(w, "bucket", bucket_names[p->bucket]);
	cm_jw_end(w, '}');
}

static void hist_add(lang_hist *h, double b)
{
	long k = (long)floor(b * HIST_SCALE);

	if (!h->h)
		h->h = cm_xcalloc(HIST_BINS, sizeof *h->h);
	h->h[k < 0 ? 0 : k >= HIST_BINS ? HIST_BINS - 1 : k]++;
	h->n++;
}

/* The pct-th percentile of h, linear within its bin. */
static double hist_pct(const lang_hist *h, double pct)
{
	double want = pct / 100 * (double)h->n, cum = 0;
	long k;

	for (k = 0; k < HIST_BINS; k++) {
		if (h->h[k] && cum + (double)h->h[k] >= want)
			return ((double)k + (want - cum) / (double)h->h[k]) / HIST_SCALE;
		cum += (double)h->h[k];
	}
	return (double)HIST_BINS / HIST_SCALE;
}

static void calibrate(qs_ppl *p, const char *lang)
{
	double b = bpb(p->cur);
	size_t k;

	hist_add(&p->cal_all, b);
	for (k = 0; k < p->ncal; k++)
		if (strcmp(p->cal[k].code, lang) == 0)
			break;
	if (k == p->ncal) {
		if (p->ncal == MAX_CAL_LANGS) {
			p->cal_over++;
			return;
		}
		p->cal = cm_xrealloc(p->cal, (p->ncal + 1) * sizeof *p->cal);
		memset(&p->cal[k], 0, sizeof p->cal[k]);
		snprintf(p->cal[k].code, sizeof p->cal[k].code, "%s", lang);
		p->ncal++;
	}
	hist_add(&p->cal[k], b);
}

const char *qs_ppl_decide(qs_ppl *p, const char *why)
{
	if (why)
		return why;
	if (p->cls) {	/* a classifier: its score against --model-min-score */
		if (isnan(p->o.min_score))
			return NULL;
		if (!scored(p->cur)) {
			p->unscored_dropped++;
			return "no_model_score";
		}
		p->below += p->cur->score < p->o.min_score;
		return p->cur->score < p->o.min_score ? "model_score" : NULL;
	}
	if (p->o.calibrate && scored(p->cur))
		calibrate(p, p->lang);
	if (p->o.bucket == QS_BUCKET_NONE)
		return NULL;
	if (!scored(p->cur)) {
		p->unscored_dropped++;
		return "no_perplexity";
	}
	if (p->bucket == QS_BUCKET_NONE) {
		p->no_cuts++;
		return NULL;
	}
	p->in_bucket[p->bucket]++;
	p->fallbacks += p->fallback;
	return p->bucket == p->o.bucket ? NULL : "perplexity";
}

void qs_ppl_stats(qs_ppl *p, cm_buf *t)
{
	double s = p->tok_s + p->model_s;
	double dps = s > 0 ? (double)p->docs / s : 0, tps = s > 0 ? (double)p->tokens / s : 0;

	cm_buf_printf(t, "{\"documents\":%llu,\"tokens\":%llu,\"empty\":%llu,\"nonfinite\":%llu,"
		      "\"windows\":%llu,\"forward_passes\":%llu,\"positions\":%llu,\"padding\":%llu,"
		      "\"tokenize_seconds\":%.6f,\"model_seconds\":%.6f,\"documents_per_s\":%.3f,"
		      "\"tokens_per_s\":%.3f",
		      (unsigned long long)p->docs, (unsigned long long)p->tokens,
		      (unsigned long long)p->empty, (unsigned long long)p->nonfinite,
		      (unsigned long long)p->windows, (unsigned long long)p->passes,
		      (unsigned long long)p->positions, (unsigned long long)p->padded, p->tok_s,
		      p->model_s, dps, tps);
	if (p->cls)
		cm_buf_printf(t, ",\"classifier\":true,\"truncated\":%llu,\"below_min_score\":%llu,"
			      "\"unscored\":%llu", (unsigned long long)p->truncated,
			      (unsigned long long)p->below, (unsigned long long)p->unscored_dropped);
	if (p->o.bucket != QS_BUCKET_NONE)
		cm_buf_printf(t, ",\"buckets\":{\"head\":%llu,\"middle\":%llu,\"tail\":%llu},"
			      "\"all_cuts\":%llu,\"no_cuts\":%llu,\"unscored\":%llu",
			      (unsigned long long)p->in_bucket[0], (unsigned long long)p->in_bucket[1],
			      (unsigned long long)p->in_bucket[2], (unsigned long long)p->fallbacks,
			      (unsigned long long)p->no_cuts, (unsigned long long)p->unscored_dropped);
	cm_buf_printf(t, "}");
	if (cm_verbosity > 0)
		cm_info("model: %llu documents, %llu tokens in %.3f s (tokenizing %.3f s): "
			"%.1f documents/s, %.0f tokens/s; %llu forward passes, %.1f%% padding",
			(unsigned long long)p->docs, (unsigned long long)p->tokens, s, p->tok_s, dps, tps,
			(unsigned long long)p->passes,
			p->positions ? 100.0 * (double)p->padded / (double)p->positions : 0.0);
}

static void cal_entry(cm_jw *w, const lang_hist *h)
{
	cm_jw_obj(w);
	cm_jw_key_uint(w, "documents", h->n);
	cm_jw_key(w, "cuts");
	cm_jw_arr(w);
	cm_jw_double(w, hist_pct(h, cal_pct[0]));
	cm_jw_double(w, hist_pct(h, cal_pct[1]));
	cm_jw_end(w, ']');
	cm_jw_end(w, '}');
}

int qs_ppl_close(qs_ppl *p)
{
	int rc = 0;
	size_t k;

	if (p->o.calibrate) {
		cm_buf b = CM_BUF_INIT;
		cm_jw w;
		char err[1024];

		cm_jw_init(&w, &b);
		cm_jw_obj(&w);
		cm_jw_key_str(&w, "metric", "bits_per_byte");
		cm_jw_key_str(&w, "model", p->S.dir);
		cm_jw_key(&w, "percentiles");
		cm_jw_arr(&w);
		cm_jw_double(&w, cal_pct[0]);
		cm_jw_double(&w, cal_pct[1]);
		cm_jw_end(&w, ']');
		cm_jw_key_double(&w, "resolution", 1.0 / HIST_SCALE);
		cm_jw_key(&w, "languages");
		cm_jw_obj(&w);
		for (k = 0; k < p->ncal; k++) {
			cm_jw_key(&w, p->cal[k].code);
			cal_entry(&w, &p->cal[k]);
		}
		cm_jw_end(&w, '}');
		if (p->cal_all.n) {
			cm_jw_key(&w, "all");
			cal_entry(&w, &p->cal_all);
		}
		cm_jw_end(&w, '}');
		cm_buf_addc(&b, '\n');
		if (p->cal_over)
			cm_warn("--ppl-calibrate: more than %d languages: %llu documents in \"all\" only",
				MAX_CAL_LANGS, (unsigned long long)p->cal_over);
		if (cm_afile_put(p->o.calibrate, b.p, b.len, err, sizeof err) < 0) {
			cm_error("--ppl-calibrate: %s", err);
			rc = -1;
		}
		cm_buf_free(&b);
	}
	for (k = 0; k < p->ncal; k++)
		free(p->cal[k].h);
	free(p->cal);
	free(p->cal_all.h);
	free(p->cuts);
	free(p->pl);
	free(p->req_rec);
	free(p->req);
	free(p->r);
	cm_ids_free(&p->toks);
	cm_tok_ctx_free(p->tc);
	lm_session_close(&p->S);
	free(p);
	return rc;
}
