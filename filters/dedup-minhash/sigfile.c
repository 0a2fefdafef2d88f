/* sigfile.c - signature files and duplicate lists (see sigfile.h for the layouts). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "le.h"
#include "sigfile.h"

#define SIG_MAGIC "c2lm-sig"
#define DUP_MAGIC "c2lm-dup"
#define END_MAGIC "c2lm-end"
#define HDR_FIXED 64
#define SIG_TRAILER 32
#define DUP_TRAILER 24
#define DUP_ENTRY 40
#define MAX_HASHES 4096

static uint64_t dbits(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	return u;
}

static double bitsd(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

static size_t sig_rec_len(const dm_params *p)
{
	return 8 + 32 + 8 * (size_t)p->bands + (p->flags & DM_P_VERIFY ? 4 * (size_t)p->bands * p->rows : 0);
}

/* --- writing --- */

static void bw_put(dm_bw *w, const void *p, size_t n)
{
	XXH3_64bits_update(w->st, p, n);
	cm_output_write(w->o, p, n);
}

/* The fixed header's first 16 bytes, the caller's 48, then the names, padded. */
static void bw_header(dm_bw *w, const char *path, const char *magic, unsigned version, unsigned char *fixed,
		      unsigned nsets, const char (*sets)[256])
{
	cm_buf h = CM_BUF_INIT;
	unsigned char len[2];
	unsigned i;

	/* replaced whole when finished: make never sees half a file */
	w->o = cm_output_open_atomic(path, 0);
	w->st = XXH3_createState();
	if (!w->st)
		cm_die("out of memory");
	XXH3_64bits_reset(w->st);
	w->n = 0;
	memcpy(fixed, magic, 8);
	cm_put32(fixed + 8, version);
	cm_put32(fixed + 56, nsets);
	cm_put32(fixed + 60, 0);
	cm_buf_add(&h, (const char *)fixed, HDR_FIXED);
	for (i = 0; i < nsets; i++) {
		size_t n = strlen(sets[i]);

		len[0] = (unsigned char)n;
		len[1] = (unsigned char)(n >> 8);
		cm_buf_add(&h, (const char *)len, 2);
		cm_buf_add(&h, sets[i], n);
	}
	while (h.len % 8)
		cm_buf_add(&h, "", 1);
	cm_put32((unsigned char *)h.p + 12, (uint32_t)h.len);
	bw_put(w, h.p, h.len);
	cm_buf_free(&h);
}

void dm_sig_create(dm_bw *w, const char *path, const dm_params *p)
{
	unsigned char f[HDR_FIXED];

	memset(w, 0, sizeof(*w));
	cm_put32(f + 16, (uint32_t)sig_rec_len(p));
	cm_put32(f + 20, p->ngram);
	cm_put32(f + 24, p->bands);
	cm_put32(f + 28, p->rows);
	cm_put32(f + 32, p->against_ngram);
	cm_put32(f + 36, p->flags);
	cm_put64(f + 40, p->seed);
	cm_put64(f + 48, dbits(p->threshold));
	bw_header(w, path, SIG_MAGIC, DM_SIG_VERSION, f, p->nsets, p->sets);
}

void dm_sig_add(dm_bw *w, const dm_params *p, const dm_sigrec *r)
{
	size_t len = sig_rec_len(p), k = (size_t)p->bands * p->rows, i;
	unsigned char *b;

	cm_buf_reset(&w->rec);
	if (w->rec.cap <= len)
		cm_buf_grow(&w->rec, len);
	b = (unsigned char *)w->rec.p;
	cm_put32(b, r->flags);
	cm_put32(b + 4, r->sets);
	cm_put64(b + 8, r->url[0]);
	cm_put64(b + 16, r->url[1]);
	cm_put64(b + 24, r->text[0]);
	cm_put64(b + 32, r->text[1]);
	for (i = 0; i < p->bands; i++)
		cm_put64(b + 40 + 8 * i, r->band[i]);
	if (p->flags & DM_P_VERIFY)
		for (i = 0; i < k; i++)
			cm_put32(b + 40 + 8 * p->bands + 4 * i, r->sig[i]);
	bw_put(w, b, len);
	w->n++;
}

