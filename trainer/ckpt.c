/* ckpt.c - Hugging Face weights in and out (safetensors, config.json, sharded indexes). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "ckpt.h"
#include "cli.h"
#include "input.h"
#include "safetensors.h"

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

/* A JSON file of a checkpoint, whole (cm_input_read_all prints why it cannot). */
static char *read_small(const char *path, char *err, size_t errlen)
{
	cm_buf b = CM_BUF_INIT;
	if (cm_input_read_all(path, &b, 64u << 20) < 0) {
		snprintf(err, errlen, "cannot read '%s'", path);
		cm_buf_free(&b);
		return NULL;
	}
	return b.p ? b.p : cm_xstrdup("");
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
} stset;

static void stset_free(stset *s)
{
	for (size_t i = 0; i < s->n; i++)
		cm_st_close(s->f[i]);
	free(s->f);
}

static int stset_add(stset *s, const char *path, char *err, size_t errlen)
{
	cm_st *st = cm_st_open(path, err, errlen);
	if (!st)
		return -1;
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
	json_t *o = json_loads(js, 0, NULL);
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

lm_model *lm_ckpt_open(kn_backend *be, const char *path, int training, char *err, size_t errlen)
{
	char dir[4096];
	lm_config cfg;
	lm_ckpt_resolve(path, dir, sizeof dir);
	if (lm_ckpt_config(dir, &cfg, err, errlen) < 0)
		return NULL;
	lm_model *m = lm_model_new(be, &cfg, training);
	if (lm_load_weights(m, dir, err, errlen) < 0) {
		lm_model_free(m);
		return NULL;
	}
	return m;
}

int lm_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	close(fd);
	return r;
}

int lm_write_file(const char *path, const void *data, size_t n, char *err, size_t errlen)
{
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create '%s': %s", tmp, strerror(errno));
		return -1;
	}
	const char *p = data;
	size_t left = n;
	while (left) {
		ssize_t k = write(fd, p, left);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			snprintf(err, errlen, "cannot write '%s': %s", tmp, strerror(errno));
			close(fd);
			return -1;
		}
		p += k;
		left -= (size_t)k;
	}
	if (fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
		return -1;
	}
	char d[4096];
	const char *sl = strrchr(path, '/');
	snprintf(d, sizeof d, "%.*s", sl ? (int)(sl - path) : 1, sl ? path : ".");
	lm_fsync_dir(d);
	return 0;
}
