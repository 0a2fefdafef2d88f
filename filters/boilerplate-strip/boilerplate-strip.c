/* boilerplate-strip - each record's html to the page's main text. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "boilerplate.h"
#include "cli.h"
#include "filter.h"
#include "jsonw.h"

static const cm_opt_info info = {
	"[OPTION]... [FILE]...",
	"Turn each record's html into the page's main text: navigation, headers, footers,\n"
	"sidebars, cookie banners, share bars, comments and ads are left out. Writes text\n"
	"(and metadata.boilerplate: title, html_bytes, text_chars, lang); html is removed\n"
	"unless --keep-html. Records without html pass unchanged.\n",
	CM_FILTER_EPILOG, CM_FILTER_VERBOSE
};

struct ctx {
	cm_bp *bp;
	cm_bp_result r;
	const char *html_field;
	cm_bp_opts o;
	int keep_html;
	cm_buf meta;
	uint64_t flagged[CM_BP_NFLAGS];	/* pages per cm_bp_result flag */
	double extract_s;	/* CPU seconds in cm_bp_extract() (parsing and extraction) */
};

static const char *one(cm_filter *f, const cm_jrec *rec, void *p)
{
	struct ctx *c = p;
	const cm_jfield *h = cm_jrec_get(rec, c->html_field);
	cm_jw w;
	int i;

	if (!h || !h->str)
		return NULL;	/* nothing to strip: pass unchanged */
	double t0 = cm_thread_cpu();

	cm_bp_extract(c->bp, h->str, h->str_len, NULL, &c->r);
	c->extract_s += cm_thread_cpu() - t0;
	for (i = 0; i < CM_BP_NFLAGS; i++)
		c->flagged[i] += (c->r.flags >> i) & 1;
	cm_buf_reset(&c->meta);
	cm_jw_init(&w, &c->meta);
	cm_bp_meta(&w, &c->r, h->str_len);
	cm_rw_meta_raw(&f->rw, "boilerplate", c->meta.p, c->meta.len);
	cm_rw_set_str(&f->rw, f->text_field, c->r.text.p ? c->r.text.p : "", c->r.text.len);
	if (!c->keep_html)
		cm_rw_del(&f->rw, c->html_field);
	return cm_bp_verdict(&c->r, &c->o);
}

int main(int argc, char **argv)
{
	struct ctx c;
	cm_filter f;
	char err[200];

	memset(&c, 0, sizeof(c));
	c.html_field = "html";
	cm_bp_opts_default(&c.o);
	cm_filter_init(&f, argc, argv);
	const cm_opt opts[] = {
		CM_OPT_GROUP("Extraction:"),
		CM_OPT_INCLUDE(cm_bp_option_table(&c.o)),
		CM_OPT_FLAG(0, "keep-html", &c.keep_html, "keep the html field"),
		CM_OPT_STRING(0, "html-field", &c.html_field, "NAME", "the field holding the page (default: html)"),
		/* the records' ids are never read */
		CM_OPT_INCLUDE(cm_filter_opts(&f, CM_FILTER_ALL)),
		CM_OPT_END()
	};
	int nf = cm_opt_parse(argc, argv, opts, &info);
	char **files = argv + 1;

	if (!(c.bp = cm_bp_new(&c.o, err, sizeof(err))))
		cm_die("%s", err);
	f.json = cm_json_new();
	cm_json_want(f.json, c.html_field);
	cm_filter_start(&f, cm_filter_total_size(files, nf));
	cm_filter_run(&f, files, nf, one, &c);
	{
		cm_buf b = CM_BUF_INIT;
		cm_jw w;
		int i;

		/* pages that needed more than a plain parse (boilerplate.h) */
		cm_jw_init(&w, &b);
		cm_jw_obj(&w);
		for (i = 0; i < CM_BP_NFLAGS; i++)
			cm_jw_key_uint(&w, cm_bp_flag_names[i], c.flagged[i]);
		cm_jw_key_double(&w, "extract_cpu_seconds", c.extract_s);
		cm_jw_end(&w, '}');
		cm_stats_extra(&f.stats, "boilerplate", b.p);
		cm_buf_free(&b);
		if (cm_verbosity > 0)
			cm_info("pages nested deeper than %d levels (flattened): %llu; with NUL bytes (left out): %llu; "
				"where the parser stopped early: %llu", CM_BP_MAX_DEPTH,
				(unsigned long long)c.flagged[0], (unsigned long long)c.flagged[1],
				(unsigned long long)c.flagged[2]);
	}
	cm_bp_free(c.bp);
	cm_bp_result_free(&c.r);
	cm_buf_free(&c.meta);
	return cm_filter_finish(&f);
}
