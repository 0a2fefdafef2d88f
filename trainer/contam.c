/* contam.c - evaluation items seen in training data (contam.h). The items' n-grams are an
 * open-addressing table of XXH3-64 hashes, each the head of a list of the items holding it;
 * training texts stream past it, a document (or a window of a long one) at a time. */
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "cli.h"
#include "contam.h"
#include "input.h"
#include "ngram.h"
#include "ngx.h"
#include "shard.h"

typedef struct posting {
	size_t item;
	uint32_t next;		/* UINT32_MAX: the end */
} posting;

struct lm_contam {
	unsigned n;
	uint64_t *key;		/* 0: empty */
	uint32_t *head;
	size_t size, used;
	posting *post;
	size_t npost, cpost;
	unsigned char *hit, *checked;
	size_t nitems;
	cm_buf norm;
};

lm_contam *lm_contam_new(unsigned n)
{
	lm_contam *c = cm_xcalloc(1, sizeof *c);
	c->n = n;
	return c;
}

void lm_contam_free(lm_contam *c)
{
	if (!c)
		return;
	free(c->key);
	free(c->head);
	free(c->post);
	free(c->hit);
	free(c->checked);
	cm_buf_free(&c->norm);
	free(c);
}

static size_t slot(const lm_contam *c, uint64_t h)
{
	size_t j = h & (c->size - 1);
	while (c->key[j] && c->key[j] != h)
		j = (j + 1) & (c->size - 1);
	return j;
}

static void grow(lm_contam *c)
{
	uint64_t *key = c->key;
	uint32_t *head = c->head;
	size_t size = c->size;
	c->size = size ? 2 * size : 1 << 12;
	c->key = cm_xcalloc(c->size, sizeof *c->key);
	c->head = cm_xcalloc(c->size, sizeof *c->head);
	for (size_t i = 0; i < size; i++)
		if (key[i]) {
			size_t j = slot(c, key[i]);
			c->key[j] = key[i];
			c->head[j] = head[i];
		}
	free(key);
	free(head);
}

struct adder {
	lm_contam *c;
	size_t item, count;
};

static void add_one(void *p, const char *g, size_t len)
{
	struct adder *a = p;
	lm_contam *c = a->c;
	uint64_t h = cm_ngram_hash(g, len);
	if (!h)
		h = 1;
	if (2 * (c->used + 1) > c->size)
		grow(c);
	size_t j = slot(c, h);
	if (c->key[j] && c->post[c->head[j]].item == a->item)
		return;		/* the same n-gram twice in one item */
	if (c->npost == UINT32_MAX - 1)
		cm_die("contamination: more than 2^32 item n-grams");
	if (c->npost == c->cpost) {
		c->cpost = c->cpost ? 2 * c->cpost : 1024;
		c->post = cm_xrealloc(c->post, c->cpost * sizeof *c->post);
	}
	c->post[c->npost] = (posting){ a->item, c->key[j] ? c->head[j] : UINT32_MAX };
	if (!c->key[j])
		c->used++;
	c->key[j] = h;
	c->head[j] = (uint32_t)c->npost++;
	a->count++;
}

size_t lm_contam_add(lm_contam *c, size_t item, const char *s, size_t len)
{
	if (item >= c->nitems) {
		size_t n = item + 1 > 2 * c->nitems ? item + 1 : 2 * c->nitems;
		c->hit = cm_xrealloc(c->hit, n);
		c->checked = cm_xrealloc(c->checked, n);
		memset(c->hit + c->nitems, 0, n - c->nitems);
		memset(c->checked + c->nitems, 0, n - c->nitems);
		c->nitems = n;
	}
	struct adder a = { c, item, 0 };
	cm_ngram_normalize(s, len, &c->norm);
	cm_ngrams(c->norm.p ? c->norm.p : "", c->norm.len, c->n, add_one, &a);
	if (a.count)
		c->checked[item] = 1;
	return a.count;
}

static void check_one(void *p, const char *g, size_t len)
{
	lm_contam *c = p;
	uint64_t h = cm_ngram_hash(g, len);
	if (!h)
		h = 1;
	size_t j = slot(c, h);
	if (!c->key[j])
		return;
	for (uint32_t k = c->head[j]; k != UINT32_MAX; k = c->post[k].next)
		c->hit[c->post[k].item] = 1;
}

void lm_contam_scan(lm_contam *c, const char *s, size_t len)
{
	if (!c->used)
		return;
	cm_ngram_normalize(s, len, &c->norm);
	cm_ngrams(c->norm.p ? c->norm.p : "", c->norm.len, c->n, check_one, c);
}

