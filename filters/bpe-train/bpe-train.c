/* bpe-train - learn a byte-level BPE tokenizer from text and write it as tokenizer.json. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli.h"
#include "filter.h"
#include "tok.h"
#include "tokstream.h"
#include "train.h"
#include "utf8.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static const cm_opt_info info = {
	"-o TOKENIZER.json [OPTION]... [FILE]...",
	"Learn a byte-level BPE tokenizer from the records' text and write it as a Hugging Face\n"
	"tokenizer.json (bpe-encode, shard-pack and Hugging Face tokenizers read it).\n",
	CM_FILTER_EPILOG,
	"summaries of counting and of merging, and a summary line at the end"
};

struct ctx {
	cm_filter *f;
	const char *const *specials;
	size_t special_len[256];
	size_t nspecials;
	int nthreads;
	cm_tok_ctx **tc;
	bt_counts **counts;
	cm_buf text;
	size_t *off;
	size_t ndocs, cap;
	size_t flush_bytes;
	uint64_t docs, bytes;
	int show;
	double t0, last;
};

static void count_piece(const char *p, size_t n, void *arg)
{
	bt_counts_add(arg, p, n, 1);
}

struct count_arg {
	cm_tok_ctx *tc;
	bt_counts *counts;
};

static void count_cut(const char *p, size_t n, long which, void *arg)
{
	struct count_arg *a = arg;

	(void)which;	/* the special token itself is not counted */
	cm_tok_split(a->tc, p, n, count_piece, a->counts);
}

/* Count the pieces of one document, cutting it at special tokens' texts first. */
static void count_doc(struct ctx *c, int tid, const char *s, size_t n)
{
	struct count_arg a = { c->tc[tid], c->counts[tid] };
	size_t next[256];

	cm_cut_at(s, n, c->specials, c->special_len, c->nspecials, next, count_cut, &a);
}

static void flush(struct ctx *c)
{
	long i, n = (long)c->ndocs;

	if (!n)
		return;
#ifdef _OPENMP
#pragma omp parallel for num_threads(c->nthreads) schedule(dynamic, 1)
#endif
	for (i = 0; i < n; i++) {
#ifdef _OPENMP
		int tid = omp_get_thread_num();
#else
		int tid = 0;
#endif
		count_doc(c, tid, c->text.p + c->off[i], c->off[i + 1] - c->off[i]);
	}
	c->ndocs = 0;
	cm_buf_reset(&c->text);
}

static void add_doc(struct ctx *c, const char *p, size_t n)
{
	if (c->ndocs + 2 > c->cap) {
		c->cap = c->cap ? c->cap * 2 : 1024;
		c->off = cm_xrealloc(c->off, c->cap * sizeof *c->off);
	}
	c->off[c->ndocs] = c->text.len;
	cm_buf_add(&c->text, p, n);
	c->off[++c->ndocs] = c->text.len;
	c->docs++;
	c->bytes += n;
	if (c->text.len >= c->flush_bytes)
		flush(c);
}

static const char *one(cm_filter *f, const cm_jrec *rec, void *p)
{
	const cm_jfield *t = cm_jrec_get(rec, f->text_field);

	if (!t || !t->str)
		return "no_text";
	add_doc(p, t->str, t->str_len);
	return NULL;
}

static void progress(size_t done, size_t wanted, void *arg)
{
	struct ctx *c = arg;
	double now = cm_now();

	if (!c->show || (now - c->last < 0.25 && done < wanted))
		return;
	c->last = now;
	fprintf(stderr, "\r%s: %zu of %zu merges, %.0f merges/s   ", cm_prog, done, wanted,
		now > c->t0 ? (double)done / (now - c->t0) : 0.0);
	if (done >= wanted)
		fputc('\n', stderr);
}

/* Refuse, before any input is read, a special token that the tokenizer.json could not hold
 * or that a reader would refuse: its text is written as a token of the vocabulary too. */
static void check_special(const char *const *sp, const size_t *len, size_t i)
{
	size_t k;

	if (!cm_utf8_valid(sp[i], len[i]))
		cm_usage_error("option '--special': '%s' is not UTF-8", sp[i]);
	if (len[i] > CM_TOK_MAX_TOKEN)
		cm_usage_error("option '--special': a text of %zu bytes (at most %d)", len[i],
			       CM_TOK_MAX_TOKEN);
	if (len[i] == 1)
		cm_usage_error("option '--special': '%s' is one byte, a token already", sp[i]);
	for (k = 0; k < i; k++)
		if (!strcmp(sp[k], sp[i]))
			cm_usage_error("option '--special': '%s' given twice", sp[i]);
}

static long peak_rss_kb(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
}

struct specials {
	const char *text[256];
	int n;
};

