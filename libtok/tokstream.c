/* tokstream.c - the binary token stream (see tokstream.h) and parallel encoding of batches. */
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli.h"
#include "le.h"
#include "tokstream.h"

#ifdef _OPENMP
#define CM_OMP(x) _Pragma(#x)
#else
#define CM_OMP(x)
#endif

void cm_ts_write_header(cm_output *o, uint32_t vocab_size, uint64_t tok_hash)
{
	unsigned char h[32] = { 0 };

	memcpy(h, CM_TS_MAGIC, 8);
	cm_put32(h + 8, CM_TS_VERSION);
	cm_put32(h + 12, vocab_size);
	cm_put64(h + 16, tok_hash);
	cm_put32(h + 24, 4);
	cm_output_write(o, h, sizeof h);
}

void cm_ts_write_doc(cm_output *o, const uint32_t *ids, size_t n)
{
	unsigned char b[4096];
	size_t i, k = 0;

	cm_put64(b, n);
	cm_output_write(o, b, 8);
	for (i = 0; i < n; i++) {
		cm_put32(b + k, ids[i]);
		k += 4;
		if (k == sizeof b) {
			cm_output_write(o, b, k);
			k = 0;
		}
	}
	if (k)
		cm_output_write(o, b, k);
}

void cm_ts_write_end(cm_output *o, uint64_t ndocs)
{
	unsigned char b[16];

	cm_put64(b, CM_TS_END);
	cm_put64(b + 8, ndocs);
	cm_output_write(o, b, sizeof b);
}

int cm_ts_read_header(cm_input *in, cm_ts_header *h, char *err, size_t errlen)
{
	const unsigned char *p;
	size_t got = cm_input_fill(in, 32);

	p = (const unsigned char *)cm_input_data(in);
	if (got < 32 && cm_input_truncated(in)) {
		snprintf(err, errlen, "%s", cm_input_error(in));
		return -1;
	}
	if (got < 8 || memcmp(p, CM_TS_MAGIC, 8)) {
		snprintf(err, errlen, "not a token stream (no '%s' at the start)", CM_TS_MAGIC);
		return -1;
	}
	if (got < 32) {
		snprintf(err, errlen, "token stream cut short in its header");
		return -1;
	}
	h->version = cm_get32(p + 8);
	h->vocab_size = cm_get32(p + 12);
	h->tok_hash = cm_get64(p + 16);
	h->id_bytes = cm_get32(p + 24);
	if (h->version != CM_TS_VERSION) {
		snprintf(err, errlen, "token stream version %u (this program reads %d)", h->version,
			 CM_TS_VERSION);
		return -1;
	}
	if (h->id_bytes != 4 || h->vocab_size == 0 || cm_get32(p + 28) != 0) {
		snprintf(err, errlen, "token stream header is damaged");
		return -1;
	}
	cm_input_skip(in, 32);
	return 0;
}