int lm_contam_hit(const lm_contam *c, size_t item)
{
	return item < c->nitems && c->hit[item];
}

int lm_contam_checked(const lm_contam *c, size_t item)
{
	return item < c->nitems && c->checked[item];
}

/* Documents longer than this many tokens are scanned in windows overlapping by OVERLAP tokens
 * (an n-gram of 13 words is far shorter), so memory stays bounded. */
#define WINDOW (1u << 18)
#define OVERLAP 512u

static void scan_ids(lm_contam *c, const cm_tok *tok, const uint32_t *ids, size_t n, cm_buf *text,
		     lm_contam_stats *st)
{
	size_t bad;
	cm_buf_reset(text);
	cm_tok_decode(tok, ids, n, text, &bad);
	st->bytes += text->len;
	lm_contam_scan(c, text->p ? text->p : "", text->len);
}

static int scan_shard(lm_contam *c, const char *path, FILE *f, int64_t size, const cm_tok *tok,
		      lm_contam_stats *st, char *err, size_t errlen)
{
	unsigned char h[CM_SHARD_HEADER];
	cm_shard_hdr sh;
	if (fread(h, 1, sizeof h, f) != sizeof h) {
		snprintf(err, errlen, "'%s': shorter than a shard's header", path);
		return -1;
	}
	if (cm_shard_parse(h, size, &sh, err, errlen) < 0) {
		char e2[512];
		snprintf(e2, sizeof e2, "%s", err);
		snprintf(err, errlen, "'%s': %s", path, e2);
		return -1;
	}
	if (!tok) {
		snprintf(err, errlen, "'%s': a token shard needs the tokenizer", path);
		return -1;
	}
	int64_t eot = cm_tok_eot(tok);
	uint32_t *doc = cm_xmalloc((WINDOW + OVERLAP) * sizeof *doc);
	unsigned char *raw = cm_xmalloc((size_t)65536 * sh.width);
	size_t nd = 0;
	cm_buf text = { 0 };
	uint64_t left = sh.ntok;
	int r = 0;
	while (left) {
		size_t want = left < 65536 ? (size_t)left : 65536;
		if (fread(raw, sh.width, want, f) != want) {
			snprintf(err, errlen, "'%s': %s", path,
				 ferror(f) ? strerror(errno) : "ends before its tokens");
			r = -1;
			break;
		}
		left -= want;
		for (size_t i = 0; i < want; i++) {
			uint32_t id = sh.width == 2 ? (uint32_t)(raw[2 * i] | raw[2 * i + 1] << 8)
						    : (uint32_t)(raw[4 * i] | raw[4 * i + 1] << 8 |
								 raw[4 * i + 2] << 16 |
								 (uint32_t)raw[4 * i + 3] << 24);
			if (eot >= 0 && id == (uint32_t)eot) {
				if (nd)
					scan_ids(c, tok, doc, nd, &text, st), st->docs++;
				nd = 0;
				continue;
			}
			doc[nd++] = id;
			if (nd == WINDOW + OVERLAP) {
				scan_ids(c, tok, doc, nd, &text, st);
				memmove(doc, doc + WINDOW, OVERLAP * sizeof *doc);
				nd = OVERLAP;
			}
		}
	}
	if (!r && nd)
		scan_ids(c, tok, doc, nd, &text, st), st->docs++;
	cm_buf_free(&text);
	free(doc);
	free(raw);
	return r;
}

/* An n-gram index (dedup-minhash sign --ngram-index): its hashes against the items'. The items
 * it touches are marked only once the whole file has been read and its checksum holds. */
static int scan_index(lm_contam *c, const char *path, lm_contam_stats *st, char *err,
		      size_t errlen)
{
	cm_ngx_reader *r = cm_xmalloc(sizeof *r);
	if (cm_ngx_open(r, path, err, errlen) < 0) {
		free(r);
		return -1;
	}
	if (r->n != c->n) {
		snprintf(err, errlen, "'%s': an index of %u-word n-grams, the check's are of %u "
			 "(--contamination-ngram)", path, r->n, c->n);
		cm_ngx_close(r);
		free(r);
		return -1;
	}
	unsigned char *seen = cm_xcalloc(c->nitems ? c->nitems : 1, 1);
	uint64_t h;
	int k;
	while ((k = cm_ngx_next(r, &h, err, errlen)) > 0) {
		st->ngrams++;
		if (!c->used)
			continue;
		size_t j = slot(c, h ? h : 1);	/* the table keeps 0 as 1 */
		if (c->key[j])
			for (uint32_t q = c->head[j]; q != UINT32_MAX; q = c->post[q].next)
				seen[c->post[q].item] = 1;
	}
	if (k == 0)
		for (size_t i = 0; i < c->nitems; i++)
			c->hit[i] |= seen[i];
	free(seen);
	cm_ngx_close(r);
	free(r);
	return k < 0 ? -1 : 0;
}

