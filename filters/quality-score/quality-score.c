/* quality-score - language identification and heuristic quality rules on each record's text. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "badwords.h"
#include "cli.h"
#include "filter.h"
#include "jsonw.h"
#include "langid.h"
#include "ppl.h"
#include "rules.h"
#include "textclass.h"

static const cm_opt_info info = {
	"[OPTION]... [FILE]...\n"
	"  or:  quality-score --train LABELLED.jsonl -o MODEL [OPTION]...",
	"Identify each record's language (metadata.lang) and apply heuristic quality rules to\n"
	"its text, recording every signal and the failed rules in metadata.quality. Records\n"
	"failing a rule are dropped (to --rejects, with the reason) unless --annotate-only.\n",
	CM_FILTER_EPILOG
	"\n"
	"Thresholds for --set: min_words max_words min_avg_word max_avg_word\n"
	"max_symbol_ratio max_bullet_lines max_ellipsis_lines min_alpha_words min_stop_words\n"
	"dup_para_frac dup_para_char_frac dup_line_frac dup_line_char_frac top_2_gram\n"
	"top_3_gram top_4_gram dup_5_gram .. dup_10_gram c4_min_words_line c4_min_sentences\n"
	"c4_max_word c4_terminal_punct c4_badwords_keep fw_line_punct fw_short_lines\n"
	"fw_short_line_len fw_dup_chars fw_newline_words; working memory (default 4194304\n"
	"each): max_ngram_words (the words the n-gram signals see) max_distinct_lines (lines,\n"
	"paragraphs remembered)\n",
	"a summary line at the end, with the time spent in language\n"
	"identification and in the rules"
};

#define MAX_LANGS 32

struct ctx {
	qs_opts o;
	qs_result r;
	qs_badwords *bw;
	int annotate, english_everywhere;
	const char *assume_lang;
	const char *langs[MAX_LANGS];
	int nlangs;
	double lang_threshold;
	cm_buf meta, tmp;
	double lang_s, rules_s;		/* time in language identification and in the rules */
	uint64_t text_bytes, limited;	/* texts past a working-memory limit */
	cm_tc_model *cls;		/* --classifier */
	cm_tc_opts tc;			/* its training options; .positive, the label scored */
	int pos;			/* that label's index */
	double min_score, cls_s;
	float *p;
	qs_ppl_opts pm;			/* --model */
	qs_ppl *ppl;
};

/* --train holds the labelled texts in memory, at most this much */
#define MAX_TRAIN_BYTES ((size_t)4 << 30)

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* --set NAME=VALUE */
static void set_threshold(const cm_opt *opt, const char *arg)
{
	/* kind 0: a number; 1: a size; 2: a count of positions (32-bit, at least 1) */
	static const struct {
		const char *name;
		int kind;
		size_t off;
	} t[] = {
#define D(f) { #f, 0, offsetof(qs_opts, f) }
#define Z(f) { #f, 1, offsetof(qs_opts, f) }
#define Z32(f) { #f, 2, offsetof(qs_opts, f) }
		Z(min_words), Z(max_words), D(min_avg_word), D(max_avg_word), D(max_symbol_ratio),
		D(max_bullet_lines), D(max_ellipsis_lines), D(min_alpha_words), Z(min_stop_words),
		D(dup_para_frac), D(dup_para_char_frac), D(dup_line_frac), D(dup_line_char_frac),
		{ "top_2_gram", 0, offsetof(qs_opts, top_ngram[2]) },
		{ "top_3_gram", 0, offsetof(qs_opts, top_ngram[3]) },
		{ "top_4_gram", 0, offsetof(qs_opts, top_ngram[4]) },
		{ "dup_5_gram", 0, offsetof(qs_opts, dup_ngram[5]) },
		{ "dup_6_gram", 0, offsetof(qs_opts, dup_ngram[6]) },
		{ "dup_7_gram", 0, offsetof(qs_opts, dup_ngram[7]) },
		{ "dup_8_gram", 0, offsetof(qs_opts, dup_ngram[8]) },
		{ "dup_9_gram", 0, offsetof(qs_opts, dup_ngram[9]) },
		{ "dup_10_gram", 0, offsetof(qs_opts, dup_ngram[10]) },
		Z(c4_min_words_line), Z(c4_min_sentences), Z(c4_max_word), D(c4_badwords_keep), D(fw_line_punct),
		D(fw_short_lines), Z(fw_short_line_len), D(fw_dup_chars), D(fw_newline_words),
		Z32(max_ngram_words), Z32(max_distinct_lines),
#undef D
#undef Z
#undef Z32
	};
	qs_opts *o = opt->ctx;
	const char *eq = strchr(arg, '=');
	size_t i, n;

	if (!eq)
		cm_usage_error("option '--set' wants NAME=VALUE, not '%s'", arg);
	n = (size_t)(eq - arg);
	if (n == 17 && strncmp(arg, "c4_terminal_punct", 17) == 0) {
		o->c4_terminal_punct = (int)cm_parse_ll("--set c4_terminal_punct", eq + 1, 0, 1);
		return;
	}
	for (i = 0; i < sizeof(t) / sizeof(*t); i++)
		if (strlen(t[i].name) == n && strncmp(arg, t[i].name, n) == 0) {
			if (t[i].kind)
				*(size_t *)((char *)o + t[i].off) = (size_t)cm_parse_ll("--set", eq + 1,
					t[i].kind == 2, t[i].kind == 2 ? 1LL << 31 : 1LL << 40);
			else
				*(double *)((char *)o + t[i].off) = cm_parse_double("--set", eq + 1, 0, 1e12);
			return;
		}
	cm_usage_error("no threshold named '%.*s' (see --help)", (int)n, arg);
}

