/* extract.c - one WARC record to one JSON Lines record: selection, HTTP decoding, charset. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "charset.h"
#include "cli.h"
#include "extract.h"
#include "http.h"
#include "utf8.h"

void wx_opts_default(struct wx_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->types = 1u << WARC_RESPONSE | 1u << WARC_RESOURCE | 1u << WARC_CONVERSION;
	o->mime_html = 1;
	o->statuses[o->nstatuses++] = 200;
	o->max_record = 64u << 20;
	cm_bp_opts_default(&o->bp);
	wx_set_added(o, 0);
}

void wx_set_added(struct wx_opts *o, long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(o->added, sizeof(o->added), "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void wx_init(struct wx *x, const struct wx_opts *o)
{
	memset(x, 0, sizeof(*x));
	x->o = o;
	x->id_field = "id";
	x->text_field = "text";
	if (o->text) {
		char err[200];

		if (!(x->bp = cm_bp_new(&o->bp, err, sizeof(err))))
			cm_die("%s", err);
	}
}

void wx_free(struct wx *x)
{
	cm_buf_free(&x->line);
	cm_buf_free(&x->body);
	cm_buf_free(&x->body2);
	cm_buf_free(&x->utf8);
	cm_bp_free(x->bp);
	cm_bp_result_free(&x->bpr);
}

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

/* The parser hands the callbacks argv's own strings: the lists are cut in place there. */
void wx_opt_types(const cm_opt *opt, const char *value)
{
	struct wx_opts *o = opt->ctx;
	char *arg = (char *)value, *t;
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

void wx_opt_mimes(const cm_opt *opt, const char *value)
{
	struct wx_opts *o = opt->ctx;
	char *arg = (char *)value, *t;

	o->mime_any = o->mime_html = 0;
	o->nmimes = 0;
	while ((t = list_next(&arg))) {
		if (strcmp(t, "any") == 0 || strcmp(t, "*") == 0)
			o->mime_any = 1;
		else if (strcmp(t, "html") == 0)
			o->mime_html = 1;
		else if (o->nmimes == WX_MAX_LIST)
			cm_usage_error("too many MIME types in --mime (at most %d)", WX_MAX_LIST);
		else
			o->mimes[o->nmimes++] = t;
	}
}

void wx_opt_statuses(const cm_opt *opt, const char *value)
{
	struct wx_opts *o = opt->ctx;
	char *arg = (char *)value, *t;

	o->status_any = 0;
	o->nstatuses = 0;
	while ((t = list_next(&arg))) {
		if (strcmp(t, "any") == 0)
			o->status_any = 1;
		else if (o->nstatuses == WX_MAX_LIST)
			cm_usage_error("too many status codes in --status (at most %d)", WX_MAX_LIST);
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

static int mime_wanted(const struct wx_opts *o, const char *mime)
{
	int i;

	if (o->mime_any || (o->mime_html && http_mime_is_html(mime)))
		return 1;
	for (i = 0; i < o->nmimes; i++)
		if (strcasecmp(o->mimes[i], mime) == 0)
			return 1;
	return 0;
}

static int status_wanted(const struct wx_opts *o, int status)
{
	int i;

	if (o->status_any)
		return 1;
	for (i = 0; i < o->nstatuses; i++)
		if (o->statuses[i] == status)
			return 1;
	return 0;
}

void wx_key_str(cm_jw *w, const char *key, struct warc_str s)
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

void wx_open_warc(cm_jw *w, const struct warc_record *r, struct warc_str url)
{
	wx_key_str(w, "created", r->date);
	wx_key_str(w, "url", url);
	cm_jw_key(w, "metadata");
	cm_jw_obj(w);
	cm_jw_key(w, "warc");
	cm_jw_obj(w);
	cm_jw_key_str(w, "type", warc_type_name(r->type));
}

const char *const wx_charset_sources[5] = {
	[CHARSET_SRC_BOM] = "bom",
	[CHARSET_SRC_HTTP] = "http",
	[CHARSET_SRC_META] = "meta",
	[CHARSET_SRC_DETECTOR] = "detector",
	[CHARSET_SRC_DEFAULT] = "default",
};

const char *wx_record(struct wx *c, const struct warc_record *r, const char *source)
{
	const struct wx_opts *o = c->o;
	struct http_head h;
	const char *body = r->block, *charset = "utf-8", *text;
	size_t body_len = r->block_len, replaced = 0, text_len;
	char mime[128];
	int status = 0, csrc = -1, decode_error = 0, is_text = r->type == WARC_CONVERSION, strip;
	struct warc_str url = r->target_uri;
	cm_jw w;

	c->decode_error = 0;
	if (!(o->types & (1u << r->type)))
		return "type";
	if (r->too_large)
		return "too_large";
	if (r->cut_short)
		return "truncated";
	if (url.len >= 2 && url.p[0] == '<' && url.p[url.len - 1] == '>') {
		url.p++;
		url.len -= 2;
	}
	if (o->url_filter) {	/* before anything is parsed or decoded */
		const char *why = cm_urlfilter_check(o->url_filter, url.p ? url.p : "", url.len);

		if (why)
			return why;
	}
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
			c->n.decode_errors++;
		c->decode_error = decode_error;
		if (!body)
			body = "";
		charset = charset_detect(h.charset[0] ? h.charset : NULL, body, body_len, &csrc);
	} else if (!is_text) {
		if (!mime_wanted(o, mime))
			return "mime";
		charset = charset_detect(NULL, body, body_len, &csrc);
	}
	if (!body)
		body = "";	/* an empty decoded body */
	/* Valid UTF-8 without a BOM (most of the web) is used as it is. */
	if (strcmp(charset, "utf-8") == 0 && !(body_len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0) &&
	    cm_utf8_valid(body, body_len)) {
		text = body;
		text_len = body_len;
	} else {
		cm_buf_reset(&c->utf8);
		if (charset_to_utf8(charset, body, body_len, &c->utf8, &replaced) != 0)
			c->n.charset_unknown++;
		c->n.utf8_replaced += replaced;
		text = c->utf8.p;
		text_len = c->utf8.len;
	}
	if (csrc >= 0 && csrc < 8)
		c->n.by_charset_source[csrc]++;

	/* --text: the main text, as boilerplate-strip would make it of this html */
	strip = c->bp && !is_text;
	if (strip) {
		const char *why;

		cm_bp_extract(c->bp, text, text_len, NULL, &c->bpr);
		if ((why = cm_bp_verdict(&c->bpr, &o->bp)))
			return why;
	}
	cm_buf_reset(&c->line);
	cm_jw_init(&w, &c->line);
	cm_jw_obj(&w);
	wx_key_str(&w, c->id_field, r->record_id);
	if (!strip)
		cm_jw_key_strn(&w, is_text ? c->text_field : "html", text, text_len);
	cm_jw_key_str(&w, "source", source);
	cm_jw_key_str(&w, "added", o->added);
	wx_open_warc(&w, r, url);
	cm_jw_key_str(&w, "content_type", is_text ? "text/plain" : mime);
	if (status)
		cm_jw_key_int(&w, "status", status);
	cm_jw_key_str(&w, "charset", charset);
	if (csrc >= 0 && csrc < (int)(sizeof(wx_charset_sources) / sizeof(*wx_charset_sources)))
		cm_jw_key_str(&w, "charset_source", wx_charset_sources[csrc]);
	if (replaced)
		cm_jw_key_uint(&w, "invalid_bytes_replaced", replaced);
	if (r->truncated.len)
		wx_key_str(&w, "truncated", r->truncated);
	if (decode_error)
		cm_jw_key_bool(&w, "decode_error", 1);
	if (r->payload_type.len)
		wx_key_str(&w, "identified_payload_type", r->payload_type);
	cm_jw_key_uint(&w, "offset", r->offset);
	cm_jw_end(&w, '}');
	if (strip) {
		cm_jw_key(&w, "boilerplate");
		cm_bp_meta(&w, &c->bpr, text_len);
	}
	cm_jw_end(&w, '}');
	if (strip)
		cm_jw_key_strn(&w, c->text_field, c->bpr.text.len ? c->bpr.text.p : "", c->bpr.text.len);
	cm_jw_end(&w, '}');
	cm_buf_addc(&c->line, '\n');
	return NULL;
}

void wx_counts_json(const struct wx *x, cm_jw *w)
{
	size_t i;

	cm_jw_key_uint(w, "decode_errors", x->n.decode_errors);
	cm_jw_key_uint(w, "utf8_replaced", x->n.utf8_replaced);
	cm_jw_key_uint(w, "charset_unknown", x->n.charset_unknown);
	cm_jw_key(w, "charset_source");
	cm_jw_obj(w);
	for (i = 0; i < sizeof(wx_charset_sources) / sizeof(*wx_charset_sources); i++)
		cm_jw_key_uint(w, wx_charset_sources[i], x->n.by_charset_source[i]);
	cm_jw_end(w, '}');
}
