/* filter.c - the read-edit-write loop shared by every record filter. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "filter.h"
#include "jsonw.h"

void cm_filter_init(cm_filter *f, int argc, char **argv)
{
	cm_init(argv[0]);
	memset(f, 0, sizeof(*f));
	f->text_field = "text";
	f->id_field = "id";
	f->shard_n = 1;
	f->max_line = (size_t)64 << 20;
	f->progress_opt = -1;
	cm_stats_init(&f->stats, argc, argv);
	cm_rw_init(&f->rw);
}

static void on_shard(const cm_opt *o, const char *v)
{
	cm_filter *f = o->ctx;

	cm_parse_shard("--shard", v, &f->shard_i, &f->shard_n);
}

const cm_opt *cm_filter_opts(cm_filter *f, unsigned parts)
{
	static cm_opt t[24];
	int n = 0;

#define ROW(...) (t[n++] = (cm_opt)__VA_ARGS__)
	ROW(CM_OPT_GROUP("Input and output:"));
	if (parts & CM_FILTER_OUTPUT) {
		ROW(CM_OPT_STRING('o', "output", &f->out_path, "FILE",
				  "write records to FILE (default: standard output)"));
		ROW(CM_OPT_FLAG('z', "gzip", &f->gzip_out, "compress the output with gzip"));
	}
	if (parts & CM_FILTER_REJECTS)
		ROW(CM_OPT_STRING(0, "rejects", &f->rejects_path, "FILE",
				  "write dropped records there, with the reason"));
	if (parts & CM_FILTER_STATS)
		ROW(CM_OPT_STRING(0, "stats", &f->stats_path, "FILE", "write run statistics (JSON) to FILE"));
	if (parts & CM_FILTER_SHARD)
		ROW(CM_OPT_CALLBACK(0, "shard", on_shard, f, "i/N",
				    "take every N-th input record, starting with the i-th (0-based)"));
	if (parts & CM_FILTER_TEXT_FIELD)
		ROW(CM_OPT_STRING(0, "text-field", &f->text_field, "NAME",
				  "the field holding the text (default: text)"));
	if (parts & CM_FILTER_ID_FIELD)
		ROW(CM_OPT_STRING(0, "id-field", &f->id_field, "NAME",
				  "the field holding the record id (default: id)"));
	if (parts & CM_FILTER_MAX_LINE)
		ROW(CM_OPT_SIZE(0, "max-line", &f->max_line, "SIZE", 1, ((long long)4 << 30) - 1,
				"longest input line accepted, e.g. 256M (default: 64M)"));
	if (parts & CM_FILTER_STRICT) {
		ROW(CM_OPT_FLAG(0, "strict", &f->strict,
				"stop at the first malformed input (default: count and skip it)"));
		ROW(CM_OPT_FLAG(0, "allow-truncated", &f->allow_truncated,
				"exit 0 even when an input file ends early"));
	}
	if (parts & CM_FILTER_PROGRESS) {
		ROW(CM_OPT_GROUP("Messages:"));
		ROW(CM_OPT_FLAG(0, "progress", &f->progress_opt,
				"show a progress line on stderr (default: on a terminal, unless\n"
				"standard output is a pipe: the last filter of a pipe draws it)"));
	}
	ROW(CM_OPT_END());
#undef ROW
	return t;
}

uint64_t cm_filter_total_size(char **files, int n)
{
	uint64_t total = 0;
	struct stat st;
	int i;

	for (i = 0; i < n; i++) {
		if (strcmp(files[i], "-") == 0 || stat(files[i], &st) != 0 || !S_ISREG(st.st_mode))
			return 0;
		total += (uint64_t)st.st_size;
	}
	return total;
}

void cm_filter_start(cm_filter *f, uint64_t total)
{
	if (!f->no_output)
		f->out = cm_output_open(f->out_path, f->gzip_out);
	if (f->rejects_path)
		f->rejects = cm_output_open(f->rejects_path, 0);
	cm_progress_init(&f->progress, cm_progress_filter_auto(f->progress_opt), total);
}

void cm_filter_emit(cm_filter *f, const char *line, size_t n)
{
	cm_output_write(f->out, line, n);
	f->stats.kept++;
	f->stats.bytes_out += n;
}

void cm_filter_malformed(cm_filter *f, const char *why)
{
	f->stats.malformed++;
	if (f->strict) {
		/* stop reading; what came before is still written by cm_filter_finish */
		cm_error("%s:%llu: %s (--strict)", f->cur_name, (unsigned long long)f->cur_line, why);
		f->stop = 1;
		f->status = CM_EXIT_FAIL;
		return;
	}
	/* a few messages, then only the count at the end */
	if (f->stats.malformed <= 10)
		cm_warn("%s:%llu: %s; skipped", f->cur_name, (unsigned long long)f->cur_line, why);
	else if (f->stats.malformed == 11)
		cm_warn("more malformed records; only counting them from now on");
}

