/* folder.c - shard-pack's output folder: the lock, clearing an earlier run's set, shard-like
 * names (see folder.h).
 *
 * One shard set a folder. A run locks the folder, removes the earlier manifest before it
 * touches a shard, and writes its own manifest last, so that a crash at any point leaves a
 * folder that fails --verify rather than one that passes with mixed data. Shards of the
 * earlier set go before the new ones are written, so a glob over an unfinished folder finds
 * this run's shards only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "folder.h"
#include "input.h"
#include "output.h"
#include "shard.h"

void sp_names_add(sp_names *s, const char *name)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = cm_xrealloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n++] = cm_xstrdup(name);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void sp_names_sort(sp_names *s)
{
	if (s->n)
		qsort(s->v, s->n, sizeof *s->v, cmp_name);
}

int sp_names_has(const sp_names *s, const char *name)
{
	return s->n && bsearch(&name, s->v, s->n, sizeof *s->v, cmp_name) != NULL;
}

void sp_names_free(sp_names *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof *s);
}

static int ends_with(const char *s, const char *end)
{
	size_t n = strlen(s), k = strlen(end);

	return n >= k && !strcmp(s + n - k, end);
}

int sp_temporary(const char *name)
{
	return ends_with(name, ".bin.tmp") || !strncmp(name, "manifest.json.tmp", 17);
}

int sp_shard_like(const char *name)
{
	return ends_with(name, ".bin") || sp_temporary(name);
}

void sp_folder_lock(const char *dir)
{
	cm_shard_holder who;

	if (mkdir(dir, 0777) < 0 && errno != EEXIST)
		cm_die("cannot make the folder '%s': %s", dir, strerror(errno));
	if (cm_shard_lock(dir, 1, &who) >= 0)
		return;	/* the descriptor stays open: the lock lasts until exit */
	if (errno != EWOULDBLOCK)
		cm_die("cannot lock the folder '%s' (%s/%s): %s", dir, dir, CM_SHARD_LOCK_FILE, strerror(errno));
	if (!who.writing)
		cm_die("cannot write shards into '%s': it is being read (by lm-train, or shard-pack --verify or --cat)", dir);
	if (who.pid)
		cm_die("cannot write shards into '%s': another shard-pack (pid %ld) is writing there", dir, who.pid);
	cm_die("cannot write shards into '%s': another shard-pack is writing there", dir);
}

int sp_folder_lock_read(const char *dir)
{
	char err[4400];
	int fd = cm_shard_lock_read(dir, err, sizeof(err));

	if (fd == -1)
		cm_error("%s", err);
	return fd;
}

void sp_folder_sync(const char *dir)
{
	if (cm_sync_dir(dir) < 0)
		cm_die("cannot flush the folder '%s' to disk: %s", dir, strerror(errno));
}

/* The shard files an earlier manifest lists (names without '/', ending in .bin). */
static void listed_shards(const char *path, sp_names *out)
{
	char err[4400];
	json_t *files = cm_shard_manifest_files(path, err, sizeof(err)), *t;
	const char *file;

	if (!files) {
		cm_warn("the earlier manifest cannot be read (%s): its shards are known by name only", err);
		return;
	}
	json_object_foreach(files, file, t)
		if (!strchr(file, '/') && ends_with(file, ".bin"))
			sp_names_add(out, file);
	json_decref(files);
}

/* NAME_*.bin, and with tmp its temporary NAME_*.bin.tmp */
static int ours_by_name(const char *f, const char *name, int tmp)
{
	size_t k = strlen(name);

	return !strncmp(f, name, k) && f[k] == '_' && ends_with(f, tmp ? ".bin.tmp" : ".bin");
}

/* "a, b, c" for at most max names (all when max is 0), then ", ..." */
static void join(cm_buf *b, const sp_names *s, size_t max)
{
	size_t i;

	cm_buf_reset(b);
	for (i = 0; i < s->n && (!max || i < max); i++)
		cm_buf_printf(b, "%s%s", i ? ", " : "", s->v[i]);
	if (i < s->n)
		cm_buf_printf(b, ", ...");
}

