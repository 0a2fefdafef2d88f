/* ckpt.c - Hugging Face weights in and out (safetensors, config.json, sharded indexes), and
 * lm-train's checkpoints: their files, checksums and trainer state.
 *
 * trainer.json of one of lm-train's checkpoints lists the size and XXH3-64 of each file
 * written beside it ("files"). Every file of a checkpoint directory is read through
 * lm_ckpt_read or lm_ckpt_st_open, which check the bytes against that list before anything
 * is parsed: damaged weights, optimizer state, config or tokenizer are an error naming the
 * file, in lm-sample, --init and --resume alike. Checkpoints from before the list hold only
 * the hash of the loaded parameters (params_xxh3), which lm_load_weights checks instead; a
 * directory without trainer.json (Hugging Face's) vouches for nothing, said at -v.
 *
 * lm-train writes its checkpoints here too (lm_ckpt_write): the files, their checksums and
 * the trainer's state; run.c decides where and when. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "buf.h"
#include "ckpt.h"
#include "sft.h"
#include "cli.h"
#include "input.h"
#include "output.h"
#include "safetensors.h"
#include "tok.h"

static int is_dir(const char *p)
{
	struct stat sb;
	return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int exists(const char *p)
{
	struct stat sb;
	return stat(p, &sb) == 0;
}

/* The directory part of path ("." for none) and the file's name. */
static void split_path(const char *path, char *dir, size_t dirlen, const char **base)
{
	const char *sl = strrchr(path, '/');
	if (!sl)
		snprintf(dir, dirlen, ".");
	else
		snprintf(dir, dirlen, "%.*s", sl == path ? 1 : (int)(sl - path), path);
	*base = sl ? sl + 1 : path;
}

json_t *lm_ckpt_trainer(const char *dir, char *err, size_t errlen)
{
	char p[4200];
	snprintf(p, sizeof p, "%s/trainer.json", dir);
	if (access(p, F_OK) != 0 && errno == ENOENT)
		return json_null();
	char e2[4400];
	json_t *t = cm_json_load_file(p, 64 << 20, e2, sizeof e2);
	if (!json_is_object(t)) {
		if (t)
			snprintf(err, errlen, "cannot read '%s': not a JSON object", p);
		else
			snprintf(err, errlen, "cannot read %s", e2);
		json_decref(t);
		return NULL;
	}
	return t;
}

/* The entry of path in its directory's trainer.json: 1 and *e (a new reference), 0 when
 * there is none, -1 when trainer.json cannot be read. */
static int sum_entry(const char *path, json_t **e, char *err, size_t errlen)
{
	char dir[4096];
	const char *base;
	split_path(path, dir, sizeof dir, &base);
	json_t *t = lm_ckpt_trainer(dir, err, errlen);
	if (!t)
		return -1;
	*e = json_incref(json_object_get(json_object_get(t, "files"), base));
	json_decref(t);
	return *e != NULL;
}

/* A file's size and XXH3-64 against its entry: 1, or -1 with the reason. */
static int sum_check(const char *path, json_t *e, size_t n, uint64_t h, char *err, size_t errlen)
{
	json_t *jb = json_object_get(e, "bytes"), *jh = json_object_get(e, "xxh3");
	char hx[32];
	snprintf(hx, sizeof hx, "%016llx", (unsigned long long)h);
	if (!json_is_integer(jb) || !json_is_string(jh)) {
		snprintf(err, errlen, "the checkpoint's trainer.json has a damaged entry for '%s'", path);
		return -1;
	}
	if ((json_int_t)n != json_integer_value(jb)) {
		snprintf(err, errlen, "'%s' is %zu bytes, its checkpoint's trainer.json says %lld "
			 "(truncated or damaged)", path, n, (long long)json_integer_value(jb));
		return -1;
	}
	if (strcmp(json_string_value(jh), hx)) {
		snprintf(err, errlen, "'%s' does not match its checksum in trainer.json (damaged)", path);
		return -1;
	}
	return 1;
}