/* --rules LIST: the families named decide, no others */
static void set_rules(const cm_opt *opt, const char *arg)
{
	qs_opts *o = opt->ctx;
	const char *t = arg;
	size_t n;
	int f;

	for (f = 0; f < QS_NFAMILIES; f++)
		o->on[f] = 0;
	for (t += strspn(t, ", "); *t; t += n, t += strspn(t, ", ")) {
		n = strcspn(t, ", ");
		for (f = 0; f < QS_NFAMILIES; f++)
			if (strlen(qs_family_name[f]) == n && strncmp(t, qs_family_name[f], n) == 0)
				break;
		if (f == QS_NFAMILIES)
			cm_usage_error("unknown rule family '%.*s' in --rules", (int)n, t);
		o->on[f] = 1;
	}
}

enum { PRESET_FINEWEB, PRESET_ALL, PRESET_GOPHER, PRESET_C4, PRESET_NONE };
/* fineweb: datatrove's FineWeb recipe, which has no bad-words filter; gopher: Gopher's two;
 * c4: C4's quality rules and bad-words filter; all: every family */
static const char *const preset_names[] = { "fineweb", "all", "gopher", "c4", "none", NULL };

/* --preset NAME: a callback, not a choice, as it sets the families where it stands among
 * --rules and --set c4_terminal_punct (the last one wins) */
static void set_preset(const cm_opt *opt, const char *name)
{
	qs_opts *o = opt->ctx;
	int f, p;

	for (p = 0; preset_names[p]; p++)
		if (strcmp(name, preset_names[p]) == 0)
			break;
	if (!preset_names[p])
		cm_usage_error("option '--preset' wants fineweb, all, gopher, c4 or none, not '%s'", name);
	for (f = 0; f < QS_NFAMILIES; f++)
		o->on[f] = p != PRESET_NONE;
	o->c4_terminal_punct = p != PRESET_FINEWEB;
	if (p == PRESET_FINEWEB)
		o->on[QS_C4_BADWORDS] = 0;
	else if (p == PRESET_GOPHER)
		o->on[QS_C4] = o->on[QS_FINEWEB] = o->on[QS_C4_BADWORDS] = 0;
	else if (p == PRESET_C4)
		o->on[QS_GOPHER_REP] = o->on[QS_GOPHER_QUAL] = o->on[QS_FINEWEB] = 0;
}

/* --lang CODE, repeatable */
static void add_lang(const cm_opt *opt, const char *code)
{
	struct ctx *c = opt->ctx;

	if (c->nlangs == MAX_LANGS)
		cm_usage_error("too many --lang options (at most %d)", MAX_LANGS);
	c->langs[c->nlangs++] = code;
}

