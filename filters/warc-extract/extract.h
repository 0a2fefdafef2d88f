/* extract.h - one WARC record to one JSON Lines record: selection, HTTP decoding, charset. */
#ifndef EXTRACT_H
#define EXTRACT_H

#include <stdint.h>

#include "boilerplate.h"
#include "buf.h"
#include "jsonw.h"
#include "opt.h"
#include "urlfilter.h"
#include "warc.h"

#define WX_MAX_LIST 32

struct wx_opts {
	unsigned types;			/* bit per enum warc_type */
	int mime_any, mime_html;	/* 'any'; 'html' for HTML-like types */
	char *mimes[WX_MAX_LIST];
	int nmimes;
	int status_any;
	int statuses[WX_MAX_LIST];
	int nstatuses;
	uint64_t max_record;		/* also the limit for decoded bodies */
	char added[32];			/* the records' "added" time */
	int text;			/* --text: main text instead of html, in process */
	cm_bp_opts bp;			/* how to extract it, and --min-chars */
	cm_urlfilter *url_filter;	/* --url-filter, or NULL */
};

struct wx_counts {
	uint64_t utf8_replaced, charset_unknown, decode_errors, by_charset_source[8];
};

struct wx {
	const struct wx_opts *o;
	const char *id_field, *text_field;
	struct wx_counts n;
	int decode_error;		/* the last record's HTTP body did not decode whole */
	cm_buf line;			/* the last record made, with its newline */
	cm_buf body, body2, utf8;
	cm_bp *bp;			/* with --text */
	cm_bp_result bpr;
};

extern const char *const wx_charset_sources[5];

/* Defaults: response, resource and conversion records; HTML; status 200; 64 MiB. */
void wx_opts_default(struct wx_opts *o);
/* The option callbacks of --types, --mime and --status (opt.h; ctx: the struct wx_opts):
 * comma-separated lists; usage errors exit 2. The strings are kept. */
void wx_opt_types(const cm_opt *opt, const char *value);
void wx_opt_mimes(const cm_opt *opt, const char *value);
void wx_opt_statuses(const cm_opt *opt, const char *value);
/* Set "added" from a Unix time. */
void wx_set_added(struct wx_opts *o, long long t);

void wx_init(struct wx *x, const struct wx_opts *o);
void wx_free(struct wx *x);
/* Make the JSON line for r in x->line and return NULL, or return why r is not wanted
 * ("type", "mime", "status", "bad_http", "truncated", "too_large",
 * "unknown_content_encoding"; with --text also "unparsable", "no_text", "too_short"). With
 * --text the record is the one boilerplate-strip would make of the html record. */
const char *wx_record(struct wx *x, const struct warc_record *r, const char *source);
/* "key": header value, made valid UTF-8. */
void wx_key_str(cm_jw *w, const char *key, struct warc_str s);
/* What a record's line and its --rejects line share after "source": "created", "url", then
 * "metadata": {"warc": {"type": ..., left open for the rest of metadata.warc. */
void wx_open_warc(cm_jw *w, const struct warc_record *r, struct warc_str url);
/* The counters as JSON members. */
void wx_counts_json(const struct wx *x, cm_jw *w);

#endif
