/* domain-tag - each record's domain (topic) from its URL, else from a text classifier. */
#include <errno.h>
#include <getopt.h>
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

enum {
	OPT_RULES = CM_OPT_PROGRAM,
	OPT_MODEL,
	OPT_MIN_SCORE,
	OPT_URL_FILTER,
	OPT_COUNTS,
	OPT_TRAIN,
	OPT_HOLDOUT,
	OPT_DIM,
	OPT_BUCKETS,
	OPT_EPOCHS,
	OPT_LR,
	OPT_SEED,
};

static const struct option longopts[] = {
	{ "rules", required_argument, NULL, OPT_RULES },
	{ "model", required_argument, NULL, OPT_MODEL },
	{ "min-score", required_argument, NULL, OPT_MIN_SCORE },
	{ "url-filter", required_argument, NULL, OPT_URL_FILTER },
	{ "counts", required_argument, NULL, OPT_COUNTS },
	{ "train", required_argument, NULL, OPT_TRAIN },
	{ "holdout", required_argument, NULL, OPT_HOLDOUT },
	{ "dim", required_argument, NULL, OPT_DIM },
	{ "buckets", required_argument, NULL, OPT_BUCKETS },
	{ "epochs", required_argument, NULL, OPT_EPOCHS },
	{ "lr", required_argument, NULL, OPT_LR },
	{ "seed", required_argument, NULL, OPT_SEED },
	CM_FILTER_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static void usage(void)
{
	printf("Usage: %s [OPTION]... [FILE]...\n"
	       "  or:  %s --train LABELLED.jsonl -o MODEL [OPTION]...\n"
	       "Label each record's domain (metadata.domain: label, source, score): from URL rules\n"
	       "first (host suffixes, host labels, path segments), else from a text classifier\n"
	       "(--model), else 'other'.\n"
	       "\n"
	       "Labelling:\n"
	       "      --rules FILE       URL rules (CATEGORY host|label|path PATTERN a line;\n"
	       "                         repeatable; default: the built-in rules, 'default' names them)\n"
	       "      --model FILE       the classifier for what the URL does not decide\n"
	       "      --min-score X      below this probability the classifier says 'other' (default: 0)\n"
	       "      --url-filter FILE  drop pages whose URL the filter blocks (to --rejects; see\n"
	       "                         warc-extract(1), URL FILTER); repeatable\n"
	       "      --counts FILE      write documents and text bytes per label (TSV), the input of\n"
	       "                         mixing weights\n"
	       "Training (fastText-style: hashed words, word pairs and character 4-grams):\n"
	       "      --train FILE       records with text and a label: the 'label' field, else the\n"
	       "                         URL rules' label (weak supervision); -o names the model\n"
	       "      --holdout X        share of the records kept out to measure accuracy (by id\n"
	       "                         hash; default: 0.1)\n"
	       "      --dim N            embedding width (default: 16)\n"
	       "      --buckets N        hashed feature rows (default: 262144)\n"
	       "      --epochs N         passes over the data (default: 10)\n"
	       "      --lr X             learning rate, falling to 0 (default: 0.5)\n"
	       "      --seed N           for the initial weights and the order (default: 1)\n"
	       "\n"
	       CM_FILTER_USAGE,
	       cm_prog, cm_prog);
}

struct ctx {
	dt_rules *rules;
	dt_model *model;
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
	cm_jw_key(&w, "label");
	cm_jw_str(&w, label);
	cm_jw_key(&w, "source");
	cm_jw_str(&w, source);
	if (score >= 0) {
		cm_jw_key(&w, "score");
		cm_jw_double(&w, score);
	}
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
		 * guessing it would score */
		fprintf(stderr, "%s: %zu records: %zu labelled in %u classes (%zu without a label or text, %zu "
			"malformed); trained on %zu, held out %zu: accuracy %.3f (largest class %.3f)\n", cm_prog,
			nex + skipped + bad, nex, ncls, skipped, bad, ntrain, nheld,
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

int main(int argc, char **argv)
{
	static struct ctx c;
	dt_train_opts to;
	const char *train_path = NULL, *model_path = NULL, *counts_path = NULL;
	double holdout = 0.1;
	int ch, rules_given = 0;
	char err[512];
	cm_filter f;

	dt_train_defaults(&to);
	cm_filter_init(&f, argc, argv);
	c.rules = dt_rules_new();
	while ((ch = getopt_long(argc, argv, CM_FILTER_SHORTOPTS, longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_RULES:
			rules_given = 1;
			if (dt_rules_load(c.rules, optarg, err, sizeof(err)) != 0)
				cm_usage_error("option '--rules': %s", err);
			break;
		case OPT_MODEL: model_path = optarg; break;
		case OPT_MIN_SCORE: c.min_score = cm_parse_double("--min-score", optarg, 0, 1); break;
		case OPT_URL_FILTER:
			if (!c.filter)
				c.filter = cm_urlfilter_new();
			if (cm_urlfilter_load(c.filter, optarg, err, sizeof(err)) != 0)
				cm_usage_error("option '--url-filter': %s", err);
			break;
		case OPT_COUNTS: counts_path = optarg; break;
		case OPT_TRAIN: train_path = optarg; break;
		case OPT_HOLDOUT: holdout = cm_parse_double("--holdout", optarg, 0, 0.9); break;
		case OPT_DIM: to.dim = (uint32_t)cm_parse_ll("--dim", optarg, 1, 1024); break;
		case OPT_BUCKETS: to.buckets = (uint32_t)cm_parse_ll("--buckets", optarg, 1, 1 << 26); break;
		case OPT_EPOCHS: to.epochs = (uint32_t)cm_parse_ll("--epochs", optarg, 1, 10000); break;
		case OPT_LR: to.lr = (float)cm_parse_double("--lr", optarg, 1e-6, 100); break;
		case OPT_SEED: to.seed = (uint64_t)cm_parse_ll("--seed", optarg, 0, 1LL << 62); break;
		default: cm_filter_option(&f, ch, optarg, usage); break;
		}
	}
	if (!rules_given && dt_rules_load(c.rules, "default", err, sizeof(err)) != 0)
		cm_die("%s", err);
	if (train_path) {
		int r;

		if (!f.out_path)
			cm_usage_error("--train wants -o MODEL, the model file to write");
		if (optind < argc)
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
	cm_filter_start(&f, cm_filter_total_size(argv + optind, argc - optind));
	cm_filter_run(&f, argv + optind, argc - optind, one, &c);
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
