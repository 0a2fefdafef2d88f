/* data.c - shards by glob (mapped), deterministic training windows, evaluation windows, and
 * shard streams. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <jansson.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "cli.h"
#include "data.h"
#include "input.h"
#include "le.h"
#include "shard.h"

static uint32_t tok_at(const lm_shard *s, uint64_t i)
{
	const unsigned char *p = s->tok + i * (uint64_t)s->width;
	return s->width == 2 ? (uint32_t)(p[0] | p[1] << 8) : cm_get32(p);
}

/* A folder shards come from: its lock (or none), and what its manifest lists. */
struct lm_folder {
	char *dir;
	int lock;		/* descriptor holding the shared lock, or CM_SHARD_LOCK_NONE */
	json_t *listed;		/* file name -> tokens, from manifest.json; NULL without one */
};

static struct lm_folder *folder_of(lm_data *d, const char *path, char *err, size_t errlen)
{
	char *copy = cm_xstrdup(path), *dir = dirname(copy), mpath[4096];
	struct lm_folder *f;
	struct stat sb;
	size_t i;

	for (i = 0; i < d->ndirs; i++)
		if (!strcmp(d->dirs[i].dir, dir)) {
			free(copy);
			return &d->dirs[i];
		}
	d->dirs = cm_xrealloc(d->dirs, (d->ndirs + 1) * sizeof *d->dirs);
	f = &d->dirs[d->ndirs++];
	f->dir = cm_xstrdup(dir);
	f->listed = NULL;
	free(copy);
	f->lock = cm_shard_lock_read(f->dir, err, errlen);
	if (f->lock == -1) {
		f->lock = CM_SHARD_LOCK_NONE;
		return NULL;
	}
	snprintf(mpath, sizeof mpath, "%s/manifest.json", f->dir);
	if (stat(mpath, &sb) == 0) {
		if (!(f->listed = cm_shard_manifest_files(mpath, err, errlen)))
			return NULL;
	} else if (f->lock >= 0) {
		/* shard-pack locked this folder once, and never wrote its manifest */
		snprintf(err, errlen, "'%s' has no manifest.json: the shard-pack run that wrote it did not "
			 "finish (run it again)", f->dir);
		return NULL;
	}
	return f;
}

static int add_shard(lm_data *d, const char *path, char *err, size_t errlen)
{
	struct lm_folder *dir = folder_of(d, path, err, errlen);
	if (!dir)
		return -1;
	struct stat sb;
	int fd = cm_open_regular(path, &sb, err, errlen);
	if (fd < 0)
		return -1;
	if (sb.st_size < CM_SHARD_HEADER) {
		snprintf(err, errlen, "'%s' is not a shard (too short for its header)", path);
		close(fd);
		return -1;
	}
	void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		snprintf(err, errlen, "cannot map '%s': %s", path, strerror(errno));
		return -1;
	}
	cm_shard_hdr h;
	char e2[256];
	if (cm_shard_parse(map, sb.st_size, &h, e2, sizeof e2) < 0) {
		snprintf(err, errlen, "'%s': %s", path, e2);
		munmap(map, (size_t)sb.st_size);
		return -1;
	}
	if (dir->listed) {
		/* a folder with a manifest: only the shards it lists, as it lists them */
		char *copy = cm_xstrdup(path);
		json_t *t = json_object_get(dir->listed, basename(copy));
		free(copy);
		int bad = 1;
		if (!t)
			snprintf(err, errlen, "'%s' is not listed in '%s/manifest.json': a stray or stale shard "
				 "(shard-pack --verify names such files)", path, dir->dir);
		else if (!json_is_integer(t) || (uint64_t)json_integer_value(t) != h.ntok)
			snprintf(err, errlen, "'%s' holds %llu tokens where '%s/manifest.json' lists %lld: not "
				 "the shard it lists", path, (unsigned long long)h.ntok, dir->dir,
				 (long long)json_integer_value(t));
		else
			bad = 0;
		if (bad) {
			munmap(map, (size_t)sb.st_size);
			return -1;
		}
	}
	madvise(map, (size_t)sb.st_size, MADV_RANDOM);
	d->s = cm_xrealloc(d->s, (d->n + 1) * sizeof *d->s);
	lm_shard *s = &d->s[d->n++];
	s->path = cm_xstrdup(path);
	s->map = map;
	s->map_size = (size_t)sb.st_size;
	s->tok = (const unsigned char *)map + CM_SHARD_HEADER;
	s->width = h.width;
	s->ntok = h.ntok;
	d->total += h.ntok;
	return 0;
}

