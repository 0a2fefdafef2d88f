/* lm-eval - evaluate a checkpoint on log-likelihood tasks as lm-evaluation-harness does:
 * multiple choice (acc, acc_norm), lambada-style last word (acc, perplexity) and perplexity
 * of JSONL text (ppl:FILE: word and byte perplexity, bits per byte). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "harness.h"
#include "input.h"
#include "jsonw.h"
#include "model.h"
#include "opt.h"
#include "output.h"
#include "session.h"
#include "tok.h"

static const cm_opt_info info = {
	"[OPTION]... CHECKPOINT --task FILE...",
	"Evaluate a checkpoint (a run directory, one of its step-N directories, or a Hugging Face\n"
	"model directory) on JSONL tasks, scoring log-likelihoods as lm-evaluation-harness does.\n"
	"A task file's format is recognised from its fields: query/choices/gold (multiple choice),\n"
	"context_options/continuation/gold (winogrande), context/continuation (lambada); ppl:FILE\n"
	"is the perplexity of a JSONL file's \"text\" fields.\n",
	NULL, "each task's items, requests, tokens, time, items/s and tokens/s on stderr"
};

enum kind { K_MC, K_WINO, K_LAMBADA, K_PPL };
static const char *const kind_names[] = { "multiple choice", "winogrande", "lambada", "perplexity" };

typedef struct item {
	long gold;
	size_t r0, nr;		/* its requests */
	double *norm;		/* K_MC: each choice's length in characters */
	double words, bytes;	/* K_PPL */
} item;

typedef struct task {
	const char *path;
	char name[256];
	enum kind kind;
	item *it;
	size_t n;
	lm_req *r;
	size_t nr, cap;
} task;

static task *tasks;
static size_t ntasks;

static void on_task(const cm_opt *o, const char *v)
{
	(void)o;
	tasks = cm_xrealloc(tasks, (ntasks + 1) * sizeof *tasks);
	memset(&tasks[ntasks], 0, sizeof *tasks);
	tasks[ntasks].path = v;
	tasks[ntasks].kind = strncmp(v, "ppl:", 4) ? K_MC : K_PPL;
	if (tasks[ntasks].kind == K_PPL)
		tasks[ntasks].path = v + 4;
	if (!*tasks[ntasks].path)
		cm_usage_error("--task: a file is required");
	/* named after the file, without extension */
	task *t = &tasks[ntasks];
	const char *base = strrchr(t->path, '/');
	base = base ? base + 1 : t->path;
	snprintf(t->name, sizeof t->name, "%s", base);
	char *dot = strchr(t->name, '.');
	if (dot && dot != t->name)
		*dot = 0;
	for (size_t j = 0; j < ntasks; j++)
		if (!strcmp(t->name, tasks[j].name))
			cm_usage_error("--task: '%s' and '%s' are both named '%s'", tasks[j].path,
				       t->path, t->name);
	ntasks++;
}

static size_t utf8_chars(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xc0) != 0x80;
	return c;
}

/* len(re.split(r"\s+", text)): the pieces between runs of white space, empty ones included */
static size_t words(const char *s, size_t n)
{
	size_t w = 1;
	for (size_t i = 0; i < n;) {
		if (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r') || (s[i] >= 0x1c && s[i] <= 0x1f)) {
			w++;
			while (i < n && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r') ||
					 (s[i] >= 0x1c && s[i] <= 0x1f)))
				i++;
		} else {
			i++;
		}
	}
	return w;
}

static lm_req *new_req(task *t)
{
	if (t->nr == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->r = cm_xrealloc(t->r, t->cap * sizeof *t->r);
	}
	return &t->r[t->nr++];
}

static const char *str_field(json_t *o, const char *key, size_t *n)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_string(v))
		return NULL;
	*n = json_string_length(v);
	return json_string_value(v);
}