static void set_assume_lang(const cm_opt *opt, const char *code)
{
	struct ctx *c = opt->ctx;

	if (!*code || strlen(code) >= 16)
		cm_usage_error("option '--assume-lang' wants a language code, not '%s'", code);
	c->assume_lang = code;
}

/* The family a reason belongs to (reasons are unique but for "empty"). */
static int family_of(const char *why)
{
	if (strncmp(why, "gopher_", 7) == 0)
		return QS_GOPHER_QUAL;
	if (strncmp(why, "dup_", 4) == 0 || strncmp(why, "top_", 4) == 0 ||
	    strncmp(why, "duplicated_", 11) == 0)
		return QS_GOPHER_REP;
	if (strcmp(why, "document_removed_with_badwords") == 0)
		return QS_C4_BADWORDS;
	if (strcmp(why, "lorem_ipsum") == 0 || strcmp(why, "curly_bracket") == 0 ||
	    strcmp(why, "too_few_sentences") == 0)
		return QS_C4;
	return QS_FINEWEB;	/* and "empty": listed when FineWeb decides */
}

static void write_meta(struct ctx *c)
{
	const qs_result *r = &c->r;
	cm_jw w;
	int f, k;

	cm_buf_reset(&c->meta);
	cm_jw_init(&w, &c->meta);
	cm_jw_obj(&w);
	cm_jw_key_uint(&w, "words", r->words);
	cm_jw_key_uint(&w, "non_symbol_words", r->non_symbol_words);
	cm_jw_key_double(&w, "mean_word_length", r->mean_word_length);
	cm_jw_key_double(&w, "hash_word_ratio", r->hash_ratio);
	cm_jw_key_double(&w, "ellipsis_word_ratio", r->ellipsis_ratio);
	cm_jw_key_double(&w, "frac_lines_bullet", r->bullet_lines);
	cm_jw_key_double(&w, "frac_lines_end_ellipsis", r->ellipsis_lines);
	cm_jw_key_double(&w, "frac_words_alpha", r->alpha_words);
	cm_jw_key_uint(&w, "stop_words", r->stop_words);
	cm_jw_key_double(&w, "frac_dup_paragraphs", r->dup_para_frac);
	cm_jw_key_double(&w, "frac_dup_paragraph_chars", r->dup_para_char_frac);
	cm_jw_key_double(&w, "frac_dup_lines", r->dup_line_frac);
	cm_jw_key_double(&w, "frac_dup_line_chars", r->dup_line_char_frac);
	for (k = 2; k <= 4; k++) {
		char key[32];

		snprintf(key, sizeof(key), "frac_top_%d_gram_chars", k);
		cm_jw_key_double(&w, key, r->top_ngram[k]);
	}
	for (k = 5; k <= 10; k++) {
		char key[32];

		snprintf(key, sizeof(key), "frac_dup_%d_gram_chars", k);
		cm_jw_key_double(&w, key, r->dup_ngram[k]);
	}
	cm_jw_key_uint(&w, "c4_lines_removed", r->c4_lines_removed);
	cm_jw_key_uint(&w, "c4_sentences", r->c4_sentences);
	cm_jw_key(&w, "c4_badwords_lang");
	if (r->badwords_list)
		cm_jw_str(&w, r->badwords_list);
	else
		cm_jw_null(&w);
	cm_jw_key_double(&w, "frac_lines_terminal_punct", r->fw_line_punct);
	cm_jw_key_double(&w, "frac_short_lines", r->fw_short_lines);
	cm_jw_key_double(&w, "frac_dup_line_chars_fineweb", r->fw_dup_chars);
	cm_jw_key_double(&w, "newlines_per_word", r->fw_newline_words);
	if (r->limited) {	/* a text past the working-memory limits: which, and where */
		cm_jw_key(&w, "limited");
		cm_jw_obj(&w);
		if (r->limited & QS_LIMITED_NGRAMS)
			cm_jw_key_uint(&w, "ngram_words", r->ngram_words);
		if (r->limited & QS_LIMITED_LINES)
			cm_jw_key_uint(&w, "distinct_lines", c->o.max_distinct_lines);
		if (r->limited & QS_LIMITED_PARAGRAPHS)
			cm_jw_key_uint(&w, "distinct_paragraphs", c->o.max_distinct_lines);
		cm_jw_end(&w, '}');
	}
	if (c->cls) {
		cm_jw_key(&w, "classifier");
		cm_jw_obj(&w);
		cm_jw_key_str(&w, "label", c->cls->classes[c->pos]);
		cm_jw_key_double(&w, "score", c->p[c->pos]);
		cm_jw_end(&w, '}');
	}
	if (c->ppl)
		qs_ppl_meta(c->ppl, &w);
	cm_jw_key(&w, "pass");
	cm_jw_obj(&w);
	for (f = 0; f < QS_NFAMILIES; f++)
		cm_jw_key_bool(&w, qs_family_name[f], r->pass[f]);
	cm_jw_end(&w, '}');
	cm_jw_key(&w, "failed");
	cm_jw_arr(&w);
	for (k = 0; k < r->nall; k++)
		if (c->o.on[family_of(r->all_failed[k])] ||
		    (strcmp(r->all_failed[k], "empty") == 0 && c->o.on[QS_GOPHER_REP]))
			cm_jw_str(&w, r->all_failed[k]);
	cm_jw_end(&w, ']');
	cm_jw_end(&w, '}');
}