static void bw_finish(dm_bw *w, const uint64_t *extra, int nextra)
{
	unsigned char t[SIG_TRAILER];
	size_t n = 8;

	memcpy(t, END_MAGIC, 8);
	cm_put64(t + n, w->n);
	n += 8;
	for (int i = 0; i < nextra; i++, n += 8)
		cm_put64(t + n, extra[i]);
	XXH3_64bits_update(w->st, t, n);
	cm_put64(t + n, XXH3_64bits_digest(w->st));
	cm_output_write(w->o, t, n + 8);
	cm_output_close(w->o);
	XXH3_freeState(w->st);
	cm_buf_free(&w->rec);
	memset(w, 0, sizeof(*w));
}

void dm_sig_finish(dm_bw *w, uint64_t fingerprint)
{
	bw_finish(w, &fingerprint, 1);
}

void dm_dup_create(dm_bw *w, const char *path, const dm_dup_header *h)
{
	unsigned char f[HDR_FIXED];

	memset(w, 0, sizeof(*w));
	cm_put32(f + 16, DUP_ENTRY);
	cm_put32(f + 20, h->flags);
	cm_put32(f + 24, h->shard);
	cm_put32(f + 28, h->shards);
	cm_put64(f + 32, h->first);
	cm_put64(f + 40, h->docs);
	cm_put64(f + 48, h->fingerprint);
	bw_header(w, path, DUP_MAGIC, DM_DUP_VERSION, f, h->nsets, h->sets);
}

void dm_dup_add(dm_bw *w, const dm_dupent *e)
{
	unsigned char b[DUP_ENTRY];

	cm_put64(b, e->doc);
	cm_put64(b + 8, e->cluster);
	cm_put64(b + 16, e->of);
	cm_put64(b + 24, dbits(e->sim));
	cm_put32(b + 32, e->sets);
	cm_put32(b + 36, e->kind);
	bw_put(w, b, sizeof(b));
	w->n++;
}

void dm_dup_finish(dm_bw *w)
{
	bw_finish(w, NULL, 0);
}

void dm_bw_abort(dm_bw *w)
{
	cm_output_abort(w->o);
	XXH3_freeState(w->st);
	cm_buf_free(&w->rec);
	memset(w, 0, sizeof(*w));
}

/* --- reading --- */