int lm_ckpt_verify(const char *path, const void *data, size_t n, char *err, size_t errlen)
{
	json_t *e;
	int r = sum_entry(path, &e, err, errlen);
	if (r <= 0)
		return r;
	r = sum_check(path, e, n, XXH3_64bits(data, n), err, errlen);
	json_decref(e);
	return r;
}

int lm_file_xxh3(const char *path, size_t *n, uint64_t *h, char *err, size_t errlen)
{
	struct stat sb;
	int fd = cm_open_regular(path, &sb, err, errlen);
	if (fd < 0)
		return -1;
	size_t len = (size_t)sb.st_size;
	void *map = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
	close(fd);
	if (map == MAP_FAILED) {
		snprintf(err, errlen, "cannot map '%s': %s", path, strerror(errno));
		return -1;
	}
	*n = len;
	*h = XXH3_64bits(map ? map : "", len);
	if (map)
		munmap(map, len);
	return 0;
}

char *lm_ckpt_read(const char *path, size_t max, size_t *n, int *verified, char *err,
		   size_t errlen)
{
	struct stat sb;
	int fd = cm_open_regular(path, &sb, err, errlen);
	if (fd < 0)
		return NULL;
	if ((uint64_t)sb.st_size > max) {
		snprintf(err, errlen, "'%s' is %lld bytes, more than the %zu a checkpoint's file may "
			 "have here", path, (long long)sb.st_size, max);
		close(fd);
		return NULL;
	}
	size_t len = (size_t)sb.st_size, got = 0;
	char *b = cm_xmalloc(len + 1);
	while (got < len) {
		ssize_t k = read(fd, b + got, len - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			snprintf(err, errlen, "cannot read '%s': %s", path, k ? strerror(errno) :
				 "it shrank while read");
			close(fd);
			free(b);
			return NULL;
		}
		got += (size_t)k;
	}
	close(fd);
	b[len] = 0;
	int v = lm_ckpt_verify(path, b, len, err, errlen);
	if (v < 0) {
		free(b);
		return NULL;
	}
	if (verified)
		*verified = v;
	if (n)
		*n = len;
	return b;
}

cm_st *lm_ckpt_st_open(const char *path, int *verified, char *err, size_t errlen)
{
	/* the bytes are checked before cm_st_open parses them: a damaged header is reported as
	 * damage, not as a format error */
	json_t *e;
	int r = sum_entry(path, &e, err, errlen);
	if (r < 0)
		return NULL;
	if (r) {
		size_t n;
		uint64_t h;
		r = lm_file_xxh3(path, &n, &h, err, errlen) < 0 ? -1 :
		    sum_check(path, e, n, h, err, errlen);
		json_decref(e);
		if (r < 0)
			return NULL;
	}
	if (verified)
		*verified = r;
	return cm_st_open(path, err, errlen);
}

cm_tok *lm_ckpt_tokenizer(const char *path, char *err, size_t errlen)
{
	char dir[4096];
	const char *base;
	split_path(path, dir, sizeof dir, &base);
	json_t *t = lm_ckpt_trainer(dir, err, errlen);
	if (!t)
		return NULL;
	int listed = json_object_get(json_object_get(t, "files"), base) != NULL;
	json_decref(t);
	if (!listed)	/* any tokenizer file, compressed rank files too */
		return cm_tok_load(path, NULL, err, errlen);
	size_t n;
	char *b = lm_ckpt_read(path, CM_TOK_FILE_MAX, &n, NULL, err, errlen);
	if (!b)
		return NULL;
	cm_tok *tok = cm_tok_parse(path, b, n, NULL, err, errlen);
	free(b);
	return tok;
}

/* A JSON file of a checkpoint, whole and checked. */
static char *read_small(const char *path, char *err, size_t errlen)
{
	return lm_ckpt_read(path, 64u << 20, NULL, NULL, err, errlen);
}