int lm_data_open(lm_data *d, const char *globs, int T, uint32_t vocab, uint64_t seed, char *err,
		 size_t errlen)
{
	memset(d, 0, sizeof *d);
	d->T = T;
	d->vocab = vocab;
	d->seed = seed;
	char *list = cm_xstrdup(globs), *save = NULL;
	int r = 0;
	for (char *g = strtok_r(list, ",", &save); g && !r; g = strtok_r(NULL, ",", &save)) {
		glob_t gl;
		int gr = glob(g, GLOB_ERR, NULL, &gl);
		if (gr == GLOB_NOMATCH) {
			snprintf(err, errlen, "no shard matches '%s'", g);
			r = -1;
		} else if (gr) {
			snprintf(err, errlen, "cannot expand '%s'", g);
			r = -1;
		}
		for (size_t i = 0; !r && i < gl.gl_pathc; i++)
			r = add_shard(d, gl.gl_pathv[i], err, errlen);
		if (gr != GLOB_NOMATCH)
			globfree(&gl);
	}
	free(list);
	if (r)
		return -1;
	d->cum = cm_xcalloc(d->n + 1, sizeof *d->cum);
	for (size_t i = 0; i < d->n; i++)
		d->cum[i + 1] = d->cum[i] + (d->s[i].ntok > (uint64_t)T ? d->s[i].ntok - T : 0);
	d->windows = d->cum[d->n];
	if (!d->windows) {
		snprintf(err, errlen, "the shards of '%s' hold %llu tokens: none has the %d a window "
			 "needs", globs, (unsigned long long)d->total, T + 1);
		return -1;
	}
	return 0;
}

int lm_data_open_stream(lm_data *d, FILE *f, const char *name, int T, uint32_t vocab)
{
	memset(d, 0, sizeof *d);
	d->stream = f;
	d->stream_name = name;
	d->T = T;
	d->vocab = vocab;
	return 0;
}

void lm_data_close(lm_data *d)
{
	for (size_t i = 0; i < d->n; i++) {
		munmap(d->s[i].map, d->s[i].map_size);
		free(d->s[i].path);
	}
	for (size_t i = 0; i < d->ndirs; i++) {
		if (d->dirs[i].lock >= 0)
			close(d->dirs[i].lock);
		json_decref(d->dirs[i].listed);
		free(d->dirs[i].dir);
	}
	free(d->dirs);
	free(d->s);
	free(d->cum);
	free(d->sbuf);
	memset(d, 0, sizeof *d);
}

static int check_ids(const lm_data *d, const int32_t *x, size_t n, const char *where, char *err,
		     size_t errlen)
{
	for (size_t i = 0; i < n; i++)
		if ((uint32_t)x[i] >= d->vocab) {
			snprintf(err, errlen, "%s holds token id %u, outside the model's vocabulary of "
				 "%u (shards made with another tokenizer?)", where, (uint32_t)x[i],
				 d->vocab);
			return -1;
		}
	return 0;
}

static void window(const lm_shard *s, uint64_t off, int T, int32_t *x, int32_t *y)
{
	for (int t = 0; t < T; t++) {
		x[t] = (int32_t)tok_at(s, off + t);
		y[t] = (int32_t)tok_at(s, off + t + 1);
	}
}

