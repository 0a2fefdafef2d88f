/* warcread.h - the record reader's insides, shared by warc.c (WARC records) and arc.c (ARC
 * records read as WARC records): the reader's state and what both formats do the same way
 * (skipping, counting, going back into an oversized record whose length proved wrong).
 *
 * A format says where a record may start (a "WARC/" line; an ARC header line) and what may
 * follow a record's block; the rest (finding a record start inside a block whose length
 * runs too far, skipping an oversized block as it streams by) is the same for both.
 */
#ifndef WARCREAD_H
#define WARCREAD_H

#include <stddef.h>
#include <stdint.h>

#include "input.h"
#include "warc.h"

#define NO_END UINT64_MAX
#define ARC_LINE_MAX 65536	/* an ARC header line longer than this is garbage */

enum { END_OK, END_CUT, END_BAD };

struct warc_format {
	/* Whether a record starts at p (at a line start), n bytes being readable there. */
	int (*is_start)(const char *p, size_t n);
	/* What follows a block: q[0..n), at_end when the input ends at q[n]; END_*. */
	int (*block_end)(const char *q, size_t n, int at_end);
	size_t need;		/* bytes past a line start that is_start may want to see */
	size_t lookahead;	/* bytes past a block that block_end wants to see */
	const char *length_name;	/* the header field that gives a block's length */
};

struct warc_reader {
	cm_input *in;
	uint64_t max_record;
	struct warc_counts n;
	size_t pending;		/* bytes of the last record still to skip */
	uint64_t pending_big;	/* then the block of the last record, when it was oversized */
	uint64_t big_offset;	/* that record's offset, for messages */
	uint64_t end;		/* the decoded size of the input, once known */
	int quiet;		/* resyncing inside a record already reported: garbage not counted */
	void (*on_skip)(void *ctx, uint64_t offset, const char *what);
	void *skip_ctx;
	cm_input *(*reopen)(void *ctx);
	void *reopen_ctx;
	int first;
	uint64_t no_hend;	/* decoded offset before which no header block ends (scanned) */
	const struct warc_format *fmt;	/* WARC, or ARC once an ARC file is seen */
	char arc_id[64];	/* an ARC record's id and date, made from its header line */
	char arc_date[32];
};

extern const struct warc_format warc_format_warc, warc_format_arc;

/* Tell the caller (warc_on_skip) about damage at an offset. */
void warc_skipped(warc_reader *r, uint64_t off, const char *what);
/* Skip n bytes of input, however many are buffered. */
void warc_skip_bytes(cm_input *in, uint64_t n);
/* Skip to the end of the line (past its '\n', or to the end of the input); returns the
 * bytes skipped. */
uint64_t warc_skip_line(cm_input *in);
/* The first record start at a line start in p[0..n), p[0] being at a line start; bytes up
 * to p[lim - 1] may be read. NULL when there is none. */
const char *warc_find_start(const struct warc_format *f, const char *p, size_t n, size_t lim);
/* Skip the block of an oversized record, n bytes, as it streams by; go back to a record start
 * inside it when its length proves wrong. */
void warc_skip_oversized(warc_reader *r, uint64_t n);
/* The block of a record whose header the window holds up to body_at, rec->content_length
 * and rec->offset set: make it readable in place (rec->block, rec->block_len), or return the
 * record too_large (its block skipped on the next call) or cut_short. Returns 1 with the
 * record, or 0 when its length ran over a record start, where reading goes on. The window
 * may move: the caller reads the header's fields again from cm_input_data(). */
int warc_take_block(warc_reader *r, struct warc_record *rec, size_t body_at);
/* Whether an ARC file starts at p (n readable bytes): its version block, or a header line. */
int arc_file_start(const char *p, size_t n);
/* The next ARC record (warc_next for an ARC file). */
int arc_next(warc_reader *r, struct warc_record *rec);

#endif