int lm_ckpt_config(const char *path, lm_config *cfg, char *err, size_t errlen)
{
	char p[4096];
	if (!exists(path)) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	if (is_dir(path)) {
		snprintf(p, sizeof p, "%s/config.json", path);
	} else {
		const char *sl = strrchr(path, '/');
		snprintf(p, sizeof p, "%.*sconfig.json", sl ? (int)(sl - path + 1) : 0, path);
	}
	char *js = read_small(p, err, errlen);
	if (!js)
		return -1;
	char e2[512];
	int r = lm_config_parse(cfg, js, e2, sizeof e2);
	free(js);
	if (r < 0)
		snprintf(err, errlen, "'%s': %s", p, e2);
	return r;
}

/* The files holding the weights: one file, a directory's model.safetensors, or the shards an
 * index names. */
typedef struct stset {
	cm_st **f;
	size_t n;
	int unverified;		/* files no checksum vouched for */
} stset;

static void stset_free(stset *s)
{
	for (size_t i = 0; i < s->n; i++)
		cm_st_close(s->f[i]);
	free(s->f);
}

static int stset_add(stset *s, const char *path, char *err, size_t errlen)
{
	int v = 0;
	cm_st *st = lm_ckpt_st_open(path, &v, err, errlen);
	if (!st)
		return -1;
	s->unverified += !v;
	s->f = cm_xrealloc(s->f, (s->n + 1) * sizeof *s->f);
	s->f[s->n++] = st;
	return 0;
}

static int stset_open(stset *s, const char *path, char *err, size_t errlen)
{
	char p[4096];
	memset(s, 0, sizeof *s);
	if (!is_dir(path))
		return stset_add(s, path, err, errlen);
	snprintf(p, sizeof p, "%s/model.safetensors", path);
	if (exists(p))
		return stset_add(s, p, err, errlen);
	snprintf(p, sizeof p, "%s/model.safetensors.index.json", path);
	if (!exists(p)) {
		snprintf(err, errlen, "'%s' holds neither model.safetensors nor "
			 "model.safetensors.index.json", path);
		return -1;
	}
	char *js = read_small(p, err, errlen);
	if (!js)
		return -1;
	json_t *o = json_loads(js, JSON_REJECT_DUPLICATES, NULL);
	free(js);
	json_t *wm = json_object_get(o, "weight_map");
	if (!json_is_object(wm)) {
		snprintf(err, errlen, "'%s' has no weight_map", p);
		json_decref(o);
		return -1;
	}
	/* each shard once, in order of first mention */
	const char *key;
	json_t *v;
	char **seen = NULL;
	size_t nseen = 0;
	int r = 0;
	json_object_foreach(wm, key, v) {
		const char *fn = json_string_value(v);
		if (!fn || strchr(fn, '/') || !strcmp(fn, "..")) {
			snprintf(err, errlen, "'%s': bad shard name for '%s'", p, key);
			r = -1;
			break;
		}
		size_t k;
		for (k = 0; k < nseen && strcmp(seen[k], fn); k++)
			;
		if (k < nseen)
			continue;
		seen = cm_xrealloc(seen, (nseen + 1) * sizeof *seen);
		seen[nseen++] = cm_xstrdup(fn);
		char sp[4096];
		snprintf(sp, sizeof sp, "%s/%s", path, fn);
		if ((r = stset_add(s, sp, err, errlen)) < 0)
			break;
	}
	for (size_t k = 0; k < nseen; k++)
		free(seen[k]);
	free(seen);
	json_decref(o);
	return r;
}

static const cm_st_tensor *stset_find(const stset *s, const char *name, const char **file)
{
	for (size_t i = 0; i < s->n; i++) {
		const cm_st_tensor *t = cm_st_find(s->f[i], name);
		if (t) {
			*file = s->f[i]->path;
			return t;
		}
	}
	return NULL;
}

