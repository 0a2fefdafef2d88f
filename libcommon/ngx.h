/* ngx.h - n-gram index files: the distinct hashes (cm_ngram_hash) of a corpus's word n-grams,
 * as `dedup-minhash sign --ngram-index` writes them for each shard, so that contamination
 * checks (lm-eval --contamination) read 8 bytes an n-gram instead of decoding and normalising
 * the corpus again.
 *
 * Little-endian binary:
 *   0 "c2lm-ngx"   8 version (u32, 1)   12 header length (u32, 24)   16 n, words an n-gram
 *   (u32)   20 zero (u32)
 *   then the hashes (u64), strictly ascending,
 *   then the trailer: "c2lm-end", the number of hashes (u64), and an XXH3-64 checksum of
 *   every byte before it (u64).
 * A reader checks the header, that the size is the header, the hashes and the trailer, the
 * order, and the checksum, and only then reports the end: a file cut short, grown, damaged
 * or of another kind is an error, never a partial answer.
 */
#ifndef CM_NGX_H
#define CM_NGX_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <xxhash.h>

#include "output.h"

#define CM_NGX_MAGIC "c2lm-ngx"
#define CM_NGX_VERSION 1
#define CM_NGX_HEADER 24
#define CM_NGX_TRAILER 24

typedef struct cm_ngx_writer {
	cm_afile f;
	XXH3_state_t *sum;
	unsigned char buf[1 << 16];
	size_t nbuf;
	uint64_t count, last;
	int failed;		/* a write failed: errno kept in err_no */
	int err_no;
} cm_ngx_writer;

/* Create path (replaced whole on commit, cm_afile) for an index of n-word n-grams. 0, or -1
 * with a message in err. */
int cm_ngx_create(cm_ngx_writer *w, const char *path, unsigned n, char *err, size_t errlen);
/* The next hash: ascending; one equal to the last is left out (the caller's duplicates). A
 * smaller one is a bug of the caller's: the program dies. */
void cm_ngx_add(cm_ngx_writer *w, uint64_t h);
/* Trailer, sync, rename into place: 0, or -1 with a message in err (the target untouched). */
int cm_ngx_commit(cm_ngx_writer *w, char *err, size_t errlen);
void cm_ngx_abort(cm_ngx_writer *w);

typedef struct cm_ngx_reader {
	FILE *f;
	char *path;
	XXH3_state_t *sum;
	unsigned n;		/* words an n-gram */
	uint64_t count;		/* hashes, as the size and the trailer say */
	uint64_t left, last;
	unsigned char buf[1 << 16];
	size_t pos, len;
} cm_ngx_reader;

/* Whether the first 8 bytes of a file are an index's. */
int cm_ngx_is(const unsigned char *first8, size_t got);
/* Open an index: the header, the size and the trailer's count checked. 0, or -1 with a
 * message in err (nothing to close). */
int cm_ngx_open(cm_ngx_reader *r, const char *path, char *err, size_t errlen);
/* The next hash into *h: 1; 0 at the end, the order and the checksum verified; -1 with a
 * message in err (read error, order, checksum): what was read before must not be trusted. */
int cm_ngx_next(cm_ngx_reader *r, uint64_t *h, char *err, size_t errlen);
void cm_ngx_close(cm_ngx_reader *r);

#endif
