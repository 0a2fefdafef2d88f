/* bpe-encode - turn each record's text into token ids: a binary token stream or JSONL. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "filter.h"
#include "jsonw.h"
#include "tok.h"
#include "tokstream.h"

static const cm_opt_info info = {
	"-t TOKENIZER [OPTION]... [FILE]...",
	"Encode each record's text with a byte-level BPE tokenizer. Output: a binary token\n"
	"stream (see bpe-encode(1)), or with --jsonl the records with an \"ids\" array.\n"
	"\n"
	"Ill-formed UTF-8 is kept: each maximal run of ill-formed bytes is one piece, encoded by\n"
	"the merges alone, so bpe-decode gives the bytes back.\n",
	CM_FILTER_EPILOG, CM_FILTER_VERBOSE
};

/* For --jsonl, each batch's records as they go out (less the ids). */
struct slot {
	cm_buf lines;
	size_t *line_off;
	size_t line_cap;
};

struct ctx {
	cm_filter *f;
	const cm_tok *tok;
	cm_tokpipe pipe;
	struct slot s[2];	/* beside the pipe's two batches */
	cm_output *out;
	int jsonl, drop_text;
	uint64_t docs, tokens, text_bytes;
	cm_buf w;
};

static void put_ids_json(cm_buf *w, const uint32_t *ids, size_t n)
{
	size_t i;

	cm_buf_addc(w, '[');
	for (i = 0; i < n; i++) {
		char d[11];
		int k = 10;
		uint32_t v = ids[i];

		if (i)
			cm_buf_addc(w, ',');
		do {
			d[k--] = (char)('0' + v % 10);
			v /= 10;
		} while (v);
		cm_buf_add(w, d + k + 1, (size_t)(10 - k));
	}
	cm_buf_addc(w, ']');
}

/* Write an encoded batch, in input order. */
static void write_batch(cm_tokbatch *b, int slot, void *arg)
{
	struct ctx *c = arg;
	struct slot *S = &c->s[slot];
	size_t i;

	for (i = 0; i < b->n; i++) {
		const cm_ids *ids = &b->ids[i];

		c->docs++;
		c->tokens += ids->n;
		c->text_bytes += b->len[i];
		if (!c->jsonl) {
			cm_ts_write_doc(c->out, ids->v, ids->n);
			continue;
		}
		{
			const char *line = S->lines.p + S->line_off[i];
			size_t len = S->line_off[i + 1] - S->line_off[i], brace = len, k;
			int empty;

			while (brace > 0 && line[brace - 1] != '}')
				brace--;
			brace--;	/* the record's closing brace */
			for (k = brace; k > 0 && (line[k - 1] == ' ' || line[k - 1] == '\t'); k--)
				;
			empty = k > 0 && line[k - 1] == '{';
			cm_buf_reset(&c->w);
			cm_buf_add(&c->w, line, brace);
			cm_buf_adds(&c->w, empty ? "\"ids\":" : ",\"ids\":");
			put_ids_json(&c->w, ids->v, ids->n);
			cm_buf_add(&c->w, line + brace, len - brace);
			cm_output_write(c->out, c->w.p, c->w.len);
		}
	}
	cm_buf_reset(&S->lines);
}

static const char *one(cm_filter *f, const cm_jrec *rec, void *p)
{
	struct ctx *c = p;
	cm_tokbatch *b = cm_tokpipe_batch(&c->pipe);
	struct slot *S = &c->s[cm_tokpipe_slot(&c->pipe)];
	const cm_jfield *t = cm_jrec_get(rec, f->text_field);

	if (!t || !t->str)
		return "no_text";
	if (c->jsonl) {
		const cm_buf *line;

		cm_rw_del(&f->rw, "ids");
		if (c->drop_text)
			cm_rw_del(&f->rw, f->text_field);
		line = cm_rw_finish(&f->rw);
		if (b->n + 2 > S->line_cap) {
			S->line_cap = S->line_cap ? S->line_cap * 2 : 1024;
			S->line_off = cm_xrealloc(S->line_off, S->line_cap * sizeof *S->line_off);
		}
		S->line_off[b->n] = S->lines.len;
		cm_buf_add(&S->lines, line->p, line->len);
		S->line_off[b->n + 1] = S->lines.len;
	}
	cm_tokbatch_add(b, t->str, t->str_len);
	cm_tokpipe_added(&c->pipe);
	return NULL;
}

