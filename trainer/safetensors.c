/* safetensors.c - safetensors reading (mapped, every offset checked) and writing. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "le.h"
#include "input.h"
#include "safetensors.h"

/* Headers above this are refused: real ones are a few hundred KB even for big models. */
#define ST_MAX_HEADER (100u << 20)

static const struct {
	const char *name;
	cm_st_dtype dt;
	size_t size;
} dtypes[] = {
	{ "F32", CM_ST_F32, 4 }, { "BF16", CM_ST_BF16, 2 }, { "F16", CM_ST_F16, 2 },
	{ "I32", CM_ST_I32, 4 }, { "I64", CM_ST_I64, 8 }, { "U8", CM_ST_U8, 1 },
	{ "F64", CM_ST_F64, 8 },
};

const char *cm_st_dtype_name(cm_st_dtype dt)
{
	for (size_t i = 0; i < sizeof dtypes / sizeof *dtypes; i++)
		if (dtypes[i].dt == dt)
			return dtypes[i].name;
	return "?";
}

size_t cm_st_dtype_size(cm_st_dtype dt)
{
	for (size_t i = 0; i < sizeof dtypes / sizeof *dtypes; i++)
		if (dtypes[i].dt == dt)
			return dtypes[i].size;
	return 0;
}

static int parse_entry(cm_st *st, const char *name, json_t *v, const unsigned char *base,
		       size_t dsize, cm_st_tensor *t, char *err, size_t errlen)
{
	json_t *dt = json_object_get(v, "dtype"), *sh = json_object_get(v, "shape");
	json_t *off = json_object_get(v, "data_offsets");
	if (!json_is_string(dt) || !json_is_array(sh) || !json_is_array(off) ||
	    json_array_size(off) != 2) {
		snprintf(err, errlen, "'%s': tensor '%s' lacks dtype, shape or data_offsets", st->path,
			 name);
		return -1;
	}
	size_t k, es = 0;
	for (k = 0; k < sizeof dtypes / sizeof *dtypes; k++)
		if (!strcmp(json_string_value(dt), dtypes[k].name))
			break;
	if (k == sizeof dtypes / sizeof *dtypes) {
		snprintf(err, errlen, "'%s': tensor '%s' has dtype %s (this reader knows F32, BF16, "
			 "F16, F64, I32, I64, U8)", st->path, name, json_string_value(dt));
		return -1;
	}
	t->dtype = dtypes[k].dt;
	es = dtypes[k].size;
	if (json_array_size(sh) > CM_ST_MAXDIM) {
		snprintf(err, errlen, "'%s': tensor '%s' has %zu dimensions", st->path, name,
			 json_array_size(sh));
		return -1;
	}
	t->ndim = (int)json_array_size(sh);
	uint64_t n = 1;
	for (int i = 0; i < t->ndim; i++) {
		json_t *d = json_array_get(sh, i);
		if (!json_is_integer(d) || json_integer_value(d) < 0 ||
		    json_integer_value(d) > (json_int_t)1 << 40) {
			snprintf(err, errlen, "'%s': tensor '%s' has a bad shape", st->path, name);
			return -1;
		}
		t->shape[i] = json_integer_value(d);
		if (t->shape[i] && n > UINT64_MAX / 16 / (uint64_t)t->shape[i]) {
			snprintf(err, errlen, "'%s': tensor '%s' is too large", st->path, name);
			return -1;
		}
		n *= (uint64_t)t->shape[i];
	}
	json_t *a = json_array_get(off, 0), *b = json_array_get(off, 1);
	if (!json_is_integer(a) || !json_is_integer(b) || json_integer_value(a) < 0 ||
	    json_integer_value(b) < json_integer_value(a) ||
	    (uint64_t)json_integer_value(b) > dsize) {
		snprintf(err, errlen, "'%s': tensor '%s' lies outside the file (truncated?)", st->path,
			 name);
		return -1;
	}
	uint64_t bytes = (uint64_t)(json_integer_value(b) - json_integer_value(a));
	if (bytes != n * es) {
		snprintf(err, errlen, "'%s': tensor '%s' has %llu bytes for %llu elements of %s",
			 st->path, name, (unsigned long long)bytes, (unsigned long long)n,
			 dtypes[k].name);
		return -1;
	}
	t->n = (int64_t)n;
	t->bytes = bytes;
	t->data = base + json_integer_value(a);
	t->name = cm_xstrdup(name);
	return 0;
}

