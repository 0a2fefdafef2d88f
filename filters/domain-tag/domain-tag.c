/* domain-tag - each record's domain (topic) from its URL, else from a text classifier. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "cli.h"
#include "filter.h"
#include "jsonw.h"
#include "textclass.h"
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

/* --train holds the labelled texts in memory, at most this much */
#define MAX_TRAIN_BYTES ((size_t)4 << 30)

struct ctx {
	dt_rules *rules;
	cm_tc_model *model;
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
		int best = cm_tc_predict(c->model, t->str, tn, c->p);

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

/* --train: a record without a label field takes the URL rules' label (weak supervision) */
static const char *url_label(void *ctx, const cm_jrec *rec)
{
	const cm_jfield *u = cm_jrec_get(rec, "url");

	return u && u->str ? dt_rules_match(ctx, u->str, u->str_len) : NULL;
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
	cm_tc_opts to;
	const char *train_path = NULL, *model_path = NULL, *counts_path = NULL;
	char err[512];
	cm_filter f;

	cm_tc_defaults(&to);
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
		CM_OPT_INCLUDE(cm_tc_opt_table(&to)),
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
		r = cm_tc_train_file(&to, train_path, f.out_path, f.text_field, f.max_line, MAX_TRAIN_BYTES,
				     url_label, c.rules);
		dt_rules_free(c.rules);
		return r;
	}
	if (model_path) {
		if (!(c.model = cm_tc_load(model_path, err, sizeof(err))))
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
	cm_tc_free(c.model);
	cm_urlfilter_free(c.filter);
	cm_buf_free(&c.meta);
	free(c.p);
	return cm_filter_finish(&f);
}