/* --raw: each file is one document. */
static void run_raw(struct ctx *c, char **files, int n)
{
	cm_filter *f = c->f;
	cm_buf doc = CM_BUF_INIT;
	char err[1400];
	int i;

	for (i = 0; i < (n ? n : 1); i++) {
		const char *path = n ? files[i] : "-";
		struct slot *S = &c->s[cm_tokpipe_slot(&c->pipe)];

		if (cm_input_load(path, &doc, f->max_line, err, sizeof err) < 0) {
			f->stats.read++;
			f->stats.malformed++;
			cm_filter_input_failed(f, path, "%s", err);
			continue;
		}
		f->stats.read++;
		f->stats.kept++;
		f->stats.bytes_in += doc.len;
		if (c->jsonl) {
			cm_jw w;
			cm_buf rec = CM_BUF_INIT;

			cm_jw_init(&w, &rec);
			cm_jw_obj(&w);
			cm_jw_key_str(&w, f->id_field, path);
			cm_jw_end(&w, '}');
			cm_buf_addc(&rec, '\n');
			if (S->line_cap < 2) {
				S->line_cap = 2;
				S->line_off = cm_xrealloc(S->line_off, 2 * sizeof *S->line_off);
			}
			S->line_off[0] = 0;
			cm_buf_reset(&S->lines);
			cm_buf_add(&S->lines, rec.p, rec.len);
			S->line_off[1] = rec.len;
			cm_buf_free(&rec);
		}
		cm_tokbatch_add(cm_tokpipe_batch(&c->pipe), doc.p, doc.len);
		cm_tokpipe_flush(&c->pipe);
	}
	cm_buf_free(&doc);
}

static void print_info(const cm_tok *t)
{
	size_t len, k;
	uint32_t id;

	printf("vocab_size\t%u\n", cm_tok_vocab_size(t));
	printf("merges\t%u\n", cm_tok_nmerges(t));
	printf("hash\t%016" PRIx64 "\n", cm_tok_hash(t));
	printf("specials\t%zu\n", cm_tok_nspecials(t));
	for (id = 0, k = 0; id < cm_tok_vocab_size(t) && k < cm_tok_nspecials(t); id++) {
		const char *p = cm_tok_bytes(t, id, &len);

		if (p && cm_tok_special(t, p) == (int64_t)id && strlen(p) == len) {
			printf("special\t%u\t%s\n", id, p);
			k++;
		}
	}
	printf("pattern\t%s\n", cm_tok_pattern(t));
}