static int scan_jsonl(lm_contam *c, const char *path, lm_contam_stats *st, char *err,
		      size_t errlen)
{
	cm_input *in = cm_input_open_err(path, err, errlen);
	if (!in)
		return -1;
	char *line;
	size_t len;
	int r;
	while ((r = cm_input_line(in, &line, &len, (size_t)1 << 28)) != 0) {
		if (r < 0) {
			st->skipped++;
			continue;
		}
		json_t *o = json_loadb(line, len, 0, NULL);
		json_t *t = json_object_get(o, "text");
		if (json_is_string(t)) {
			st->docs++;
			st->bytes += json_string_length(t);
			lm_contam_scan(c, json_string_value(t), json_string_length(t));
		} else if (len && !(len == 1 && line[0] == '\r')) {
			st->skipped++;
		}
		json_decref(o);
	}
	cm_input_close(in);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int lm_contam_file(lm_contam *c, const char *path, const cm_tok *tok, lm_contam_stats *st,
		   char *err, size_t errlen)
{
	struct stat sb;
	if (stat(path, &sb) < 0 && errno == ENOENT && strpbrk(path, "*?[")) {
		/* a pattern, as lm-train's --data takes them */
		glob_t g;
		int gr = glob(path, 0, NULL, &g);
		if (gr == GLOB_NOMATCH || (!gr && !g.gl_pathc)) {
			snprintf(err, errlen, "'%s': no file matches", path);
			if (!gr)
				globfree(&g);
			return -1;
		}
		if (gr) {
			snprintf(err, errlen, "'%s': cannot read the folders of the pattern", path);
			return -1;
		}
		int r = 0;
		for (size_t i = 0; i < g.gl_pathc && !r; i++)
			r = lm_contam_file(c, g.gl_pathv[i], tok, st, err, errlen);
		globfree(&g);
		return r;
	}
	if (stat(path, &sb) < 0) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(sb.st_mode)) {
		DIR *d = opendir(path);
		if (!d) {
			snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
			return -1;
		}
		char **names = NULL;
		size_t n = 0;
		struct dirent *e;
		while ((e = readdir(d))) {
			size_t l = strlen(e->d_name);
			if (l > 4 && !strcmp(e->d_name + l - 4, ".bin")) {
				names = cm_xrealloc(names, (n + 1) * sizeof *names);
				size_t pl = strlen(path) + l + 2;
				names[n] = cm_xmalloc(pl);
				snprintf(names[n++], pl, "%s/%s", path, e->d_name);
			}
		}
		closedir(d);
		qsort(names, n, sizeof *names, by_name);
		int r = 0;
		if (!n) {
			snprintf(err, errlen, "'%s': a folder without token shards (*.bin)", path);
			r = -1;
		}
		for (size_t i = 0; i < n; i++) {
			if (!r)
				r = lm_contam_file(c, names[i], tok, st, err, errlen);
			free(names[i]);
		}
		free(names);
		return r;
	}
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	unsigned char m[8] = { 0 };
	size_t got = fread(m, 1, 8, f);
	int32_t magic = (int32_t)(m[0] | m[1] << 8 | m[2] << 16 | (uint32_t)m[3] << 24);
	int r;
	if (got == 8 && !memcmp(m, "c2lm-sig", 8)) {
		snprintf(err, errlen, "'%s': a dedup-minhash signature file holds hashes of whole "
			 "documents, no n-grams; give the n-gram index `dedup-minhash sign "
			 "--ngram-index` writes beside it, or the JSONL or shards it was made from",
			 path);
		r = -1;
	} else if (cm_ngx_is(m, got)) {
		r = scan_index(c, path, st, err, errlen);
	} else if (got >= 4 && S_ISREG(sb.st_mode) &&
		   (magic == CM_SHARD_MAGIC16 || magic == CM_SHARD_MAGIC32)) {
		rewind(f);
		r = scan_shard(c, path, f, (int64_t)sb.st_size, tok, st, err, errlen);
	} else {
		r = scan_jsonl(c, path, st, err, errlen);
	}
	fclose(f);
	return r;
}
