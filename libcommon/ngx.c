/* ngx.c - n-gram index files (see ngx.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "le.h"
#include "ngx.h"

static void wflush(cm_ngx_writer *w)
{
	if (!w->nbuf)
		return;
	XXH3_64bits_update(w->sum, w->buf, w->nbuf);
	if (!w->failed && cm_afile_write(&w->f, w->buf, w->nbuf) < 0) {
		w->failed = 1;
		w->err_no = errno;
	}
	w->nbuf = 0;
}

static void wput(cm_ngx_writer *w, const unsigned char *p, size_t n)
{
	if (w->nbuf + n > sizeof w->buf)
		wflush(w);
	memcpy(w->buf + w->nbuf, p, n);
	w->nbuf += n;
}

int cm_ngx_create(cm_ngx_writer *w, const char *path, unsigned n, char *err, size_t errlen)
{
	memset(w, 0, sizeof *w);
	if (cm_afile_open(&w->f, path, err, errlen) < 0)
		return -1;
	if (!(w->sum = XXH3_createState()))
		cm_die("out of memory");
	XXH3_64bits_reset(w->sum);
	unsigned char h[CM_NGX_HEADER] = { 0 };
	memcpy(h, CM_NGX_MAGIC, 8);
	cm_put32(h + 8, CM_NGX_VERSION);
	cm_put32(h + 12, CM_NGX_HEADER);
	cm_put32(h + 16, n);
	wput(w, h, sizeof h);
	return 0;
}

void cm_ngx_add(cm_ngx_writer *w, uint64_t h)
{
	if (w->count && h <= w->last) {
		if (h == w->last)
			return;
		cm_die("n-gram index: hashes out of order (%016llx after %016llx)",
		       (unsigned long long)h, (unsigned long long)w->last);
	}
	unsigned char b[8];
	cm_put64(b, h);
	wput(w, b, 8);
	w->last = h;
	w->count++;
}

int cm_ngx_commit(cm_ngx_writer *w, char *err, size_t errlen)
{
	unsigned char t[16];
	memcpy(t, "c2lm-end", 8);
	cm_put64(t + 8, w->count);
	wput(w, t, sizeof t);
	wflush(w);
	unsigned char s[8];
	cm_put64(s, XXH3_64bits_digest(w->sum));
	XXH3_freeState(w->sum);
	w->sum = NULL;
	if (!w->failed && cm_afile_write(&w->f, s, 8) < 0) {
		w->failed = 1;
		w->err_no = errno;
	}
	if (w->failed) {
		snprintf(err, errlen, "cannot write '%s': %s", w->f.path, strerror(w->err_no));
		cm_afile_abort(&w->f);
		return -1;
	}
	return cm_afile_commit(&w->f, err, errlen);
}

void cm_ngx_abort(cm_ngx_writer *w)
{
	if (w->sum)
		XXH3_freeState(w->sum);
	w->sum = NULL;
	cm_afile_abort(&w->f);
}

int cm_ngx_is(const unsigned char *first8, size_t got)
{
	return got >= 8 && !memcmp(first8, CM_NGX_MAGIC, 8);
}

static int fail(cm_ngx_reader *r, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "'%s': %s", r->path, what);
	return -1;
}

int cm_ngx_open(cm_ngx_reader *r, const char *path, char *err, size_t errlen)
{
	memset(r, 0, sizeof *r);
	struct stat sb;
	unsigned char h[CM_NGX_HEADER], t[CM_NGX_TRAILER];
	FILE *f = fopen(path, "rb");
	if (!f || fstat(fileno(f), &sb) < 0) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	const char *why = NULL;
	uint64_t size = (uint64_t)sb.st_size, body = 0;
	if (!S_ISREG(sb.st_mode))
		why = "not a regular file";
	else if (fread(h, 1, sizeof h, f) != sizeof h || memcmp(h, CM_NGX_MAGIC, 8))
		why = "not an n-gram index (dedup-minhash sign --ngram-index)";
	else if (cm_get32(h + 8) != CM_NGX_VERSION)
		why = "an n-gram index of another version";
	else if (cm_get32(h + 12) != CM_NGX_HEADER || cm_get32(h + 20) != 0)
		why = "a damaged header";
	else if (cm_get32(h + 16) < 1 || cm_get32(h + 16) > 64)
		why = "a damaged header (n-grams of 1 to 64 words)";
	else if (size < CM_NGX_HEADER + CM_NGX_TRAILER || (size - CM_NGX_HEADER - CM_NGX_TRAILER) % 8)
		why = "cut short or grown: its size is not a header, hashes and a trailer";
	else if (fseeko(f, (off_t)(size - CM_NGX_TRAILER), SEEK_SET) < 0 ||
		 fread(t, 1, sizeof t, f) != sizeof t || memcmp(t, "c2lm-end", 8))
		why = "no end mark: cut short, grown or damaged";
	else if (cm_get64(t + 8) != (body = (size - CM_NGX_HEADER - CM_NGX_TRAILER) / 8))
		why = "the trailer's count disagrees with the size: cut short, grown or damaged";
	else if (fseeko(f, CM_NGX_HEADER, SEEK_SET) < 0)
		why = strerror(errno);
	if (why) {
		snprintf(err, errlen, "'%s': %s", path, why);
		fclose(f);
		return -1;
	}
	r->f = f;
	r->path = cm_xstrdup(path);
	r->n = cm_get32(h + 16);
	r->count = r->left = body;
	if (!(r->sum = XXH3_createState()))
		cm_die("out of memory");
	XXH3_64bits_reset(r->sum);
	XXH3_64bits_update(r->sum, h, sizeof h);
	return 0;
}

int cm_ngx_next(cm_ngx_reader *r, uint64_t *h, char *err, size_t errlen)
{
	if (!r->left) {
		unsigned char t[CM_NGX_TRAILER];
		if (fread(t, 1, sizeof t, r->f) != sizeof t)
			return fail(r, err, errlen, ferror(r->f) ? strerror(errno) : "cut short");
		XXH3_64bits_update(r->sum, t, 16);
		if (cm_get64(t + 16) != XXH3_64bits_digest(r->sum))
			return fail(r, err, errlen, "checksum mismatch: the file is damaged");
		return 0;
	}
	if (r->pos == r->len) {
		uint64_t want = r->left * 8 < sizeof r->buf ? r->left * 8 : sizeof r->buf;
		r->len = fread(r->buf, 1, (size_t)want, r->f);
		r->pos = 0;
		if (r->len != want)
			return fail(r, err, errlen, ferror(r->f) ? strerror(errno) : "cut short");
		XXH3_64bits_update(r->sum, r->buf, r->len);
	}
	uint64_t v = cm_get64(r->buf + r->pos);
	if (r->left != r->count && v <= r->last)
		return fail(r, err, errlen, "hashes out of order: the file is damaged");
	r->pos += 8;
	r->left--;
	r->last = v;
	*h = v;
	return 1;
}

void cm_ngx_close(cm_ngx_reader *r)
{
	if (r->f)
		fclose(r->f);
	if (r->sum)
		XXH3_freeState(r->sum);
	free(r->path);
	memset(r, 0, sizeof *r);
}