/* Fill the stream buffer to want tokens; returns how many it holds. */
static int stream_fill(lm_data *d, size_t want, char *err, size_t errlen)
{
	if (!d->sbuf)
		d->sbuf = cm_xmalloc(want * sizeof *d->sbuf);
	while (d->sbuf_n < want) {
		if (!d->left_in_shard) {
			unsigned char h[CM_SHARD_HEADER];
			size_t k = fread(h, 1, sizeof h, d->stream);
			if (k == 0 && feof(d->stream))
				return 0;
			if (k != sizeof h) {
				snprintf(err, errlen, "'%s' ends inside a shard header", d->stream_name);
				return -1;
			}
			cm_shard_hdr sh;
			char e2[256];
			if (cm_shard_parse(h, -1, &sh, e2, sizeof e2) < 0) {
				snprintf(err, errlen, "'%s' after %llu tokens: %s", d->stream_name,
					 (unsigned long long)d->stream_tokens, e2);
				return -1;
			}
			d->swidth = sh.width;
			d->left_in_shard = sh.ntok;
			continue;
		}
		unsigned char b[4];
		if (fread(b, 1, d->swidth, d->stream) != (size_t)d->swidth) {
			snprintf(err, errlen, "'%s' ends inside a shard (%llu tokens short)",
				 d->stream_name, (unsigned long long)d->left_in_shard);
			return -1;
		}
		d->sbuf[d->sbuf_n++] = d->swidth == 2 ? (uint32_t)(b[0] | b[1] << 8) : cm_get32(b);
		d->left_in_shard--;
		d->stream_tokens++;
	}
	return 1;
}

int lm_data_batch(lm_data *d, uint64_t k, int B, int32_t *x, int32_t *y, char *err,
		  size_t errlen)
{
	return lm_data_rows(d, k, 0, 1, B, x, y, err, errlen);
}

int lm_data_rows(lm_data *d, uint64_t k, int first, int stride, int B, int32_t *x, int32_t *y,
		 char *err, size_t errlen)
{
	int T = d->T;
	if (d->stream) {
		if (first != 0 || stride != 1) {
			snprintf(err, errlen, "a stream is read by one process");
			return -1;
		}
		size_t need = (size_t)B * T + 1;
		int r = stream_fill(d, need, err, errlen);
		if (r <= 0)
			return r;
		for (size_t i = 0; i + 1 < need; i++) {
			x[i] = (int32_t)d->sbuf[i];
			y[i] = (int32_t)d->sbuf[i + 1];
		}
		/* the last target is the next batch's first input */
		d->sbuf[0] = d->sbuf[need - 1];
		d->sbuf_n = 1;
		if (check_ids(d, x, need - 1, d->stream_name, err, errlen) < 0 ||
		    check_ids(d, y, need - 1, d->stream_name, err, errlen) < 0)
			return -1;
		return 1;
	}
	for (int b = 0; b < B; b++) {
		uint64_t key[2] = { k, (uint64_t)first + (uint64_t)b * (uint64_t)stride };
		uint64_t w = XXH3_64bits_withSeed(key, sizeof key, d->seed) % d->windows;
		size_t lo = 0, hi = d->n;	/* the shard with cum[i] <= w < cum[i + 1] */
		while (hi - lo > 1) {
			size_t mid = (lo + hi) / 2;
			if (d->cum[mid] <= w)
				lo = mid;
			else
				hi = mid;
		}
		window(&d->s[lo], w - d->cum[lo], T, x + (size_t)b * T, y + (size_t)b * T);
		if (check_ids(d, x + (size_t)b * T, T, d->s[lo].path, err, errlen) < 0 ||
		    check_ids(d, y + (size_t)b * T, T, d->s[lo].path, err, errlen) < 0)
			return -1;
	}
	return 1;
}

uint64_t lm_data_eval_windows(const lm_data *d)
{
	uint64_t n = 0;
	for (size_t i = 0; i < d->n; i++)
		if (d->s[i].ntok > (uint64_t)d->T)
			n += (d->s[i].ntok - 1) / d->T;
	return n;
}

int lm_data_eval_window(const lm_data *d, uint64_t w, int32_t *x, int32_t *y, char *err,
			size_t errlen)
{
	int T = d->T;
	for (size_t i = 0; i < d->n; i++) {
		uint64_t nw = d->s[i].ntok > (uint64_t)T ? (d->s[i].ntok - 1) / T : 0;
		if (w < nw) {
			window(&d->s[i], w * T, T, x, y);
			if (check_ids(d, x, T, d->s[i].path, err, errlen) < 0 ||
			    check_ids(d, y, T, d->s[i].path, err, errlen) < 0)
				return -1;
			return 1;
		}
		w -= nw;
	}
	return 0;
}