int cm_ts_read_doc(cm_input *in, const cm_ts_header *h, cm_ids *out, uint64_t *ndocs, char *err,
		   size_t errlen)
{
	const unsigned char *p;
	uint64_t n, i = 0;

	out->n = 0;
	if (cm_input_fill(in, 8) < 8) {
		snprintf(err, errlen, "token stream cut short after %llu documents (no end mark)",
			 (unsigned long long)*ndocs);
		return -1;
	}
	p = (const unsigned char *)cm_input_data(in);
	n = cm_get64(p);
	cm_input_skip(in, 8);
	if (n == CM_TS_END) {
		if (cm_input_fill(in, 8) < 8) {
			snprintf(err, errlen, "token stream cut short in its end mark");
			return -1;
		}
		n = cm_get64((const unsigned char *)cm_input_data(in));
		cm_input_skip(in, 8);
		if (n != *ndocs) {
			snprintf(err, errlen, "token stream end mark counts %llu documents, %llu read",
				 (unsigned long long)n, (unsigned long long)*ndocs);
			return -1;
		}
		if (cm_input_fill(in, 1) > 0) {
			snprintf(err, errlen, "bytes after the token stream's end mark");
			return -1;
		}
		/* a gzip or zstd file cut in its trailer holds the whole stream, unchecked */
		if (cm_input_truncated(in)) {
			snprintf(err, errlen, "%s", cm_input_error(in));
			return -1;
		}
		return 0;
	}
	/* read in slices, so a damaged count cannot make us allocate much before failing */
	while (i < n) {
		size_t want = n - i > 65536 ? 65536 : (size_t)(n - i), got, k;

		got = cm_input_fill(in, want * 4) / 4;
		if (got > want)
			got = want;
		if (got == 0) {
			snprintf(err, errlen, "token stream cut short in document %llu",
				 (unsigned long long)*ndocs + 1);
			return -1;
		}
		if (out->cap - out->n < got)
			cm_ids_grow(out, got);
		p = (const unsigned char *)cm_input_data(in);
		for (k = 0; k < got; k++) {
			uint32_t id = cm_get32(p + 4 * k);

			if (id >= h->vocab_size) {
				snprintf(err, errlen, "document %llu: id %u is outside the vocabulary (%u)",
					 (unsigned long long)*ndocs + 1, id, h->vocab_size);
				return -1;
			}
			out->v[out->n++] = id;
		}
		cm_input_skip(in, got * 4);
		i += got;
	}
	++*ndocs;
	return 1;
}

int cm_threads(int n)
{
	if (n > 0)
		return n;
#ifdef _OPENMP
	return omp_get_max_threads();
#else
	return 1;
#endif
}

void cm_tokbatch_init(cm_tokbatch *b, const cm_tok *tok, int nthreads, int allow_special)
{
	int i;

	memset(b, 0, sizeof *b);
	b->tok = tok;
	b->nthreads = cm_threads(nthreads);
	b->allow_special = allow_special;
	b->ctx = cm_xcalloc((size_t)b->nthreads, sizeof *b->ctx);
	for (i = 0; i < b->nthreads; i++)
		b->ctx[i] = cm_tok_ctx_new(tok);
}

void cm_tokbatch_init_like(cm_tokbatch *b, const cm_tokbatch *other)
{
	memset(b, 0, sizeof *b);
	b->tok = other->tok;
	b->nthreads = other->nthreads;
	b->allow_special = other->allow_special;
	b->ctx = other->ctx;
	b->shares_ctx = 1;
}

void cm_tokbatch_add(cm_tokbatch *b, const char *text, size_t len)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;

		b->off = cm_xrealloc(b->off, cap * sizeof *b->off);
		b->len = cm_xrealloc(b->len, cap * sizeof *b->len);
		b->ids = cm_xrealloc(b->ids, cap * sizeof *b->ids);
		memset(b->ids + b->cap, 0, (cap - b->cap) * sizeof *b->ids);
		b->cap = cap;
	}
	b->off[b->n] = b->text.len;
	b->len[b->n] = len;
	cm_buf_add(&b->text, text, len);
	b->n++;
}

void cm_tokbatch_run(cm_tokbatch *b)
{
	long i, n = (long)b->n;

	/* Each thread encodes into its own array, then copies the ids out once: pushing into
	 * b->ids[i] directly would write the count next to another thread's, token by token. */
	CM_OMP(omp parallel num_threads(b->nthreads))
	{
#ifdef _OPENMP
		int tid = omp_get_thread_num();
#else
		int tid = 0;
#endif
		cm_tok_ctx *c = b->ctx[tid];
		cm_ids own = { 0 };

		CM_OMP(omp for schedule(dynamic, 1))
		for (i = 0; i < n; i++) {
			cm_ids *dst = &b->ids[i];

			own.n = 0;
			cm_tok_encode(c, b->text.p + b->off[i], b->len[i], b->allow_special, &own);
			if (dst->cap < own.n) {
				free(dst->v);
				dst->v = cm_xmalloc(own.n * sizeof *dst->v);
				dst->cap = own.n;
			}
			if (own.n)
				memcpy(dst->v, own.v, own.n * sizeof *own.v);
			dst->n = own.n;
		}
		cm_ids_free(&own);
	}
}