/* Tensors a checkpoint may hold that this model does not need. */
static int ignorable(const lm_model *m, const char *name)
{
	size_t n = strlen(name);
	if ((n > 9 && !strcmp(name + n - 9, ".attn.bias")) ||
	    (n > 16 && !strcmp(name + n - 16, ".attn.masked_bias")) ||
	    strstr(name, "rotary_emb.inv_freq"))
		return 1;
	return m->cfg.tied && !strcmp(name, "lm_head.weight");
}

uint64_t lm_tensor_xxh3(const kn_tensor *t)
{
	size_t n = kn_bytes(t);
	void *h = cm_xmalloc(n);
	kn_download(t, h, n);
	uint64_t x = XXH3_64bits(h, n);
	free(h);
	return x;
}

/* XXH3-64 of the first nb bytes of t */
static uint64_t part_xxh3(const kn_tensor *t, size_t nb)
{
	void *h = cm_xmalloc(nb);
	kn_download(t, h, nb);
	uint64_t x = XXH3_64bits(h, nb);
	free(h);
	return x;
}

/* Weights that no file checksum vouched for: an older checkpoint's hash of the loaded
 * parameters, else (a Hugging Face directory) a word at -v. */
static int check_params(lm_model *m, const char *path, const stset *s, char *err, size_t errlen)
{
	char dir[4096];
	const char *base;
	split_path(s->f[0]->path, dir, sizeof dir, &base);
	json_t *t = lm_ckpt_trainer(dir, err, errlen);
	if (!t)
		return -1;
	json_t *ph = json_object_get(t, "params_xxh3");
	int r = 0;
	if (json_is_string(ph)) {
		char hx[32];
		snprintf(hx, sizeof hx, "%016llx", (unsigned long long)lm_tensor_xxh3(m->params));
		if (strcmp(hx, json_string_value(ph))) {
			snprintf(err, errlen, "'%s' does not match the checksum of its weights in "
				 "trainer.json (damaged)", s->n == 1 ? s->f[0]->path : path);
			r = -1;
		}
	} else if (cm_verbosity > 0) {
		cm_info("'%s': no checksum (not a checkpoint of lm-train): the weights are used "
			"unverified", path);
	}
	json_decref(t);
	return r;
}

int lm_load_weights(lm_model *m, const char *path, char *err, size_t errlen)
{
	stset s;
	if (stset_open(&s, path, err, errlen) < 0) {
		stset_free(&s);
		return -1;
	}
	int r = 0;
	for (int i = 0; i < m->nhf && !r; i++) {
		const lm_hf_tensor *h = &m->hf[i];
		const char *file = NULL;
		const cm_st_tensor *t = stset_find(&s, h->name, &file);
		if (!t && m->cfg.style == LM_GPT2)	/* GPT2Model's names, as on the hub */
			t = stset_find(&s, h->name + 12, &file);
		if (!t) {
			snprintf(err, errlen, "'%s' lacks tensor '%s' (does the config fit the "
				 "checkpoint?)", path, h->name);
			r = -1;
			break;
		}
		int64_t want0 = h->transpose ? h->cols : h->rows, want1 = h->transpose ? h->rows : h->cols;
		int ok = h->ndim == 1 ? (t->ndim == 1 && t->shape[0] == h->rows)
				      : (t->ndim == 2 && t->shape[0] == want0 && t->shape[1] == want1);
		if (!ok) {
			char sh[64] = "", ws[64];
			for (int d = 0; d < t->ndim && d < 4; d++)
				snprintf(sh + strlen(sh), sizeof sh - strlen(sh), "%s%lld", d ? "x" : "",
					 (long long)t->shape[d]);
			if (h->ndim == 2)
				snprintf(ws, sizeof ws, "%lldx%lld", (long long)want0, (long long)want1);
			else
				snprintf(ws, sizeof ws, "%lld", (long long)h->rows);
			snprintf(err, errlen, "'%s': tensor '%s' is [%s], the model config wants [%s]",
				 file, h->name, sh, ws);
			r = -1;
			break;
		}
		float *buf = cm_xmalloc((size_t)t->n * sizeof(float));
		if (cm_st_to_f32(t, 0, t->n, buf) < 0) {
			snprintf(err, errlen, "'%s': tensor '%s' has dtype %s (floating point wanted)",
				 file, h->name, cm_st_dtype_name(t->dtype));
			free(buf);
			r = -1;
			break;
		}
		lm_hf_set(m, h, m->params, buf);
		free(buf);
	}
	/* anything left over means the config does not describe this checkpoint */
	for (size_t f = 0; f < s.n && !r; f++)
		for (size_t k = 0; k < s.f[f]->n && !r; k++) {
			const char *name = s.f[f]->t[k].name;
			if (!lm_hf_find(m, name) && !ignorable(m, name)) {
				snprintf(err, errlen, "'%s' holds tensor '%s', which a %s model with this "
					 "config does not have", s.f[f]->path, name,
					 m->cfg.style == LM_GPT2 ? "GPT-2" : "Llama");
				r = -1;
			}
		}
	if (!r && s.unverified)
		r = check_params(m, path, &s, err, errlen);
	stset_free(&s);
	lm_params_changed(m);
	return r;
}