void cm_filter_input_failed(cm_filter *f, const char *input, const char *fmt, ...)
{
	char msg[1600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cm_error("%s", msg);
	cm_stats_input_failed(&f->stats, input, msg);
	f->status = CM_EXIT_FAIL;
}

/* The end of an input that did not end well: a transfer or read that failed is always an
 * error, a file cut short (or corrupt) one unless --allow-truncated. */
void cm_filter_input_end(cm_filter *f, const char *input, const char *name, cm_input *in)
{
	if (!cm_input_truncated(in))
		return;
	if (f->allow_truncated && !cm_input_failed(in))
		cm_warn("%s: %s (accepted: --allow-truncated)", name, cm_input_error(in));
	else
		cm_filter_input_failed(f, input, "%s: %s", name, cm_input_error(in));
}

const char *cm_reject_program;

void cm_filter_reject_value(cm_jw *w, const char *reason)
{
	cm_jw_obj(w);
	cm_jw_key(w, "program");
	cm_jw_str(w, cm_reject_program ? cm_reject_program : cm_prog);
	cm_jw_key(w, "reason");
	cm_jw_str(w, reason);
	cm_jw_end(w, '}');
}

static void write_reject(cm_filter *f, const char *reason)
{
	cm_buf v = CM_BUF_INIT;
	cm_jw w;
	const cm_buf *line;

	cm_jw_init(&w, &v);
	cm_filter_reject_value(&w, reason);
	cm_rw_meta_raw(&f->rw, "reject", v.p, v.len);
	line = cm_rw_finish(&f->rw);
	cm_output_write(f->rejects, line->p, line->len);
	cm_buf_free(&v);
}

/* What cm_filter_run_batch holds: the batch's lines, each followed by CM_JSON_PAD zero bytes
 * for the parser, with where each came from. */
typedef struct held {
	const cm_filter_batch *b;
	cm_buf lines;
	size_t *off, *len;
	uint64_t *lineno;
	const char **name;
	size_t n, cap;
} held;

/* Keep the record f->rw holds (reason NULL) or drop it for reason. */
static void decide(cm_filter *f, const char *reason)
{
	if (reason) {
		cm_stats_drop(&f->stats, reason);
		if (f->rejects)
			write_reject(f, reason);
	} else if (f->no_output) {
		f->stats.kept++;
	} else {
		const cm_buf *out = cm_rw_finish(&f->rw);

		cm_filter_emit(f, out->p, out->len);
	}
}

/* The batch's work, then each held record to fn in input order. */
static void flush_held(cm_filter *f, held *h, cm_filter_fn fn, void *ctx)
{
	const char *name = f->cur_name;
	uint64_t line = f->cur_line;
	char err[1400];
	size_t i;

	if (!h->n)
		return;
	h->b->flush(f, h->n, ctx);
	for (i = 0; i < h->n; i++) {
		cm_jrec rec;

		f->cur_name = h->name[i];
		f->cur_line = h->lineno[i];
		/* the same bytes parsed before: a failure here would be a parser's fault */
		if (cm_json_parse(f->json, h->lines.p + h->off[i], h->len[i], &rec, err, sizeof(err)) != 0) {
			cm_filter_malformed(f, err);
			continue;
		}
		cm_rw_begin(&f->rw, &rec);
		f->batch_index = i;
		decide(f, fn(f, &rec, ctx));
	}
	h->n = 0;
	f->batch_index = 0;
	cm_buf_reset(&h->lines);
	f->cur_name = name;
	f->cur_line = line;
}

/* Hold a parsed record for the batch (add sees it now); flush when full. */
static void hold(cm_filter *f, held *h, const cm_jrec *rec, cm_filter_fn fn, void *ctx)
{
	static const char pad[CM_JSON_PAD];

	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 64;
		h->off = cm_xrealloc(h->off, h->cap * sizeof(*h->off));
		h->len = cm_xrealloc(h->len, h->cap * sizeof(*h->len));
		h->lineno = cm_xrealloc(h->lineno, h->cap * sizeof(*h->lineno));
		h->name = cm_xrealloc(h->name, h->cap * sizeof(*h->name));
	}
	h->b->add(f, rec, h->n, ctx);
	h->off[h->n] = h->lines.len;
	h->len[h->n] = rec->len;
	h->lineno[h->n] = f->cur_line;
	h->name[h->n] = f->cur_name;
	cm_buf_add(&h->lines, rec->line, rec->len);
	cm_buf_add(&h->lines, pad, sizeof(pad));
	h->n++;
	if (h->n >= h->b->max_records || h->lines.len >= h->b->max_bytes)
		flush_held(f, h, fn, ctx);
}

