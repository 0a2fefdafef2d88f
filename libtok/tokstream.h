/* tokstream.h - the binary token stream of bpe-encode and bpe-decode, and parallel encoding.
 *
 * Stream layout, all integers little-endian:
 *   header, 32 bytes: magic "c2lmtoks", u32 version (1), u32 vocabulary size,
 *                     u64 tokenizer hash (cm_tok_hash), u32 bytes per id (4), u32 zero
 *   each document:    u64 number of ids n, then n u32 ids
 *   end mark:         u64 0xFFFFFFFFFFFFFFFF, u64 number of documents
 * A stream without its end mark was cut short; readers say so.
 */
#ifndef CM_TOKSTREAM_H
#define CM_TOKSTREAM_H
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include "buf.h"
#include "input.h"
#include "output.h"
#include "tok.h"

#define CM_TS_MAGIC "c2lmtoks"
#define CM_TS_VERSION 1
#define CM_TS_END UINT64_MAX

typedef struct cm_ts_header {
	uint32_t version, vocab_size, id_bytes;
	uint64_t tok_hash;
} cm_ts_header;

void cm_ts_write_header(cm_output *o, uint32_t vocab_size, uint64_t tok_hash);
void cm_ts_write_doc(cm_output *o, const uint32_t *ids, size_t n);
void cm_ts_write_end(cm_output *o, uint64_t ndocs);

/* Reading: 0 and the header; -1 with err (not a token stream, another version, cut short,
 * a compressed file that ends early). */
int cm_ts_read_header(cm_input *in, cm_ts_header *h, char *err, size_t errlen);
/* The next document's ids into out (replaced): 1, or 0 at a proper end mark (its document
 * count checked, nothing after it, a compressed file complete to its end), or -1 with err
 * (cut short, an id out of range, a wrong count). */
int cm_ts_read_doc(cm_input *in, const cm_ts_header *h, cm_ids *out, uint64_t *ndocs, char *err,
		   size_t errlen);

/* Documents encoded in parallel (OpenMP, one cm_tok_ctx per thread): add texts, run, read ids. */
typedef struct cm_tokbatch {
	const cm_tok *tok;
	int nthreads, allow_special;
	cm_tok_ctx **ctx;
	cm_buf text;		/* the documents' texts, one after another */
	size_t *off, *len;
	cm_ids *ids;		/* ids of document i after cm_tokbatch_run */
	size_t n, cap;
	pthread_t thread;	/* cm_tokbatch_start's */
	int running;
	int shares_ctx;		/* made by cm_tokbatch_init_like: the contexts are another's */
} cm_tokbatch;
void cm_tokbatch_init(cm_tokbatch *b, const cm_tok *tok, int nthreads, int allow_special);
/* A second batch that takes turns with b, sharing its per-thread contexts (and caches): the
 * two must never run at once. Free it before b. */
void cm_tokbatch_init_like(cm_tokbatch *b, const cm_tokbatch *other);
void cm_tokbatch_add(cm_tokbatch *b, const char *text, size_t len);
void cm_tokbatch_run(cm_tokbatch *b);
/* The same in a thread of its own, so the caller can read the next batch and write the last
 * one meanwhile; cm_tokbatch_wait() waits for it (nothing when none runs). */
void cm_tokbatch_start(cm_tokbatch *b);
void cm_tokbatch_wait(cm_tokbatch *b);
void cm_tokbatch_clear(cm_tokbatch *b);	/* drop the documents, keep the memory */
void cm_tokbatch_free(cm_tokbatch *b);
uint64_t cm_tokbatch_invalid_runs(const cm_tokbatch *b);
uint64_t cm_tokbatch_regex_failures(const cm_tokbatch *b);
/* Two batches taking turns, so reading and writing overlap encoding: documents go into the
 * batch being filled (cm_tokpipe_batch; its index, 0 or 1, from cm_tokpipe_slot for the
 * caller's own per-batch data); when it is full it is encoded in the background, the batch
 * before it is written (the write callback, in input order) and emptied, and filling goes on in
 * that one. cm_tokpipe_finish writes what is left. */
typedef struct cm_tokpipe {
	cm_tokbatch b[2];
	int cur;
	size_t flush_bytes, flush_docs;
	void (*write)(cm_tokbatch *b, int slot, void *arg);
	void *arg;
} cm_tokpipe;
void cm_tokpipe_init(cm_tokpipe *p, const cm_tok *tok, int nthreads, int allow_special,
		     void (*write)(cm_tokbatch *b, int slot, void *arg), void *arg);
static inline cm_tokbatch *cm_tokpipe_batch(cm_tokpipe *p) { return &p->b[p->cur]; }
static inline int cm_tokpipe_slot(const cm_tokpipe *p) { return p->cur; }
/* After adding a document: hand the batch on when it is full. */
void cm_tokpipe_added(cm_tokpipe *p);
void cm_tokpipe_flush(cm_tokpipe *p);
void cm_tokpipe_finish(cm_tokpipe *p);
void cm_tokpipe_free(cm_tokpipe *p);

/* Threads to use: n > 0 as given, else the OpenMP default (all CPUs). */
int cm_threads(int n);
#endif
