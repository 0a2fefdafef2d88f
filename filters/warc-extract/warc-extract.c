/* warc-extract - WARC/WET files to JSON Lines records holding each page's HTML (or text). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "charset.h"
#include "cli.h"
#include "filter.h"
#include "http.h"
#include "jsonw.h"
#include "utf8.h"
#include "warc.h"

enum {
	OPT_TYPES = CM_OPT_PROGRAM,
	OPT_MIME,
	OPT_STATUS,
	OPT_MAX_RECORD,
	OPT_SOURCE,
};

static const struct option longopts[] = {
	{ "types", required_argument, NULL, OPT_TYPES },
	{ "mime", required_argument, NULL, OPT_MIME },
	{ "status", required_argument, NULL, OPT_STATUS },
	{ "max-record-size", required_argument, NULL, OPT_MAX_RECORD },
	{ "source", required_argument, NULL, OPT_SOURCE },
	CM_FILTER_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static void usage(void)
{
	printf("Usage: %s [OPTION]... [FILE]...\n"
	       "Read WARC files (plain, gzip or zstd; WARC/1.0, 1.1, 0.18) and write one JSON Lines\n"
	       "record per selected record: id, html (or text for WET conversion records), source,\n"
	       "added, created, url and metadata.warc. HTTP bodies are de-chunked and decompressed\n"
	       "unless the crawler already did (X-Crawler-* headers), and converted to UTF-8.\n"
	       "\n"
	       "Selection:\n"
	       "      --types LIST       WARC-Types to read (default: response,resource,conversion)\n"
	       "      --mime LIST        MIME types to keep, or 'html' for HTML-like types, or 'any'\n"
	       "                         (default: html); the identified payload type decides when present\n"
	       "      --status LIST      HTTP status codes to keep, or 'any' (default: 200)\n"
	       "      --max-record-size SIZE  skip records with a larger content block (default: 64M)\n"
	       "      --source NAME      the records' source field (default: the file's name)\n"
	       "\n"
	       CM_FILTER_USAGE
	       "\n"
	       "Exit status: 0 ok; 1 an input could not be read or ended early (everything before\n"
	       "the damage is written; --allow-truncated makes that 0); 2 usage error.\n",
	       cm_prog);
}

#define MAX_LIST 32

struct opts {
	unsigned types;			/* bit per enum warc_type */
	int mime_any, mime_html;
	char *mimes[MAX_LIST];
	int nmimes;
	int status_any;
	int statuses[MAX_LIST];
	int nstatuses;
	uint64_t max_record;
	const char *source;
	char added[32];
};

struct counters {
	uint64_t utf8_replaced, charset_unknown, decode_errors, garbage_bytes, resyncs;
	uint64_t bad_length, bad_header, by_charset_source[8];
};

struct ctx {
	cm_filter *f;
	struct opts *o;
	struct counters c;
	const char *file;	/* for messages */
	int warned;
	int cut_short;		/* records of this file cut short by its end */
	cm_buf line, body, body2, utf8;
};

static char *list_next(char **s)
{
	char *tok;

	while (**s == ',' || **s == ' ')
		(*s)++;
	if (!**s)
		return NULL;
	tok = *s;
	*s += strcspn(*s, ", ");
	if (**s)
		*(*s)++ = '\0';
	return tok;
}

static void parse_types(struct opts *o, char *arg)
{
	char *t;
	int i;

	o->types = 0;
	while ((t = list_next(&arg))) {
		for (i = 1; i < WARC_NTYPES; i++)
			if (strcasecmp(t, warc_type_name((enum warc_type)i)) == 0)
				break;
		if (i == WARC_NTYPES)
			cm_usage_error("unknown WARC-Type '%s' in --types", t);
		o->types |= 1u << i;
	}
	if (!o->types)
		cm_usage_error("option '--types' wants a list of WARC-Types");
}

static void parse_mimes(struct opts *o, char *arg)
{
	char *t;

	o->mime_any = o->mime_html = 0;
	o->nmimes = 0;
	while ((t = list_next(&arg))) {
		if (strcmp(t, "any") == 0 || strcmp(t, "*") == 0)
			o->mime_any = 1;
		else if (strcmp(t, "html") == 0)
			o->mime_html = 1;
		else if (o->nmimes == MAX_LIST)
			cm_usage_error("too many MIME types in --mime (at most %d)", MAX_LIST);
		else
			o->mimes[o->nmimes++] = t;
	}
}