int lm_save_weights(lm_model *m, const char *path, char *err, size_t errlen)
{
	cm_st_writer *w = cm_st_writer_new();
	float **bufs = cm_xcalloc(m->nhf, sizeof *bufs);
	for (int i = 0; i < m->nhf; i++) {
		const lm_hf_tensor *h = &m->hf[i];
		bufs[i] = cm_xmalloc((size_t)(h->rows * h->cols) * sizeof(float));
		lm_hf_get(m, h, m->params, bufs[i]);
		int64_t sh[2] = { h->transpose ? h->cols : h->rows, h->transpose ? h->rows : h->cols };
		cm_st_writer_add(w, h->name, CM_ST_F32, h->ndim, sh, bufs[i]);
	}
	int r = cm_st_write(w, path, err, errlen);
	cm_st_writer_free(w);
	for (int i = 0; i < m->nhf; i++)
		free(bufs[i]);
	free(bufs);
	return r;
}

int lm_save_grads(lm_model *m, const char *path, char *err, size_t errlen)
{
	kn_tensor *t = m->params;
	m->params = m->grads;
	int k = lm_save_weights(m, path, err, errlen);
	m->params = t;
	return k;
}

void lm_ckpt_resolve(const char *path, char *out, size_t outlen)
{
	char p[4096];
	snprintf(p, sizeof p, "%s/latest", path);
	FILE *f = fopen(p, "r");
	char name[256];
	if (f && fgets(name, sizeof name, f)) {
		name[strcspn(name, "\n")] = 0;
		if (name[0] && !strchr(name, '/')) {
			snprintf(out, outlen, "%s/%s", path, name);
			fclose(f);
			return;
		}
	}
	if (f)
		fclose(f);
	snprintf(out, outlen, "%s", path);
}

/* Training checkpoints */

void lm_ckpt_remove(const char *p)
{
	static const char *const names[] = { "model.safetensors", "config.json", "tokenizer.json",
		"tokenizer_config.json",
		"optimizer.safetensors", "trainer.json" };
	char f[4400];
	DIR *d = opendir(p);
	struct dirent *e;
	while (d && (e = readdir(d)))
		for (size_t k = 0; k < sizeof names / sizeof *names; k++)
			if (!strncmp(e->d_name, names[k], strlen(names[k]))) {
				snprintf(f, sizeof f, "%s/%s", p, e->d_name);
				unlink(f);
				break;
			}
	if (d)
		closedir(d);
	rmdir(p);
}

