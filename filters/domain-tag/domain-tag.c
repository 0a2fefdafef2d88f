/* domain-tag - each record's domain (topic) from its URL, else from a text classifier. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "cli.h"
#include "filter.h"
#include "jsonw.h"
#include "model.h"
#include "urlfilter.h"
#include "urlrules.h"

static const cm_opt_info info = {
	"[OPTION]... [FILE]...\n"
	"  or:  domain-tag --train LABELLED.jsonl -o MODEL [OPTION]...",
	"Label each record's domain (metadata.domain: label, source, score): from URL rules\n"
	"first (host suffixes, host labels, path segments), else from a text classifier\n"
	"(--model), else 'other'.\n",
	CM_FILTER_EPILOG, CM_FILTER_VERBOSE
};

struct ctx {
	dt_rules *rules;
	dt_model *model;
	int rules_given;	/* --rules: else the built-in ones */
	cm_urlfilter *filter;
	double min_score;
	cm_buf meta;
	float *p;
	/* per label: documents, bytes */
	const char *labels[DT_MAX_CATS + 4096 + 1];
	uint64_t docs[DT_MAX_CATS + 4096 + 1], bytes[DT_MAX_CATS + 4096 + 1];
	size_t nlabels;
	uint64_t by_url, by_model, by_none;
};

static void count(struct ctx *c, const char *label, size_t bytes)
{
	size_t i;

	for (i = 0; i < c->nlabels && strcmp(c->labels[i], label) != 0; i++)
		;
	if (i == c->nlabels) {
		if (c->nlabels == sizeof(c->labels) / sizeof(*c->labels))
			return;
		c->labels[c->nlabels++] = label;
	}
	c->docs[i]++;
	c->bytes[i] += bytes;
}

static const char *one(cm_filter *f, const cm_jrec *rec, void *p)
{
	struct ctx *c = p;
	const cm_jfield *u = cm_jrec_get(rec, "url"), *t = cm_jrec_get(rec, f->text_field);
	const char *url = u && u->str ? u->str : "", *label = NULL, *source = "none";
	size_t un = u && u->str ? u->str_len : 0, tn = t && t->str ? t->str_len : 0;
	double score = -1;
	cm_jw w;

	if (c->filter) {
		const char *why = cm_urlfilter_check(c->filter, url, un);

		if (why)
			return why;
	}
	if (un && (label = dt_rules_match(c->rules, url, un)))
		source = "url";
	else if (c->model && t && t->str) {
		int best = dt_predict(c->model, t->str, tn, c->p);

		score = c->p[best];
		if (score >= c->min_score) {
			label = c->model->classes[best];
			source = "model";
		}
	}
	if (!label)
		label = "other";
	c->by_url += source[0] == 'u';
	c->by_model += source[0] == 'm';
	c->by_none += source[0] == 'n';
	count(c, label, tn);
	cm_buf_reset(&c->meta);
	cm_jw_init(&w, &c->meta);
	cm_jw_obj(&w);
	cm_jw_key_str(&w, "label", label);
	cm_jw_key_str(&w, "source", source);
	if (score >= 0)
		cm_jw_key_double(&w, "score", score);
	cm_jw_end(&w, '}');
	cm_rw_meta_raw(&f->rw, "domain", c->meta.p, c->meta.len);
	return NULL;
}

/* ---- training ---- */

struct example {
	char *text;
	size_t len;
	int y;
	int held;
};

static int class_id(char ***classes, uint32_t *n, const char *name, size_t len)
{
	uint32_t i;

	for (i = 0; i < *n; i++)
		if (strlen((*classes)[i]) == len && memcmp((*classes)[i], name, len) == 0)
			return (int)i;
	if (*n == 4096)
		return -1;
	*classes = cm_xrealloc(*classes, (*n + 1) * sizeof(**classes));
	(*classes)[*n] = cm_xmalloc(len + 1);
	memcpy((*classes)[*n], name, len);
	(*classes)[*n][len] = '\0';
	return (int)(*n)++;
}