static int fail(dm_br *br, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(dm_br *br, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(br->err, sizeof(br->err), "%s: ", br->path ? br->path : "?");

	va_start(ap, fmt);
	vsnprintf(br->err + n, sizeof(br->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static int read_at(dm_br *br, void *p, size_t n, uint64_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fileno(br->fp), (char *)p + got, n - got, (off_t)(off + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return fail(br, "cannot read: %s", r < 0 ? strerror(errno) : "it ends early");
		got += (size_t)r;
	}
	return 0;
}

/* Open, check the magic, the version, the header's names; fills hdr (HDR_FIXED bytes). */
static int open_common(dm_br *br, const char *path, const char *magic, const char *what, unsigned version,
		       size_t trailer, unsigned char *hdr, unsigned *nsets, char (*sets)[256])
{
	struct stat st;
	size_t off;
	unsigned i;

	memset(br, 0, sizeof(*br));
	br->path = cm_xstrdup(path);
	if (!(br->fp = fopen(path, "rb")))
		return fail(br, "%s", strerror(errno));
	if (fstat(fileno(br->fp), &st) != 0 || !S_ISREG(st.st_mode))
		return fail(br, "not a regular file (a %s must be one)", what);
	br->size = (uint64_t)st.st_size;
	if (br->size < 8 || read_at(br, hdr, 8, 0) != 0 || memcmp(hdr, magic, 8) != 0) {
		if (br->size >= 8 && (memcmp(hdr, SIG_MAGIC, 8) == 0 || memcmp(hdr, DUP_MAGIC, 8) == 0))
			return fail(br, "a %s, not a %s", memcmp(hdr, SIG_MAGIC, 8) == 0 ? "signature file" :
				    "duplicate list", what);
		return fail(br, "not a dedup-minhash %s (no '%s' at the start)", what, magic);
	}
	if (br->size < HDR_FIXED + trailer)
		return fail(br, "truncated: %llu bytes, shorter than any %s", (unsigned long long)br->size, what);
	if (read_at(br, hdr, HDR_FIXED, 0) != 0)
		return -1;
	if (cm_get32(hdr + 8) != version)
		return fail(br, "%s version %u: this dedup-minhash reads version %u", what, cm_get32(hdr + 8), version);
	br->hdr_len = cm_get32(hdr + 12);
	br->rec_len = cm_get32(hdr + 16);
	*nsets = cm_get32(hdr + 56);
	if (br->hdr_len < HDR_FIXED || br->hdr_len % 8 || br->hdr_len > br->size - trailer || *nsets > DM_MAX_SETS ||
	    br->rec_len == 0 || br->rec_len > 1 << 20)
		return fail(br, "damaged header");
	/* the header, the trailer's first bytes, a record, a signature */
	br->buf = cm_xmalloc(br->hdr_len + SIG_TRAILER + 2 * br->rec_len);
	br->trailer_len = trailer;
	if (read_at(br, br->buf, br->hdr_len, 0) != 0)
		return -1;
	for (i = 0, off = HDR_FIXED; i < *nsets; i++) {
		size_t n;

		if (off + 2 > br->hdr_len)
			return fail(br, "damaged header (set names)");
		n = (size_t)br->buf[off] | (size_t)br->buf[off + 1] << 8;
		off += 2;
		if (n == 0 || n > 255 || off + n > br->hdr_len || memchr(br->buf + off, 0, n))
			return fail(br, "damaged header (set names)");
		memcpy(sets[i], br->buf + off, n);
		sets[i][n] = '\0';
		off += n;
	}
	{
		unsigned char t[SIG_TRAILER];

		if (read_at(br, t, trailer, br->size - trailer) != 0)
			return -1;
		if (memcmp(t, END_MAGIC, 8) != 0)
			return fail(br, "truncated: no end mark (was the program that wrote it interrupted?)");
		if ((br->size - br->hdr_len - trailer) % br->rec_len)
			return fail(br, "damaged: %llu bytes of records is not a whole number of %zu-byte records",
				    (unsigned long long)(br->size - br->hdr_len - trailer), br->rec_len);
		br->n = (br->size - br->hdr_len - trailer) / br->rec_len;
		if (cm_get64(t + 8) != br->n)
			return fail(br, "damaged: the end mark counts %llu records, the size %llu",
				    (unsigned long long)cm_get64(t + 8), (unsigned long long)br->n);
		if (trailer == SIG_TRAILER)
			br->fingerprint = cm_get64(t + 16);
		br->sum = cm_get64(t + trailer - 8);
		/* the trailer's bytes before the checksum, kept for the end of each pass */
		memcpy(br->buf + br->hdr_len, t, trailer - 8);
	}
	if (!(br->st = XXH3_createState()))
		cm_die("out of memory");
	return dm_br_rewind(br);
}

int dm_br_rewind(dm_br *br)
{
	XXH3_64bits_reset(br->st);
	XXH3_64bits_update(br->st, br->buf, br->hdr_len);
	br->i = 0;
	if (fseeko(br->fp, (off_t)br->hdr_len, SEEK_SET) != 0)
		return fail(br, "cannot seek: %s", strerror(errno));
	return 0;
}

int dm_sig_open(dm_br *br, const char *path)
{
	unsigned char h[HDR_FIXED];
	dm_params *p = &br->p;

	if (open_common(br, path, SIG_MAGIC, "signature file", DM_SIG_VERSION, SIG_TRAILER, h, &br->p.nsets,
			br->p.sets) != 0)
		return -1;
	p->ngram = cm_get32(h + 20);
	p->bands = cm_get32(h + 24);
	p->rows = cm_get32(h + 28);
	p->against_ngram = cm_get32(h + 32);
	p->flags = cm_get32(h + 36);
	p->seed = cm_get64(h + 40);
	p->threshold = bitsd(cm_get64(h + 48));
	if (p->ngram < 1 || p->ngram > 64 || p->bands < 1 || p->rows < 1 || p->bands * p->rows > MAX_HASHES ||
	    p->flags > 15 || !(p->threshold >= 0 && p->threshold <= 1) || br->rec_len != sig_rec_len(p))
		return fail(br, "damaged header (parameters)");
	return 0;
}

int dm_dup_open(dm_br *br, const char *path)
{
	unsigned char h[HDR_FIXED];
	dm_dup_header *d = &br->d;

	if (open_common(br, path, DUP_MAGIC, "duplicate list", DM_DUP_VERSION, DUP_TRAILER, h, &d->nsets,
			d->sets) != 0)
		return -1;
	d->flags = cm_get32(h + 20);
	d->shard = cm_get32(h + 24);
	d->shards = cm_get32(h + 28);
	d->first = cm_get64(h + 32);
	d->docs = cm_get64(h + 40);
	d->fingerprint = cm_get64(h + 48);
	if (br->rec_len != DUP_ENTRY || d->shard >= d->shards || d->flags & ~(unsigned)DM_P_ANNOTATE)
		return fail(br, "damaged header");
	return 0;
}

/* The next record's bytes into rec (past the header copy), or the end (0) with the checksum. */
static int next_bytes(dm_br *br, unsigned char **rec)
{
	if (br->i == br->n) {
		XXH3_64bits_update(br->st, br->buf + br->hdr_len, br->trailer_len - 8);
		if (XXH3_64bits_digest(br->st) != br->sum)
			return fail(br, "damaged: checksum mismatch");
		return 0;
	}
	*rec = br->buf + br->hdr_len + SIG_TRAILER;
	if (fread(*rec, 1, br->rec_len, br->fp) != br->rec_len)
		return fail(br, "cannot read: %s", ferror(br->fp) ? strerror(errno) : "it ends early");
	XXH3_64bits_update(br->st, *rec, br->rec_len);
	br->i++;
	return 1;
}

int dm_sig_next(dm_br *br, dm_sigrec *r)
{
	unsigned char *b;
	size_t i, k = (size_t)br->p.bands * br->p.rows;
	int st = next_bytes(br, &b);

	if (st <= 0)
		return st;
	r->flags = cm_get32(b);
	r->sets = cm_get32(b + 4);
	r->url[0] = cm_get64(b + 8);
	r->url[1] = cm_get64(b + 16);
	r->text[0] = cm_get64(b + 24);
	r->text[1] = cm_get64(b + 32);
	for (i = 0; i < br->p.bands; i++)
		r->band[i] = cm_get64(b + 40 + 8 * i);
	if (br->p.flags & DM_P_VERIFY && r->sig)
		for (i = 0; i < k; i++)
			r->sig[i] = cm_get32(b + 40 + 8 * br->p.bands + 4 * i);
	return 1;
}

int dm_dup_next(dm_br *br, dm_dupent *e)
{
	unsigned char *b;
	int st = next_bytes(br, &b);

	if (st <= 0)
		return st;
	e->doc = cm_get64(b);
	e->cluster = cm_get64(b + 8);
	e->of = cm_get64(b + 16);
	e->sim = bitsd(cm_get64(b + 24));
	e->sets = cm_get32(b + 32);
	e->kind = cm_get32(b + 36);
	if (e->kind > DM_KIND_URL || e->doc >= br->d.docs)
		return fail(br, "damaged entry %llu", (unsigned long long)br->i - 1);
	return 1;
}

int dm_sig_signature(dm_br *br, uint64_t i, uint32_t *sig)
{
	size_t k = (size_t)br->p.bands * br->p.rows, j;
	unsigned char *b = br->buf + br->hdr_len + SIG_TRAILER + br->rec_len;

	if (!(br->p.flags & DM_P_VERIFY) || i >= br->n)
		return fail(br, "no signature %llu", (unsigned long long)i);
	if (read_at(br, b, 4 * k, br->hdr_len + i * br->rec_len + 40 + 8 * (uint64_t)br->p.bands) != 0)
		return -1;
	for (j = 0; j < k; j++)
		sig[j] = cm_get32(b + 4 * j);
	return 0;
}

void dm_br_close(dm_br *br)
{
	if (br->fp)
		fclose(br->fp);
	if (br->st)
		XXH3_freeState(br->st);
	free(br->buf);
	free(br->path);
	memset(br, 0, sizeof(*br));
}

int dm_params_same(const dm_params *x, const dm_params *y, char *why, size_t n)
{
	unsigned i;

#define DIFF(cond, what)                               \
	do {                                           \
		if (cond) {                            \
			snprintf(why, n, "%s", what);  \
			return 0;                      \
		}                                      \
	} while (0)
	DIFF(x->ngram != y->ngram, "--ngram");
	DIFF(x->bands != y->bands, "--bands");
	DIFF(x->rows != y->rows, "--rows");
	DIFF(x->seed != y->seed, "--seed");
	DIFF((x->flags ^ y->flags) & DM_P_EXACT, "--no-exact");
	DIFF((x->flags ^ y->flags) & DM_P_URLS, "--urls");
	DIFF((x->flags ^ y->flags) & DM_P_VERIFY, "--verify");
	DIFF((x->flags ^ y->flags) & DM_P_ANNOTATE, "--annotate-only");
	DIFF(x->threshold != y->threshold, "--threshold");
	DIFF(x->nsets != y->nsets, "--against");
	if (x->nsets)
		DIFF(x->against_ngram != y->against_ngram, "--against-ngram");
	for (i = 0; i < x->nsets; i++)
		DIFF(strcmp(x->sets[i], y->sets[i]) != 0, "--against");
#undef DIFF
	return 1;
}