void sp_folder_clear(const char *dir, const char *name, const sp_names *keep, sp_names *removed)
{
	sp_names listed = { 0 }, all = { 0 }, other = { 0 }, other_shards = { 0 };
	cm_buf p = CM_BUF_INIT, b = CM_BUF_INIT;
	struct dirent *e;
	struct stat st;
	size_t i, tmps = 0;
	int had_manifest = 0;
	DIR *d;

	cm_buf_printf(&p, "%s/manifest.json", dir);
	if (lstat(p.p, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			cm_die("'%s' is a folder: it is where the manifest goes", p.p);
		if (S_ISREG(st.st_mode))
			listed_shards(p.p, &listed);
		if (unlink(p.p) < 0)
			cm_die("cannot remove the earlier manifest '%s': %s", p.p, strerror(errno));
		had_manifest = 1;
		/* gone for good before any shard changes */
		sp_folder_sync(dir);
	} else if (errno != ENOENT) {
		cm_die("cannot look at '%s': %s", p.p, strerror(errno));
	}
	sp_names_sort(&listed);

	if (!(d = opendir(dir)))
		cm_die("cannot read the folder '%s': %s", dir, strerror(errno));
	while ((errno = 0, e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, CM_SHARD_LOCK_FILE))
			sp_names_add(&all, e->d_name);
	if (errno)
		cm_die("cannot read the folder '%s': %s", dir, strerror(errno));
	closedir(d);
	sp_names_sort(&all);

	for (i = 0; i < all.n; i++) {
		const char *f = all.v[i];
		int shard = 0, tmp = 0;

		if (sp_names_has(keep, f))
			continue;
		cm_buf_reset(&p);
		cm_buf_printf(&p, "%s/%s", dir, f);
		if (lstat(p.p, &st) < 0)
			cm_die("cannot look at '%s': %s", p.p, strerror(errno));
		if (!S_ISREG(st.st_mode) && (ours_by_name(f, name, 0) || ours_by_name(f, name, 1)))
			/* a shard would be renamed over it (a FIFO, a link: never through it) */
			cm_die("'%s' has the name of one of this run's shards but is not a regular file: "
			       "remove it first", p.p);
		if (S_ISREG(st.st_mode)) {
			shard = sp_names_has(&listed, f) || ours_by_name(f, name, 0);
			if (!shard && ends_with(f, ".bin.tmp")) {
				cm_buf_reset(&b);
				cm_buf_add(&b, f, strlen(f) - 4);
				tmp = sp_names_has(&listed, b.p) || ours_by_name(f, name, 1);
			}
			tmp |= !strncmp(f, "manifest.json.tmp", 17);
		}
		if (!shard && !tmp) {
			sp_names_add(sp_shard_like(f) ? &other_shards : &other, f);
			continue;
		}
		if (unlink(p.p) < 0)
			cm_die("cannot remove '%s' of an earlier run: %s", p.p, strerror(errno));
		if (shard)
			sp_names_add(removed, f);
		else
			tmps++;
		if (cm_verbosity > 1)
			cm_info("removed '%s'", p.p);
	}
	if (had_manifest && cm_verbosity > 0)
		cm_info("replacing the earlier set in '%s': its manifest and %zu shards", dir, removed->n);
	if (tmps && cm_verbosity >= 0)
		cm_info("removed %zu temporary files of an interrupted run from '%s'", tmps, dir);
	if (other_shards.n) {
		join(&b, &other_shards, cm_verbosity > 0 ? 0 : 5);
		cm_warn("'%s' holds shard-like files that are not this run's (%zu: %s), left as they are: "
			"--verify fails and a glob for shards takes them while they are there", dir,
			other_shards.n, b.p);
	}
	if (other.n) {
		join(&b, &other, cm_verbosity > 0 ? 0 : 5);
		cm_warn("'%s' holds files that are not shard-pack's (%zu: %s), left as they are", dir,
			other.n, b.p);
	}
	sp_names_sort(removed);
	sp_names_free(&listed);
	sp_names_free(&all);
	sp_names_free(&other);
	sp_names_free(&other_shards);
	cm_buf_free(&p);
	cm_buf_free(&b);
}

void sp_folder_report(const char *dir, sp_names *removed, sp_names *written)
{
	sp_names stale = { 0 }, pat = { 0 };
	cm_buf b = CM_BUF_INIT;
	size_t i;

	sp_names_sort(written);
	for (i = 0; i < removed->n; i++)
		if (!sp_names_has(written, removed->v[i]))
			sp_names_add(&stale, removed->v[i]);
	if (!stale.n || cm_verbosity < 0)
		goto out;
	/* the patterns: a name up to its last '_', then *.bin */
	for (i = 0; i < stale.n; i++) {
		const char *u = strrchr(stale.v[i], '_');

		cm_buf_reset(&b);
		if (u)
			cm_buf_printf(&b, "%.*s_*.bin", (int)(u - stale.v[i]), stale.v[i]);
		else
			cm_buf_printf(&b, "%s", stale.v[i]);
		if (!pat.n || strcmp(pat.v[pat.n - 1], b.p))
			sp_names_add(&pat, b.p);
	}
	join(&b, &pat, 0);
	cm_info("removed %zu shards of the earlier set in '%s' that this run did not write again (%s)",
		stale.n, dir, b.p);
	if (cm_verbosity > 0)
		for (i = 0; i < stale.n; i++)
			cm_info("removed '%s/%s'", dir, stale.v[i]);
out:
	sp_names_free(&stale);
	sp_names_free(&pat);
	cm_buf_free(&b);
}
