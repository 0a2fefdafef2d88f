/* sigfile.h - the multi-step mode's files: signature files (`dedup-minhash sign`, one per input
 * shard) and duplicate lists (`dedup-minhash cluster`, one per shard, read by `filter`).
 *
 * Both are little-endian binary: a header (magic, version, header length, the parameters), fixed
 * size records, and a trailer (an end mark, the record count, and an XXH3-64 checksum of every
 * byte before it), so that a file cut short, grown, damaged or of another kind is told apart
 * from a good one with a clear message. The layouts are in man/dedup-minhash.1 (FILES).
 *
 * Signature file, version 1:
 *   0  "c2lm-sig"   8  version   12 header length   16 record length   20 ngram   24 bands
 *   28 rows   32 against-ngram   36 flags (1 exact, 2 urls, 4 verify, 8 annotate-only)
 *   40 seed (u64)   48 threshold (IEEE double)   56 sets   60 zero   64 the sets' names
 *   (u16 length + bytes each), zero-padded to a multiple of 8.
 *   Record: flags (u32: 1 has a url, 2 empty text), contaminated sets (u32), url XXH3-128
 *   (low, high), normalised text XXH3-128 (low, high), one u64 band key a band, and with
 *   verify the signature (u32 a hash).
 *   Trailer: "c2lm-end", documents (u64), input fingerprint (u64), checksum (u64).
 * Duplicate list, version 1:
 *   0  "c2lm-dup"   8  version   12 header length   16 entry length (40)   20 flags (8
 *   annotate-only)   24 shard   28 shards   32 first document's number (u64)   40 documents
 *   (u64)   48 input fingerprint (u64)   56 sets   60 zero   64 names as above.
 *   Entry, in document order: document in the shard (u64), cluster (u64), duplicate of (u64,
 *   all ones: none), similarity (double; -1: none), contaminated sets (u32), kind (u32: 0 none,
 *   1 exact, 2 near, 3 url).
 *   Trailer: "c2lm-end", entries (u64), checksum (u64).
 */
#ifndef DM_SIGFILE_H
#define DM_SIGFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <xxhash.h>

#include "buf.h"
#include "decon.h"
#include "output.h"

#define DM_SIG_VERSION 1
#define DM_DUP_VERSION 1

enum { DM_P_EXACT = 1, DM_P_URLS = 2, DM_P_VERIFY = 4, DM_P_ANNOTATE = 8 };
enum { DM_R_URL = 1, DM_R_EMPTY = 2 };
enum { DM_KIND_NONE, DM_KIND_EXACT, DM_KIND_NEAR, DM_KIND_URL };

typedef struct dm_params {
	unsigned ngram, bands, rows, against_ngram, flags;
	uint64_t seed;
	double threshold;
	unsigned nsets;
	char sets[DM_MAX_SETS][256];
} dm_params;

/* One document of a signature file. band: bands keys; sig: bands x rows hashes (verify). */
typedef struct dm_sigrec {
	uint32_t flags, sets;
	uint64_t url[2], text[2];
	uint64_t *band;
	uint32_t *sig;
} dm_sigrec;

/* One entry of a duplicate list. */
typedef struct dm_dupent {
	uint64_t doc, cluster, of;
	double sim;
	uint32_t sets, kind;
} dm_dupent;

/* Writing either kind: a checksummed stream. */
typedef struct dm_bw {
	cm_output *o;
	XXH3_state_t *st;
	uint64_t n;		/* records written */
	cm_buf rec;
} dm_bw;

void dm_sig_create(dm_bw *w, const char *path, const dm_params *p);
void dm_sig_add(dm_bw *w, const dm_params *p, const dm_sigrec *r);
void dm_sig_finish(dm_bw *w, uint64_t fingerprint);

typedef struct dm_dup_header {
	uint32_t flags, shard, shards;
	uint64_t first, docs, fingerprint;
	unsigned nsets;
	char sets[DM_MAX_SETS][256];
} dm_dup_header;

void dm_dup_create(dm_bw *w, const char *path, const dm_dup_header *h);
void dm_dup_add(dm_bw *w, const dm_dupent *e);
void dm_dup_finish(dm_bw *w);
/* Give up a file being written: the target keeps what it had. */
void dm_bw_abort(dm_bw *w);

/* Reading either kind. Open checks the header, the size and the end mark; the checksum is
 * checked as the last record is read (next returns -1 with the message in err). */
typedef struct dm_br {
	FILE *fp;
	char *path;
	uint64_t size, n, i;	/* records, the next one */
	size_t hdr_len, rec_len, trailer_len;
	XXH3_state_t *st;
	uint64_t sum, fingerprint;	/* from the trailer */
	unsigned char *buf;
	char err[512];
	dm_params p;		/* signature files */
	dm_dup_header d;	/* duplicate lists */
} dm_br;

/* 0, or -1 with br->err set ("FILE: why"). */
int dm_sig_open(dm_br *br, const char *path);
int dm_dup_open(dm_br *br, const char *path);
/* Back to the first record (a new pass; the checksum is checked again). */
int dm_br_rewind(dm_br *br);
/* 1: a record; 0: the end, checksum good; -1: error (br->err). r->band and r->sig must have room. */
int dm_sig_next(dm_br *br, dm_sigrec *r);
int dm_dup_next(dm_br *br, dm_dupent *e);
/* Document i's signature (verify files), read in place. */
int dm_sig_signature(dm_br *br, uint64_t i, uint32_t *sig);
void dm_br_close(dm_br *br);

/* Whether two parameter sets agree (all but nothing); a message naming the first difference. */
int dm_params_same(const dm_params *x, const dm_params *y, char *why, size_t n);

#endif
