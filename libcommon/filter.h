/* filter.h - what every record filter shares: common options, the read-edit-write loop,
 * malformed-line handling, rejects, progress and statistics.
 *
 * A program includes the parts of cm_filter_opts() that apply in its option table (opt.h),
 * then calls cm_filter_run() with a function that looks at each parsed record, edits it
 * through f->rw, and returns NULL to keep it or a reason to drop it.
 */
#ifndef CM_FILTER_H
#define CM_FILTER_H

#include <stdint.h>

#include "input.h"
#include "json.h"
#include "jsonw.h"
#include "opt.h"
#include "output.h"
#include "progress.h"
#include "record.h"
#include "stats.h"

typedef struct cm_filter {
	/* options */
	const char *text_field, *id_field;
	unsigned long shard_i, shard_n;
	int gzip_out, strict, allow_truncated, progress_opt;
	size_t max_line;
	const char *out_path, *rejects_path, *stats_path;
	int no_output;		/* the program writes no records (dedup-minhash sign): counted kept */

	/* run state */
	cm_json *json;
	cm_output *out, *rejects;
	cm_stats stats;
	cm_progress progress;
	cm_rw rw;
	const char *cur_name;	/* input being read, for messages */
	uint64_t cur_line;	/* its line number */
	uint64_t bytes_read;	/* input bytes of all files so far (compressed) */
	int status;		/* exit status so far */
	int stop;		/* stop reading (--strict met bad input) */
	size_t batch_index;	/* cm_filter_run_batch: the record's index in its batch */
} cm_filter;

/* The filters' shared options (opt.h), the parts a program takes: */
enum {
	CM_FILTER_OUTPUT = 1,		/* -o/--output FILE, -z/--gzip */
	CM_FILTER_REJECTS = 2,		/* --rejects FILE */
	CM_FILTER_STATS = 4,		/* --stats FILE */
	CM_FILTER_SHARD = 8,		/* --shard i/N */
	CM_FILTER_TEXT_FIELD = 16,	/* --text-field NAME */
	CM_FILTER_ID_FIELD = 32,	/* --id-field NAME: only for a program that reads ids */
	CM_FILTER_MAX_LINE = 64,	/* --max-line SIZE */
	CM_FILTER_STRICT = 128,		/* --strict, --allow-truncated */
	CM_FILTER_PROGRESS = 256,	/* --progress */
	CM_FILTER_RECORDS = CM_FILTER_SHARD | CM_FILTER_TEXT_FIELD | CM_FILTER_MAX_LINE | CM_FILTER_STRICT,
	/* what a filter of records takes (without --id-field) */
	CM_FILTER_ALL = CM_FILTER_OUTPUT | CM_FILTER_REJECTS | CM_FILTER_STATS | CM_FILTER_RECORDS |
			CM_FILTER_PROGRESS
};
/* A table of the parts asked for, with their headings, writing into f; put it last in the
 * program's table with CM_OPT_INCLUDE. One filter a process: the table is static. */
const cm_opt *cm_filter_opts(cm_filter *f, unsigned parts);
/* What --help says after the table of a filter that reads records. */
#define CM_FILTER_EPILOG "Input files may be plain, gzip or zstd; '-' or none reads standard input;\n" \
	"http://, https:// and s3:// URLs are read over the network (see the man page).\n"
/* What -v gives a filter. */
#define CM_FILTER_VERBOSE "a summary line at the end (twice: more detail)"

/* Defaults; remembers argv for --stats. Calls cm_init(argv[0]). */
void cm_filter_init(cm_filter *f, int argc, char **argv);
/* Open outputs and start progress; call after option parsing. total: input bytes when known. */
void cm_filter_start(cm_filter *f, uint64_t total);
/* Total size of the files named (0 when any is a pipe or standard input). */
uint64_t cm_filter_total_size(char **files, int n);

typedef const char *(*cm_filter_fn)(cm_filter *f, const cm_jrec *rec, void *ctx);

/* Read every file (standard input when n == 0; a URL is read over the network, input.h) and
 * run fn on each record; keeps or drops it. An input that cannot be read (whole) is reported
 * (cm_filter_input_failed) and the next one read. Returns the exit status (0, or 1 after a
 * failed or truncated input or a --strict failure). */
int cm_filter_run(cm_filter *f, char **files, int n, cm_filter_fn fn, void *ctx);

/* A filter that decides on records in batches (a model scoring many at once): add sees each
 * record as it is read (after --shard and the malformed ones), in order; when max_records
 * are held, or max_bytes of their lines, or the input ends, flush(n) does the batch's work,
 * then the records are parsed again and each goes to cm_filter_run's fn in input order, with
 * f->batch_index its index (0 .. n - 1) in the batch: fn edits and decides as it would
 * alone. Memory: the held lines and what add keeps, bounded by max_records and max_bytes. */
typedef struct cm_filter_batch {
	void (*add)(cm_filter *f, const cm_jrec *rec, size_t index, void *ctx);
	void (*flush)(cm_filter *f, size_t n, void *ctx);
	size_t max_records, max_bytes;
} cm_filter_batch;
int cm_filter_run_batch(cm_filter *f, char **files, int n, const cm_filter_batch *b,
			cm_filter_fn fn, void *ctx);

/* An input that could not be read whole (or at all): the message (printf-style, without the
 * program's prefix) goes to stderr and, with the input's name, to --stats' failed_inputs;
 * the exit status becomes 1. The other inputs are read all the same. */
void cm_filter_input_failed(cm_filter *f, const char *input, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* After an input's last byte: reports a failed read or a cut-short input (name: what) as
 * cm_filter_input_failed does, or warns when --allow-truncated accepts the cut. */
void cm_filter_input_end(cm_filter *f, const char *input, const char *name, cm_input *in);

/* For programs that make records themselves (warc-extract): write one finished line. */
void cm_filter_emit(cm_filter *f, const char *line, size_t n);
/* metadata.reject's value: {"program": ..., "reason": ...}; the program is cm_prog unless
 * cm_reject_program names it (a program's steps reject under the program's name). */
extern const char *cm_reject_program;
void cm_filter_reject_value(cm_jw *w, const char *reason);
/* Report a malformed input at the current place; with --strict, stops the run (exit 1). */
void cm_filter_malformed(cm_filter *f, const char *why);
/* Close the output and --rejects and write --stats, each checked: a program that must know
 * they are whole before it goes on (shard-pack, before its manifest) calls it first. */
void cm_filter_close_outputs(cm_filter *f);
/* Flush and close outputs, write --stats, print the -v summary; returns the exit status. */
int cm_filter_finish(cm_filter *f);

#endif
