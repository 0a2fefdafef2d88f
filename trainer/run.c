/* run.c - a training run's directory: made with its parents, checkpoints saved atomically
 * and pruned, the latest resumed with its options checked, the metrics file.
 *
 * A resumed run recomputes nothing it saved: batch k is a function of the seed and k
 * (data.h), so the weights after resuming equal, bit for bit, those of a run that was never
 * stopped (same thread count). */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "output.h"
#include "run.h"

int lm_run_mkdir(const char *dir, char *err, size_t errlen)
{
	char p[4096];
	size_t n = strlen(dir);
	if (n >= sizeof p) {
		snprintf(err, errlen, "cannot create '%s': %s", dir, strerror(ENAMETOOLONG));
		return -1;
	}
	memcpy(p, dir, n + 1);
	/* the parents first, as mkdir -p */
	for (char *s = p + 1; *s; s++) {
		if (*s != '/' || s[-1] == '/')
			continue;
		*s = 0;
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create '%s': %s", p, strerror(errno));
			return -1;
		}
		*s = '/';
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create '%s': %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int lm_run_exists(const char *dir)
{
	char lp[4200];
	snprintf(lp, sizeof lp, "%s/latest", dir);
	return access(lp, F_OK) == 0;
}

void lm_run_prune(const char *out, long long keep, int stale)
{
	DIR *d = opendir(out);
	if (!d)
		return;
	long long *steps = NULL;
	size_t n = 0;
	struct dirent *e;
	char p[4096];
	while ((e = readdir(d))) {
		long long s;
		int len = 0;
		if (sscanf(e->d_name, "step-%lld%n", &s, &len) != 1)
			continue;
		if (!e->d_name[len]) {
			steps = cm_xrealloc(steps, (n + 1) * sizeof *steps);
			steps[n++] = s;
		} else if (stale && (!strcmp(e->d_name + len, ".tmp") ||
				     !strcmp(e->d_name + len, ".old"))) {
			snprintf(p, sizeof p, "%s/%s", out, e->d_name);
			lm_ckpt_remove(p);
		}
	}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		size_t newer = 0;
		for (size_t j = 0; j < n; j++)
			newer += steps[j] > steps[i];
		if ((long long)newer >= keep) {
			snprintf(p, sizeof p, "%s/step-%07lld", out, steps[i]);
			lm_ckpt_remove(p);
		}
	}
	free(steps);
}

int lm_run_save(lm_run *r, char *dir, size_t dirlen, char *err, size_t errlen)
{
	char tmp[4200], f[4300];
	snprintf(dir, dirlen, "%s/step-%07lld", r->dir, r->st.step);
	snprintf(tmp, sizeof tmp, "%s.tmp", dir);
	lm_ckpt_remove(tmp);	/* what an interrupted checkpoint of this step left */
	if (mkdir(tmp, 0755) < 0) {
		snprintf(err, errlen, "cannot create '%s': %s", tmp, strerror(errno));
		return -1;
	}
	/* a failed checkpoint leaves nothing behind but the reason */
	if (lm_ckpt_write(tmp, r->m, r->moments.get ? &r->moments : NULL, r->tok, &r->st,
			  r->options, err, errlen) < 0) {
		lm_ckpt_remove(tmp);
		return -1;
	}
	/* a checkpoint of the same step (a rerun after a crash) gives way */
	if (rename(tmp, dir) < 0) {
		char old[4300];
		snprintf(old, sizeof old, "%s.old", dir);
		lm_ckpt_remove(old);
		if (rename(dir, old) < 0 || rename(tmp, dir) < 0) {
			snprintf(err, errlen, "cannot rename '%.400s' to '%.400s': %s", tmp, dir,
				 strerror(errno));
			lm_ckpt_remove(tmp);
			return -1;
		}
		lm_ckpt_remove(old);
	}
	if (cm_sync_dir(r->dir) < 0) {
		snprintf(err, errlen, "cannot sync '%s': %s", r->dir, strerror(errno));
		return -1;
	}
	char name[64];
	int k = snprintf(name, sizeof name, "step-%07lld\n", r->st.step);
	snprintf(f, sizeof f, "%s/latest", r->dir);
	if (cm_afile_put(f, name, (size_t)k, err, errlen) < 0)
		return -1;
	lm_run_prune(r->dir, r->keep, 0);
	return 0;
}