/* Size and XXH3-64 of a file just written into the checkpoint, for trainer.json: read back
 * from the file, what a later reader will get. */
static int add_sum(json_t *files, const char *dir, const char *name, char *err, size_t errlen)
{
	char f[4400], hx[32];
	size_t n;
	uint64_t h;
	snprintf(f, sizeof f, "%s/%s", dir, name);
	if (lm_file_xxh3(f, &n, &h, err, errlen) < 0)
		return -1;
	snprintf(hx, sizeof hx, "%016llx", (unsigned long long)h);
	json_object_set_new(files, name, json_pack("{s:I,s:s}", "bytes", (json_int_t)n, "xxh3", hx));
	return 0;
}

/* optimizer.safetensors is written (and lm_ckpt_send_moments goes) a piece of this many
 * bytes at a time */
#define MOMENT_PIECE ((size_t)4 << 20)

/* where a piece of m or v comes from, and the hash of the bytes so far */
typedef struct moment_src {
	const lm_moments *mo;	/* or NULL: the model's own */
	lm_model *m;
	int which;		/* 0 m, 1 v */
	XXH3_state_t *h;
} moment_src;

static void moment_fill(void *ctx, size_t off, size_t n, void *buf)
{
	moment_src *s = ctx;
	if (s->mo)
		s->mo->get(s->mo->ctx, s->which, (int64_t)(off / sizeof(float)),
			   (int64_t)(n / sizeof(float)), buf);
	else
		s->m->be->ops->download(s->which ? s->m->v : s->m->m, buf, n, off);
	XXH3_64bits_update(s->h, buf, n);
}

/* optimizer.safetensors: AdamW's m and v, flat, from the model's moments or through mo,
 * written a piece at a time (not copied whole to the host); *h gets the hash of their
 * bytes. */
static int write_moments(const char *path, lm_model *m, const lm_moments *mo, uint64_t *h,
			 char *err, size_t errlen)
{
	if (!mo && m->mn != m->nparams) {
		snprintf(err, errlen, "the model holds the moments of %lld of its %lld parameters: "
			 "a checkpoint needs the others' (ZeRO)", (long long)m->mn,
			 (long long)m->nparams);
		return -1;
	}
	moment_src src[2];
	cm_st_writer *w = cm_st_writer_new();
	int64_t n = m->nparams;
	static const char *const names[] = { "adamw.m", "adamw.v" };
	m->be->ops->sync(m->be);
	for (int i = 0; i < 2; i++) {
		src[i] = (moment_src){ .mo = mo, .m = m, .which = i, .h = XXH3_createState() };
		if (!src[i].h)
			cm_die("out of memory");
		XXH3_64bits_reset(src[i].h);
		cm_st_writer_add_fill(w, names[i], CM_ST_F32, 1, &n, MOMENT_PIECE, moment_fill,
				      &src[i]);
	}
	int r = cm_st_write(w, path, err, errlen);
	cm_st_writer_free(w);
	*h = XXH3_64bits_digest(src[0].h) ^ XXH3_64bits_digest(src[1].h);
	XXH3_freeState(src[0].h);
	XXH3_freeState(src[1].h);
	return r;
}

void lm_ckpt_send_moments(const lm_moments *mo, int64_t n)
{
	int64_t piece = (int64_t)(MOMENT_PIECE / sizeof(float));
	for (int which = 0; which < 2; which++)
		for (int64_t off = 0; off < n; off += piece)
			mo->get(mo->ctx, which, off, n - off < piece ? n - off : piece, NULL);
}