static int train(const char *path, const char *out, const dt_rules *rules, const dt_train_opts *o, double holdout,
		 const char *text_field, size_t max_line)
{
	cm_input *in = cm_input_open(path);
	cm_json *j = cm_json_new();
	struct example *ex = NULL;
	size_t nex = 0, cap = 0, skipped = 0, bad = 0, len, i, ntrain = 0, nheld = 0, right = 0;
	char **classes = NULL, *line, err[512];
	uint32_t ncls = 0;
	const char **texts;
	size_t *lens;
	int *ys, r;
	dt_model *m;
	float *p;

	if (!in)
		return 1;
	cm_json_want(j, text_field);
	cm_json_want(j, "url");
	cm_json_want(j, "label");
	cm_json_want(j, "id");
	while ((r = cm_input_line(in, &line, &len, max_line)) != 0) {
		cm_jrec rec;
		const cm_jfield *t, *l, *u, *id;
		const char *label = NULL;
		size_t ln = 0;
		int y;

		if (r < 0 || cm_json_parse(j, line, len, &rec, err, sizeof(err)) != 0) {
			bad += len > 0;
			continue;
		}
		t = cm_jrec_get(&rec, text_field);
		l = cm_jrec_get(&rec, "label");
		u = cm_jrec_get(&rec, "url");
		id = cm_jrec_get(&rec, "id");
		if (l && l->str && l->str_len) {
			label = l->str;
			ln = l->str_len;
		} else if (u && u->str && (label = dt_rules_match(rules, u->str, u->str_len))) {
			ln = strlen(label);
		}
		if (!label || !t || !t->str || !t->str_len || (y = class_id(&classes, &ncls, label, ln)) < 0) {
			skipped++;
			continue;
		}
		if (nex == cap) {
			cap = cap ? 2 * cap : 1024;
			ex = cm_xrealloc(ex, cap * sizeof(*ex));
		}
		ex[nex].text = cm_xmalloc(t->str_len);
		memcpy(ex[nex].text, t->str, t->str_len);
		ex[nex].len = t->str_len;
		ex[nex].y = y;
		/* held out by a hash of the id (of the text when there is none): stable across runs */
		ex[nex].held = (double)(XXH3_64bits(id && id->str ? id->str : t->str, id && id->str ? id->str_len : t->str_len) >> 11) /
			       9007199254740992.0 < holdout;
		nex++;
	}
	cm_input_close(in);
	cm_json_free(j);
	if (ncls < 2) {
		cm_error("%s: %zu labelled records in %u classes: need two classes at least", path, nex, ncls);
		return 1;
	}
	texts = cm_xmalloc(nex * sizeof(*texts));
	lens = cm_xmalloc(nex * sizeof(*lens));
	ys = cm_xmalloc(nex * sizeof(*ys));
	for (i = 0; i < nex; i++)
		if (!ex[i].held) {
			texts[ntrain] = ex[i].text;
			lens[ntrain] = ex[i].len;
			ys[ntrain++] = ex[i].y;
		}
	m = dt_train(o, texts, lens, ys, ntrain, classes, ncls);
	p = cm_xmalloc(ncls * sizeof(*p));
	{
		size_t *per = cm_xcalloc(ncls, sizeof(*per)), most = 0;

		for (i = 0; i < nex; i++)
			if (ex[i].held) {
				nheld++;
				right += dt_predict(m, ex[i].text, ex[i].len, p) == ex[i].y;
				if (++per[ex[i].y] > most)
					most = per[ex[i].y];
			}
		/* the share of the largest class among the held-out records: what always
		 * guessing it would score; -q is errors only */
		if (cm_verbosity >= 0)
			fprintf(stderr, "%s: %zu records: %zu labelled in %u classes (%zu without a label or text, "
				"%zu malformed); trained on %zu, held out %zu: accuracy %.3f (largest class %.3f)\n",
				cm_prog, nex + skipped + bad, nex, ncls, skipped, bad, ntrain, nheld,
				nheld ? (double)right / (double)nheld : 0.0, nheld ? (double)most / (double)nheld : 0.0);
		free(per);
	}
	r = dt_model_save(m, out, err, sizeof(err));
	if (r != 0)
		cm_error("%s", err);
	for (i = 0; i < nex; i++)
		free(ex[i].text);
	for (i = 0; i < ncls; i++)
		free(classes[i]);
	free(classes);
	free(ex);
	free(texts);
	free(lens);
	free(ys);
	free(p);
	dt_model_free(m);
	return r ? 1 : 0;
}

static void on_rules(const cm_opt *opt, const char *value)
{
	struct ctx *c = opt->ctx;
	char err[512];

	c->rules_given = 1;
	if (dt_rules_load(c->rules, value, err, sizeof(err)) != 0)
		cm_usage_error("option '--rules': %s", err);
}