static void *run_thread(void *arg)
{
	cm_tokbatch_run(arg);
	return NULL;
}

void cm_tokbatch_start(cm_tokbatch *b)
{
	int e = pthread_create(&b->thread, NULL, run_thread, b);

	if (e)
		cm_die("cannot start a thread: %s", strerror(e));
	b->running = 1;
}

void cm_tokbatch_wait(cm_tokbatch *b)
{
	if (!b->running)
		return;
	pthread_join(b->thread, NULL);
	b->running = 0;
}

void cm_tokbatch_clear(cm_tokbatch *b)
{
	b->n = 0;
	cm_buf_reset(&b->text);
}

void cm_tokbatch_free(cm_tokbatch *b)
{
	size_t i;
	int t;

	cm_tokbatch_wait(b);
	for (t = 0; !b->shares_ctx && t < b->nthreads; t++)
		cm_tok_ctx_free(b->ctx[t]);
	if (!b->shares_ctx)
		free(b->ctx);
	for (i = 0; i < b->cap; i++)
		cm_ids_free(&b->ids[i]);
	free(b->ids);
	free(b->off);
	free(b->len);
	cm_buf_free(&b->text);
}

/* A counter of the tokenizer contexts, summed over the batch's threads. */
static uint64_t ctx_sum(const cm_tokbatch *b, uint64_t (*counter)(const cm_tok_ctx *c))
{
	uint64_t s = 0;
	int t;

	for (t = 0; t < b->nthreads; t++)
		s += counter(b->ctx[t]);
	return s;
}

uint64_t cm_tokbatch_invalid_runs(const cm_tokbatch *b)
{
	return ctx_sum(b, cm_tok_ctx_invalid_runs);
}

uint64_t cm_tokbatch_regex_failures(const cm_tokbatch *b)
{
	return ctx_sum(b, cm_tok_ctx_regex_failures);
}

void cm_tokpipe_init(cm_tokpipe *p, const cm_tok *tok, int nthreads, int allow_special,
		     void (*write)(cm_tokbatch *b, int slot, void *arg), void *arg)
{
	memset(p, 0, sizeof *p);
	cm_tokbatch_init(&p->b[0], tok, nthreads, allow_special);
	cm_tokbatch_init_like(&p->b[1], &p->b[0]);
	p->flush_bytes = (size_t)p->b[0].nthreads << 22;
	p->flush_docs = (size_t)p->b[0].nthreads * 1024;
	p->write = write;
	p->arg = arg;
}

static void drain(cm_tokpipe *p, int slot)
{
	cm_tokbatch *b = &p->b[slot];

	if (!b->running)
		return;
	cm_tokbatch_wait(b);
	p->write(b, slot, p->arg);
	cm_tokbatch_clear(b);
}

void cm_tokpipe_flush(cm_tokpipe *p)
{
	if (!p->b[p->cur].n)
		return;
	drain(p, p->cur ^ 1);
	cm_tokbatch_start(&p->b[p->cur]);
	p->cur ^= 1;
}

void cm_tokpipe_added(cm_tokpipe *p)
{
	const cm_tokbatch *b = &p->b[p->cur];

	if (b->text.len >= p->flush_bytes || b->n >= p->flush_docs)
		cm_tokpipe_flush(p);
}

void cm_tokpipe_finish(cm_tokpipe *p)
{
	cm_tokpipe_flush(p);
	drain(p, p->cur ^ 1);
}

void cm_tokpipe_free(cm_tokpipe *p)
{
	cm_tokbatch_free(&p->b[1]);
	cm_tokbatch_free(&p->b[0]);
}