static void parse_statuses(struct opts *o, char *arg)
{
	char *t;

	o->status_any = 0;
	o->nstatuses = 0;
	while ((t = list_next(&arg))) {
		if (strcmp(t, "any") == 0)
			o->status_any = 1;
		else if (o->nstatuses == MAX_LIST)
			cm_usage_error("too many status codes in --status (at most %d)", MAX_LIST);
		else
			o->statuses[o->nstatuses++] = (int)cm_parse_ll("--status", t, 100, 999);
	}
}

/* The MIME type of a header value: lower case, no parameters. */
static void mime_of(struct warc_str s, char *out, size_t cap)
{
	size_t i, n = 0;

	for (i = 0; i < s.len && s.p[i] != ';' && n + 1 < cap; i++)
		if (s.p[i] != ' ' && s.p[i] != '\t')
			out[n++] = (char)(s.p[i] >= 'A' && s.p[i] <= 'Z' ? s.p[i] + 32 : s.p[i]);
	out[n] = '\0';
}

static int mime_wanted(const struct opts *o, const char *mime)
{
	int i;

	if (o->mime_any || (o->mime_html && http_mime_is_html(mime)))
		return 1;
	for (i = 0; i < o->nmimes; i++)
		if (strcasecmp(o->mimes[i], mime) == 0)
			return 1;
	return 0;
}

static int status_wanted(const struct opts *o, int status)
{
	int i;

	if (o->status_any)
		return 1;
	for (i = 0; i < o->nstatuses; i++)
		if (o->statuses[i] == status)
			return 1;
	return 0;
}

static void on_skip(void *p, uint64_t offset, const char *what)
{
	struct ctx *c = p;

	if (c->f->strict)
		cm_die("%s: offset %llu: %s (--strict)", c->file, (unsigned long long)offset, what);
	if (c->warned++ < 10)
		cm_warn("%s: offset %llu: %s", c->file, (unsigned long long)offset, what);
	else if (c->warned == 11)
		cm_warn("%s: more damage; only counting it from now on", c->file);
}

static void key_str(cm_jw *w, const char *key, struct warc_str s)
{
	cm_buf tmp = CM_BUF_INIT;

	cm_jw_key(w, key);
	/* header values are bytes: make them valid UTF-8 first */
	if (cm_utf8_valid(s.p, s.len)) {
		cm_jw_strn(w, s.p, s.len);
	} else {
		cm_utf8_repair(s.p, s.len, &tmp);
		cm_jw_strn(w, tmp.p, tmp.len);
		cm_buf_free(&tmp);
	}
}

static const char *const source_names[] = {
	[CHARSET_SRC_BOM] = "bom",
	[CHARSET_SRC_HTTP] = "http",
	[CHARSET_SRC_META] = "meta",
	[CHARSET_SRC_DETECTOR] = "detector",
	[CHARSET_SRC_DEFAULT] = "default",
};