int lm_ckpt_write(const char *dir, lm_model *m, const lm_moments *mo, const cm_tok *tok,
		  const lm_state *st, json_t *options, char *err, size_t errlen)
{
	char f[4300], hx[32];
	json_t *files = json_object();
	int r = -1;
	snprintf(f, sizeof f, "%s/model.safetensors", dir);
	if (lm_save_weights(m, f, err, errlen) < 0 ||
	    add_sum(files, dir, "model.safetensors", err, errlen) < 0)
		goto out;
	char *cj = lm_config_json(&m->cfg);
	snprintf(f, sizeof f, "%s/config.json", dir);
	int k = cm_afile_put(f, cj, strlen(cj), err, errlen);
	free(cj);
	if (k < 0 || add_sum(files, dir, "config.json", err, errlen) < 0)
		goto out;
	if (tok) {
		snprintf(f, sizeof f, "%s/tokenizer.json", dir);
		if (cm_tok_save_json(tok, f, err, errlen) < 0 ||
		    add_sum(files, dir, "tokenizer.json", err, errlen) < 0)
			goto out;
		/* for transformers' AutoTokenizer: without it, config.json's model_type picks
		 * GPT2Tokenizer, which replaces tokenizer.json's pre-tokenizer with GPT-2's regex */
		json_t *tc = json_object();
		json_object_set_new(tc, "tokenizer_class", json_string("PreTrainedTokenizerFast"));
		if (cm_tok_eot(tok) >= 0) {
			json_object_set_new(tc, "bos_token", json_string("<|endoftext|>"));
			json_object_set_new(tc, "eos_token", json_string("<|endoftext|>"));
		}
		json_object_set_new(tc, "model_max_length", json_integer(m->cfg.ctx));
		/* the chat template (sft.h) where the tokenizer has its tokens: transformers'
		 * apply_chat_template gives the ids lm-train --sft trains on */
		if (cm_tok_special(tok, LM_CHAT_START) >= 0 && cm_tok_special(tok, LM_CHAT_END) >= 0)
			json_object_set_new(tc, "chat_template", json_string(LM_CHAT_TEMPLATE));
		char *tj = json_dumps(tc, JSON_INDENT(2) | JSON_SORT_KEYS);
		json_decref(tc);
		snprintf(f, sizeof f, "%s/tokenizer_config.json", dir);
		k = cm_afile_put(f, tj, strlen(tj), err, errlen);
		free(tj);
		if (k < 0 || add_sum(files, dir, "tokenizer_config.json", err, errlen) < 0)
			goto out;
	}
	uint64_t opt_xxh3;
	snprintf(f, sizeof f, "%s/optimizer.safetensors", dir);
	if (write_moments(f, m, mo, &opt_xxh3, err, errlen) < 0 ||
	    add_sum(files, dir, "optimizer.safetensors", err, errlen) < 0)
		goto out;
	json_t *t = json_object();
	json_object_set_new(t, "format", json_string("crawl2lm-trainer"));
	json_object_set_new(t, "version", json_integer(1));
	json_object_set_new(t, "step", json_integer(st->step));
	json_object_set_new(t, "tokens", json_integer((json_int_t)st->tokens));
	json_object_set_new(t, "elapsed_s", json_real(st->elapsed));
	json_object_set_new(t, "threads", json_integer(m->be->threads));
	if (st->ppo)
		json_object_set_new(t, "ppo_kl_coef", json_real(st->kl_coef));
	snprintf(hx, sizeof hx, "%016llx", (unsigned long long)lm_tensor_xxh3(m->params));
	json_object_set_new(t, "params_xxh3", json_string(hx));
	snprintf(hx, sizeof hx, "%016llx", (unsigned long long)opt_xxh3);
	json_object_set_new(t, "optimizer_xxh3", json_string(hx));
	json_object_set(t, "files", files);
	json_object_set(t, "options", options);
	char *tj = json_dumps(t, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
	json_decref(t);
	snprintf(f, sizeof f, "%s/trainer.json", dir);
	k = cm_afile_put(f, tj, strlen(tj), err, errlen);
	free(tj);
	if (k < 0)
		goto out;
	if (cm_sync_dir(dir) < 0) {
		snprintf(err, errlen, "cannot sync '%.900s': %s", dir, strerror(errno));
		goto out;
	}
	r = 0;
out:
	json_decref(files);
	return r;
}

int lm_ckpt_load_state(const char *dir, json_t *t, lm_model *m, lm_state *st, char *err,
		       size_t errlen)
{
	char f[4300], hx[32];
	snprintf(f, sizeof f, "%s/optimizer.safetensors", dir);
	cm_st *os = lm_ckpt_st_open(f, NULL, err, errlen);
	if (!os)
		return -1;
	const cm_st_tensor *tm = cm_st_find(os, "adamw.m"), *tv = cm_st_find(os, "adamw.v");
	if (!tm || !tv || tm->dtype != CM_ST_F32 || tv->dtype != CM_ST_F32 ||
	    tm->n != m->nparams || tv->n != m->nparams) {
		snprintf(err, errlen, "'%s' does not hold AdamW state for %lld parameters", f,
			 (long long)m->nparams);
		cm_st_close(os);
		return -1;
	}
	/* the moments of the parameters the model holds them for (all, or a ZeRO part) */
	size_t at = (size_t)m->mlo * sizeof(float), nb = (size_t)m->mn * sizeof(float);
	const char *pm = (const char *)tm->data + at, *pv = (const char *)tv->data + at;
	int part = m->mn != m->nparams;
	kn_upload(m->m, pm, nb);
	kn_upload(m->v, pv, nb);
	/* the loaded state against the hashes of the state saved (older checkpoints have no
	 * file checksums; these catch what went wrong between file and memory too): a part's
	 * file whole, and the part in memory against its bytes in the file */
	int bad = part && nb && (part_xxh3(m->m, nb) != XXH3_64bits(pm, nb) ||
				 part_xxh3(m->v, nb) != XXH3_64bits(pv, nb));
	uint64_t oh = part ? XXH3_64bits(tm->data, tm->bytes) ^ XXH3_64bits(tv->data, tv->bytes) :
		lm_tensor_xxh3(m->m) ^ lm_tensor_xxh3(m->v);
	cm_st_close(os);
	snprintf(hx, sizeof hx, "%016llx", (unsigned long long)lm_tensor_xxh3(m->params));
	json_t *ph = json_object_get(t, "params_xxh3");
	if (!json_is_string(ph) || strcmp(json_string_value(ph), hx)) {
		snprintf(err, errlen, "the weights in '%s' do not match their checksum (damaged)", dir);
		return -1;
	}
	snprintf(hx, sizeof hx, "%016llx", (unsigned long long)oh);
	ph = json_object_get(t, "optimizer_xxh3");
	if (bad || !json_is_string(ph) || strcmp(json_string_value(ph), hx)) {
		snprintf(err, errlen, "'%s' does not match its checksum in trainer.json (damaged)", f);
		return -1;
	}
	json_t *th = json_object_get(t, "threads");
	st->threads = json_is_integer(th) ? (long long)json_integer_value(th) : -1;
	st->tokens = (uint64_t)json_integer_value(json_object_get(t, "tokens"));
	st->elapsed = json_number_value(json_object_get(t, "elapsed_s"));
	st->step = json_integer_value(json_object_get(t, "step"));
	json_t *kc = json_object_get(t, "ppo_kl_coef");
	st->ppo = json_is_number(kc);
	st->kl_coef = st->ppo ? json_number_value(kc) : 0;
	return 0;
}

int lm_ckpt_same_tokenizer(const char *dir, const cm_tok *tok, char *path, size_t pathlen,
			   char *err, size_t errlen)
{
	snprintf(path, pathlen, "%s/tokenizer.json", dir);
	if (!tok || access(path, F_OK) != 0)
		return 1;
	cm_tok *ct = lm_ckpt_tokenizer(path, err, errlen);
	if (!ct)
		return -1;
	int same = cm_tok_hash(ct) == cm_tok_hash(tok);
	cm_tok_free(ct);
	return same;
}
