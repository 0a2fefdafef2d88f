/* warc-extract - WARC/WET (and ARC) files to JSON Lines records holding each page's HTML (or text). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "cli.h"
#include "extract.h"
#include "filter.h"
#include "jsonw.h"
#include "remote.h"
#include "urlfilter.h"
#include "warc.h"

static const cm_opt_info info = {
	"[OPTION]... [FILE]...",
	"Read WARC files (plain, gzip or zstd; WARC/1.0, 1.1, 0.18; or ARC files, versions 1\n"
	"and 2) and write one JSON Lines record per selected record: id, html (or text for WET\n"
	"conversion records), source, added, created, url and metadata.warc. HTTP bodies are\n"
	"de-chunked and decompressed unless the crawler already did (X-Crawler-* headers), and\n"
	"converted to UTF-8.\n",
	CM_FILTER_EPILOG
	"\n"
	"Exit status: 0 ok; 1 an input could not be read or ended early (everything before\n"
	"the damage is written; --allow-truncated makes that 0); 2 usage error.\n",
	CM_FILTER_VERBOSE
};

struct ctx {
	cm_filter *f;
	struct wx x;
	const char *source;	/* --source */
	const char *path;	/* the input being read */
	const char *file;	/* its name, for messages (a URL whole) */
	const char *base;	/* its base name: the records' source */
	int warned;
	uint64_t garbage_bytes, resyncs, bad_length, bad_header;
};

/* A warning about damage at an offset: the first ten of a file, then a count. */
static void warn_at(struct ctx *c, uint64_t offset, const char *what)
{
	if (c->warned++ < 10)
		cm_warn("%s: offset %llu: %s", c->file, (unsigned long long)offset, what);
	else if (c->warned == 11)
		cm_warn("%s: more damage; only counting it from now on", c->file);
}

static void on_skip(void *p, uint64_t offset, const char *what)
{
	struct ctx *c = p;

	if (c->f->strict) {
		/* stop here; what came before is still written */
		if (!c->f->stop)
			cm_error("%s: offset %llu: %s (--strict)", c->file, (unsigned long long)offset, what);
		c->f->stop = 1;
		c->f->status = CM_EXIT_FAIL;
		return;
	}
	warn_at(c, offset, what);
}