static const char *one(cm_filter *f, const cm_jrec *rec, void *p)
{
	struct ctx *c = p;
	const cm_jfield *t = cm_jrec_get(rec, f->text_field);
	const char *text = t && t->str ? t->str : "";
	size_t n = t && t->str ? t->str_len : 0;
	char lang[16];
	double score;
	cm_jw w;
	int fam, i, lang_ok = 1;
	const char *why = NULL;
	double t0 = now_s(), t1;

	if (c->assume_lang) {
		snprintf(lang, sizeof(lang), "%s", c->assume_lang);
		score = 1;
	} else {
		langid_detect(text, n, lang, &score);
		cm_buf_reset(&c->tmp);
		cm_jw_init(&w, &c->tmp);
		cm_jw_obj(&w);
		cm_jw_key_str(&w, "code", lang);
		cm_jw_key_double(&w, "score", score);
		cm_jw_end(&w, '}');
		cm_rw_meta_raw(&f->rw, "lang", c->tmp.p, c->tmp.len);
	}
	if (c->nlangs) {
		lang_ok = 0;
		for (i = 0; i < c->nlangs; i++)
			if (strcmp(c->langs[i], lang) == 0 && score >= c->lang_threshold)
				lang_ok = 1;
	}

	c->o.english = c->english_everywhere || strcmp(lang, "en") == 0;
	t1 = now_s();
	qs_score(&c->o, text, n, &c->r);
	qs_c4_badwords(&c->o, c->bw, lang, text, n, &c->r);
	c->lang_s += t1 - t0;
	c->rules_s += now_s() - t1;
	c->text_bytes += n;
	c->limited += c->r.limited != 0;
	if (c->cls) {
		t1 = now_s();
		cm_tc_predict(c->cls, text, n, c->p);
		c->cls_s += now_s() - t1;
	}
	if (c->ppl)
		qs_ppl_pick(c->ppl, f->batch_index, lang);
	write_meta(c);
	cm_rw_meta_raw(&f->rw, "quality", c->meta.p, c->meta.len);
	if (c->o.on[QS_C4] && c->o.c4_edit && c->r.pass[QS_C4] && c->r.c4_lines_removed)
		cm_rw_set_str(&f->rw, f->text_field, c->r.c4_text.len ? c->r.c4_text.p : "", c->r.c4_text.len);
	if (!lang_ok)
		why = "lang";
	for (fam = 0; fam < QS_NFAMILIES && !why; fam++)
		if (c->o.on[fam] && !c->r.pass[fam])
			why = c->r.failed[fam];
	if (!why && c->cls && c->p[c->pos] < c->min_score)
		why = "classifier";
	if (c->ppl)
		why = qs_ppl_decide(c->ppl, why);
	return c->annotate ? NULL : why;
}

