/* check.c - shard-pack --verify (a shard set against its manifest) and --cat (shards to text). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "check.h"
#include "cli.h"
#include "folder.h"
#include "input.h"
#include "output.h"
#include "shard.h"

/* A shard file for reading: a regular file (a FIFO a manifest names would hang the reader,
 * a folder reads as cut short). */
static FILE *open_shard(const char *path, struct stat *st)
{
	char err[4200];
	int fd = cm_open_regular(path, st, err, sizeof(err));
	FILE *f;

	if (fd < 0) {
		cm_error("%s", err);
		return NULL;
	}
	if (!(f = fdopen(fd, "rb"))) {
		cm_error("cannot open '%s': %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	return f;
}

/* Read a shard: header checked against the file's size; fn gets its tokens in slices. */
static int read_shard(const char *path, cm_shard_hdr *sh, uint64_t *xxh,
		      int (*fn)(const uint32_t *ids, size_t n, void *arg), void *arg)
{
	struct stat st;
	FILE *f = open_shard(path, &st);
	unsigned char h[CM_SHARD_HEADER], buf[1 << 16];
	uint32_t ids[1 << 15];
	char err[256];
	XXH3_state_t *xs;
	uint64_t left;
	int rc = 0;

	if (!f)
		return -1;
	if (fread(h, 1, sizeof h, f) != sizeof h) {
		if (ferror(f))
			cm_error("cannot read '%s': %s", path, strerror(errno));
		else
			cm_error("'%s': cut short in its header", path);
		fclose(f);
		return -1;
	}
	if (cm_shard_parse(h, (int64_t)st.st_size, sh, err, sizeof err) < 0) {
		cm_error("'%s': %s", path, err);
		fclose(f);
		return -1;
	}
	xs = XXH3_createState();
	XXH3_64bits_reset(xs);
	left = sh->ntok * (uint64_t)sh->width;
	while (left && rc == 0) {
		size_t want = left < sizeof buf ? (size_t)left : sizeof buf, got, k, n;

		got = fread(buf, 1, want, f);
		if (got != want) {
			if (ferror(f))
				cm_error("cannot read '%s': %s", path, strerror(errno));
			else
				cm_error("'%s': cut short while reading", path);
			rc = -1;
			break;
		}
		XXH3_64bits_update(xs, buf, got);
		n = got / (size_t)sh->width;
		for (k = 0; k < n; k++)
			ids[k] = sh->width == 2 ? (uint32_t)buf[2 * k] | (uint32_t)buf[2 * k + 1] << 8 :
				 (uint32_t)buf[4 * k] | (uint32_t)buf[4 * k + 1] << 8 |
				 (uint32_t)buf[4 * k + 2] << 16 | (uint32_t)buf[4 * k + 3] << 24;
		if (fn && fn(ids, n, arg) < 0)
			rc = -1;
		left -= got;
	}
	if (xxh)
		*xxh = XXH3_64bits_digest(xs);
	XXH3_freeState(xs);
	fclose(f);
	return rc;
}

struct range {
	uint32_t vocab;
	uint64_t bad, first_bad;
};

static int check_ids(const uint32_t *ids, size_t n, void *arg)
{
	struct range *r = arg;
	size_t k;

	for (k = 0; k < n; k++)
		if (ids[k] >= r->vocab && !r->bad++)
			r->first_bad = ids[k];
	return 0;
}

static void manifest_dir(const char *path, char *dir, size_t dirlen)
{
	const char *slash = strrchr(path, '/');

	snprintf(dir, dirlen, "%.*s", slash ? (slash == path ? 1 : (int)(slash - path)) : 1, slash ? path : ".");
}

static json_t *load_manifest(const char *path)
{
	char err[4400];
	json_t *m = cm_json_load_file(path, 64 << 20, err, sizeof(err));

	if (!m) {
		cm_error("cannot read the manifest: %s", err);
		return NULL;
	}
	if (!json_is_array(json_object_get(m, "shards")) || !json_is_object(json_object_get(m, "tokenizer"))) {
		cm_error("'%s' is not a shard-pack manifest (no shards or tokenizer)", path);
		json_decref(m);
		return NULL;
	}
	return m;
}

static const char *manifest_path(const char *arg, char *buf, size_t n)
{
	struct stat st;

	if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(buf, n, "%s/manifest.json", arg);
		return buf;
	}
	return arg;
}

/* Shard-like files in dir that the manifest does not list: a glob for shards would take
 * them with the set. Returns how many. */
static size_t unlisted(const char *dir, const char *mpath, const sp_names *listed)
{
	sp_names all = { 0 };
	struct dirent *e;
	size_t i, n = 0;
	DIR *d = opendir(dir);

	if (!d) {
		cm_error("cannot read the folder '%s': %s", dir, strerror(errno));
		return 1;
	}
	while ((errno = 0, e = readdir(d)))
		if (sp_shard_like(e->d_name) && !sp_names_has(listed, e->d_name))
			sp_names_add(&all, e->d_name);
	if (errno) {
		cm_error("cannot read the folder '%s': %s", dir, strerror(errno));
		n++;
	}
	closedir(d);
	sp_names_sort(&all);
	for (i = 0; i < all.n; i++, n++) {
		const char *f = all.v[i];

		if (sp_temporary(f))
			cm_error("'%s/%s': a temporary file of an unfinished run, not in %s", dir, f, mpath);
		else
			cm_error("'%s/%s': a shard-like file that %s does not list (another run's? a glob for "
				 "shards takes it with this set)", dir, f, mpath);
	}
	sp_names_free(&all);
	return n;
}

static size_t verify_manifest(json_t *m, const char *mpath, const char *dir)
{
	char path[8192];
	json_t *shards, *s, *splits;
	uint64_t tokens = 0, sum_split[2] = { 0, 0 }, nsplit[2] = { 0, 0 };
	uint32_t vocab;
	size_t i, bad = 0, streamed = 0;
	sp_names listed = { 0 };
	int width;

	vocab = (uint32_t)json_integer_value(json_object_get(json_object_get(m, "tokenizer"), "vocab_size"));
	width = (int)json_integer_value(json_object_get(m, "token_bytes"));
	shards = json_object_get(m, "shards");
	json_array_foreach(shards, i, s) {
		const char *file = json_string_value(json_object_get(s, "file"));
		const char *split = json_string_value(json_object_get(s, "split"));
		const char *sum = json_string_value(json_object_get(s, "xxh3"));
		json_int_t ntok = json_integer_value(json_object_get(s, "tokens"));
		struct range r = { vocab, 0, 0 };
		cm_shard_hdr sh;
		uint64_t x;
		char hex[17];

		if (split && (!strcmp(split, "train") || !strcmp(split, "val")))
			nsplit[strcmp(split, "val") == 0]++;
		if (!file && split && json_is_null(json_object_get(s, "file"))) {
			streamed++;	/* went to standard output: nothing to check here */
			sum_split[strcmp(split, "val") == 0] += (uint64_t)ntok;
			tokens += (uint64_t)ntok;
			continue;
		}
		if (!file || !split || !sum || strchr(file, '/') || !strcmp(file, ".") || !strcmp(file, "..")) {
			cm_error("%s: shard %zu: no file, split or checksum", mpath, i);
			bad++;
			continue;
		}
		sp_names_add(&listed, file);
		snprintf(path, sizeof path, "%s/%s", dir, file);
		if (read_shard(path, &sh, &x, check_ids, &r) < 0) {
			bad++;
			continue;
		}
		snprintf(hex, sizeof hex, "%016" PRIx64, x);
		if (sh.width != width) {
			cm_error("'%s': %d-byte tokens, the manifest says %d", path, sh.width, width);
			bad++;
		} else if ((json_int_t)sh.ntok != ntok) {
			cm_error("'%s': %" PRIu64 " tokens, the manifest says %lld", path, sh.ntok, (long long)ntok);
			bad++;
		} else if (strcmp(hex, sum)) {
			cm_error("'%s': checksum %s, the manifest says %s: the shard is damaged", path, hex, sum);
			bad++;
		} else if (r.bad) {
			cm_error("'%s': %" PRIu64 " ids outside the vocabulary (%u), first %" PRIu64, path, r.bad,
				 vocab, r.first_bad);
			bad++;
		}
		tokens += sh.ntok;
		sum_split[strcmp(split, "val") == 0] += sh.ntok;
	}
	splits = json_object_get(m, "splits");
	if ((uint64_t)json_integer_value(json_object_get(json_object_get(splits, "train"), "tokens")) != sum_split[0] ||
	    (uint64_t)json_integer_value(json_object_get(json_object_get(splits, "val"), "tokens")) != sum_split[1]) {
		cm_error("%s: the splits' token counts do not add up to the shards'", mpath);
		bad++;
	}
	for (i = 0; i < 2; i++) {
		json_t *n = json_object_get(json_object_get(splits, i ? "val" : "train"), "shards");

		if (n && (!json_is_integer(n) || (uint64_t)json_integer_value(n) != nsplit[i]))
			break;
	}
	if (i < 2) {
		cm_error("%s: the splits' shard counts are not the number of shards listed", mpath);
		bad++;
	}
	sp_names_sort(&listed);
	for (i = 1; i < listed.n; i++)
		if (!strcmp(listed.v[i - 1], listed.v[i]) && (i < 2 || strcmp(listed.v[i - 2], listed.v[i]))) {
			cm_error("%s: '%s' is listed more than once", mpath, listed.v[i]);
			bad++;
		}
	bad += unlisted(dir, mpath, &listed);
	sp_names_free(&listed);
	if (bad)
		cm_error("%s: %zu problems in %zu shards", mpath, bad, json_array_size(shards));
	else if (cm_verbosity >= 0)
		printf("%s: OK: %zu shards, %" PRIu64 " tokens (train %" PRIu64 ", val %" PRIu64 ")%s\n",
		       mpath, json_array_size(shards), tokens, sum_split[0], sum_split[1],
		       streamed ? "; shards streamed to standard output not checked" : "");
	return bad;
}

int sp_verify(const char *arg)
{
	char dir[4096], mp[4096];
	const char *mpath = manifest_path(arg, mp, sizeof mp);
	json_t *m;
	size_t bad;
	int lock;

	manifest_dir(mpath, dir, sizeof dir);
	if ((lock = sp_folder_lock_read(dir)) == -1)
		return 1;
	m = load_manifest(mpath);
	bad = m ? verify_manifest(m, mpath, dir) : 1;
	json_decref(m);
	if (lock >= 0)
		close(lock);
	return bad ? 1 : 0;
}

struct cat_arg {
	const cm_tok *tok;
	cm_output *out;
	cm_buf text;
	const char *path;
};

static int cat_ids(const uint32_t *ids, size_t n, void *arg)
{
	struct cat_arg *c = arg;
	size_t bad;

	cm_buf_reset(&c->text);
	if (cm_tok_decode(c->tok, ids, n, &c->text, &bad) < 0) {
		cm_error("'%s': id %u is not in the tokenizer", c->path, ids[bad]);
		return -1;
	}
	cm_output_write(c->out, c->text.p, c->text.len);
	return 0;
}

/* A manifest's shards in order, each checked against it as --verify does, if the tokenizer is
 * the one that made them. Returns the number of problems. */
static size_t cat_manifest(struct cat_arg *c, const char *mpath)
{
	char dir[4096], path[8192], hex[17];
	const char *h;
	size_t k, bad = 0;
	json_t *m, *s;
	int lock;

	manifest_dir(mpath, dir, sizeof dir);
	if ((lock = sp_folder_lock_read(dir)) == -1)
		return 1;
	if (!(m = load_manifest(mpath))) {
		bad++;
		goto out;
	}
	h = json_string_value(json_object_get(json_object_get(m, "tokenizer"), "hash"));
	snprintf(hex, sizeof hex, "%016" PRIx64, cm_tok_hash(c->tok));
	if (!h || strcmp(h, hex)) {
		cm_error("%s was made with another tokenizer (hash %s, this one %s)", mpath, h ? h : "none", hex);
		bad++;
		goto out;
	}
	json_array_foreach(json_object_get(m, "shards"), k, s) {
		const char *file = json_string_value(json_object_get(s, "file"));
		const char *sum = json_string_value(json_object_get(s, "xxh3"));
		json_int_t ntok = json_integer_value(json_object_get(s, "tokens"));
		cm_shard_hdr sh;
		uint64_t x;

		if (!file || strchr(file, '/') || !sum) {
			cm_error("%s: shard %zu: no file or checksum", mpath, k);
			bad++;
			continue;
		}
		snprintf(path, sizeof path, "%s/%s", dir, file);
		c->path = path;
		if (read_shard(path, &sh, &x, cat_ids, c) < 0) {
			bad++;
			continue;
		}
		snprintf(hex, sizeof hex, "%016" PRIx64, x);
		if ((json_int_t)sh.ntok != ntok || strcmp(hex, sum)) {
			cm_error("'%s': %" PRIu64 " tokens with checksum %s, %s says %lld with %s: the shard "
				 "is damaged or another run's (its text is out already)", path, sh.ntok, hex, mpath,
				 (long long)ntok, sum);
			bad++;
		}
	}
out:
	json_decref(m);
	if (lock >= 0)
		close(lock);
	return bad;
}

int sp_cat(const cm_tok *tok, char **args, int n, const char *out_path)
{
	struct cat_arg c = { tok, cm_output_open(out_path, 0), CM_BUF_INIT, NULL };
	char mp[4096];
	int i, status = 0;

	for (i = 0; i < n; i++) {
		const char *p = manifest_path(args[i], mp, sizeof mp);
		size_t len = strlen(p);
		cm_shard_hdr sh;

		if (len >= 5 && !strcmp(p + len - 5, ".json")) {
			if (cat_manifest(&c, p))
				status = 1;
			continue;
		}
		c.path = p;
		if (read_shard(p, &sh, NULL, cat_ids, &c) < 0)
			status = 1;
	}
	cm_output_close(c.out);
	cm_buf_free(&c.text);
	return status;
}