/* A line for --rejects: what the record was and why it was not kept. */
static void write_reject(struct ctx *c, const struct warc_record *r, const char *reason)
{
	cm_buf *b = &c->x.line;
	cm_jw w;

	cm_buf_reset(b);
	cm_jw_init(&w, b);
	cm_jw_obj(&w);
	wx_key_str(&w, c->f->id_field, r->record_id);
	cm_jw_key_str(&w, "source", c->source ? c->source : c->base);
	wx_open_warc(&w, r, r->target_uri);
	wx_key_str(&w, "content_type", r->content_type);
	cm_jw_key_uint(&w, "offset", r->offset);
	cm_jw_end(&w, '}');
	cm_jw_key(&w, "reject");
	cm_filter_reject_value(&w, reason);
	cm_jw_end(&w, '}');
	cm_jw_end(&w, '}');
	cm_buf_addc(b, '\n');
	cm_output_write(c->f->rejects, b->p, b->len);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* The input again from its start: the reader goes back into an oversized record. */
static cm_input *reopen(void *p)
{
	struct ctx *c = p;

	return cm_input_open(c->path);
}

static void read_file(struct ctx *c, const char *path, uint64_t *index)
{
	cm_filter *f = c->f;
	char err[1400];
	cm_input *in = cm_input_try(path, err, sizeof(err));
	warc_reader *wr;
	struct warc_record r;
	const struct warc_counts *n;

	if (!in) {
		cm_filter_input_failed(f, path, "%s", err);
		return;
	}
	c->path = path;
	c->base = strcmp(path, "-") == 0 ? "stdin" : base_name(path);
	c->file = cm_remote_is_url(path) ? path : c->base;
	c->warned = 0;
	wr = warc_open(in, c->x.o->max_record);
	warc_on_skip(wr, on_skip, c);
	if (strcmp(path, "-") != 0)
		warc_on_reopen(wr, reopen, c);
	while (!f->stop && warc_next(wr, &r) > 0 && !f->stop) {
		const char *reason;

		if ((*index)++ % f->shard_n != f->shard_i)
			continue;
		f->stats.read++;
		f->stats.bytes_in += r.block_len;
		reason = wx_record(&c->x, &r, c->source ? c->source : c->base);
		/* a body cut short where the record says so (WARC-Truncated) is no news */
		if (c->x.decode_error && !r.truncated.len)
			warn_at(c, r.offset, "HTTP body cut short or corrupt (chunked or compressed); "
				"what could be decoded is kept (decode_error)");
		if (!reason) {
			cm_filter_emit(f, c->x.line.p, c->x.line.len);
		} else {
			if (f->rejects)
				write_reject(c, &r, reason);
			cm_stats_drop(&f->stats, reason);
		}
		cm_progress_update(&f->progress, f->stats.read, f->bytes_read + cm_input_raw_offset(warc_input(wr)));
	}
	in = warc_input(wr);	/* another one after the reader went back */
	n = warc_counts(wr);
	/* records skipped as unreadable count as read and malformed; headers cut short by the
	 * end of the input as read and dropped (truncated) */
	f->stats.read += n->bad_length + n->bad_header + n->cut_headers;
	f->stats.malformed += n->bad_length + n->bad_header;
	cm_stats_drop_n(&f->stats, "truncated", n->cut_headers);
	c->garbage_bytes += n->garbage_bytes;
	c->resyncs += n->resyncs;
	c->bad_length += n->bad_length;
	c->bad_header += n->bad_header;
	if (!f->stop && n->records + n->bad_length + n->bad_header + n->cut_headers == 0 &&
	    n->garbage_bytes > 0) {
		/* bytes, but not one record: not a WARC file at all */
		cm_filter_input_failed(f, path, "%s: no WARC record found: not a WARC file", c->file);
	}
	if (cm_input_truncated(in)) {
		cm_filter_input_end(f, path, c->file, in);
	} else if (n->cut) {
		/* a plain file that ends inside a record (or a length that runs past its end) */
		if (f->allow_truncated)
			cm_warn("%s: the input ends inside a record (accepted: --allow-truncated)", c->file);
		else
			cm_filter_input_failed(f, path, "%s: the input ends inside a record: truncated file?",
					       c->file);
	}
	if (n->lost) {
		/* records known to be there and not read: never a silent exit 0 */
		cm_filter_input_failed(f, path, "%s: records inside %llu record%s whose Content-Length is "
				       "wrong were lost (%s)", c->file, (unsigned long long)n->lost,
				       n->lost == 1 ? "" : "s", cm_input_size(in) < 0 ?
				       "a pipe cannot be read again: give the file itself" :
				       "the file was read again too often: split it, or raise --max-record-size");
	}
	f->bytes_read += cm_input_raw_offset(in);
	warc_close(wr);
	cm_input_close(in);
}

int main(int argc, char **argv)
{
	static struct wx_opts o;
	static struct ctx c;
	cm_filter f;
	uint64_t index = 0;
	int i;
	const char *epoch;
	cm_buf extra = CM_BUF_INIT;
	cm_jw w;

	cm_filter_init(&f, argc, argv);
	wx_opts_default(&o);
	const cm_opt opts[] = {
		CM_OPT_GROUP("Selection:"),
		CM_OPT_CALLBACK(0, "types", wx_opt_types, &o, "LIST",
				"WARC-Types to read (default: response,resource,conversion)"),
		CM_OPT_CALLBACK(0, "mime", wx_opt_mimes, &o, "LIST",
				"MIME types to keep, or 'html' for HTML-like types, or 'any'\n"
				"(default: html); the identified payload type decides when present"),
		CM_OPT_CALLBACK(0, "status", wx_opt_statuses, &o, "LIST",
				"HTTP status codes to keep, or 'any' (default: 200)"),
		CM_OPT_SIZE(0, "max-record-size", &o.max_record, "SIZE", 0, 0,
			    "skip records with a larger content block (default: 64M)"),
		CM_OPT_STRING(0, "source", &c.source, "NAME", "the records' source field (default: the file's name)"),
		CM_OPT_CALLBACK(0, "url-filter", cm_urlfilter_option, &o.url_filter, "FILE",
				"drop pages whose URL the filter file blocks (domains, URLs,\n"
				"banned words; 'default': the built-in word lists), before\n"
				"anything of them is decoded; repeatable (see the man page)"),
		CM_OPT_GROUP("Main text in the same process (what boilerplate-strip would make of each page):"),
		CM_OPT_FLAG(0, "text", &o.text, "write the page's main text, not its html; with it:"),
		CM_OPT_INCLUDE(cm_bp_option_table(&o.bp)),
		/* WARC records are not lines */
		CM_OPT_INCLUDE(cm_filter_opts(&f, (CM_FILTER_ALL & ~CM_FILTER_MAX_LINE) | CM_FILTER_ID_FIELD)),
		CM_OPT_END()
	};
	int nf = cm_opt_parse(argc, argv, opts, &info);
	char **files = argv + 1;

	/* "added": now, or SOURCE_DATE_EPOCH for reproducible output */
	epoch = getenv("SOURCE_DATE_EPOCH");
	wx_set_added(&o, epoch ? cm_parse_ll("SOURCE_DATE_EPOCH", epoch, 0, 253402300799LL) :
		     (long long)time(NULL));

	c.f = &f;
	wx_init(&c.x, &o);
	c.x.id_field = f.id_field;
	c.x.text_field = f.text_field;
	cm_filter_start(&f, cm_filter_total_size(files, nf));
	if (nf == 0)
		read_file(&c, "-", &index);
	for (i = 0; i < nf && !f.stop; i++)
		read_file(&c, files[i], &index);

	cm_jw_init(&w, &extra);
	cm_jw_obj(&w);
	cm_jw_key_uint(&w, "garbage_bytes", c.garbage_bytes);
	cm_jw_key_uint(&w, "resyncs", c.resyncs);
	cm_jw_key_uint(&w, "bad_content_length", c.bad_length);
	cm_jw_key_uint(&w, "bad_header", c.bad_header);
	wx_counts_json(&c.x, &w);
	cm_jw_end(&w, '}');
	cm_stats_extra(&f.stats, "warc", extra.p);
	cm_buf_free(&extra);
	wx_free(&c.x);
	cm_urlfilter_free(o.url_filter);
	return cm_filter_finish(&f);
}