static int read_file(cm_filter *f, const char *path, cm_filter_fn fn, void *ctx, uint64_t *index,
		     held *h)
{
	char *line, err[1400];
	cm_input *in = cm_input_try(path, err, sizeof(err));
	size_t len;
	/* this file's records (every shard's), and whether one of them parsed: the others'
	 * records are tried too until one does, so the verdict does not depend on --shard */
	uint64_t records = 0;
	int valid = 0;
	int r;

	if (!in) {
		cm_filter_input_failed(f, path, "%s", err);
		return -1;
	}
	f->cur_name = strcmp(path, "-") == 0 ? "<stdin>" : path;
	f->cur_line = 0;
	while (!f->stop && (r = cm_input_line(in, &line, &len, f->max_line)) != 0) {
		cm_jrec rec;

		f->cur_line++;
		if (r > 0 && (len == 0 || (len == 1 && line[0] == '\r')))
			continue;	/* blank lines are not records */
		records++;
		if ((*index)++ % f->shard_n != f->shard_i) {
			if (!valid && r > 0 && cm_json_parse(f->json, line, len, &rec, err, sizeof(err)) == 0)
				valid = 1;
			continue;
		}
		f->stats.read++;
		f->stats.bytes_in += len + 1;
		if (r < 0) {
			snprintf(err, sizeof(err), "line of %zu bytes is longer than --max-line", len);
			cm_filter_malformed(f, err);
			continue;
		}
		if (cm_json_parse(f->json, line, len, &rec, err, sizeof(err)) != 0) {
			cm_filter_malformed(f, err);
			continue;
		}
		valid = 1;
		if (h) {
			hold(f, h, &rec, fn, ctx);
		} else {
			cm_rw_begin(&f->rw, &rec);
			decide(f, fn(f, &rec, ctx));
		}
		cm_progress_update(&f->progress, f->stats.read, f->bytes_read + cm_input_raw_offset(in));
	}
	f->bytes_read += cm_input_raw_offset(in);
	if (records > 0 && !valid && !f->stop) {
		/* random bytes, a binary file, another format: not a few bad lines */
		cm_filter_input_failed(f, path, "%s: none of its %llu records is a valid JSON Lines record: "
				       "not JSONL?", f->cur_name, (unsigned long long)records);
	}
	cm_filter_input_end(f, path, f->cur_name, in);
	cm_input_close(in);
	return 0;
}

static int run(cm_filter *f, char **files, int n, cm_filter_fn fn, void *ctx, held *h)
{
	uint64_t index = 0;
	int i;

	if (!f->json && !(f->json = cm_json_new()))
		cm_die("out of memory");
	if (n == 0) {
		if (read_file(f, "-", fn, ctx, &index, h) < 0)
			f->status = CM_EXIT_FAIL;
	}
	for (i = 0; i < n && !f->stop; i++)
		if (read_file(f, files[i], fn, ctx, &index, h) < 0)
			f->status = CM_EXIT_FAIL;
	return f->status;
}

int cm_filter_run(cm_filter *f, char **files, int n, cm_filter_fn fn, void *ctx)
{
	return run(f, files, n, fn, ctx, NULL);
}

int cm_filter_run_batch(cm_filter *f, char **files, int n, const cm_filter_batch *b,
			cm_filter_fn fn, void *ctx)
{
	held h = { .b = b };

	run(f, files, n, fn, ctx, &h);
	flush_held(f, &h, fn, ctx);	/* the last batch (also after --strict stopped) */
	cm_buf_free(&h.lines);
	free(h.off);
	free(h.len);
	free(h.lineno);
	free(h.name);
	return f->status;
}

void cm_filter_close_outputs(cm_filter *f)
{
	cm_output_close(f->out);
	f->out = NULL;
	cm_output_close(f->rejects);
	f->rejects = NULL;
	if (f->stats_path)	/* before standard output closes: --stats - writes there */
		cm_stats_write(&f->stats, f->stats_path);
	f->stats_path = NULL;
}

int cm_filter_finish(cm_filter *f)
{
	cm_progress_end(&f->progress, f->stats.read, f->bytes_read);
	cm_filter_close_outputs(f);
	cm_close_stdout();
	if (cm_verbosity > 0)
		cm_stats_summary(&f->stats);
	cm_json_free(f->json);
	f->json = NULL;
	cm_rw_free(&f->rw);
	cm_stats_free(&f->stats);
	return f->status;
}
