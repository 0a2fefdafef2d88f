/* bpe-decode - token ids back to text: the token streams bpe-encode writes, or its JSONL. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"
#include "filter.h"	/* cm_filter_total_size */
#include "input.h"
#include "jsonw.h"
#include "opt.h"
#include "output.h"
#include "progress.h"
#include "stats.h"
#include "tok.h"
#include "tokstream.h"
#include "utf8.h"

static const cm_opt_info info = {
	"-t TOKENIZER [OPTION]... [FILE]...",
	"Decode token streams written by bpe-encode (plain, gzip or zstd; '-' or none reads\n"
	"standard input) back to the bytes they came from.\n",
	NULL, "a summary line at the end"
};

struct run {
	/* options */
	const char *tok_path;
	int mode_ids, jsonl, any;
	cm_buf sep;
	unsigned long shard_i, shard_n;

	const cm_tok *tok;
	cm_output *out;
	cm_stats stats;
	cm_progress progress;
	uint64_t index;		/* documents of every shard so far */
	uint64_t tokens, bytes, repaired;
	uint64_t done;		/* input bytes of the files before this one (compressed) */
	cm_ids ids;
	cm_buf text, line, fixed;
};

static void unescape(const char *s, cm_buf *out)
{
	for (; *s; s++) {
		if (*s != '\\' || !s[1]) {
			cm_buf_addc(out, *s);
			continue;
		}
		s++;
		switch (*s) {
		case 'n': cm_buf_addc(out, '\n'); break;
		case 't': cm_buf_addc(out, '\t'); break;
		case '0': cm_buf_addc(out, '\0'); break;
		default: cm_buf_addc(out, *s); break;
		}
	}
}

static void on_separator(const cm_opt *o, const char *value)
{
	cm_buf *sep = o->ctx;

	cm_buf_reset(sep);
	unescape(value, sep);
}

static void on_shard(const cm_opt *o, const char *value)
{
	struct run *r = o->ctx;

	cm_parse_shard("--shard", value, &r->shard_i, &r->shard_n);
}

/* One document's ids, as text (or JSONL, or the ids themselves); -1 after an id the
 * tokenizer does not have. */
static int write_doc(struct run *r, const cm_input *in, uint64_t n)
{
	size_t bad, k;

	if (r->mode_ids) {
		cm_buf_reset(&r->line);
		for (k = 0; k < r->ids.n; k++)
			cm_buf_printf(&r->line, k ? " %u" : "%u", r->ids.v[k]);
		cm_buf_addc(&r->line, '\n');
		cm_output_write(r->out, r->line.p, r->line.len);
		return 0;
	}
	cm_buf_reset(&r->text);
	if (cm_tok_decode(r->tok, r->ids.v, r->ids.n, &r->text, &bad) < 0) {
		cm_error("%s: document %" PRIu64 ": id %u is not in the tokenizer", cm_input_name(in), n,
			 r->ids.v[bad]);
		return -1;
	}
	r->bytes += r->text.len;
	if (r->jsonl) {
		cm_jw w;

		cm_buf_reset(&r->fixed);
		r->repaired += cm_utf8_repair(r->text.p, r->text.len, &r->fixed);
		cm_buf_reset(&r->line);
		cm_jw_init(&w, &r->line);
		cm_jw_obj(&w);
		cm_jw_key_strn(&w, "text", r->fixed.p, r->fixed.len);
		cm_jw_end(&w, '}');
		cm_buf_addc(&r->line, '\n');
		cm_output_write(r->out, r->line.p, r->line.len);
	} else {
		cm_output_write(r->out, r->text.p, r->text.len);
		cm_output_write(r->out, r->sep.p, r->sep.len);
	}
	return 0;
}

