/* warc.h - reading WARC records (1.0, 1.1, tolerant of 0.18), or ARC records (arc.c), from a
 * decoded input stream.
 *
 * The reader finds each record's header block, parses the named fields it needs, and makes
 * the whole content block readable in place. It never trusts the input: garbage between
 * records is skipped up to the next "WARC/" line (counted), a missing or absurd
 * Content-Length makes it resync the same way, records over the size limit are skipped
 * without being held in memory, and a record cut short by the end of the file is reported.
 *
 * A Content-Length can also be wrong without looking absurd. Each block must be followed by
 * blank lines and the next record (or the end of the input, after the two line ends that
 * close a record). When it is not, and a record starts inside the bytes the length claims,
 * the record is skipped as malformed and reading goes on from that record start. A block
 * over the size limit is skipped as it streams by; when its length proves wrong there, the
 * reader goes back to the first record start it saw inside, reading the file again from
 * its start (a regular file only; see warc_on_reopen). An input that ends inside a record,
 * its header or its closing line ends is counted as cut (warc_counts.cut).
 */
#ifndef WARC_H
#define WARC_H

#include <stddef.h>
#include <stdint.h>

#include "input.h"

#define WARC_HEADER_MAX (1u << 20)	/* a header block longer than this is garbage */

enum warc_type {
	WARC_OTHER, WARC_WARCINFO, WARC_RESPONSE, WARC_RESOURCE, WARC_REQUEST, WARC_METADATA,
	WARC_REVISIT, WARC_CONVERSION, WARC_CONTINUATION, WARC_NTYPES
};

/* A header value inside the header block (not NUL-terminated); len 0 and p NULL if absent. */
struct warc_str {
	const char *p;
	size_t len;
};

struct warc_record {
	struct warc_str version;	/* "1.0", "1.1", "0.18", ... */
	enum warc_type type;
	struct warc_str type_name;	/* WARC-Type as written */
	struct warc_str record_id, target_uri, date, content_type, truncated, payload_type;
	struct warc_str filename;	/* WARC-Filename (warcinfo) */
	uint64_t content_length;
	const char *block;		/* the content block, readable in place */
	size_t block_len;		/* == content_length unless cut short */
	int cut_short;			/* the file ended inside this record */
	int too_large;			/* over the size limit: block is NULL, block_len 0 */
	uint64_t offset;		/* where the record starts: byte offset, or gzip member offset */
};

struct warc_counts {
	uint64_t records;		/* records returned */
	uint64_t garbage_bytes;		/* bytes skipped between records */
	uint64_t resyncs;		/* times garbage was skipped */
	uint64_t bad_length;		/* records skipped for a missing or absurd Content-Length */
	uint64_t oversized;		/* records over --max-record-size (returned with too_large) */
	uint64_t bad_header;		/* header blocks that did not end or could not be parsed */
	uint64_t cut_headers;		/* record headers cut short by the end of the input */
	uint64_t cut;			/* times the input ended inside a record: nonzero = cut */
	uint64_t rewinds;		/* times the input was read again to go back */
	uint64_t lost;			/* times records inside a record were lost (no going back) */
};

typedef struct warc_reader warc_reader;

/* Read from in; records over max_record bytes of content are skipped. The reader does not
 * close in, but it closes an input it replaces after a reopen: warc_input() is the one read
 * now, for the caller to close. */
warc_reader *warc_open(cm_input *in, uint64_t max_record);
void warc_close(warc_reader *r);
cm_input *warc_input(const warc_reader *r);
/* How to open the input again from its start, to go back to a record start inside an
 * oversized record whose Content-Length proved wrong: fn returns a new input, or NULL.
 * Only used for regular files, at most WARC_REWINDS_MAX times per input. */
#define WARC_REWINDS_MAX 8
void warc_on_reopen(warc_reader *r, cm_input *(*fn)(void *ctx), void *ctx);

/* Next record: 1, or 0 at the end of input. Pointers stay valid until the next call. A
 * record over the size limit comes back with too_large set and no block (its block is
 * skipped on the next call). Skipped garbage and records are counted in warc_counts(); a
 * warning callback, if set, hears about each with its offset, and about the input ending
 * inside a record. An ARC file (arc.c) is read the same way, its records as WARC records. */
int warc_next(warc_reader *r, struct warc_record *rec);
const struct warc_counts *warc_counts(const warc_reader *r);
void warc_on_skip(warc_reader *r, void (*fn)(void *ctx, uint64_t offset, const char *what), void *ctx);

/* Case-insensitive comparison of a header value with a string. */
int warc_str_eq(struct warc_str s, const char *lit);
const char *warc_type_name(enum warc_type t);

#endif