/* Build and write one output record; returns a drop reason or NULL. */
static const char *extract(struct ctx *c, const struct warc_record *r)
{
	const struct opts *o = c->o;
	struct http_head h;
	const char *body = r->block, *charset = "utf-8";
	size_t body_len = r->block_len, replaced = 0;
	char mime[128];
	int status = 0, csrc = -1, decode_error = 0, is_text = r->type == WARC_CONVERSION;
	struct warc_str url = r->target_uri;
	cm_jw w;

	if (!(o->types & (1u << r->type)))
		return "type";
	if (r->cut_short)
		return "truncated";
	mime_of(r->payload_type.len ? r->payload_type : r->content_type, mime, sizeof(mime));
	if (r->type == WARC_RESPONSE) {
		int ret;

		memset(&h, 0, sizeof(h));
		if (http_parse(r->block, r->block_len, &h) != 0)
			return "bad_http";
		status = h.status;
		if (!r->payload_type.len)
			snprintf(mime, sizeof(mime), "%s", h.mime);
		if (!status_wanted(o, status))
			return "status";
		if (!mime_wanted(o, mime))
			return "mime";
		body = r->block + h.body_off;
		body_len = r->block_len - h.body_off;
		if (http_is_chunked(&h)) {
			cm_buf_reset(&c->body);
			ret = http_dechunk(body, body_len, &c->body, (size_t)o->max_record);
			if (ret < 0)
				return "too_large";
			decode_error |= ret == 1;
			body = c->body.p;
			body_len = c->body.len;
		}
		if (http_is_encoded(&h)) {
			cm_buf_reset(&c->body2);
			ret = http_decode(h.content_encoding, h.content_encoding_len, body, body_len,
					  &c->body2, (size_t)o->max_record);
			if (ret == -1)
				return "too_large";
			if (ret == -2)
				return "unknown_content_encoding";
			decode_error |= ret == 1;
			body = c->body2.p;
			body_len = c->body2.len;
		}
		if (decode_error)
			c->c.decode_errors++;
		charset = charset_detect(h.charset[0] ? h.charset : NULL, body, body_len, &csrc);
	} else if (!is_text) {
		if (!mime_wanted(o, mime))
			return "mime";
		charset = charset_detect(NULL, body, body_len, &csrc);
	}
	cm_buf_reset(&c->utf8);
	if (charset_to_utf8(charset, body, body_len, &c->utf8, &replaced) != 0)
		c->c.charset_unknown++;
	c->c.utf8_replaced += replaced;
	if (csrc >= 0 && csrc < 8)
		c->c.by_charset_source[csrc]++;

	if (url.len >= 2 && url.p[0] == '<' && url.p[url.len - 1] == '>') {
		url.p++;
		url.len -= 2;
	}
	cm_buf_reset(&c->line);
	cm_jw_init(&w, &c->line);
	cm_jw_obj(&w);
	key_str(&w, c->f->id_field, r->record_id);
	cm_jw_key(&w, is_text ? c->f->text_field : "html");
	cm_jw_strn(&w, c->utf8.p, c->utf8.len);
	cm_jw_key(&w, "source");
	cm_jw_str(&w, o->source ? o->source : c->file);
	cm_jw_key(&w, "added");
	cm_jw_str(&w, o->added);
	key_str(&w, "created", r->date);
	key_str(&w, "url", url);
	cm_jw_key(&w, "metadata");
	cm_jw_obj(&w);
	cm_jw_key(&w, "warc");
	cm_jw_obj(&w);
	cm_jw_key(&w, "type");
	cm_jw_str(&w, warc_type_name(r->type));
	cm_jw_key(&w, "content_type");
	cm_jw_str(&w, is_text ? "text/plain" : mime);
	if (status) {
		cm_jw_key(&w, "status");
		cm_jw_int(&w, status);
	}
	cm_jw_key(&w, "charset");
	cm_jw_str(&w, charset);
	if (csrc >= 0 && csrc < (int)(sizeof(source_names) / sizeof(*source_names))) {
		cm_jw_key(&w, "charset_source");
		cm_jw_str(&w, source_names[csrc]);
	}
	if (replaced) {
		cm_jw_key(&w, "invalid_bytes_replaced");
		cm_jw_uint(&w, replaced);
	}
	if (r->truncated.len)
		key_str(&w, "truncated", r->truncated);
	if (decode_error) {
		cm_jw_key(&w, "decode_error");
		cm_jw_bool(&w, 1);
	}
	if (r->payload_type.len)
		key_str(&w, "identified_payload_type", r->payload_type);
	cm_jw_key(&w, "offset");
	cm_jw_uint(&w, r->offset);
	cm_jw_end(&w, '}');
	cm_jw_end(&w, '}');
	cm_jw_end(&w, '}');
	cm_buf_addc(&c->line, '\n');
	cm_filter_emit(c->f, c->line.p, c->line.len);
	return NULL;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static void read_file(struct ctx *c, const char *path, uint64_t *index, uint64_t *done_bytes)
{
	cm_filter *f = c->f;
	cm_input *in = cm_input_open(path);
	warc_reader *wr;
	struct warc_record r;
	const struct warc_counts *n;
	int ret;

	if (!in) {
		f->status = CM_EXIT_FAIL;
		return;
	}
	c->file = strcmp(path, "-") == 0 ? "stdin" : base_name(path);
	c->warned = 0;
	c->cut_short = 0;
	wr = warc_open(in, c->o->max_record);
	warc_on_skip(wr, on_skip, c);
	while ((ret = warc_next(wr, &r)) > 0) {
		const char *reason;

		if ((*index)++ % f->shard_n != f->shard_i)
			continue;
		f->stats.read++;
		f->stats.bytes_in += r.block_len;
		reason = extract(c, &r);
		if (reason) {
			cm_stats_drop(&f->stats, reason);
			if (strcmp(reason, "truncated") == 0 && ++c->cut_short)
				cm_warn("%s: offset %llu: record cut short by the end of the input; dropped",
					c->file, (unsigned long long)r.offset);
		}
		cm_progress_update(&f->progress, f->stats.read, *done_bytes + cm_input_raw_offset(in));
	}
	if (ret < 0) {
		cm_error("%s: this is an ARC file (the format before WARC), not WARC; "
			 "convert it first, e.g. with warcio's arc2warc", c->file);
		f->status = CM_EXIT_FAIL;
	}
	n = warc_counts(wr);
	/* records skipped as unreadable count as read and malformed */
	f->stats.read += n->bad_length + n->bad_header + n->oversized;
	f->stats.malformed += n->bad_length + n->bad_header;
	for (uint64_t k = 0; k < n->oversized; k++)
		cm_stats_drop(&f->stats, "too_large");
	c->c.garbage_bytes += n->garbage_bytes;
	c->c.resyncs += n->resyncs;
	c->c.bad_length += n->bad_length;
	c->c.bad_header += n->bad_header;
	if (cm_input_truncated(in)) {
		if (f->allow_truncated) {
			cm_warn("%s: %s (accepted: --allow-truncated)", c->file, cm_input_error(in));
		} else {
			cm_error("%s: %s", c->file, cm_input_error(in));
			f->status = CM_EXIT_FAIL;
		}
	} else if (c->cut_short) {
		/* a plain file that ends inside a record */
		if (f->allow_truncated) {
			cm_warn("%s: the input ends inside a record (accepted: --allow-truncated)", c->file);
		} else {
			cm_error("%s: the input ends inside a record: truncated file?", c->file);
			f->status = CM_EXIT_FAIL;
		}
	}
	*done_bytes += cm_input_raw_offset(in);
	warc_close(wr);
	cm_input_close(in);
}

int main(int argc, char **argv)
{
	static struct opts o;
	static struct ctx c;
	cm_filter f;
	uint64_t index = 0, done = 0;
	int ch, i;
	time_t now;
	const char *epoch;
	struct tm tm;
	cm_buf extra = CM_BUF_INIT;
	cm_jw w;

	cm_filter_init(&f, argc, argv);
	o.types = 1u << WARC_RESPONSE | 1u << WARC_RESOURCE | 1u << WARC_CONVERSION;
	o.mime_html = 1;
	o.statuses[o.nstatuses++] = 200;
	o.max_record = 64u << 20;
	while ((ch = getopt_long(argc, argv, CM_FILTER_SHORTOPTS, longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_TYPES: parse_types(&o, optarg); break;
		case OPT_MIME: parse_mimes(&o, optarg); break;
		case OPT_STATUS: parse_statuses(&o, optarg); break;
		case OPT_MAX_RECORD: o.max_record = cm_parse_size("--max-record-size", optarg); break;
		case OPT_SOURCE: o.source = optarg; break;
		default: cm_filter_option(&f, ch, optarg, usage); break;
		}
	}
	/* "added": now, or SOURCE_DATE_EPOCH for reproducible output */
	epoch = getenv("SOURCE_DATE_EPOCH");
	now = epoch ? (time_t)cm_parse_ll("SOURCE_DATE_EPOCH", epoch, 0, 253402300799LL) : time(NULL);
	gmtime_r(&now, &tm);
	strftime(o.added, sizeof(o.added), "%Y-%m-%dT%H:%M:%SZ", &tm);

	c.f = &f;
	c.o = &o;
	cm_filter_start(&f, cm_filter_total_size(argv + optind, argc - optind));
	if (optind == argc)
		read_file(&c, "-", &index, &done);
	for (i = optind; i < argc; i++)
		read_file(&c, argv[i], &index, &done);

	cm_jw_init(&w, &extra);
	cm_jw_obj(&w);
	cm_jw_key(&w, "garbage_bytes");
	cm_jw_uint(&w, c.c.garbage_bytes);
	cm_jw_key(&w, "resyncs");
	cm_jw_uint(&w, c.c.resyncs);
	cm_jw_key(&w, "bad_content_length");
	cm_jw_uint(&w, c.c.bad_length);
	cm_jw_key(&w, "bad_header");
	cm_jw_uint(&w, c.c.bad_header);
	cm_jw_key(&w, "decode_errors");
	cm_jw_uint(&w, c.c.decode_errors);
	cm_jw_key(&w, "utf8_replaced");
	cm_jw_uint(&w, c.c.utf8_replaced);
	cm_jw_key(&w, "charset_unknown");
	cm_jw_uint(&w, c.c.charset_unknown);
	cm_jw_key(&w, "charset_source");
	cm_jw_obj(&w);
	for (i = 0; i < (int)(sizeof(source_names) / sizeof(*source_names)); i++) {
		cm_jw_key(&w, source_names[i]);
		cm_jw_uint(&w, c.c.by_charset_source[i]);
	}
	cm_jw_end(&w, '}');
	cm_jw_end(&w, '}');
	cm_stats_extra(&f.stats, "warc", extra.p);
	cm_buf_free(&extra);
	cm_buf_free(&c.line);
	cm_buf_free(&c.body);
	cm_buf_free(&c.body2);
	cm_buf_free(&c.utf8);
	return cm_filter_finish(&f);
}