/* A stream that could not be read whole: on stderr and in --stats' failed_inputs. */
static void failed(struct run *r, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void failed(struct run *r, const char *path, const char *fmt, ...)
{
	char msg[1600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cm_error("%s", msg);
	cm_stats_input_failed(&r->stats, path, msg);
}

/* Decode one stream; 0, or 1 when it could not be read whole. */
static int decode_file(struct run *r, const char *path)
{
	cm_ts_header h;
	uint64_t n = 0;
	char err[1400];
	cm_input *in = cm_input_try(path, err, sizeof err);
	int ret, status = 0;

	if (!in) {
		failed(r, path, "%s", err);
		return 1;
	}
	if (cm_ts_read_header(in, &h, err, sizeof err) < 0) {
		failed(r, path, "%s: %s", cm_input_name(in), err);
		status = 1;
		goto out;
	}
	if (r->tok && h.tok_hash != cm_tok_hash(r->tok) && !r->any) {
		failed(r, path, "%s was encoded by another tokenizer (hash %016" PRIx64 ", '%s' has %016"
		       PRIx64 "; --any-tokenizer decodes anyway)", cm_input_name(in), h.tok_hash,
		       r->tok_path, cm_tok_hash(r->tok));
		status = 1;
		goto out;
	}
	while ((ret = cm_ts_read_doc(in, &h, &r->ids, &n, err, sizeof err)) > 0) {
		if (r->index++ % r->shard_n != r->shard_i)
			continue;
		r->tokens += r->ids.n;
		r->stats.read++;
		r->stats.bytes_in += sizeof(uint64_t) + (uint64_t)h.id_bytes * r->ids.n;
		if (write_doc(r, in, n) < 0) {
			r->stats.malformed++;
			status = 1;
			break;
		}
		r->stats.kept++;
		cm_progress_update(&r->progress, r->stats.read, r->done + cm_input_raw_offset(in));
	}
	if (ret < 0) {
		failed(r, path, "%s: %s", cm_input_name(in), cm_input_truncated(in) ? cm_input_error(in) : err);
		status = 1;
	}
out:
	r->done += cm_input_raw_offset(in);
	cm_input_close(in);
	return status;
}

/* --stats: the counts as bpe-encode gives them, under "tokens". */
static void stats_extra(struct run *r)
{
	cm_buf b = CM_BUF_INIT;

	cm_buf_printf(&b, "{\"documents\":%" PRIu64 ",\"tokens\":%" PRIu64 ",\"text_bytes\":%" PRIu64
		      ",\"utf8_replaced\":%" PRIu64, r->stats.read, r->tokens, r->bytes, r->repaired);
	if (r->tok)
		cm_buf_printf(&b, ",\"tokenizer_hash\":\"%016" PRIx64 "\"", cm_tok_hash(r->tok));
	cm_buf_addc(&b, '}');
	cm_stats_extra(&r->stats, "tokens", b.p);
	cm_buf_free(&b);
}

int main(int argc, char **argv)
{
	static struct run r;
	const char *out_path = NULL, *stats_path = NULL;
	int progress = -1, status = 0, i;
	cm_tok *tok = NULL;
	char err[256];

	cm_init(argv[0]);
	cm_stats_init(&r.stats, argc, argv);	/* before the parser moves the arguments */
	r.shard_n = 1;
	const cm_opt opts[] = {
		CM_OPT_GROUP("Decoding:"),
		CM_OPT_STRING('t', "tokenizer", &r.tok_path, "FILE",
			      "the tokenizer that encoded them (its hash must match the\n"
			      "stream's)"),
		CM_OPT_FLAG(0, "any-tokenizer", &r.any, "decode even when the hashes differ"),
		CM_OPT_CALLBACK(0, "separator", on_separator, &r.sep, "STR",
				"write STR after each document (escapes \\n \\t \\0 \\\\;\n"
				"default: nothing, so one encoded file decodes to itself)"),
		CM_OPT_FLAG(0, "jsonl", &r.jsonl,
			    "write one record {\"text\": ...} a document (ill-formed UTF-8\n"
			    "becomes U+FFFD there, counted at -v)"),
		CM_OPT_FLAG(0, "ids", &r.mode_ids,
			    "print each document's ids, space-separated, one line a\n"
			    "document (no tokenizer needed)"),
		CM_OPT_GROUP("Input and output:"),
		CM_OPT_STRING('o', "output", &out_path, "FILE", "write to FILE (default: standard output)"),
		CM_OPT_STRING(0, "stats", &stats_path, "FILE", "write run statistics (JSON) to FILE"),
		CM_OPT_CALLBACK(0, "shard", on_shard, &r, "i/N",
				"decode every N-th document, starting with the i-th (0-based)"),
		CM_OPT_GROUP("Messages:"),
		CM_OPT_SET(0, "progress", &progress, 1,
			   "show a progress line on stderr (default: on a terminal, unless\n"
				"standard output is a pipe: the last filter of a pipe draws it)"),
		CM_OPT_END()
	};
	int nf = cm_opt_parse(argc, argv, opts, &info);
	char **files = argv + 1;

	if (r.mode_ids && r.jsonl)
		cm_usage_error("--ids and --jsonl do not go together");
	if (!r.mode_ids && !r.tok_path)
		cm_usage_error("a tokenizer is needed (-t FILE), except with --ids");
	if (r.tok_path && !(tok = cm_tok_load(r.tok_path, NULL, err, sizeof err)))
		cm_die("cannot load the tokenizer '%s': %s", r.tok_path, err);
	r.tok = tok;
	r.out = cm_output_open(out_path, 0);
	cm_progress_init(&r.progress, cm_progress_filter_auto(progress), cm_filter_total_size(files, nf));
	for (i = 0; i < (nf ? nf : 1); i++)
		status |= decode_file(&r, nf ? files[i] : "-");
	cm_progress_end(&r.progress, r.stats.read, r.done);
	r.stats.bytes_out = cm_output_bytes(r.out);
	cm_output_close(r.out);
	stats_extra(&r);
	if (stats_path)	/* before standard output closes: --stats - writes there */
		cm_stats_write(&r.stats, stats_path);
	cm_close_stdout();
	if (cm_verbosity > 0)
		cm_info("%" PRIu64 " documents, %" PRIu64 " tokens -> %" PRIu64 " bytes%s", r.stats.read, r.tokens,
			r.bytes, r.repaired ? " (ill-formed UTF-8 replaced in the JSONL)" : "");
	cm_tok_free(tok);
	cm_stats_free(&r.stats);
	cm_ids_free(&r.ids);
	cm_buf_free(&r.sep);
	cm_buf_free(&r.text);
	cm_buf_free(&r.line);
	cm_buf_free(&r.fixed);
	return status;
}