cm_st *cm_st_open(const char *path, char *err, size_t errlen)
{
	struct stat sb;
	int fd = cm_open_regular(path, &sb, err, errlen);
	if (fd < 0)
		return NULL;
	cm_st *st = cm_xcalloc(1, sizeof *st);
	st->path = cm_xstrdup(path);
	st->size = (size_t)sb.st_size;
	if (st->size < 8) {
		snprintf(err, errlen, "'%s' is too short for safetensors (%zu bytes)", path, st->size);
		goto fail;
	}
	st->map = mmap(NULL, st->size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (st->map == MAP_FAILED) {
		st->map = NULL;
		snprintf(err, errlen, "cannot map '%s': %s", path, strerror(errno));
		goto fail;
	}
	close(fd);
	fd = -1;
	const unsigned char *p = st->map;
	uint64_t hl = cm_get64(p);
	if (hl > ST_MAX_HEADER || hl > st->size - 8) {
		snprintf(err, errlen, "'%s': header of %llu bytes in a file of %zu (not safetensors, "
			 "or truncated)", path, (unsigned long long)hl, st->size);
		goto fail;
	}
	json_error_t je;
	json_t *h = json_loadb((const char *)p + 8, hl, JSON_REJECT_DUPLICATES, &je);
	if (!h || !json_is_object(h)) {
		snprintf(err, errlen, "'%s': bad header: %s", path, h ? "not an object" : je.text);
		json_decref(h);
		goto fail;
	}
	const unsigned char *base = p + 8 + hl;
	size_t dsize = st->size - 8 - hl;
	st->t = cm_xcalloc(json_object_size(h) + 1, sizeof *st->t);
	const char *key;
	json_t *v;
	json_object_foreach(h, key, v) {
		if (!strcmp(key, "__metadata__")) {
			st->metadata_json = json_dumps(v, JSON_COMPACT);
			continue;
		}
		if (!json_is_object(v)) {
			snprintf(err, errlen, "'%s': entry '%s' is not an object", path, key);
			json_decref(h);
			goto fail;
		}
		if (parse_entry(st, key, v, base, dsize, &st->t[st->n], err, errlen) < 0) {
			json_decref(h);
			goto fail;
		}
		st->n++;
	}
	json_decref(h);
	return st;
fail:
	if (fd >= 0)
		close(fd);
	cm_st_close(st);
	return NULL;
}

void cm_st_close(cm_st *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n; i++)
		free(st->t[i].name);
	free(st->t);
	if (st->map)
		munmap(st->map, st->size);
	free(st->metadata_json);
	free(st->path);
	free(st);
}

const cm_st_tensor *cm_st_find(const cm_st *st, const char *name)
{
	for (size_t i = 0; i < st->n; i++)
		if (!strcmp(st->t[i].name, name))
			return &st->t[i];
	return NULL;
}

char *cm_st_meta(const cm_st *st, const char *key)
{
	if (!st->metadata_json)
		return NULL;
	json_t *m = json_loads(st->metadata_json, 0, NULL);	/* the header's, checked already */
	json_t *v = m ? json_object_get(m, key) : NULL;
	char *s = json_is_string(v) ? cm_xstrdup(json_string_value(v)) : NULL;
	json_decref(m);
	return s;
}

static float half_to_f32(uint16_t h)
{
	uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 31, m = h & 1023, u;
	if (e == 0) {
		if (!m) {
			u = s;
		} else {	/* subnormal: normalise */
			e = 113;
			while (!(m & 1024)) {
				m <<= 1;
				e--;
			}
			u = s | e << 23 | (m & 1023) << 13;
		}
	} else if (e == 31) {
		u = s | 0x7f800000u | m << 13;
	} else {
		u = s | (e + 112) << 23 | m << 13;
	}
	float f;
	memcpy(&f, &u, 4);
	return f;
}

int cm_st_to_f32(const cm_st_tensor *t, int64_t off, int64_t n, float *dst)
{
	if (off < 0 || n < 0 || off + n > t->n)
		return -1;
	const unsigned char *p = t->data;
	switch (t->dtype) {
	case CM_ST_F32:
		for (int64_t i = 0; i < n; i++) {
			uint32_t u = cm_get32(p + 4 * (off + i));
			memcpy(&dst[i], &u, 4);
		}
		return 0;
	case CM_ST_BF16:
		for (int64_t i = 0; i < n; i++) {
			const unsigned char *q = p + 2 * (off + i);
			uint32_t u = (uint32_t)(q[0] | q[1] << 8) << 16;
			memcpy(&dst[i], &u, 4);
		}
		return 0;
	case CM_ST_F16:
		for (int64_t i = 0; i < n; i++) {
			const unsigned char *q = p + 2 * (off + i);
			dst[i] = half_to_f32((uint16_t)(q[0] | q[1] << 8));
		}
		return 0;
	case CM_ST_F64:
		for (int64_t i = 0; i < n; i++) {
			uint64_t u = cm_get64(p + 8 * (off + i));
			double d;
			memcpy(&d, &u, 8);
			dst[i] = (float)d;
		}
		return 0;
	default:
		return -1;
	}
}