int main(int argc, char **argv)
{
	static struct ctx c;
	const char *tok_path = NULL, *pattern = NULL, *write_tok = NULL;
	int raw = 0, allow_special = 0, threads = 0, print = 0, i;
	cm_filter f;
	cm_tok *tok;
	char err[256];
	double t0;

	cm_filter_init(&f, argc, argv);
	const cm_opt opts[] = {
		CM_OPT_GROUP("Tokenizer:"),
		CM_OPT_STRING('t', "tokenizer", &tok_path, "FILE",
			      "tokenizer.json, or a tiktoken rank file (r50k_base, cl100k_base,\n"
			      "o200k_base: the pattern and special tokens follow the name)"),
		CM_OPT_STRING(0, "pattern", &pattern, "P",
			      "pre-tokenizer: gpt2 (= r50k), cl100k, o200k or a PCRE2 regex\n"
			      "(default: the file's)"),
		CM_OPT_FLAG(0, "allow-special", &allow_special,
			    "special tokens' texts (<|endoftext|>) in the input give their\n"
			    "ids (default: encoded as ordinary text)"),
		CM_OPT_FLAG(0, "info", &print,
			    "print the tokenizer's vocabulary size, merges, special tokens,\n"
			    "hash and pattern, and exit"),
		CM_OPT_STRING(0, "write-tokenizer", &write_tok, "FILE",
			      "write the tokenizer as a Hugging Face tokenizer.json,\n"
			      "and exit"),
		CM_OPT_GROUP("Encoding:"),
		CM_OPT_FLAG(0, "jsonl", &c.jsonl, "write JSONL: each record with its ids in an \"ids\" array"),
		CM_OPT_FLAG(0, "drop-text", &c.drop_text, "with --jsonl: leave the text out"),
		CM_OPT_FLAG(0, "raw", &raw, "each input file is one document, any bytes (not JSONL)"),
		CM_OPT_INT('j', "threads", &threads, "N", 1, 4096, "encode with N threads (default: all CPUs)"),
		CM_OPT_INCLUDE(cm_filter_opts(&f, CM_FILTER_ALL | CM_FILTER_ID_FIELD)),
		CM_OPT_END()
	};
	int nf = cm_opt_parse(argc, argv, opts, &info);
	char **files = argv + 1;

	if (!tok_path)
		cm_usage_error("a tokenizer is needed (-t FILE)");
	if (c.drop_text && !c.jsonl)
		cm_usage_error("--drop-text goes with --jsonl");
	t0 = cm_now();
	tok = cm_tok_load(tok_path, pattern, err, sizeof err);
	if (!tok)
		cm_die("cannot load the tokenizer '%s': %s", tok_path, err);
	if (cm_verbosity > 1)
		cm_info("tokenizer '%s': %u ids, %u merges, loaded in %.2f s", tok_path,
			cm_tok_vocab_size(tok), cm_tok_nmerges(tok), cm_now() - t0);
	if (print || write_tok) {
		if (write_tok && cm_tok_save_json(tok, write_tok, err, sizeof err) < 0)
			cm_die("%s", err);
		if (print)
			print_info(tok);
		cm_tok_free(tok);
		cm_stats_free(&f.stats);
		cm_close_stdout();
		return 0;
	}
	c.f = &f;
	c.tok = tok;
	cm_tokpipe_init(&c.pipe, tok, threads, allow_special, write_batch, &c);
	f.no_output = 1;
	f.json = cm_json_new();
	cm_json_want(f.json, f.text_field);
	cm_filter_start(&f, cm_filter_total_size(files, nf));
	c.out = cm_output_open(f.out_path, f.gzip_out);
	if (!c.jsonl)
		cm_ts_write_header(c.out, cm_tok_vocab_size(tok), cm_tok_hash(tok));
	if (raw)
		run_raw(&c, files, nf);
	else
		cm_filter_run(&f, files, nf, one, &c);
	cm_tokpipe_finish(&c.pipe);
	if (!c.jsonl)
		cm_ts_write_end(c.out, c.docs);
	f.stats.bytes_out = cm_output_bytes(c.out);
	cm_output_close(c.out);
	{
		cm_buf b = CM_BUF_INIT;

		cm_buf_printf(&b, "{\"documents\":%" PRIu64 ",\"tokens\":%" PRIu64 ",\"text_bytes\":%" PRIu64
			      ",\"ill_formed_runs\":%" PRIu64 ",\"regex_failures\":%" PRIu64
			      ",\"tokenizer_hash\":\"%016" PRIx64 "\",\"threads\":%d}",
			      c.docs, c.tokens, c.text_bytes, cm_tokbatch_invalid_runs(&c.pipe.b[0]),
			      cm_tokbatch_regex_failures(&c.pipe.b[0]), cm_tok_hash(tok), c.pipe.b[0].nthreads);
		cm_stats_extra(&f.stats, "tokens", b.p);
		cm_buf_free(&b);
	}
	if (cm_tokbatch_regex_failures(&c.pipe.b[0]))
		cm_warn("%" PRIu64 " pieces the pattern could not split (regex limits) were kept whole",
			cm_tokbatch_regex_failures(&c.pipe.b[0]));
	if (cm_verbosity > 0) {
		double s = cm_now() - t0;

		cm_info("%" PRIu64 " documents, %" PRIu64 " bytes of text -> %" PRIu64 " tokens (%.3f bytes"
			" a token), %" PRIu64 " ill-formed byte runs, %.2f s, %.1f MB/s, %d threads",
			c.docs, c.text_bytes, c.tokens, c.tokens ? (double)c.text_bytes / (double)c.tokens : 0.0,
			cm_tokbatch_invalid_runs(&c.pipe.b[0]), s, s > 0 ? (double)c.text_bytes / s / 1e6 : 0.0,
			c.pipe.b[0].nthreads);
	}
	cm_tokpipe_free(&c.pipe);
	for (i = 1; i >= 0; i--) {
		free(c.s[i].line_off);
		cm_buf_free(&c.s[i].lines);
	}
	cm_tok_free(tok);
	cm_buf_free(&c.w);
	return cm_filter_finish(&f);
}