/* Read a task's items (at most limit) and make their requests. */
static void load(task *t, long long limit, cm_tok_ctx *tc, int64_t eot, int maxlen)
{
	cm_buf in = { 0 };
	if (cm_input_read_all(t->path, &in, (size_t)1 << 34) < 0)
		exit(CM_EXIT_FAIL);
	size_t cap = 0, lineno = 0;
	int fmt = -1;
	char *p = in.p, *end = in.p + in.len;
	while (p && p < end && (limit <= 0 || (long long)t->n < limit)) {
		char *nl = memchr(p, '\n', end - p);
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = p;
		p = nl ? nl + 1 : end;
		lineno++;
		size_t k = 0;
		while (k < len && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r'))
			k++;
		if (k == len)
			continue;
		json_error_t je;
		json_t *o = json_loadb(line, len, 0, &je);
		if (!json_is_object(o))
			cm_die("'%s': line %zu: %s", t->path, lineno, o ? "not a JSON object" : je.text);
		int f;
		if (t->kind == K_PPL)
			f = K_PPL;
		else if (json_object_get(o, "choices"))
			f = K_MC;
		else if (json_object_get(o, "context_options"))
			f = K_WINO;
		else if (json_object_get(o, "context"))
			f = K_LAMBADA;
		else
			cm_die("'%s': line %zu: not a task item (query/choices/gold, "
			       "context_options/continuation/gold or context/continuation)", t->path, lineno);
		if (fmt >= 0 && f != fmt)
			cm_die("'%s': line %zu: a %s item in a %s task", t->path, lineno, kind_names[f],
			       kind_names[fmt]);
		fmt = f;
		if (t->n == cap) {
			cap = cap ? 2 * cap : 64;
			t->it = cm_xrealloc(t->it, cap * sizeof *t->it);
		}
		item *it = &t->it[t->n];
		memset(it, 0, sizeof *it);
		it->r0 = t->nr;
		size_t n1, n2;
		const char *s1, *s2;
		json_t *arr = json_object_get(o, f == K_MC ? "choices" : "context_options");
		if (f == K_MC || f == K_WINO) {
			json_t *g = json_object_get(o, "gold");
			if (!json_is_integer(g))
				cm_die("'%s': line %zu: no integer \"gold\"", t->path, lineno);
			it->gold = (long)json_integer_value(g);
			if (!json_is_array(arr) || json_array_size(arr) == 0)
				cm_die("'%s': line %zu: \"%s\" is not a list of strings", t->path, lineno,
				       f == K_MC ? "choices" : "context_options");
			if (it->gold < 0 || (size_t)it->gold >= json_array_size(arr))
				cm_die("'%s': line %zu: gold %ld is not one of the %zu choices", t->path,
				       lineno, it->gold, json_array_size(arr));
		}
		if (f == K_MC) {
			if (!(s1 = str_field(o, "query", &n1)))
				cm_die("'%s': line %zu: no string \"query\"", t->path, lineno);
			it->norm = cm_xmalloc(json_array_size(arr) * sizeof(double));
			for (size_t c = 0; c < json_array_size(arr); c++) {
				json_t *ch = json_array_get(arr, c);
				if (!json_is_string(ch))
					cm_die("'%s': line %zu: choice %zu is not a string", t->path, lineno, c);
				size_t cn = json_string_length(ch);
				char *cont = cm_xmalloc(cn + 1);
				cont[0] = ' ';
				memcpy(cont + 1, json_string_value(ch), cn);
				lm_req_encode(new_req(t), tc, eot, s1, n1, cont, cn + 1);
				free(cont);
				it->norm[c] = (double)utf8_chars(json_string_value(ch), cn);
			}
		} else if (f == K_WINO || f == K_LAMBADA) {
			if (!(s2 = str_field(o, "continuation", &n2)))
				cm_die("'%s': line %zu: no string \"continuation\"", t->path, lineno);
			char *cont = cm_xmalloc(n2 + 1);
			cont[0] = ' ';
			memcpy(cont + 1, s2, n2);
			if (f == K_WINO) {
				for (size_t c = 0; c < json_array_size(arr); c++) {
					json_t *ch = json_array_get(arr, c);
					if (!json_is_string(ch))
						cm_die("'%s': line %zu: option %zu is not a string", t->path,
						       lineno, c);
					lm_req_encode(new_req(t), tc, eot, json_string_value(ch),
						      json_string_length(ch), cont, n2 + 1);
				}
			} else {
				if (!(s1 = str_field(o, "context", &n1)))
					cm_die("'%s': line %zu: no string \"context\"", t->path, lineno);
				lm_req_encode(new_req(t), tc, eot, s1, n1, cont, n2 + 1);
			}
			free(cont);
		} else {
			if (!(s1 = str_field(o, "text", &n1)))
				cm_die("'%s': line %zu: no string \"text\"", t->path, lineno);
			cm_ids ids = { 0 };
			cm_tok_encode(tc, s1, n1, 1, &ids);
			lm_req_rolling(ids.v, ids.n, maxlen, eot, &t->r, &t->nr, &t->cap);
			cm_ids_free(&ids);
			it->words = (double)words(s1, n1);
			it->bytes = (double)n1;
		}
		it->nr = t->nr - it->r0;
		t->n++;
		json_decref(o);
	}
	free(in.p);
	if (!t->n)
		cm_die("'%s': no items", t->path);
	t->kind = fmt;
}

typedef struct metric {
	const char *name;
	double v, se;	/* se NaN: none */
} metric;

static size_t argmax(const double *x, size_t n)
{
	size_t b = 0;
	for (size_t i = 1; i < n; i++)
		if (x[i] > x[b])
			b = i;
	return b;
}

/* The task's metrics into m (returns how many); pred[i]: the choice acc takes. */
static int metrics(task *t, metric *m, long *pred)
{
	double *acc = cm_xmalloc(t->n * sizeof(double)), *an = cm_xmalloc(t->n * sizeof(double));
	double sll = 0, sw = 0, sb = 0;
	int k = 0;
	for (size_t i = 0; i < t->n; i++) {
		item *it = &t->it[i];
		lm_req *r = t->r + it->r0;
		double ll[it->nr ? it->nr : 1], nl[it->nr ? it->nr : 1];
		for (size_t c = 0; c < it->nr; c++) {
			ll[c] = r[c].ll;
			nl[c] = it->norm ? r[c].ll / it->norm[c] : r[c].ll;
		}
		switch (t->kind) {
		case K_MC:
		case K_WINO:
			pred[i] = (long)argmax(ll, it->nr);
			acc[i] = pred[i] == it->gold;
			an[i] = (long)argmax(nl, it->nr) == it->gold;
			break;
		case K_LAMBADA:
			pred[i] = r[0].greedy;
			acc[i] = r[0].greedy;
			sll += r[0].ll;
			break;
		case K_PPL:
			pred[i] = -1;
			for (size_t c = 0; c < it->nr; c++)
				sll += r[c].ll;
			sw += it->words;
			sb += it->bytes;
			break;
		}
	}
	if (t->kind != K_PPL)
		m[k++] = (metric){ "acc", 0, lm_stderr(acc, t->n) };
	if (t->kind != K_PPL)
		for (size_t i = 0; i < t->n; i++)
			m[0].v += acc[i] / t->n;
	if (t->kind == K_MC) {
		m[k] = (metric){ "acc_norm", 0, lm_stderr(an, t->n) };
		for (size_t i = 0; i < t->n; i++)
			m[k].v += an[i] / t->n;
		k++;
	}
	if (t->kind == K_LAMBADA)
		m[k++] = (metric){ "perplexity", exp(-sll / t->n), NAN };
	if (t->kind == K_PPL) {
		m[k++] = (metric){ "word_perplexity", exp(-sll / sw), NAN };
		m[k++] = (metric){ "byte_perplexity", exp(-sll / sb), NAN };
		m[k++] = (metric){ "bits_per_byte", -sll / sb / log(2), NAN };
	}
	free(acc);
	free(an);
	return k;
}

static void put(const char *path, cm_buf *b)
{
	char err[1024];
	if (cm_afile_put(path, b->p, b->len, err, sizeof err) < 0)
		cm_die("%s", err);
}

int main(int argc, char **argv)
{
	cm_init("lm-eval");
	const char *tok_path = NULL, *out_path = NULL, *log_path = NULL;
	lm_device dev = { .name = "auto", .precision = -1 };
	long long limit = 0, batch_tokens = 4096;
	const cm_opt opts[] = {
		CM_OPT_CALLBACK(0, "task", on_task, NULL, "FILE",
				"a task file (JSONL), or ppl:FILE for perplexity; repeatable"),
		CM_OPT_INT(0, "limit", &limit, "N", 0, 1LL << 40,
			   "the first N items of each task (default: 0, all)"),
		CM_OPT_STRING('o', "output", &out_path, "FILE", "the results as JSON into FILE"),
		CM_OPT_STRING(0, "log-samples", &log_path, "FILE",
			      "one JSON line per item into FILE: its requests and scores"),
		CM_OPT_STRING('t', "tokenizer", &tok_path, "FILE",
			      "tokenizer (default: CHECKPOINT/tokenizer.json)"),
		CM_OPT_INT(0, "batch-tokens", &batch_tokens, "N", 1, 1 << 24,
			   "positions per forward pass at most (default: 4096)"),
		CM_OPT_INCLUDE(lm_device_opts(&dev)),
		CM_OPT_END()
	};
	int nargs = cm_opt_parse(argc, argv, opts, &info);
	if (nargs < 1)
		cm_usage_error("a checkpoint is required");
	if (nargs > 1)
		cm_usage_error("unexpected argument '%s'", argv[2]);
	if (!ntasks)
		cm_usage_error("at least one --task is required");
	const char *ckpt = argv[1];
	double t0 = cm_now();

	char err[8192];
	lm_session S;
	if (lm_session_open(&S, &dev, err, sizeof err) < 0)
		cm_die("--device: %s", err);
	if (lm_session_checkpoint(&S, ckpt, err, sizeof err) < 0 ||
	    lm_session_tokenizer(&S, tok_path, err, sizeof err) < 0)
		cm_die("%s", err);
	if (cm_tok_vocab_size(S.tok) > (uint32_t)S.cfg.vocab)
		cm_die("the tokenizer has %u tokens, the model %d: they do not belong together",
		       cm_tok_vocab_size(S.tok), S.cfg.vocab);
	int64_t eot = cm_tok_eot(S.tok);
	cm_tok_ctx *tc = cm_tok_ctx_new(S.tok);
	for (size_t i = 0; i < ntasks; i++)
		load(&tasks[i], limit, tc, eot, S.cfg.ctx);
	cm_tok_ctx_free(tc);
	lm_model *m = lm_session_model(&S, 0, err, sizeof err);
	if (!m)
		cm_die("%s", err);

	cm_buf res = { 0 }, logs = { 0 };
	cm_jw w;
	cm_jw_init(&w, &res);
	cm_jw_obj(&w);
	cm_jw_key(&w, "results");
	cm_jw_obj(&w);
	printf("%-24s %-16s %12s %10s %8s\n", "task", "metric", "value", "stderr", "items");
	for (size_t i = 0; i < ntasks; i++) {
		task *t = &tasks[i];
		double t1 = cm_now();
		lm_req_score(m, t->r, t->nr, (int)batch_tokens);
		size_t trunc = 0, bad = 0, first = 0;
		for (size_t r = 0; r < t->nr; r++) {
			trunc += t->r[r].truncated && t->kind != K_PPL;
			if (t->r[r].nonfinite && !bad++)
				first = r;
		}
		if (bad) {
			size_t it = 0;
			while (it + 1 < t->n && t->it[it + 1].r0 <= first)
				it++;
			cm_die("%s: the model gave NaN or infinite logits in %zu of %zu requests (the "
			       "first in item %zu): its weights are damaged or it diverged", t->name, bad,
			       t->nr, it);
		}
		if (trunc && cm_verbosity >= 0)
			cm_warn("%s: %zu continuation%s longer than the model's context, scored in part",
				t->name, trunc, trunc == 1 ? "" : "s");
		if (cm_verbosity > 0) {
			double dt = cm_now() - t1;
			size_t ntok = 0;
			for (size_t r = 0; r < t->nr; r++)
				ntok += t->r[r].n < (size_t)S.cfg.ctx + 1 ? t->r[r].n : (size_t)S.cfg.ctx + 1;
			cm_info("%s: %zu items, %zu requests, %zu tokens in %.2f s: %.1f items/s, "
				"%.0f tokens/s", t->name, t->n, t->nr, ntok, dt, dt > 0 ? t->n / dt : 0.0,
				dt > 0 ? ntok / dt : 0.0);
		}
		metric mt[8];
		long *pred = cm_xmalloc(t->n * sizeof *pred);
		int k = metrics(t, mt, pred);
		cm_jw_key(&w, t->name);
		cm_jw_obj(&w);
		for (int j = 0; j < k; j++) {
			printf("%-24s %-16s %12.6f ", t->name, mt[j].name, mt[j].v);
			if (isnan(mt[j].se))
				printf("%10s", "-");
			else
				printf("%10.6f", mt[j].se);
			printf(" %8zu\n", t->n);
			cm_jw_key_double(&w, mt[j].name, mt[j].v);
			if (!isnan(mt[j].se)) {
				char key[64];
				snprintf(key, sizeof key, "%s_stderr", mt[j].name);
				cm_jw_key_double(&w, key, mt[j].se);
			}
		}
		cm_jw_end(&w, '}');
		for (size_t it = 0; log_path && it < t->n; it++) {
			cm_jw lw;
			cm_jw_init(&lw, &logs);
			cm_jw_obj(&lw);
			cm_jw_key_str(&lw, "task", t->name);
			cm_jw_key_uint(&lw, "index", it);
			if (t->kind == K_MC || t->kind == K_WINO) {
				cm_jw_key_int(&lw, "gold", t->it[it].gold);
				cm_jw_key_int(&lw, "pred", pred[it]);
			} else if (t->kind == K_LAMBADA) {
				cm_jw_key_int(&lw, "gold", 1);
				cm_jw_key_int(&lw, "pred", pred[it]);
			}
			cm_jw_key(&lw, "requests");
			cm_jw_arr(&lw);
			for (size_t r = 0; r < t->it[it].nr; r++) {
				lm_req *q = &t->r[t->it[it].r0 + r];
				cm_jw_obj(&lw);
				if (q->context) {
					cm_jw_key_str(&lw, "context", q->context);
					cm_jw_key_str(&lw, "continuation", q->continuation);
				}
				cm_jw_key_double(&lw, "loglikelihood", q->ll);
				cm_jw_key_bool(&lw, "is_greedy", q->greedy);
				cm_jw_key(&lw, "tokens");
				cm_jw_arr(&lw);
				for (size_t x = 0; x < q->n; x++)
					cm_jw_uint(&lw, q->tok[x]);
				cm_jw_end(&lw, ']');
				cm_jw_key_uint(&lw, "continuation_tokens", q->ncont);
				cm_jw_end(&lw, '}');
			}
			cm_jw_end(&lw, ']');
			cm_jw_end(&lw, '}');
			cm_buf_addc(&logs, '\n');
		}
		free(pred);
	}
	cm_jw_end(&w, '}');
	cm_jw_key(&w, "config");
	cm_jw_obj(&w);
	cm_jw_key_str(&w, "model", S.dir[0] ? S.dir : ckpt);
	cm_jw_key(&w, "items");
	cm_jw_obj(&w);
	for (size_t i = 0; i < ntasks; i++)
		cm_jw_key_uint(&w, tasks[i].name, tasks[i].n);
	cm_jw_end(&w, '}');
	char hash[32];
	snprintf(hash, sizeof hash, "%016llx", (unsigned long long)cm_tok_hash(S.tok));
	cm_jw_key_str(&w, "tokenizer_hash", hash);
	if (limit > 0)
		cm_jw_key_int(&w, "limit", limit);
	else
		cm_jw_key(&w, "limit"), cm_jw_null(&w);
	cm_jw_key_str(&w, "precision", lm_precision_name(S.adt));
	cm_jw_key_double(&w, "time_s", cm_now() - t0);
	cm_jw_end(&w, '}');
	cm_jw_end(&w, '}');
	cm_buf_addc(&res, '\n');
	if (out_path)
		put(out_path, &res);
	if (log_path)
		put(log_path, &logs);
	cm_buf_free(&res);
	cm_buf_free(&logs);
	for (size_t i = 0; i < ntasks; i++) {
		for (size_t r = 0; r < tasks[i].nr; r++)
			lm_req_free(&tasks[i].r[r]);
		for (size_t it = 0; it < tasks[i].n; it++)
			free(tasks[i].it[it].norm);
		free(tasks[i].r);
		free(tasks[i].it);
	}
	free(tasks);
	lm_session_close(&S);
	return 0;	/* standard output is checked at exit (cm_init) */
}