/* Writing */

typedef struct st_item {
	char *name;
	cm_st_dtype dt;
	int ndim;
	int64_t shape[CM_ST_MAXDIM];
	const void *data;
	size_t bytes;
	void (*fill)(void *ctx, size_t off, size_t n, void *buf);	/* or data */
	void *ctx;
	size_t piece;
} st_item;

struct cm_st_writer {
	st_item *it;
	size_t n, cap;
	json_t *meta;
};

cm_st_writer *cm_st_writer_new(void)
{
	cm_st_writer *w = cm_xcalloc(1, sizeof *w);
	w->meta = json_object();
	json_object_set_new(w->meta, "format", json_string("pt"));
	return w;
}

void cm_st_writer_add(cm_st_writer *w, const char *name, cm_st_dtype dt, int ndim,
		      const int64_t *shape, const void *data)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 64;
		w->it = cm_xrealloc(w->it, w->cap * sizeof *w->it);
	}
	st_item *t = &w->it[w->n++];
	memset(t, 0, sizeof *t);
	t->name = cm_xstrdup(name);
	t->dt = dt;
	t->ndim = ndim;
	size_t n = 1;
	for (int i = 0; i < ndim; i++) {
		t->shape[i] = shape[i];
		n *= (size_t)shape[i];
	}
	t->data = data;
	t->bytes = n * cm_st_dtype_size(dt);
}

void cm_st_writer_add_fill(cm_st_writer *w, const char *name, cm_st_dtype dt, int ndim,
			   const int64_t *shape, size_t piece,
			   void (*fill)(void *ctx, size_t off, size_t n, void *buf), void *ctx)
{
	cm_st_writer_add(w, name, dt, ndim, shape, NULL);
	st_item *t = &w->it[w->n - 1];
	t->fill = fill;
	t->ctx = ctx;
	t->piece = piece > 0 ? piece : 1;
}

void cm_st_writer_meta(cm_st_writer *w, const char *key, const char *value)
{
	json_object_set_new(w->meta, key, json_string(value));
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t k = write(fd, c, n > (1u << 30) ? (1u << 30) : n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

int cm_st_write(cm_st_writer *w, const char *path, char *err, size_t errlen)
{
	json_t *h = json_object();
	json_object_set(h, "__metadata__", w->meta);
	uint64_t off = 0;
	for (size_t i = 0; i < w->n; i++) {
		st_item *t = &w->it[i];
		json_t *e = json_object(), *sh = json_array(), *of = json_array();
		for (int d = 0; d < t->ndim; d++)
			json_array_append_new(sh, json_integer(t->shape[d]));
		json_array_append_new(of, json_integer((json_int_t)off));
		json_array_append_new(of, json_integer((json_int_t)(off + t->bytes)));
		json_object_set_new(e, "dtype", json_string(cm_st_dtype_name(t->dt)));
		json_object_set_new(e, "shape", sh);
		json_object_set_new(e, "data_offsets", of);
		json_object_set_new(h, t->name, e);
		off += t->bytes;
	}
	char *js = json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(h);
	size_t jl = strlen(js), pad = (8 - jl % 8) % 8;
	unsigned char len[8];
	cm_put64(len, jl + pad);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create '%s': %s", path, strerror(errno));
		free(js);
		return -1;
	}
	int bad = write_all(fd, len, 8) || write_all(fd, js, jl) || write_all(fd, "        ", pad);
	free(js);
	void *buf = NULL;
	for (size_t i = 0; !bad && i < w->n; i++) {
		const st_item *t = &w->it[i];
		if (!t->fill) {
			bad = write_all(fd, t->data, t->bytes);
			continue;
		}
		buf = cm_xrealloc(buf, t->piece);
		for (size_t off = 0; !bad && off < t->bytes; off += t->piece) {
			size_t k = t->bytes - off < t->piece ? t->bytes - off : t->piece;
			t->fill(t->ctx, off, k, buf);
			bad = write_all(fd, buf, k);
		}
	}
	free(buf);
	if (!bad)
		bad = fsync(fd);
	if (close(fd) < 0)
		bad = 1;
	if (bad) {
		snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

void cm_st_writer_free(cm_st_writer *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n; i++)
		free(w->it[i].name);
	free(w->it);
	json_decref(w->meta);
	free(w);
}