static void add_special(const cm_opt *o, const char *text)
{
	struct specials *sp = o->ctx;

	if (sp->n == 256)
		cm_usage_error("at most 256 special tokens");
	if (!*text)
		cm_usage_error("option '--special' wants a text");
	sp->text[sp->n++] = text;
}

int main(int argc, char **argv)
{
	static struct ctx c;
	static struct specials sp;
	static const char *default_special[] = { "<|endoftext|>" };
	const char *pattern = "cl100k";
	long long vocab_size = 32768, min_freq = 2, max_len = CM_TOK_MAX_TOKEN;
	int raw = 0, threads = 0, i;
	cm_filter f;
	cm_tok *tok;
	bt_result r;
	char err[256];
	double t_start, t_count, t_learn;
	size_t count_bytes;
	uint32_t id;

	cm_filter_init(&f, argc, argv);
	const cm_opt opts[] = {
		CM_OPT_STRING('o', "output", &f.out_path, "FILE", "the tokenizer.json to write (required)"),
		CM_OPT_INT(0, "vocab-size", &vocab_size, "N", 257, CM_TOK_MAX_VOCAB,
			   "tokens in all: 256 bytes, the merges, the special tokens\n"
			   "(default: 32768)"),
		CM_OPT_INT(0, "min-frequency", &min_freq, "N", 1, INT64_MAX,
			   "stop when the most frequent pair is seen fewer than N times\n"
			   "(default: 2)"),
		CM_OPT_INT(0, "max-token-length", &max_len, "N", 2, CM_TOK_MAX_TOKEN,
			   "tokens of N bytes at most: a longer pair is never counted\n"
			   "(2 to " STR(CM_TOK_MAX_TOKEN) "; default: " STR(CM_TOK_MAX_TOKEN)
			   ", the longest bpe-encode reads)"),
		CM_OPT_CALLBACK(0, "special", add_special, &sp, "TEXT",
				"a special token (repeat for more; default: <|endoftext|>);\n"
				"they take the last ids, and text is cut at them before counting"),
		CM_OPT_STRING(0, "pattern", &pattern, "P",
			      "pre-tokenizer: gpt2, cl100k (default), o200k or a PCRE2 regex"),
		CM_OPT_FLAG(0, "raw", &raw, "each input file is one document, any bytes (not JSONL)"),
		CM_OPT_INT('j', "threads", &threads, "N", 1, 4096, "count with N threads (default: all CPUs)"),
		CM_OPT_NOTE("\nTies between pairs of the same count go to the greater pair of byte strings (the\n"
			    "first token's bytes compared, then the second's).\n"),
		CM_OPT_INCLUDE(cm_filter_opts(&f, CM_FILTER_REJECTS | CM_FILTER_STATS | CM_FILTER_RECORDS |
						  CM_FILTER_PROGRESS)),
		CM_OPT_END()
	};
	int nf = cm_opt_parse(argc, argv, opts, &info);
	char **files = argv + 1;

	nf = cm_opt_lists(nf, &files);

	if (!f.out_path)
		cm_usage_error("where to write the tokenizer? (-o FILE)");
	c.specials = sp.n ? sp.text : default_special;
	c.nspecials = sp.n ? (size_t)sp.n : 1;
	for (i = 0; (size_t)i < c.nspecials; i++) {
		c.special_len[i] = strlen(c.specials[i]);
		check_special(c.specials, c.special_len, (size_t)i);
	}
	if (vocab_size < 256 + (long long)c.nspecials)
		cm_usage_error("--vocab-size %lld leaves no room for 256 bytes and %zu special tokens",
			       vocab_size, c.nspecials);
	/* the pattern compiles before any input is read */
	tok = cm_tok_create(cm_tok_pattern_arg(pattern), err, sizeof err);
	if (!tok)
		cm_usage_error("option '--pattern': %s", err);
	t_start = cm_now();
	c.f = &f;
	c.nthreads = cm_threads(threads);
	c.tc = cm_xcalloc((size_t)c.nthreads, sizeof *c.tc);
	c.counts = cm_xcalloc((size_t)c.nthreads, sizeof *c.counts);
	for (i = 0; i < c.nthreads; i++) {
		c.tc[i] = cm_tok_ctx_new(tok);
		c.counts[i] = bt_counts_new();
	}
	c.flush_bytes = (size_t)c.nthreads << 24;
	c.show = f.progress_opt > 0 || (f.progress_opt < 0 && isatty(2) && cm_verbosity >= 0);
	f.no_output = 1;
	f.json = cm_json_new();
	cm_json_want(f.json, f.text_field);
	{
		const char *out = f.out_path;

		f.out_path = NULL;
		cm_filter_start(&f, cm_filter_total_size(files, nf));
		f.out_path = out;
	}
	if (raw) {
		cm_buf doc = CM_BUF_INIT;
		char err[1400];
		for (i = 0; i < (nf ? nf : 1); i++) {
			f.stats.read++;
			if (cm_input_load(nf ? files[i] : "-", &doc, f.max_line, err, sizeof err) < 0) {
				f.stats.malformed++;
				cm_filter_input_failed(&f, nf ? files[i] : "-", "%s", err);
				continue;
			}
			f.stats.kept++;
			f.stats.bytes_in += doc.len;
			add_doc(&c, doc.p, doc.len);
		}
		cm_buf_free(&doc);
	} else {
		cm_filter_run(&f, files, nf, one, &c);
	}
	flush(&c);
	for (i = 1; i < c.nthreads; i++) {
		bt_counts_merge(c.counts[0], c.counts[i]);
		bt_counts_free(c.counts[i]);
		c.counts[i] = NULL;
	}
	count_bytes = bt_counts_bytes(c.counts[0]);
	t_count = cm_now() - t_start;
	if (cm_verbosity > 0)
		cm_info("counted %" PRIu64 " pieces, %zu unique, in %" PRIu64 " documents (%" PRIu64
			" bytes) in %.2f s (%.1f MB/s, %d threads); counts take %.1f MB",
			bt_counts_total(c.counts[0]), bt_counts_unique(c.counts[0]), c.docs, c.bytes,
			t_count, t_count > 0 ? (double)c.bytes / t_count / 1e6 : 0.0, c.nthreads,
			(double)count_bytes / 1e6);
	c.t0 = cm_now();
	bt_train(c.counts[0], (uint32_t)(vocab_size - (long long)c.nspecials), (uint64_t)min_freq,
		 (size_t)max_len, &r, progress, &c);
	t_learn = cm_now() - c.t0;
	if ((long long)r.ntok + (long long)c.nspecials < vocab_size)
		cm_warn("stopped at %u tokens: no pair is seen %lld times or more", r.ntok, min_freq);

	for (id = 0; id < r.ntok; id++)
		if (cm_tok_add_token(tok, id, r.bytes.p + r.off[id], (size_t)(r.off[id + 1] - r.off[id]),
				     err, sizeof err) < 0)
			cm_die("%s", err);
	for (i = 0; (size_t)i < r.nmerges; i++)
		if (cm_tok_add_merge(tok, r.merges[i][0], r.merges[i][1], (uint32_t)i, r.merges[i][2],
				     err, sizeof err) < 0)
			cm_die("%s", err);
	for (i = 0; (size_t)i < c.nspecials; i++)
		if (cm_tok_add_special(tok, c.specials[i], r.ntok + (uint32_t)i, err, sizeof err) < 0)
			cm_die("%s", err);
	if (cm_tok_finish(tok, err, sizeof err) < 0 || cm_tok_save_json(tok, f.out_path, err, sizeof err) < 0)
		cm_die("%s", err);
	{
		cm_buf b = CM_BUF_INIT;

		cm_buf_printf(&b, "{\"documents\":%" PRIu64 ",\"text_bytes\":%" PRIu64 ",\"pieces\":%" PRIu64
			      ",\"unique_pieces\":%zu,\"vocab_size\":%u,\"merges\":%zu,\"count_seconds\":%.3f"
			      ",\"merge_seconds\":%.3f,\"count_table_bytes\":%zu,\"merge_table_bytes\":%zu"
			      ",\"peak_rss_bytes\":%lld,\"tokenizer_hash\":\"%016" PRIx64 "\"}",
			      c.docs, c.bytes, bt_counts_total(c.counts[0]), bt_counts_unique(c.counts[0]),
			      cm_tok_vocab_size(tok), r.nmerges, t_count, t_learn, count_bytes, r.peak_bytes,
			      (long long)peak_rss_kb() * 1024, cm_tok_hash(tok));
		cm_stats_extra(&f.stats, "bpe", b.p);
		cm_buf_free(&b);
	}
	if (cm_verbosity > 0)
		cm_info("%zu merges in %.2f s (%.0f merges/s) over %zu words and %zu pairs; tables %.1f MB"
			" (%.1f bytes a unique piece); peak memory %.1f MB; wrote %u tokens to '%s'",
			r.nmerges, t_learn, t_learn > 0 ? (double)r.nmerges / t_learn : 0.0, r.words, r.pairs,
			(double)(count_bytes + r.peak_bytes) / 1e6,
			bt_counts_unique(c.counts[0]) ? (double)(count_bytes + r.peak_bytes) /
			(double)bt_counts_unique(c.counts[0]) : 0.0, (double)peak_rss_kb() / 1024.0,
			cm_tok_vocab_size(tok), f.out_path);
	bt_result_free(&r);
	bt_counts_free(c.counts[0]);
	for (i = 0; i < c.nthreads; i++)
		cm_tok_ctx_free(c.tc[i]);
	free(c.tc);
	free(c.counts);
	free(c.off);
	cm_buf_free(&c.text);
	cm_tok_free(tok);
	f.out_path = NULL;
	return cm_filter_finish(&f);
}