int lm_run_resume(lm_run *r, char *dir, size_t dirlen, char *err, size_t errlen)
{
	char f[4300], tp[4200];
	if (r->at > 0) {	/* a given step's, whatever latest says */
		snprintf(dir, dirlen, "%s/step-%07lld", r->dir, r->at);
		if (access(dir, R_OK) < 0) {
			snprintf(err, errlen, "'%s' has no checkpoint of step %lld", r->dir, r->at);
			return -1;
		}
	} else {
		snprintf(f, sizeof f, "%s/latest", r->dir);
		if (access(f, R_OK) < 0) {
			snprintf(err, errlen, "'%s' has no checkpoint ('latest' is missing)", r->dir);
			return -1;
		}
		lm_ckpt_resolve(r->dir, dir, dirlen);
	}
	snprintf(f, sizeof f, "%s/trainer.json", dir);
	json_t *t = lm_ckpt_trainer(dir, err, errlen);
	if (!t)
		return -1;
	int rc = -1;
	json_t *saved = json_object_get(t, "options");
	if (!json_is_integer(json_object_get(t, "step")) || !json_is_object(saved)) {
		snprintf(err, errlen, "'%s' is not a trainer state", f);
		goto out;
	}
	const char *key;
	json_t *v;
	json_object_foreach(r->options, key, v) {
		if (!strcmp(key, "steps"))	/* a run may be extended */
			continue;
		json_t *sv = json_object_get(saved, key);
		if (!strcmp(key, "ranks")) {	/* runs before data parallel training: 1 */
			json_int_t n = sv ? json_integer_value(sv) : 1;
			if (n != json_integer_value(v)) {
				snprintf(err, errlen, "the run was trained by %lld process%s (ranks), "
					 "this is %lld: resume it with %lld (each rank's rows of a "
					 "batch depend on the number)", (long long)n, n == 1 ? "" : "es",
					 (long long)json_integer_value(v), (long long)n);
				goto out;
			}
			continue;
		}
		if (!sv || !json_equal(sv, v)) {
			char *a = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			char *b = sv ? json_dumps(sv, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
			snprintf(err, errlen, "option '%s' is %.200s here but %.200s in '%s'", key, a,
				 b ? b : "missing", f);
			free(a);
			free(b);
			goto out;
		}
	}
	int same = lm_ckpt_same_tokenizer(dir, r->tok, tp, sizeof tp, err, errlen);
	if (same < 0)
		goto out;
	if (!same) {
		snprintf(err, errlen, "the tokenizer '%s' is not the run's ('%s')", r->tok_path, tp);
		goto out;
	}
	if (lm_load_weights(r->m, dir, err, errlen) < 0 ||
	    lm_ckpt_load_state(dir, t, r->m, &r->st, err, errlen) < 0)
		goto out;
	if (!r->reader)
		lm_run_prune(r->dir, r->keep, 1);
	rc = 0;
out:
	json_decref(t);
	return rc;
}

/* The metrics of a resumed run: the lines up to `step`, the checkpoint resumed from (the
 * rest is redone), rewritten whole (cm_afile: a failure, a full disk, leaves the old lines). */
static int keep_lines(FILE *in, const char *path, long long step, char *err, size_t errlen)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t k;
	cm_buf keep = CM_BUF_INIT;
	cm_afile af;
	int bad = 0, r = -1;
	if (cm_afile_open(&af, path, err, errlen) < 0)
		return -1;
	while (!bad && (k = getline(&line, &cap, in)) > 0) {
		json_t *j = json_loads(line, 0, NULL);
		json_t *s = json_object_get(j, "step");
		if (json_is_integer(s) && json_integer_value(s) <= step)
			cm_buf_add(&keep, line, (size_t)k);
		json_decref(j);
		if (keep.len >= (1u << 20)) {	/* in pieces: the file may be long */
			bad = cm_afile_write(&af, keep.p, keep.len) < 0;
			cm_buf_reset(&keep);
		}
	}
	int e = errno;
	if (!bad && ferror(in)) {
		cm_afile_abort(&af);
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(e));
	} else if (bad || cm_afile_write(&af, keep.p, keep.len) < 0) {
		e = errno;
		cm_afile_abort(&af);
		snprintf(err, errlen, "cannot write '%s': %s", path, strerror(e));
	} else if (cm_afile_commit(&af, err, errlen) == 0) {
		r = 0;
	}
	free(line);
	cm_buf_free(&keep);
	return r;
}

/* A regular file is rewritten (keep_lines), then appended to; anything else (a pipe, a
 * device) is written straight. */
int lm_metrics_open(lm_metrics *mf, const char *path, long long step, char *err, size_t errlen)
{
	struct stat sb;
	FILE *in = step > 0 && stat(path, &sb) == 0 && S_ISREG(sb.st_mode) ? fopen(path, "r") : NULL;
	if (in) {
		int r = keep_lines(in, path, step, err, errlen);
		fclose(in);
		if (r < 0)
			return -1;
	}
	mf->f = fopen(path, in ? "a" : "w");
	if (!mf->f) {
		snprintf(err, errlen, "cannot create '%s': %s", path, strerror(errno));
		return -1;
	}
	mf->path = cm_xstrdup(path);
	return 0;
}

int lm_metrics_vprintf(lm_metrics *mf, char *err, size_t errlen, const char *fmt, va_list ap)
{
	int k = vfprintf(mf->f, fmt, ap);
	if (k < 0 || fflush(mf->f) != 0 || ferror(mf->f)) {
		snprintf(err, errlen, "cannot write '%s': %s", mf->path, strerror(errno));
		return -1;
	}
	return 0;
}

int lm_metrics_close(lm_metrics *mf, char *err, size_t errlen)
{
	int r = fclose(mf->f);
	if (r != 0)
		snprintf(err, errlen, "cannot write '%s': %s", mf->path, strerror(errno));
	free(mf->path);
	memset(mf, 0, sizeof *mf);
	return r ? -1 : 0;
}