/* --model: the records scored in batches */
static void ppl_add(cm_filter *f, const cm_jrec *rec, size_t i, void *p)
{
	qs_ppl_add(((struct ctx *)p)->ppl, rec, f->text_field, i);
}

static void ppl_flush(cm_filter *f, size_t n, void *p)
{
	(void)f;
	qs_ppl_flush(((struct ctx *)p)->ppl, n);
}

int main(int argc, char **argv)
{
	static struct ctx c;
	static const char *const words_names[] = { "unicode", "spacy", NULL };
	cm_filter f;

	const char *cls_path = NULL, *train_path = NULL;
	char err[512];

	qs_opts_default(&c.o);
	qs_load_data();
	c.bw = qs_badwords_new();
	c.lang_threshold = 0.65;
	c.min_score = 0.5;
	/* quality's defaults: words and pairs (as DCLM's fastText), no character n-grams */
	cm_tc_defaults(&c.tc);
	c.tc.char_n = 0;
	c.tc.epochs = 5;
	qs_ppl_defaults(&c.pm);
	cm_filter_init(&f, argc, argv);
	const cm_opt opts[] = {
		CM_OPT_GROUP("Rules (families; defaults are the published thresholds):"),
		CM_OPT_CALLBACK(0, "preset", set_preset, &c.o, "NAME",
				"fineweb: Gopher repetition + Gopher quality + C4 without\n"
				"its terminal-punctuation rule + FineWeb (datatrove's FineWeb\n"
				"recipe); all (default): every family, C4's as published;\n"
				"gopher: Gopher repetition + quality; c4: C4's rules and\n"
				"bad words; none"),
		CM_OPT_CALLBACK(0, "rules", set_rules, &c.o, "LIST",
				"families that decide: gopher_repetition, gopher_quality,\n"
				"c4, fineweb, c4_badwords (comma-separated)"),
		CM_OPT_CALLBACK(0, "set", set_threshold, &c.o, "NAME=VALUE", "change a threshold (names below)"),
		CM_OPT_FLAG(0, "annotate-only", &c.annotate, "keep every record, only annotate"),
		CM_OPT_SET(0, "no-edit", &c.o.c4_edit, 0,
			   "C4 does not edit the text (by default it removes the lines it\n"
			   "rejects: without terminal punctuation, under 3 words, with\n"
			   "'javascript', policy notices; and citation marks)"),
		CM_OPT_FLAG(0, "english-rules-everywhere", &c.english_everywhere,
			    "apply the English-only rules (stop words, mean word length)\n"
			    "whatever the language (default: English only)"),
		CM_OPT_CHOICE(0, "words", &c.o.spacy_words, "HOW", words_names,
			      "unicode (default): words by Unicode category, punctuation\n"
			      "apart, a CJK character a word; spacy: as spaCy's English\n"
			      "tokenizer cuts them (datatrove's filters, FineWeb)"),
		CM_OPT_GROUP("Language:"),
		CM_OPT_CALLBACK(0, "lang", add_lang, &c, "CODE", "keep only records in this language (repeatable)"),
		CM_OPT_DOUBLE(0, "lang-threshold", &c.lang_threshold, "X", 0, 1,
			      "the language's score must reach X (default: 0.65)"),
		CM_OPT_CALLBACK(0, "assume-lang", set_assume_lang, &c, "CODE",
				"identify nothing: every record is in CODE (for text already\n"
				"filtered by language); metadata.lang is not written"),
		CM_OPT_GROUP("Classifier (fastText-style, as domain-tag's; after the rules):"),
		CM_OPT_STRING(0, "classifier", &cls_path, "MODEL",
			      "score each record with a model of --train: the --positive\n"
			      "label's probability, in metadata.quality.classifier"),
		CM_OPT_DOUBLE(0, "min-score", &c.min_score, "X", 0, 1,
			      "drop records scored below X (default: 0.5)"),
		CM_OPT_GROUP("Training the classifier (hashed words and word runs):"),
		CM_OPT_STRING(0, "train", &train_path, "FILE",
			      "records with text and a 'label' (e.g. hq and web, or 1 and 0);\n"
			      "-o names the model"),
		CM_OPT_INCLUDE(cm_tc_opt_table(&c.tc)),
		CM_OPT_INCLUDE(qs_ppl_opt_table(&c.pm)),
		CM_OPT_INCLUDE(cm_filter_opts(&f, CM_FILTER_ALL)),
		CM_OPT_END()
	};
	int nf = cm_opt_parse(argc, argv, opts, &info);
	char **files = argv + 1;

	if (train_path) {
		if (!f.out_path)
			cm_usage_error("--train wants -o MODEL, the model file to write");
		if (nf > 0)
			cm_usage_error("--train reads its one file; no other input");
		return cm_tc_train_file(&c.tc, train_path, f.out_path, f.text_field, f.max_line,
					MAX_TRAIN_BYTES, NULL, NULL);
	}
	if (cls_path) {
		if (!(c.cls = cm_tc_load(cls_path, err, sizeof err)))
			cm_usage_error("option '--classifier': %s", err);
		if (c.tc.positive) {
			if ((c.pos = cm_tc_class(c.cls, c.tc.positive)) < 0)
				cm_usage_error("option '--positive': the model '%s' has no label '%s'",
					       cls_path, c.tc.positive);
		} else if (c.cls->nclass == 2) {
			c.pos = 1;
		} else {
			cm_usage_error("option '--classifier': the model has %u labels: say which is good "
				       "with --positive", c.cls->nclass);
		}
		c.p = cm_xmalloc(c.cls->nclass * sizeof *c.p);
	}
	if (c.pm.model)
		c.ppl = qs_ppl_open(&c.pm);
	else if (c.pm.calibrate || c.pm.cuts || c.pm.bucket != QS_BUCKET_NONE)
		cm_usage_error("options '--ppl-calibrate', '--ppl-cuts' and '--ppl-bucket' want --model");
	f.json = cm_json_new();
	cm_json_want(f.json, f.text_field);
	cm_filter_start(&f, cm_filter_total_size(files, nf));
	if (c.ppl) {
		const cm_filter_batch b = { ppl_add, ppl_flush, (size_t)c.pm.batch_records,
					    c.pm.batch_bytes };

		cm_filter_run_batch(&f, files, nf, &b, one, &c);
	} else {
		cm_filter_run(&f, files, nf, one, &c);
	}
	{
		cm_buf t = CM_BUF_INIT;

		cm_buf_printf(&t, "{\"text_bytes\":%llu,\"lang_seconds\":%.6f,\"rules_seconds\":%.6f,"
			      "\"rules_mb_per_s\":%.3f,\"limited\":%llu",
			      (unsigned long long)c.text_bytes, c.lang_s, c.rules_s,
			      c.rules_s > 0 ? (double)c.text_bytes / 1e6 / c.rules_s : 0.0,
			      (unsigned long long)c.limited);
		if (c.cls)
			cm_buf_printf(&t, ",\"classifier_seconds\":%.6f", c.cls_s);
		if (c.ppl) {
			cm_buf_printf(&t, ",\"model\":");
			qs_ppl_stats(c.ppl, &t);
		}
		cm_buf_printf(&t, "}");
		cm_stats_extra(&f.stats, "quality", t.p);
		cm_buf_free(&t);
		if (cm_verbosity > 0)
			cm_info("text: %.1f MB; language identification %.3f s, rules %.3f s (%.1f MB/s); "
				"%llu past a working-memory limit",
				(double)c.text_bytes / 1e6, c.lang_s, c.rules_s,
				c.rules_s > 0 ? (double)c.text_bytes / 1e6 / c.rules_s : 0.0,
				(unsigned long long)c.limited);
	}
	if (c.ppl && qs_ppl_close(c.ppl) < 0)
		f.status = CM_EXIT_FAIL;
	qs_result_free(&c.r);
	cm_tc_free(c.cls);
	free(c.p);
	qs_badwords_free(c.bw);
	cm_buf_free(&c.meta);
	cm_buf_free(&c.tmp);
	return cm_filter_finish(&f);
}
