/* lm-eval - evaluate a checkpoint on tasks as lm-evaluation-harness does: multiple choice
 * (acc, acc_norm), lambada-style last word (acc, perplexity), perplexity of JSONL text
 * (ppl:FILE: word and byte perplexity, bits per byte) and generation (greedy, exact match);
 * few-shot prompts, contamination against training data. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "buf.h"
#include "contam.h"
#include "generate.h"
#include "cli.h"
#include "harness.h"
#include "input.h"
#include "mem.h"
#include "jsonw.h"
#include "model.h"
#include "opt.h"
#include "output.h"
#include "progress.h"
#include "rand.h"
#include "score.h"
#include "session.h"
#include "tok.h"
#include "utf8.h"

static const cm_opt_info info = {
	"[OPTION]... CHECKPOINT --task FILE...",
	"Evaluate a checkpoint (a run directory, one of its step-N directories, or a Hugging Face\n"
	"model directory) on JSONL tasks, scoring log-likelihoods as lm-evaluation-harness does.\n"
	"A task file's format is recognised from its fields: query/choices/gold (multiple choice),\n"
	"context_options/continuation/gold (winogrande), context/continuation (lambada),\n"
	"context/answers (generation: greedy, exact match); also MMLU's, HellaSwag's and\n"
	"TriviaQA's own layouts. ppl:FILE is the perplexity of a JSONL file's \"text\" fields.\n"
	"A reward model (lm-train --reward) scores preference pairs instead: --pairs FILE.\n",
	NULL, "each task's items, requests, tokens, time, items/s and\ntokens/s on stderr"
};

enum kind { K_MC, K_WINO, K_LAMBADA, K_PPL, K_GEN };
static const char *const kind_names[] = { "multiple choice", "winogrande", "lambada", "perplexity",
	"generation" };

typedef struct item {
	long gold;
	size_t r0, nr;		/* its requests */
	double *norm;		/* K_MC: each choice's length in characters */
	double words, bytes;	/* K_PPL */
	/* K_GEN: the prompt, its tokens, the accepted answers, the stop strings, the output */
	char *prompt;
	cm_ids ptok;
	char **ans, **until;
	size_t nans, nuntil;
	char *out;
	int finish;
} item;

typedef struct task {
	const char *path;
	char name[256];
	enum kind kind;
	item *it;
	size_t n;
	lm_req *r;
	size_t nr, cap;
	size_t item0;	/* its first item's number among all tasks' (contamination) */
} task;

static task *tasks;
static size_t ntasks;

static const char **train_files;
static size_t ntrain;

static void on_train(const cm_opt *o, const char *v)
{
	(void)o;
	train_files = cm_xrealloc(train_files, (ntrain + 1) * sizeof *train_files);
	train_files[ntrain++] = v;
}

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