int main(int argc, char **argv)
{
	static struct ctx c;
	dt_train_opts to;
	const char *train_path = NULL, *model_path = NULL, *counts_path = NULL;
	double holdout = 0.1;
	char err[512];
	cm_filter f;

	dt_train_defaults(&to);
	cm_filter_init(&f, argc, argv);
	c.rules = dt_rules_new();
	const cm_opt opts[] = {
		CM_OPT_GROUP("Labelling:"),
		CM_OPT_CALLBACK(0, "rules", on_rules, &c, "FILE",
				"URL rules (CATEGORY host|label|path PATTERN a line;\n"
				"repeatable; default: the built-in rules, 'default' names them)"),
		CM_OPT_STRING(0, "model", &model_path, "FILE", "the classifier for what the URL does not decide"),
		CM_OPT_DOUBLE(0, "min-score", &c.min_score, "X", 0, 1,
			      "below this probability the classifier says 'other' (default: 0)"),
		CM_OPT_CALLBACK(0, "url-filter", cm_urlfilter_option, &c.filter, "FILE",
				"drop pages whose URL the filter blocks (to --rejects; see\n"
				"warc-extract(1), URL FILTER); repeatable"),
		CM_OPT_STRING(0, "counts", &counts_path, "FILE",
			      "write documents and text bytes per label (TSV), the input of\n"
			      "mixing weights"),
		CM_OPT_GROUP("Training (fastText-style: hashed words, word pairs and character 4-grams):"),
		CM_OPT_STRING(0, "train", &train_path, "FILE",
			      "records with text and a label: the 'label' field, else the\n"
			      "URL rules' label (weak supervision); -o names the model"),
		CM_OPT_DOUBLE(0, "holdout", &holdout, "X", 0, 0.9,
			      "share of the records kept out to measure accuracy (by id\n"
			      "hash; default: 0.1)"),
		CM_OPT_INT(0, "dim", &to.dim, "N", 1, 1024, "embedding width (default: 16)"),
		CM_OPT_INT(0, "buckets", &to.buckets, "N", 1, 1 << 26, "hashed feature rows (default: 262144)"),
		CM_OPT_INT(0, "epochs", &to.epochs, "N", 1, 10000, "passes over the data (default: 10)"),
		CM_OPT_DOUBLE(0, "lr", &to.lr, "X", 1e-6, 100, "learning rate, falling to 0 (default: 0.5)"),
		CM_OPT_INT(0, "seed", &to.seed, "N", 0, 1LL << 62,
			   "for the initial weights and the order (default: 1)"),
		/* the records' ids are never read (--train's holdout hashes the "id" field) */
		CM_OPT_INCLUDE(cm_filter_opts(&f, CM_FILTER_ALL)),
		CM_OPT_END()
	};
	int nf = cm_opt_parse(argc, argv, opts, &info);
	char **files = argv + 1;

	if (!c.rules_given && dt_rules_load(c.rules, "default", err, sizeof(err)) != 0)
		cm_die("%s", err);
	if (train_path) {
		int r;

		if (!f.out_path)
			cm_usage_error("--train wants -o MODEL, the model file to write");
		if (nf > 0)
			cm_usage_error("--train reads its one file; no other input");
		r = train(train_path, f.out_path, c.rules, &to, holdout, f.text_field, f.max_line);
		dt_rules_free(c.rules);
		return r;
	}
	if (model_path) {
		if (!(c.model = dt_model_load(model_path, err, sizeof(err))))
			cm_usage_error("option '--model': %s", err);
		c.p = cm_xmalloc(c.model->nclass * sizeof(*c.p));
	}
	f.json = cm_json_new();
	cm_json_want(f.json, f.text_field);
	cm_json_want(f.json, "url");
	cm_filter_start(&f, cm_filter_total_size(files, nf));
	cm_filter_run(&f, files, nf, one, &c);
	{
		char t[160];

		snprintf(t, sizeof(t), "{\"by_url\":%llu,\"by_model\":%llu,\"by_none\":%llu}", (unsigned long long)c.by_url,
			 (unsigned long long)c.by_model, (unsigned long long)c.by_none);
		cm_stats_extra(&f.stats, "domain", t);
	}
	if (counts_path) {
		cm_buf b = CM_BUF_INIT;
		size_t i;

		cm_buf_printf(&b, "# domain\tdocuments\ttext_bytes\n");
		for (i = 0; i < c.nlabels; i++)
			cm_buf_printf(&b, "%s\t%llu\t%llu\n", c.labels[i], (unsigned long long)c.docs[i],
				      (unsigned long long)c.bytes[i]);
		if (cm_afile_put(counts_path, b.p, b.len, err, sizeof(err)) < 0)
			cm_die("%s", err);
		cm_buf_free(&b);
	}
	if (cm_verbosity > 0)
		cm_info("labelled by URL %llu, by the model %llu, neither %llu", (unsigned long long)c.by_url,
			(unsigned long long)c.by_model, (unsigned long long)c.by_none);
	dt_rules_free(c.rules);
	dt_model_free(c.model);
	cm_urlfilter_free(c.filter);
	cm_buf_free(&c.meta);
	free(c.p);
	return cm_filter_finish(&f);
}