/* len(re.split(r"\s+", text)): the pieces between runs of white space, empty ones included */
static size_t words(const char *s, size_t n)
{
	size_t w = 1;
	for (size_t i = 0; i < n;) {
		if (!lm_py_space((unsigned char)s[i])) {
			i++;
			continue;
		}
		w++;
		while (i < n && lm_py_space((unsigned char)s[i]))
			i++;
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

/* A task item as read, before its prompt is made (few-shot examples are other items). */
typedef struct str {
	char *p;
	size_t n;
} str;

typedef struct doc {
	str text;	/* the query (multiple choice), the context (lambada) */
	str *opt;	/* the choices, or winogrande's context options */
	size_t nopt;
	str cont;	/* winogrande's and lambada's continuation */
	str desc;	/* a description before the prompt (MMLU's subject line), or none */
	long gold;
	str *until;	/* generation: the item's own stop strings, or none */
	size_t nuntil;
} doc;

static str dup_str(const char *p, size_t n)
{
	str s = { cm_xmalloc(n + 1), n };
	memcpy(s.p, p, n);
	s.p[n] = 0;
	return s;
}

/* --map TASK_FIELD=FILE_FIELD: the file's field read under the name the format knows */
static const char *maps[16][2];
static int nmaps;

static void on_map(const cm_opt *o, const char *v)
{
	(void)o;
	const char *eq = strchr(v, '=');
	if (!eq || eq == v || !eq[1] || eq - v >= 64)
		cm_usage_error("--map: want FIELD=NAME (for example query=question), not '%s'", v);
	if (nmaps == 16)
		cm_usage_error("--map: 16 at most");
	char *k = cm_xmalloc((size_t)(eq - v) + 1);
	memcpy(k, v, (size_t)(eq - v));
	k[eq - v] = 0;
	maps[nmaps][0] = k;
	maps[nmaps][1] = eq + 1;
	nmaps++;
}

static json_t *field(json_t *o, const char *key)
{
	for (int i = 0; i < nmaps; i++)
		if (!strcmp(maps[i][0], key))
			return json_object_get(o, maps[i][1]);
	return json_object_get(o, key);
}

typedef struct where {
	const char *path;
	size_t line;
} where;

static str need_str(json_t *o, const char *key, const where *w)
{
	json_t *v = field(o, key);
	if (!json_is_string(v))
		cm_die("'%s': line %zu: no string \"%s\"", w->path, w->line, key);
	return dup_str(json_string_value(v), json_string_length(v));
}

static void need_list(json_t *o, const char *key, doc *d, const where *w)
{
	json_t *a = field(o, key);
	if (!json_is_array(a) || !json_array_size(a))
		cm_die("'%s': line %zu: \"%s\" is not a list of strings", w->path, w->line, key);
	d->nopt = json_array_size(a);
	d->opt = cm_xcalloc(d->nopt, sizeof *d->opt);
	for (size_t c = 0; c < d->nopt; c++) {
		json_t *ch = json_array_get(a, c);
		if (!json_is_string(ch))
			cm_die("'%s': line %zu: \"%s\" %zu is not a string", w->path, w->line, key, c);
		d->opt[c] = dup_str(json_string_value(ch), json_string_length(ch));
	}
}

/* gold: an integer, or (MMLU, HellaSwag) a letter A.. or a number in a string */
static void need_gold(json_t *o, const char *key, doc *d, const where *w)
{
	json_t *g = field(o, key);
	if (json_is_integer(g))
		d->gold = (long)json_integer_value(g);
	else if (json_is_string(g) && json_string_length(g) == 1 && *json_string_value(g) >= 'A' &&
		 *json_string_value(g) <= 'Z')
		d->gold = *json_string_value(g) - 'A';
	else if (json_is_string(g) && json_string_length(g) > 0 && json_string_length(g) < 10 &&
		 strspn(json_string_value(g), "0123456789") == json_string_length(g))
		d->gold = atol(json_string_value(g));
	else
		cm_die("'%s': line %zu: no integer \"%s\"", w->path, w->line, key);
	if (d->gold < 0 || (size_t)d->gold >= d->nopt)
		cm_die("'%s': line %zu: gold %ld is not one of the %zu choices", w->path, w->line, d->gold,
		       d->nopt);
}

/* Python's str.strip() (of ASCII white space), in place */
static void strip(str *s)
{
	size_t a = 0;
	while (a < s->n && lm_py_space((unsigned char)s->p[a]))
		a++;
	while (s->n > a && lm_py_space((unsigned char)s->p[s->n - 1]))
		s->n--;
	memmove(s->p, s->p + a, s->n - a);
	s->n -= a;
	s->p[s->n] = 0;
}

/* HellaSwag's preprocess in lm-evaluation-harness: strip; " [title]" to ". "; "[...]" dropped;
 * "  " to " " (one pass, as str.replace does) */
static void hs_clean(str *s)
{
	strip(s);
	cm_buf b = { 0 };
	for (size_t i = 0; i < s->n;) {
		if (s->n - i >= 8 && !memcmp(s->p + i, " [title]", 8)) {
			cm_buf_add(&b, ". ", 2);
			i += 8;
		} else {
			cm_buf_addc(&b, s->p[i++]);
		}
	}
	size_t k = 0;
	for (size_t i = 0; i < b.len;) {
		char *close = b.p[i] == '[' ? memchr(b.p + i, ']', b.len - i) : NULL;
		if (close) {
			i = (size_t)(close - b.p) + 1;
			continue;
		}
		b.p[k++] = b.p[i++];
	}
	size_t j = 0;
	for (size_t i = 0; i < k;) {
		if (i + 1 < k && b.p[i] == ' ' && b.p[i + 1] == ' ') {
			b.p[j++] = ' ';
			i += 2;
		} else {
			b.p[j++] = b.p[i++];
		}
	}
	free(s->p);
	*s = dup_str(b.p ? b.p : "", j);
	cm_buf_free(&b);
}

/* Read one item into d (its format recognised from its fields, fmt: the task's so far). */
static int read_doc(json_t *o, doc *d, int fmt, const where *w)
{
	memset(d, 0, sizeof *d);
	int f;
	if (fmt == K_PPL) {
		d->text = need_str(o, "text", w);
		return K_PPL;
	}
	if (field(o, "choices") && field(o, "query")) {
		f = K_MC;
		d->text = need_str(o, "query", w);
		need_list(o, "choices", d, w);
		need_gold(o, "gold", d, w);
	} else if (field(o, "choices") && field(o, "question") && field(o, "answer")) {
		/* MMLU's layout, and lm-evaluation-harness's prompt for it */
		f = K_MC;
		str q = need_str(o, "question", w);
		strip(&q);
		need_list(o, "choices", d, w);
		need_gold(o, "answer", d, w);
		if (d->nopt > 26)
			cm_die("'%s': line %zu: %zu choices: 26 at most", w->path, w->line, d->nopt);
		cm_buf b = { 0 };
		cm_buf_add(&b, q.p, q.n);
		for (size_t c = 0; c < d->nopt; c++) {
			cm_buf_printf(&b, "\n%c. ", (int)('A' + c));
			cm_buf_add(&b, d->opt[c].p, d->opt[c].n);
			free(d->opt[c].p);
			char l = (char)('A' + c);
			d->opt[c] = dup_str(&l, 1);
		}
		cm_buf_adds(&b, "\nAnswer:");
		d->text = dup_str(b.p, b.len);
		cm_buf_free(&b);
		free(q.p);
		json_t *sub = field(o, "subject");
		if (json_is_string(sub)) {
			cm_buf_reset(&b);
			cm_buf_adds(&b, "The following are multiple choice questions (with answers) about ");
			for (const char *c = json_string_value(sub); *c; c++)
				cm_buf_addc(&b, *c == '_' ? ' ' : *c);
			cm_buf_adds(&b, ".\n\n");
			d->desc = dup_str(b.p, b.len);
			cm_buf_free(&b);
		}
	} else if (field(o, "endings") && field(o, "ctx_a")) {
		/* HellaSwag's layout, prepared as lm-evaluation-harness prepares it */
		f = K_MC;
		str act = need_str(o, "activity_label", w), a = need_str(o, "ctx_a", w),
		    b = need_str(o, "ctx_b", w);
		need_list(o, "endings", d, w);
		need_gold(o, "label", d, w);
		if (b.n && b.p[0] >= 'a' && b.p[0] <= 'z')
			b.p[0] = (char)(b.p[0] - 'a' + 'A');	/* str.capitalize(): the rest lower */
		for (size_t i = 1; i < b.n; i++)
			if (b.p[i] >= 'A' && b.p[i] <= 'Z')
				b.p[i] = (char)(b.p[i] - 'A' + 'a');
		cm_buf q = { 0 };
		cm_buf_add(&q, act.p, act.n);
		cm_buf_adds(&q, ": ");
		cm_buf_add(&q, a.p, a.n);
		cm_buf_addc(&q, ' ');
		cm_buf_add(&q, b.p, b.n);
		d->text = dup_str(q.p, q.len);
		hs_clean(&d->text);
		for (size_t c = 0; c < d->nopt; c++)
			hs_clean(&d->opt[c]);
		cm_buf_free(&q);
		free(act.p);
		free(a.p);
		free(b.p);
	} else if (field(o, "context_options")) {
		f = K_WINO;
		need_list(o, "context_options", d, w);
		need_gold(o, "gold", d, w);
		d->cont = need_str(o, "continuation", w);
	} else if (field(o, "context") && (field(o, "answers") || field(o, "answer"))) {
		/* generation: a context and the answers accepted */
		f = K_GEN;
		d->text = need_str(o, "context", w);
		if (json_is_string(field(o, "answers")) || json_is_string(field(o, "answer"))) {
			d->nopt = 1;
			d->opt = cm_xcalloc(1, sizeof *d->opt);
			d->opt[0] = need_str(o, field(o, "answers") ? "answers" : "answer", w);
		} else {
			need_list(o, field(o, "answers") ? "answers" : "answer", d, w);
		}
		if (field(o, "until")) {
			doc u = { 0 };
			need_list(o, "until", &u, w);
			d->until = u.opt;
			d->nuntil = u.nopt;
		}
	} else if (field(o, "question") && json_is_object(field(o, "answer"))) {
		/* TriviaQA's layout, with lm-evaluation-harness's prompt and stop strings */
		f = K_GEN;
		str q = need_str(o, "question", w);
		cm_buf b = { 0 };
		cm_buf_adds(&b, "Question: ");
		cm_buf_add(&b, q.p, q.n);
		cm_buf_adds(&b, "?\nAnswer:");
		d->text = dup_str(b.p, b.len);
		cm_buf_free(&b);
		free(q.p);
		need_list(field(o, "answer"), "aliases", d, w);
		static const char *const tq_until[] = { "\n", ".", "," };
		d->nuntil = 3;
		d->until = cm_xcalloc(3, sizeof *d->until);
		for (int k = 0; k < 3; k++)
			d->until[k] = dup_str(tq_until[k], strlen(tq_until[k]));
	} else if (field(o, "context")) {
		f = K_LAMBADA;
		d->text = need_str(o, "context", w);
		d->cont = need_str(o, "continuation", w);
	} else {
		cm_die("'%s': line %zu: not a task item (query/choices/gold, question/choices/answer, "
		       "ctx_a/ctx_b/endings/label, context_options/continuation/gold, "
		       "context/continuation, context/answers or question/answer.aliases)", w->path,
		       w->line);
	}
	if (fmt >= 0 && f != fmt)
		cm_die("'%s': line %zu: a %s item in a %s task", w->path, w->line, kind_names[f],
		       kind_names[fmt]);
	return f;
}

static void doc_free(doc *d)
{
	free(d->text.p);
	free(d->cont.p);
	free(d->desc.p);
	for (size_t c = 0; c < d->nopt; c++)
		free(d->opt[c].p);
	free(d->opt);
	for (size_t c = 0; c < d->nuntil; c++)
		free(d->until[c].p);
	free(d->until);
}

/* A few-shot example as lm-evaluation-harness writes it: the prompt, " ", the answer. */
static void example(cm_buf *b, const doc *d, int kind)
{
	if (kind == K_WINO)
		cm_buf_add(b, d->opt[d->gold].p, d->opt[d->gold].n);
	else
		cm_buf_add(b, d->text.p, d->text.n);
	cm_buf_addc(b, ' ');
	if (kind == K_MC)
		cm_buf_add(b, d->opt[d->gold].p, d->opt[d->gold].n);
	else if (kind == K_GEN)
		cm_buf_add(b, d->opt[0].p, d->opt[0].n);
	else
		cm_buf_add(b, d->cont.p, d->cont.n);
}

static long long num_fewshot, fewshot_seed = 1234;
/* generation: --until (else each item's own, else "\n"), --max-gen-tokens */
static const char *until_opt[16];
static size_t nuntil_opt;
static long long max_gen = 256, gen_batch = 32;

static void on_until(const cm_opt *o, const char *v)
{
	(void)o;
	if (nuntil_opt == 16)
		cm_usage_error("--until: 16 at most");
	if (!*v)
		cm_usage_error("--until: an empty string would stop at once");
	until_opt[nuntil_opt++] = v;
}
static lm_contam *contam;	/* with --contamination */
static size_t items_total;

/* The prompt's beginning for item i: its description, then k examples drawn (with the seed
 * and i: the same whatever --limit) from the task's other items, each followed by "\n\n". */
static void fewshot(cm_buf *b, const doc *docs, size_t n, size_t i, int kind)
{
	cm_buf_reset(b);
	if (docs[i].desc.n)
		cm_buf_add(b, docs[i].desc.p, docs[i].desc.n);
	size_t k = (size_t)num_fewshot < n - 1 ? (size_t)num_fewshot : n - 1;
	if (!k)
		return;
	uint64_t st = (uint64_t)fewshot_seed * 0x9e3779b97f4a7c15ULL ^ ((uint64_t)i << 1);
	size_t *pick = cm_xmalloc(k * sizeof *pick);
	if (2 * k <= n - 1) {
		/* few of many: draw again on the item itself or one drawn before */
		for (size_t j = 0; j < k; j++) {
			size_t r, q;
			do {
				r = (size_t)(cm_splitmix64(&st) % n);
				for (q = 0; q < j && pick[q] != r; q++)
					;
			} while (r == i || q < j);
			pick[j] = r;
		}
	} else {
		/* many of few: the first k of a shuffle of the other items */
		size_t *all = cm_xmalloc((n - 1) * sizeof *all);
		for (size_t j = 0, q = 0; j < n; j++)
			if (j != i)
				all[q++] = j;
		for (size_t j = 0; j < k; j++) {
			size_t r = j + (size_t)(cm_splitmix64(&st) % (n - 1 - j)), x = all[j];
			all[j] = all[r];
			all[r] = x;
			pick[j] = all[j];
		}
		free(all);
	}
	for (size_t j = 0; j < k; j++) {
		example(b, &docs[pick[j]], kind);
		cm_buf_add(b, "\n\n", 2);
	}
	free(pick);
}

/* Read a task's items and make the requests of the first limit. */
static void load(task *t, long long limit, cm_tok_ctx *tc, int64_t eot, int maxlen)
{
	cm_buf in = { 0 };
	if (cm_input_read_all(t->path, &in, (size_t)1 << 34) < 0)
		exit(CM_EXIT_FAIL);
	size_t cap = 0, nd = 0;
	doc *docs = NULL;
	int fmt = t->kind == K_PPL ? K_PPL : -1;
	where w = { t->path, 0 };
	for (char *p = in.p, *end = in.p + in.len; p && p < end;) {
		char *nl = memchr(p, '\n', end - p);
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = p;
		p = nl ? nl + 1 : end;
		w.line++;
		size_t k = 0;
		while (k < len && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r'))
			k++;
		if (k == len)
			continue;
		json_error_t je;
		json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
		if (!json_is_object(o))
			cm_die("'%s': line %zu: %s", t->path, w.line, o ? "not a JSON object" : je.text);
		if (nd == cap) {
			cap = cap ? 2 * cap : 64;
			docs = cm_xrealloc(docs, cap * sizeof *docs);
		}
		fmt = read_doc(o, &docs[nd++], fmt, &w);
		json_decref(o);
		/* few-shot examples come from every item; without them, the first limit suffice */
		if (!num_fewshot && limit > 0 && (long long)nd >= limit)
			break;
	}
	free(in.p);
	if (!nd)
		cm_die("'%s': no items", t->path);
	t->kind = fmt;
	size_t use = limit > 0 && (size_t)limit < nd ? (size_t)limit : nd;
	t->it = cm_xcalloc(use, sizeof *t->it);
	cm_buf pre = { 0 }, ctx = { 0 }, cont = { 0 };
	for (size_t i = 0; i < use; i++) {
		doc *d = &docs[i];
		item *it = &t->it[i];
		it->r0 = t->nr;
		it->gold = d->gold;
		if (fmt == K_PPL) {
			cm_ids ids = { 0 };
			cm_tok_encode(tc, d->text.p, d->text.n, 1, &ids);
			lm_req_rolling(ids.v, ids.n, maxlen, eot, &t->r, &t->nr, &t->cap);
			cm_ids_free(&ids);
			it->words = (double)words(d->text.p, d->text.n);
			it->bytes = (double)d->text.n;
		} else if (fmt == K_GEN) {
			fewshot(&pre, docs, nd, i, fmt);
			cm_buf_add(&pre, d->text.p, d->text.n);
			it->prompt = dup_str(pre.p ? pre.p : "", pre.len).p;
			/* encoded as the harness encodes a generation context: no end-of-text
			 * before it, unless it is empty */
			if (pre.len)
				cm_tok_encode(tc, pre.p, pre.len, 1, &it->ptok);
			else if (eot >= 0)
				cm_ids_push(&it->ptok, (uint32_t)eot);
			it->nans = d->nopt;
			it->ans = cm_xcalloc(d->nopt, sizeof *it->ans);
			for (size_t c = 0; c < d->nopt; c++)
				it->ans[c] = dup_str(d->opt[c].p, d->opt[c].n).p;
			size_t nu = nuntil_opt ? nuntil_opt : d->nuntil;
			it->nuntil = nu;
			it->until = cm_xcalloc(nu ? nu : 1, sizeof *it->until);
			for (size_t c = 0; c < nu; c++)
				it->until[c] = nuntil_opt ? cm_xstrdup(until_opt[c])
							  : dup_str(d->until[c].p, d->until[c].n).p;
		} else {
			fewshot(&pre, docs, nd, i, fmt);
			if (fmt == K_MC)
				it->norm = cm_xmalloc(d->nopt * sizeof(double));
			size_t nreq = fmt == K_LAMBADA ? 1 : d->nopt;
			for (size_t c = 0; c < nreq; c++) {
				const str *x = fmt == K_WINO ? &d->opt[c] : &d->text;
				const str *y = fmt == K_MC ? &d->opt[c] : &d->cont;
				cm_buf_reset(&ctx);
				cm_buf_add(&ctx, pre.p, pre.len);
				cm_buf_add(&ctx, x->p, x->n);
				cm_buf_reset(&cont);
				cm_buf_addc(&cont, ' ');
				cm_buf_add(&cont, y->p, y->n);
				lm_req_encode(new_req(t), tc, eot, ctx.p ? ctx.p : "", ctx.len, cont.p, cont.len);
				if (fmt == K_MC)
					it->norm[c] = (double)cm_utf8_chars(y->p, y->n);
			}
		}
		it->nr = t->nr - it->r0;
		if (contam) {
			/* the strings scored, each on its own: prompt, choices, continuation */
			size_t id = items_total + i;
			lm_contam_add(contam, id, d->text.p ? d->text.p : "", d->text.n);
			lm_contam_add(contam, id, d->cont.p ? d->cont.p : "", d->cont.n);
			for (size_t c = 0; c < d->nopt; c++)
				lm_contam_add(contam, id, d->opt[c].p, d->opt[c].n);
		}
	}
	t->n = use;
	t->item0 = items_total;
	items_total += use;
	cm_buf_free(&pre);
	cm_buf_free(&ctx);
	cm_buf_free(&cont);
	for (size_t i = 0; i < nd; i++)
		doc_free(&docs[i]);
	free(docs);
}

static cm_progress prog;

struct prog {
	cm_progress *p;
	const task *t;
	double start, last;
};

static void on_progress(void *arg, size_t done, size_t n)
{
	struct prog *g = arg;
	double now = cm_now();
	if (done < n && now - g->last < (g->p->tty ? 0.25 : 10))
		return;
	g->last = now;
	double dt = now - g->start, items = (double)g->t->n * done / (n ? n : 1);
	cm_progress_line(g->p, "%s: %zu of %zu requests, %.1f items/s", g->t->name, done, n,
			 dt > 0 ? items / dt : 0.0);
}

/* Python's str.lower() (per code point, utf8proc's simple mapping) and string.punctuation
 * dropped: the harness's exact_match with ignore_case and ignore_punctuation. */
static void em_norm(const char *s, size_t n, cm_buf *out)
{
	cm_buf_reset(out);
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80) {
			i++;
			if (c >= 'A' && c <= 'Z')
				cm_buf_addc(out, (char)(c + 32));
			else if (!c || !strchr("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", c))
				cm_buf_addc(out, (char)c);	/* string.punctuation dropped */
			continue;
		}
		uint32_t cp;
		size_t k = cm_utf8_decode(s + i, n - i, &cp);
		if (!k)
			k = 1;
		if (cp == CM_UTF8_INVALID) {
			cm_buf_add(out, s + i, k);
		} else {
			unsigned char enc[4];
			utf8proc_ssize_t el = utf8proc_encode_char(utf8proc_tolower((utf8proc_int32_t)cp), enc);
			cm_buf_add(out, enc, (size_t)el);
		}
		i += k;
	}
}

/* exact_match of an output: str.lstrip() (the harness's remove_whitespace filter), then equal
 * to one of the answers after em_norm */
static int exact_match(const item *it, cm_buf *a, cm_buf *b)
{
	const char *o = it->out ? it->out : "";
	while (*o && lm_py_space((unsigned char)*o))
		o++;
	em_norm(o, strlen(o), a);
	for (size_t k = 0; k < it->nans; k++) {
		em_norm(it->ans[k], strlen(it->ans[k]), b);
		if (a->len == b->len && (!a->len || !memcmp(a->p, b->p, a->len)))
			return 1;
	}
	return 0;
}

static const item *gen_base;

static int by_prompt(const void *a, const void *b)
{
	size_t x = gen_base[*(const size_t *)a].ptok.n, y = gen_base[*(const size_t *)b].ptok.n;
	if (x != y)
		return x < y ? 1 : -1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* Greedy generation for every item, gen_batch items together (the longest prompts first). The
 * prompt keeps its last tokens: the context less --max-gen-tokens, half the context at least. */
static void generate_task(lm_model *m, const cm_tok *tok, task *t, int64_t eot, struct prog *pg)
{
	int ctx = m->cfg.ctx;
	size_t *ord = cm_xmalloc(t->n * sizeof *ord);
	for (size_t i = 0; i < t->n; i++)
		ord[i] = i;
	gen_base = t->it;
	qsort(ord, t->n, sizeof *ord, by_prompt);
	lm_gen *g = cm_xcalloc((size_t)gen_batch, sizeof *g);
	static const char *const newline[] = { "\n" };
	for (size_t i = 0; i < t->n; i += (size_t)gen_batch) {
		int n = t->n - i < (size_t)gen_batch ? (int)(t->n - i) : (int)gen_batch;
		for (int b = 0; b < n; b++) {
			item *it = &t->it[ord[i + b]];
			size_t keep = (size_t)(ctx - max_gen > ctx / 2 ? ctx - max_gen : ctx / 2);
			size_t P = it->ptok.n < keep ? it->ptok.n : keep;
			memset(&g[b], 0, sizeof g[b]);
			g[b].prompt = it->ptok.v + it->ptok.n - P;
			g[b].nprompt = P;
			g[b].max_new = (int)(max_gen < ctx - (long long)P ? max_gen : ctx - (long long)P);
			g[b].eot = eot;
			g[b].stop = it->nuntil ? (const char *const *)it->until : newline;
			g[b].nstop = it->nuntil ? it->nuntil : 1;
			g[b].logprobs = -1;
		}
		lm_generate(m, tok, g, n, NULL);
		for (int b = 0; b < n; b++) {
			item *it = &t->it[ord[i + b]];
			it->out = cm_xmalloc(g[b].text.len + 1);
			if (g[b].text.len)
				memcpy(it->out, g[b].text.p, g[b].text.len);
			it->out[g[b].text.len] = 0;
			it->finish = g[b].finish;
			lm_gen_free(&g[b]);
		}
		on_progress(pg, i + (size_t)n, t->n);
	}
	free(g);
	free(ord);
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

/* The task's metrics over its items where use[i] (use NULL: all) into m (returns how many;
 * *n the items); pred[i]: the choice acc takes. */
static int metrics(task *t, const unsigned char *use, metric *m, long *pred, size_t *n)
{
	double *acc = cm_xmalloc((t->n ? t->n : 1) * sizeof(double)),
	       *an = cm_xmalloc((t->n ? t->n : 1) * sizeof(double));
	double sll = 0, sw = 0, sb = 0;
	cm_buf ea = { 0 }, eb = { 0 };
	size_t u = 0;
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
			break;
		case K_LAMBADA:
			pred[i] = r[0].greedy;
			break;
		case K_GEN:
			pred[i] = exact_match(it, &ea, &eb);
			break;
		default:
			pred[i] = -1;
		}
		if (use && !use[i])
			continue;
		switch (t->kind) {
		case K_MC:
		case K_WINO:
			acc[u] = pred[i] == it->gold;
			an[u] = (long)argmax(nl, it->nr) == it->gold;
			break;
		case K_LAMBADA:
			acc[u] = r[0].greedy;
			sll += r[0].ll;
			break;
		case K_GEN:
			acc[u] = pred[i];
			break;
		case K_PPL:
			for (size_t c = 0; c < it->nr; c++)
				sll += r[c].ll;
			sw += it->words;
			sb += it->bytes;
			break;
		}
		u++;
	}
	*n = u;
	if (t->kind != K_PPL) {
		m[k] = (metric){ t->kind == K_GEN ? "exact_match" : "acc", 0, lm_stderr(acc, u) };
		for (size_t i = 0; i < u; i++)
			m[k].v += acc[i] / u;
		k++;
	}
	if (t->kind == K_MC) {
		m[k] = (metric){ "acc_norm", 0, lm_stderr(an, u) };
		for (size_t i = 0; i < u; i++)
			m[k].v += an[i] / u;
		k++;
	}
	if (t->kind == K_LAMBADA)
		m[k++] = (metric){ "perplexity", exp(-sll / u), NAN };
	if (t->kind == K_PPL) {
		m[k++] = (metric){ "word_perplexity", exp(-sll / sw), NAN };
		m[k++] = (metric){ "byte_perplexity", exp(-sll / sb), NAN };
		m[k++] = (metric){ "bits_per_byte", -sll / sb / log(2), NAN };
	}
	if (!u)
		for (int j = 0; j < k; j++)
			m[j].v = m[j].se = NAN;
	cm_buf_free(&ea);
	cm_buf_free(&eb);
	free(acc);
	free(an);
	return k;
}

/* Metrics as table rows (the metric's name followed by suffix) and JSON keys. */
static void emit(const task *t, const metric *mt, int k, size_t n, const char *suffix, cm_jw *w)
{
	for (int j = 0; j < k; j++) {
		char name[64];
		snprintf(name, sizeof name, "%s%s", mt[j].name, suffix);
		printf("%-24s %-16s %12.6f ", t->name, name, mt[j].v);
		if (isnan(mt[j].se))
			printf("%10s", "-");
		else
			printf("%10.6f", mt[j].se);
		printf(" %8zu\n", n);
		if (isnan(mt[j].v))
			cm_jw_key(w, mt[j].name), cm_jw_null(w);
		else
			cm_jw_key_double(w, mt[j].name, mt[j].v);
		if (!isnan(mt[j].se)) {
			char key[80];
			snprintf(key, sizeof key, "%s_stderr", mt[j].name);
			cm_jw_key_double(w, key, mt[j].se);
		}
	}
}

/* --pairs: preference files a reward model scores */
static const char **pair_files;
static size_t npair_files;

static void on_pairs(const cm_opt *o, const char *v)
{
	(void)o;
	pair_files = cm_xrealloc(pair_files, (npair_files + 1) * sizeof *pair_files);
	pair_files[npair_files++] = v;
}

/* A file of pairs scored by the reward model m: accuracy (chosen scored above rejected),
 * the mean margin and the Bradley-Terry loss, into the table, the results (w) and the
 * per-pair log. */
static void eval_pairs(lm_model *m, const cm_tok *tok, const char *path, int B, cm_jw *w,
		       cm_buf *logs)
{
	char err[8192], why[256], name[256];
	lm_rm_data d;
	int T = m->cfg.ctx;
	double t1 = cm_now();
	if (lm_rm_open(&d, path, tok, T, 0, -1, err, sizeof err) < 0)
		cm_die("--pairs: %s", err);
	if (d.skipped && cm_verbosity >= 0)
		cm_warn("--pairs: %llu of %llu records skipped: %s (the first: %s)",
			(unsigned long long)d.skipped, (unsigned long long)d.records,
			lm_rm_skips(&d, why, sizeof why), d.first_skip);
	if (d.truncated && cm_verbosity >= 0)
		cm_warn("--pairs: %llu pairs with a sequence longer than the model's %d positions: "
			"its last %d tokens scored", (unsigned long long)d.truncated, T, T);
	int32_t *x = cm_xmalloc(2 * (size_t)B * T * sizeof *x), *len = cm_xmalloc(2 * (size_t)B * sizeof *len);
	float *sc = cm_xmalloc(2 * d.n * sizeof *sc);
	lm_score_stats st = { 0 };
	lm_rm_eval_list(m, &d, d.train, d.ntrain, B, x, len, &st, sc);
	const char *base = strrchr(path, '/');
	snprintf(name, sizeof name, "%s", base ? base + 1 : path);
	char *dot = strchr(name, '.');
	if (dot && dot != name)
		*dot = 0;
	double n = (double)st.n, acc = st.correct / n, mg = st.margin / n;
	double mvar = n > 1 ? (st.margin_sq - n * mg * mg) / (n - 1) : NAN;
	metric mt[3] = { { "accuracy", acc, n > 1 ? sqrt(acc * (1 - acc) / (n - 1)) : NAN },
			 { "margin", mg, n > 1 ? sqrt(mvar > 0 ? mvar / n : 0) : NAN },
			 { "loss", st.loss / n, NAN } };
	task t = { .path = path };
	snprintf(t.name, sizeof t.name, "%s", name);
	cm_jw_key(w, name);
	cm_jw_obj(w);
	emit(&t, mt, 3, d.ntrain, "", w);
	cm_jw_key_uint(w, "pairs", d.ntrain);
	cm_jw_key_uint(w, "skipped", d.skipped);
	cm_jw_key_uint(w, "truncated", d.truncated);
	cm_jw_end(w, '}');
	for (size_t i = 0; logs && i < d.ntrain; i++) {
		cm_jw lw;
		cm_jw_init(&lw, logs);
		cm_jw_obj(&lw);
		cm_jw_key_str(&lw, "task", name);
		cm_jw_key_uint(&lw, "record", d.rec[d.train[i]]);
		cm_jw_key_double(&lw, "chosen", sc[2 * i]);
		cm_jw_key_double(&lw, "rejected", sc[2 * i + 1]);
		cm_jw_key_bool(&lw, "correct", sc[2 * i] > sc[2 * i + 1]);
		cm_jw_end(&lw, '}');
		cm_buf_addc(logs, '\n');
	}
	if (cm_verbosity > 0) {
		double dt = cm_now() - t1;
		cm_info("%s: %zu pairs, %lld tokens in %.2f s: %.1f pairs/s, %.0f tokens/s", name,
			d.ntrain, (long long)st.tokens, dt, dt > 0 ? n / dt : 0.0,
			dt > 0 ? (double)st.tokens / dt : 0.0);
	}
	free(x);
	free(len);
	free(sc);
	lm_rm_close(&d);
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
	int progress = 0;
	long long contam_n = 13;
	const cm_opt opts[] = {
		CM_OPT_CALLBACK(0, "task", on_task, NULL, "FILE",
				"a task file (JSONL), or ppl:FILE for perplexity; repeatable"),
		CM_OPT_CALLBACK(0, "pairs", on_pairs, NULL, "FILE",
				"preference pairs (JSONL, as lm-train --reward reads)\n"
				"for a reward model: accuracy, mean margin, loss;\n"
				"repeatable"),
		CM_OPT_INT(0, "limit", &limit, "N", 0, 1LL << 40,
			   "the first N items of each task (default: 0, all)"),
		CM_OPT_INT(0, "num-fewshot", &num_fewshot, "K", 0, 1 << 16,
			   "K examples before each prompt, drawn from the task's\n"
			   "other items (default: 0)"),
		CM_OPT_INT(0, "fewshot-seed", &fewshot_seed, "N", 0, 1LL << 62,
			   "the seed of the few-shot draw (default: 1234)"),
		CM_OPT_CALLBACK(0, "map", on_map, NULL, "FIELD=NAME",
				"read the file's field NAME as FIELD (query, choices,\n"
				"gold, context, continuation, ...); repeatable"),
		CM_OPT_STRING('o', "output", &out_path, "FILE", "the results as JSON into FILE"),
		CM_OPT_STRING(0, "log-samples", &log_path, "FILE",
			      "one JSON line per item into FILE: its requests and scores"),
		CM_OPT_STRING('t', "tokenizer", &tok_path, "FILE",
			      "tokenizer (default: CHECKPOINT/tokenizer.json)"),
		CM_OPT_INT(0, "batch-tokens", &batch_tokens, "N", 1, 1 << 24,
			   "positions per forward pass at most (default: 4096)"),
		CM_OPT_CALLBACK(0, "until", on_until, NULL, "S",
				"generation tasks: stop at S (repeatable; default:\n"
				"each item's \"until\", else a newline)"),
		CM_OPT_INT(0, "max-gen-tokens", &max_gen, "N", 1, 1 << 20,
			   "generation tasks: tokens to generate at most (default: 256)"),
		CM_OPT_INT(0, "gen-batch", &gen_batch, "N", 1, 4096,
			   "generation tasks: items decoded together (default: 32)"),
		CM_OPT_CALLBACK(0, "contamination", on_train, NULL, "TRAIN",
				"training data (JSONL, token shards, a folder or a\n"
				"pattern of them): each task's items sharing an n-gram\n"
				"with it, and the metrics without them; repeatable"),
		CM_OPT_INT(0, "contamination-ngram", &contam_n, "N", 1, 64,
			   "words of the contamination n-grams (default: 13)"),
		CM_OPT_FLAG(0, "progress", &progress,
			    "progress on stderr when it is not a terminal too: a line every 10 s"),
		CM_OPT_INCLUDE(lm_device_opts(&dev)),
		CM_OPT_END()
	};
	int nargs = cm_opt_parse(argc, argv, opts, &info);
	if (nargs < 1)
		cm_usage_error("a checkpoint is required");
	if (nargs > 1)
		cm_usage_error("unexpected argument '%s'", argv[2]);
	if (!ntasks && !npair_files)
		cm_usage_error("at least one --task (or --pairs) is required");
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
	if (S.cfg.labels && (ntasks || S.cfg.labels != 1))
		cm_die("'%s' is a sequence classifier (%d labels): %s", ckpt, S.cfg.labels,
		       S.cfg.labels == 1 ? "a reward model scores --pairs, not --task" :
		       "lm-eval scores language models and reward models");
	if (npair_files && S.cfg.labels != 1)
		cm_die("--pairs: '%s' is a language model, not a reward model (lm-train --reward)",
		       ckpt);
	int64_t eot = cm_tok_eot(S.tok);
	cm_tok_ctx *tc = cm_tok_ctx_new(S.tok);
	if (ntrain)
		contam = lm_contam_new((unsigned)contam_n);
	for (size_t i = 0; i < ntasks; i++)
		load(&tasks[i], limit, tc, eot, S.cfg.ctx);
	cm_tok_ctx_free(tc);
	for (size_t i = 0; i < ntrain; i++) {
		lm_contam_stats st = { 0 };
		double t1 = cm_now();
		if (lm_contam_file(contam, train_files[i], S.tok, &st, err, sizeof err) < 0)
			cm_die("--contamination: %s", err);
		if (st.skipped && cm_verbosity >= 0)
			cm_warn("--contamination: '%s': %llu lines skipped (not JSON, no \"text\" "
				"string, or over 256 MiB)", train_files[i],
				(unsigned long long)st.skipped);
		if (cm_verbosity > 0 && st.ngrams)
			cm_info("--contamination: '%s': %llu indexed n-grams in %.2f s",
				train_files[i], (unsigned long long)st.ngrams, cm_now() - t1);
		else if (cm_verbosity > 0)
			cm_info("--contamination: '%s': %llu documents, %.1f MB in %.2f s",
				train_files[i], (unsigned long long)st.docs, st.bytes / 1e6,
				cm_now() - t1);
	}
	/* memory: the requests held, a forward pass of --batch-tokens, generation's batch */
	double held = 0;
	int gen_T = 0;
	for (size_t i = 0; i < ntasks; i++) {
		for (size_t r = 0; r < tasks[i].nr; r++)
			held += 4.0 * tasks[i].r[r].n + 64 + sizeof(lm_req);
		for (size_t it = 0; it < tasks[i].n; it++)
			held += 4.0 * tasks[i].it[it].ptok.n + sizeof(item);
		if (tasks[i].kind == K_GEN)
			gen_T = S.cfg.ctx;
	}
	int T = S.cfg.ctx, rows = batch_tokens / T > 1 ? (int)(batch_tokens / T) : 1;
	if (npair_files && rows < 2)	/* a pair's two rows together */
		rows = 2;
	char info[1024];
	int fits = lm_mem_check_eval(&S.cfg, S.be, S.adt, rows, T, gen_T ? (int)gen_batch : 0,
				     gen_T, held, info, sizeof info, err, sizeof err);
	if (cm_verbosity > 0)
		cm_info("%s", info);
	if (fits < 0)
		cm_die("%s", err);
	lm_model *m = lm_session_model(&S, 0, err, sizeof err);
	if (!m)
		cm_die("%s", err);

	/* on a terminal unless -q; elsewhere with --progress */
	cm_progress_init(&prog, progress ? 1 : cm_verbosity < 0 ? 0 : -1, 0);
	cm_buf res = { 0 }, logs = { 0 };
	cm_jw w;
	cm_jw_init(&w, &res);
	cm_jw_obj(&w);
	cm_jw_key(&w, "results");
	cm_jw_obj(&w);
	printf("%-24s %-16s %12s %10s %8s\n", "task", "metric", "value", "stderr", "items");
	for (size_t i = 0; i < npair_files; i++)
		eval_pairs(m, S.tok, pair_files[i], rows / 2, &w, log_path ? &logs : NULL);
	for (size_t i = 0; i < ntasks; i++) {
		task *t = &tasks[i];
		double t1 = cm_now();
		struct prog pg = { &prog, t, t1, 0 };
		size_t fed = 0;
		if (t->kind == K_GEN)
			generate_task(m, S.tok, t, eot, &pg);
		else
			fed = lm_req_score_progress(m, t->r, t->nr, (int)batch_tokens, on_progress,
						    &pg);
		cm_progress_break(&prog);
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
			/* tokens: the requests' (what scoring each alone would compute); positions: what
			 * was computed, shared contexts once */
			char pos[64] = "";
			if (t->kind != K_GEN)
				snprintf(pos, sizeof pos, " (%zu positions computed)", fed);
			cm_info("%s: %zu items, %zu requests, %zu tokens%s in %.2f s: %.1f items/s, "
				"%.0f tokens/s", t->name, t->n, t->nr, ntok, pos, dt,
				dt > 0 ? t->n / dt : 0.0, dt > 0 ? ntok / dt : 0.0);
		}
		metric mt[8];
		long *pred = cm_xmalloc((t->n ? t->n : 1) * sizeof *pred);
		size_t n;
		int k = metrics(t, NULL, mt, pred, &n);
		cm_jw_key(&w, t->name);
		cm_jw_obj(&w);
		emit(t, mt, k, n, "", &w);
		if (contam) {
			unsigned char *clean = cm_xmalloc(t->n ? t->n : 1);
			size_t hit = 0, unchecked = 0;
			for (size_t it = 0; it < t->n; it++) {
				clean[it] = !lm_contam_hit(contam, t->item0 + it);
				hit += !clean[it];
				unchecked += !lm_contam_checked(contam, t->item0 + it);
			}
			printf("%-24s %-16s %12.6f %10s %8zu\n", t->name, "contaminated",
			       (double)hit / t->n, "-", t->n);
			cm_jw_key_double(&w, "contaminated", (double)hit / t->n);
			cm_jw_key_uint(&w, "contaminated_items", hit);
			cm_jw_key_uint(&w, "unchecked_items", unchecked);
			k = metrics(t, clean, mt, pred, &n);
			cm_jw_key(&w, "clean");
			cm_jw_obj(&w);
			cm_jw_key_uint(&w, "items", n);
			emit(t, mt, k, n, " (clean)", &w);
			cm_jw_end(&w, '}');
			free(clean);
		}
		cm_jw_end(&w, '}');
		for (size_t it = 0; log_path && it < t->n; it++) {
			cm_jw lw;
			cm_jw_init(&lw, &logs);
			cm_jw_obj(&lw);
			cm_jw_key_str(&lw, "task", t->name);
			cm_jw_key_uint(&lw, "index", it);
			if (contam)
				cm_jw_key_bool(&lw, "contaminated", lm_contam_hit(contam, t->item0 + it));
			if (t->kind == K_MC || t->kind == K_WINO) {
				cm_jw_key_int(&lw, "gold", t->it[it].gold);
				cm_jw_key_int(&lw, "pred", pred[it]);
			} else if (t->kind == K_LAMBADA) {
				cm_jw_key_int(&lw, "gold", 1);
				cm_jw_key_int(&lw, "pred", pred[it]);
			} else if (t->kind == K_GEN) {
				const item *x = &t->it[it];
				cm_jw_key(&lw, "gold");
				cm_jw_arr(&lw);
				for (size_t a = 0; a < x->nans; a++)
					cm_jw_str(&lw, x->ans[a]);
				cm_jw_end(&lw, ']');
				cm_jw_key_str(&lw, "pred", x->out ? x->out : "");
				cm_jw_key_int(&lw, "exact_match", pred[it]);
				cm_jw_key_str(&lw, "finish", x->finish == LM_GEN_STOP ? "stop" :
					      x->finish == LM_GEN_EOT ? "eot" : "length");
				cm_jw_key(&lw, "requests");
				cm_jw_arr(&lw);
				cm_jw_obj(&lw);
				cm_jw_key_str(&lw, "context", x->prompt);
				cm_jw_key(&lw, "until");
				cm_jw_arr(&lw);
				for (size_t a = 0; a < x->nuntil; a++)
					cm_jw_str(&lw, x->until[a]);
				if (!x->nuntil)
					cm_jw_str(&lw, "\n");
				cm_jw_end(&lw, ']');
				cm_jw_key(&lw, "tokens");
				cm_jw_arr(&lw);
				for (size_t a = 0; a < x->ptok.n; a++)
					cm_jw_uint(&lw, x->ptok.v[a]);
				cm_jw_end(&lw, ']');
				cm_jw_end(&lw, '}');
				cm_jw_end(&lw, ']');
				cm_jw_end(&lw, '}');
				cm_buf_addc(&logs, '\n');
				continue;
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
	if (npair_files) {
		cm_jw_key(&w, "pairs");
		cm_jw_arr(&w);
		for (size_t i = 0; i < npair_files; i++)
			cm_jw_str(&w, pair_files[i]);
		cm_jw_end(&w, ']');
	}
	char hash[32];
	snprintf(hash, sizeof hash, "%016llx", (unsigned long long)cm_tok_hash(S.tok));
	cm_jw_key_str(&w, "tokenizer_hash", hash);
	if (limit > 0)
		cm_jw_key_int(&w, "limit", limit);
	else
		cm_jw_key(&w, "limit"), cm_jw_null(&w);
	cm_jw_key_str(&w, "precision", lm_precision_name(S.adt));
	cm_jw_key_int(&w, "num_fewshot", num_fewshot);
	if (num_fewshot)
		cm_jw_key_int(&w, "fewshot_seed", fewshot_seed);
	if (ntrain) {
		cm_jw_key(&w, "contamination");
		cm_jw_obj(&w);
		cm_jw_key_int(&w, "ngram", contam_n);
		cm_jw_key(&w, "train");
		cm_jw_arr(&w);
		for (size_t i = 0; i < ntrain; i++)
			cm_jw_str(&w, train_files[i]);
		cm_jw_end(&w, ']');
		cm_jw_end(&w, '}');
	}
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
		{
			item *x = &tasks[i].it[it];
			free(x->norm);
			free(x->prompt);
			free(x->out);
			cm_ids_free(&x->ptok);
			for (size_t a = 0; a < x->nans; a++)
				free(x->ans[a]);
			for (size_t a = 0; a < x->nuntil; a++)
				free(x->until[a]);
			free(x->ans);
			free(x->until);
		}
		free(tasks[i].r);
		free(tasks[i].it);
	}
	free(tasks);
	free(train_files);
	free(pair_files);
	lm_contam_free(contam);
	lm_session_close(&S);
	return 0;	/* standard output is checked at exit (cm_init) */
}
