/* shard-pack - JSONL text to llm.c token shards: train/val split by id, mixing weights by
 * domain, fixed tokens per shard, a manifest with checksums; --verify and --cat read them. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "check.h"
#include "cli.h"
#include "filter.h"
#include "folder.h"
#include "jsonw.h"
#include "remote.h"
#include "shard.h"
#include "tok.h"
#include "tokstream.h"

static const char about[] =
	"Tokenize the records' text and write llm.c token shards into DIR: each document\n"
	"preceded by <|endoftext|>, a fixed number of tokens a shard, train and val split by\n"
	"a hash of the document id, domains mixed by weight; DIR/manifest.json lists the\n"
	"shards with their checksums and counts tokens by split and domain. A run locks DIR\n"
	"and replaces the set an earlier run left there (its manifest first, its shards\n"
	"before any new one); other files stay, and are named.\n";

struct shard_rec {
	char *file;		/* NULL: streamed to stdout */
	int split;
	uint64_t tokens, bytes, xxh;
};

/* One split's shard being written. */
struct writer {
	int split, to_stdout, width;
	uint64_t cap;		/* tokens a shard */
	FILE *f;
	char *tmp, *final;
	uint64_t in_shard, nshards, tokens, docs;
	XXH3_state_t *xs;
	unsigned char *buf;
	size_t blen, bsize;
};

struct domain {
	char *label;
	double weight;
	uint64_t in, train_docs, train_tokens, val_docs, val_tokens;
};

struct ctx {
	cm_filter *f;
	const cm_tok *tok;
	uint32_t eot;
	const char *dir, *name;
	struct writer w[2];	/* train, val */
	struct shard_rec *shards;
	size_t nshards, shards_cap;
	struct domain *dom;
	size_t ndom;
	double default_weight, val_fraction;
	uint64_t seed;
	cm_tokpipe pipe;
	struct meta {		/* per document of each of the pipe's batches */
		int *split;
		uint32_t *copies, *domi;
		size_t cap;
	} m[2];
	FILE *spill;		/* train copies after the first, written after everything else */
	uint32_t max_extra;
	uint64_t docs_in, sampled_out;
	cm_json *dj;
	sp_names removed;	/* the earlier set's shards, taken away before this run's */
	int committed;		/* the manifest is in place: nothing to take back at exit */
};

static const char *split_name[2] = { "train", "val" };

static void wr_flush(struct writer *w)
{
	if (!w->blen)
		return;
	XXH3_64bits_update(w->xs, w->buf, w->blen);
	if (!w->to_stdout) {
		if (fwrite(w->buf, 1, w->blen, w->f) != w->blen)
			cm_die("cannot write '%s': %s", w->tmp, strerror(errno));
		w->blen = 0;
	}
}

/* A new file of ours at path, never through whatever an earlier run or another user left
 * there (a link, a file of the same name). */
static FILE *create_new(const char *path)
{
	int fd;
	FILE *f;

	if (unlink(path) < 0 && errno != ENOENT)
		return NULL;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666)) < 0)
		return NULL;
	if (!(f = fdopen(fd, "wb")))
		close(fd);
	return f;
}

static void wr_open(struct ctx *c, struct writer *w)
{
	static const unsigned char zero[CM_SHARD_HEADER];

	XXH3_64bits_reset(w->xs);
	w->in_shard = 0;
	w->blen = 0;
	if (w->to_stdout)
		return;
	free(w->tmp);
	free(w->final);
	w->final = cm_xmalloc(strlen(c->dir) + strlen(c->name) + 64);
	sprintf(w->final, "%s/%s_%s_%06" PRIu64 ".bin", c->dir, c->name, split_name[w->split], w->nshards);
	w->tmp = cm_xmalloc(strlen(w->final) + 8);
	sprintf(w->tmp, "%s.tmp", w->final);
	if (!(w->f = create_new(w->tmp)) || fwrite(zero, 1, sizeof zero, w->f) != sizeof zero)
		cm_die("cannot write '%s': %s", w->tmp, strerror(errno));
}

/* Finish the shard being written: header, rename to its name (or out to stdout), manifest. */
static void wr_close(struct ctx *c, struct writer *w)
{
	unsigned char h[CM_SHARD_HEADER];
	struct shard_rec *r;

	if (!w->in_shard)
		return;
	cm_shard_header(h, w->width, w->in_shard);
	wr_flush(w);
	if (w->to_stdout) {
		cm_fwrite(h, sizeof h, stdout, "standard output");
		cm_fwrite(w->buf, w->blen, stdout, "standard output");
		w->blen = 0;
	} else {
		if (fseeko(w->f, 0, SEEK_SET) < 0 || fwrite(h, 1, sizeof h, w->f) != sizeof h ||
		    fflush(w->f) < 0 || fsync(fileno(w->f)) < 0 || fclose(w->f) < 0)
			cm_die("cannot write '%s': %s", w->tmp, strerror(errno));
		w->f = NULL;
		if (rename(w->tmp, w->final) < 0)
			cm_die("cannot rename '%s' to '%s': %s", w->tmp, w->final, strerror(errno));
	}
	if (c->nshards == c->shards_cap) {
		c->shards_cap = c->shards_cap ? c->shards_cap * 2 : 16;
		c->shards = cm_xrealloc(c->shards, c->shards_cap * sizeof *c->shards);
	}
	r = &c->shards[c->nshards++];
	r->file = w->to_stdout ? NULL : cm_xstrdup(strrchr(w->final, '/') + 1);
	r->split = w->split;
	r->tokens = w->in_shard;
	r->bytes = CM_SHARD_HEADER + w->in_shard * (uint64_t)w->width;
	r->xxh = XXH3_64bits_digest(w->xs);
	w->nshards++;
	w->in_shard = 0;
}

/* Append tokens; a document runs on into the next shard when this one is full. */
static void wr_tokens(struct ctx *c, struct writer *w, const uint32_t *ids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (w->in_shard == 0 && (w->to_stdout ? w->blen == 0 : w->f == NULL))
			wr_open(c, w);
		if (w->blen + 4 > w->bsize) {
			if (w->to_stdout) {
				w->bsize = w->bsize * 2;
				w->buf = cm_xrealloc(w->buf, w->bsize);
			} else {
				wr_flush(w);
			}
		}
		if (w->width == 2) {
			w->buf[w->blen++] = (unsigned char)ids[i];
			w->buf[w->blen++] = (unsigned char)(ids[i] >> 8);
		} else {
			w->buf[w->blen++] = (unsigned char)ids[i];
			w->buf[w->blen++] = (unsigned char)(ids[i] >> 8);
			w->buf[w->blen++] = (unsigned char)(ids[i] >> 16);
			w->buf[w->blen++] = (unsigned char)(ids[i] >> 24);
		}
		w->tokens++;
		if (++w->in_shard == w->cap)
			wr_close(c, w);
	}
}

static void wr_doc(struct ctx *c, int split, const uint32_t *ids, size_t n)
{
	struct writer *w = &c->w[split];

	wr_tokens(c, w, &c->eot, 1);
	wr_tokens(c, w, ids, n);
	w->docs++;
}

static void load_weights(struct ctx *c, const char *path)
{
	cm_input *in = cm_input_open(path);
	char *line;
	size_t len, lineno = 0;
	int r;

	if (!in)
		exit(CM_EXIT_FAIL);
	while ((r = cm_input_line(in, &line, &len, 1 << 20)) != 0) {
		char *tab, *end;
		double w;
		size_t k;

		lineno++;
		if (r < 0)
			cm_die("%s:%zu: line too long", path, lineno);
		if (len && line[len - 1] == '\r')
			len--;
		line[len] = '\0';
		if (!len || line[0] == '#')
			continue;
		tab = strchr(line, '\t');
		if (!tab || tab == line)
			cm_die("%s:%zu: not 'domain<TAB>weight'", path, lineno);
		*tab = '\0';
		errno = 0;
		w = strtod(tab + 1, &end);
		if (errno || end == tab + 1 || *end || !isfinite(w) || w < 0 || w > 1e6)
			cm_die("%s:%zu: weight '%s' is not a number from 0 to 1000000", path, lineno, tab + 1);
		for (k = 0; k < c->ndom; k++)
			if (!strcmp(c->dom[k].label, line))
				cm_die("%s:%zu: domain '%s' given twice", path, lineno, line);
		c->dom = cm_xrealloc(c->dom, (c->ndom + 1) * sizeof *c->dom);
		memset(&c->dom[c->ndom], 0, sizeof *c->dom);
		c->dom[c->ndom].label = cm_xstrdup(line);
		c->dom[c->ndom].weight = w;
		c->ndom++;
	}
	if (cm_input_truncated(in))
		cm_die("%s: %s", path, cm_input_error(in));
	cm_input_close(in);
}

static uint32_t domain_of(struct ctx *c, const char *s, size_t n)
{
	size_t k;

	for (k = 0; k < c->ndom; k++)
		if (strlen(c->dom[k].label) == n && !memcmp(c->dom[k].label, s, n))
			return (uint32_t)k;
	if (c->ndom >= 100000)
		cm_die("more than 100000 domains");
	c->dom = cm_xrealloc(c->dom, (c->ndom + 1) * sizeof *c->dom);
	memset(&c->dom[c->ndom], 0, sizeof *c->dom);
	c->dom[c->ndom].label = cm_xmalloc(n + 1);
	memcpy(c->dom[c->ndom].label, s, n);
	c->dom[c->ndom].label[n] = '\0';
	c->dom[c->ndom].weight = c->default_weight;
	return (uint32_t)c->ndom++;
}

/* metadata.domain: a string, or domain-tag's object with a label; else "none". UINT32_MAX
 * for an object that repeats a key (jq would read the other label). */
static uint32_t record_domain(struct ctx *c, const cm_jrec *rec)
{
	const cm_jfield *d = cm_jrec_meta(rec, "domain");

	if (d && d->type == CM_J_STRING && d->str)
		return domain_of(c, d->str, d->str_len);
	if (d && d->type == CM_J_OBJECT) {
		json_error_t je;
		json_t *o = json_loadb(rec->line + d->val_off, d->val_len, JSON_REJECT_DUPLICATES, &je);
		json_t *l = json_object_get(o, "label");
		uint32_t k;

		if (!o && json_error_code(&je) == json_error_duplicate_key)
			return UINT32_MAX;	/* before any domain is counted */
		k = json_is_string(l) ? domain_of(c, json_string_value(l), strlen(json_string_value(l))) :
		    domain_of(c, "none", 4);
		json_decref(o);
		return k;
	}
	return domain_of(c, "none", 4);
}

static double unit_hash(const void *p, size_t n, uint64_t seed)
{
	return (double)(XXH3_64bits_withSeed(p, n, seed) >> 11) * 0x1.0p-53;
}

/* A temporary file in TMPDIR (default /tmp), gone when closed. */
static FILE *spill_file(void)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	FILE *f;
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
	path = cm_xmalloc(strlen(dir) + 32);
	sprintf(path, "%s/shard-pack-XXXXXX", dir);
	if ((fd = mkstemp(path)) < 0 || unlink(path) < 0 || !(f = fdopen(fd, "w+b")))
		cm_die("cannot make a temporary file in '%s' for repeated documents: %s", dir, strerror(errno));
	free(path);
	return f;
}

/* Write an encoded batch into the shards, in input order. */
static void write_batch(cm_tokbatch *b, int slot, void *arg)
{
	struct ctx *c = arg;
	const struct meta *m = &c->m[slot];
	size_t i;

	for (i = 0; i < b->n; i++) {
		const cm_ids *ids = &b->ids[i];
		struct domain *d = &c->dom[m->domi[i]];

		if (m->split[i] == 1) {
			wr_doc(c, 1, ids->v, ids->n);
			d->val_docs++;
			d->val_tokens += ids->n + 1;
			continue;
		}
		wr_doc(c, 0, ids->v, ids->n);
		d->train_docs += m->copies[i];
		d->train_tokens += (uint64_t)(ids->n + 1) * m->copies[i];
		if (m->copies[i] > 1) {
			uint32_t extra = m->copies[i] - 1;
			uint64_t n = ids->n;

			if (!c->spill)
				c->spill = spill_file();
			if (fwrite(&extra, sizeof extra, 1, c->spill) != 1 || fwrite(&n, sizeof n, 1, c->spill) != 1 ||
			    fwrite(ids->v, sizeof *ids->v, ids->n, c->spill) != ids->n)
				cm_die("cannot write the temporary file of repeated documents: %s", strerror(errno));
			if (extra > c->max_extra)
				c->max_extra = extra;
		}
	}
}

/* Repeats (weights above 1): the second copy of every such document after all first copies,
 * then the third..., so copies of a document sit far apart. */
static void replay_spill(struct ctx *c)
{
	cm_ids ids = { 0 };
	uint32_t pass, extra;
	uint64_t n;

	/* rewind() would flush without saying that it failed (a full TMPDIR) */
	if (c->spill && fflush(c->spill) != 0)
		cm_die("cannot write the temporary file of repeated documents: %s", strerror(errno));
	for (pass = 1; c->spill && pass <= c->max_extra; pass++) {
		rewind(c->spill);
		while (fread(&extra, sizeof extra, 1, c->spill) == 1) {
			if (fread(&n, sizeof n, 1, c->spill) != 1)
				cm_die("temporary file of repeated documents cut short");
			ids.n = 0;
			if (n > ids.cap)
				cm_ids_grow(&ids, (size_t)n);
			if (fread(ids.v, sizeof *ids.v, (size_t)n, c->spill) != n)
				cm_die("temporary file of repeated documents cut short");
			if (extra >= pass)
				wr_doc(c, 0, ids.v, (size_t)n);
		}
		if (ferror(c->spill))
			cm_die("cannot read the temporary file of repeated documents: %s", strerror(errno));
	}
	if (c->spill)
		fclose(c->spill);
	cm_ids_free(&ids);
}

static const char *one(cm_filter *f, const cm_jrec *rec, void *p)
{
	struct ctx *c = p;
	const cm_jfield *t = cm_jrec_get(rec, f->text_field), *id = cm_jrec_get(rec, f->id_field);
	const char *idp;
	size_t idn;
	uint32_t d, copies = 1;
	int split = 0;
	cm_tokbatch *b;
	struct meta *m;

	if (!t || !t->str)
		return "no_text";
	if (!id || id->type == CM_J_NULL)
		return "no_id";
	idp = id->str ? id->str : rec->line + id->val_off;
	idn = id->str ? id->str_len : id->val_len;
	d = record_domain(c, rec);
	if (d == UINT32_MAX)
		return "duplicate_key";
	c->dom[d].in++;
	c->docs_in++;
	if (c->val_fraction > 0 && unit_hash(idp, idn, c->seed) < c->val_fraction) {
		split = 1;
	} else {
		double w = c->dom[d].weight, whole = floor(w);

		copies = (uint32_t)whole + (unit_hash(idp, idn, c->seed ^ 0x6d6978696e67ull) < w - whole);
		if (!copies) {
			c->sampled_out++;
			return "sampled_out";
		}
	}
	b = cm_tokpipe_batch(&c->pipe);
	m = &c->m[cm_tokpipe_slot(&c->pipe)];
	if (b->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 1024;
		m->split = cm_xrealloc(m->split, m->cap * sizeof *m->split);
		m->copies = cm_xrealloc(m->copies, m->cap * sizeof *m->copies);
		m->domi = cm_xrealloc(m->domi, m->cap * sizeof *m->domi);
	}
	m->split[b->n] = split;
	m->copies[b->n] = copies;
	m->domi[b->n] = d;
	cm_tokbatch_add(b, t->str, t->str_len);
	cm_tokpipe_added(&c->pipe);
	return NULL;
}

/* A split left empty although documents were read, other than the one --val-fraction 0 (or 1)
 * asks for: a few large documents against the default 0.01, or weights that sample every
 * document out. Said now, not when lm-train finds no shard for --val. */
static void warn_empty_splits(const struct ctx *c)
{
	if (!c->docs_in)
		return;
	if (!c->w[0].docs && c->val_fraction < 1)
		cm_warn("no document of %" PRIu64 " went to train (%" PRIu64 " to val, %" PRIu64
			" sampled out by weight): there is no train shard", c->docs_in, c->w[1].docs,
			c->sampled_out);
	if (!c->w[1].docs && c->val_fraction > 0)
		cm_warn("no document of %" PRIu64 " went to val (--val-fraction %g, by id hash): there is no "
			"val shard; a larger --val-fraction gives one, --val-fraction 0 says none is wanted",
			c->docs_in, c->val_fraction);
}

static void write_manifest(struct ctx *c, const char *tok_path)
{
	cm_buf b = CM_BUF_INIT, path = CM_BUF_INIT, tmp = CM_BUF_INIT;
	char err[4400];
	cm_jw w;
	size_t i;
	int s;
	char hex[17];

	cm_jw_init(&w, &b);
	cm_jw_obj(&w);
	cm_jw_key_str(&w, "format", "llm.c");
	cm_jw_key_uint(&w, "magic", c->w[0].width == 2 ? CM_SHARD_MAGIC16 : CM_SHARD_MAGIC32);
	cm_jw_key_uint(&w, "version", c->w[0].width == 2 ? 1 : 7);
	cm_jw_key_uint(&w, "token_bytes", (unsigned)c->w[0].width);
	cm_jw_key_uint(&w, "header_bytes", CM_SHARD_HEADER);
	cm_jw_key(&w, "tokenizer");
	cm_jw_obj(&w);
	cm_jw_key_str(&w, "file", tok_path);
	cm_jw_key(&w, "hash");
	snprintf(hex, sizeof hex, "%016" PRIx64, cm_tok_hash(c->tok));
	cm_jw_str(&w, hex);
	cm_jw_key_uint(&w, "vocab_size", cm_tok_vocab_size(c->tok));
	cm_jw_key_uint(&w, "eot", c->eot);
	cm_jw_end(&w, '}');
	cm_jw_key_uint(&w, "shard_tokens", c->w[0].cap);
	cm_jw_key_double(&w, "val_fraction", c->val_fraction);
	cm_jw_key_uint(&w, "seed", c->seed);
	cm_jw_key_double(&w, "default_weight", c->default_weight);
	cm_jw_key_uint(&w, "documents_in", c->docs_in);
	cm_jw_key_uint(&w, "sampled_out", c->sampled_out);
	cm_jw_key(&w, "splits");
	cm_jw_obj(&w);
	for (s = 0; s < 2; s++) {
		cm_jw_key(&w, split_name[s]);
		cm_jw_obj(&w);
		cm_jw_key_uint(&w, "documents", c->w[s].docs);
		cm_jw_key_uint(&w, "tokens", c->w[s].tokens);
		cm_jw_key_uint(&w, "shards", c->w[s].nshards);
		cm_jw_end(&w, '}');
	}
	cm_jw_end(&w, '}');
	cm_jw_key(&w, "domains");
	cm_jw_obj(&w);
	for (i = 0; i < c->ndom; i++) {
		const struct domain *d = &c->dom[i];

		cm_jw_key(&w, d->label);
		cm_jw_obj(&w);
		cm_jw_key_double(&w, "weight", d->weight);
		cm_jw_key_uint(&w, "documents_in", d->in);
		cm_jw_key_uint(&w, "train_documents", d->train_docs);
		cm_jw_key_uint(&w, "train_tokens", d->train_tokens);
		cm_jw_key_uint(&w, "val_documents", d->val_docs);
		cm_jw_key_uint(&w, "val_tokens", d->val_tokens);
		cm_jw_end(&w, '}');
	}
	cm_jw_end(&w, '}');
	cm_jw_key(&w, "shards");
	cm_jw_arr(&w);
	for (i = 0; i < c->nshards; i++) {
		const struct shard_rec *r = &c->shards[i];

		cm_jw_obj(&w);
		cm_jw_key(&w, "file");
		if (r->file)
			cm_jw_str(&w, r->file);
		else
			cm_jw_null(&w);
		cm_jw_key_str(&w, "split", split_name[r->split]);
		cm_jw_key_uint(&w, "tokens", r->tokens);
		cm_jw_key_uint(&w, "bytes", r->bytes);
		cm_jw_key(&w, "xxh3");
		snprintf(hex, sizeof hex, "%016" PRIx64, r->xxh);
		cm_jw_str(&w, hex);
		cm_jw_end(&w, '}');
	}
	cm_jw_end(&w, ']');
	cm_jw_key(&w, "created_by");
	cm_buf_printf(&tmp, "%s %s", cm_prog, CM_VERSION);
	cm_jw_str(&w, tmp.p);
	cm_jw_end(&w, '}');
	cm_buf_addc(&b, '\n');
	/* whole or not at all (a temporary synced, renamed, the folder synced) */
	cm_buf_printf(&path, "%s/manifest.json", c->dir);
	if (cm_afile_put(path.p, b.p, b.len, err, sizeof err) < 0)
		cm_die("%s", err);
	c->committed = 1;
	cm_buf_free(&b);
	cm_buf_free(&path);
	cm_buf_free(&tmp);
}

/* At exit before the manifest is in place (a write failed): take back what this run wrote, so
 * a failed run leaves no shards for a glob to find. */
static struct ctx *unfinished;

static void take_back(void)
{
	struct ctx *c = unfinished;
	cm_buf p = CM_BUF_INIT;
	size_t i;
	int s;

	if (!c || c->committed || !c->dir)
		return;
	for (s = 0; s < 2; s++)
		if (c->w[s].f && c->w[s].tmp)
			unlink(c->w[s].tmp);
	for (i = 0; i < c->nshards; i++) {
		if (!c->shards[i].file)
			continue;
		cm_buf_reset(&p);
		cm_buf_printf(&p, "%s/%s", c->dir, c->shards[i].file);
		unlink(p.p);
	}
	cm_buf_free(&p);
}

/* The names in dir of the files that --stats and --rejects write, when they are there. */
static void own_files(const char *dir, const char *const *paths, int n, sp_names *keep)
{
	struct stat sd, sp;
	int i;

	if (stat(dir, &sd) < 0)
		return;
	for (i = 0; i < n; i++) {
		const char *p = paths[i], *slash;
		char *parent;
		int same;

		if (!p || !strcmp(p, "-"))
			continue;
		slash = strrchr(p, '/');
		parent = slash ? cm_xmalloc((size_t)(slash - p) + 2) : cm_xstrdup(".");
		if (slash)
			sprintf(parent, "%.*s", slash == p ? 1 : (int)(slash - p), p);
		same = stat(parent, &sp) == 0 && sp.st_dev == sd.st_dev && sp.st_ino == sd.st_ino;
		if (same)
			sp_names_add(keep, slash ? slash + 1 : p);
		free(parent);
	}
	sp_names_sort(keep);
}

static void writer_init(struct writer *w, int split, int to_stdout, int width, uint64_t cap)
{
	memset(w, 0, sizeof *w);
	w->split = split;
	w->to_stdout = to_stdout;
	w->width = width;
	w->cap = cap;
	w->xs = XXH3_createState();
	w->bsize = to_stdout ? (size_t)1 << 20 : (size_t)1 << 20;
	w->buf = cm_xmalloc(w->bsize);
}

static void set_name(const cm_opt *o, const char *name)
{
	if (!*name || strchr(name, '/'))
		cm_usage_error("option '--name' wants a name without '/'");
	*(const char **)o->ctx = name;
}

int main(int argc, char **argv)
{
	static struct ctx c;
	static char usage[512];
	const char *tok_path = NULL, *weights = NULL, *cat_out = NULL;
	long long shard_tokens = 100000000;
	int threads = 0, allow_special = 0, to_stdout = 0, verify = 0, cat = 0, val_given, i, status;
	cm_filter f;
	cm_tok *tok;
	char err[256];
	int64_t eot;

	cm_filter_init(&f, argc, argv);
	c.val_fraction = -1;	/* not given: 0.01, or 0 with --stdout and no -o */
	c.default_weight = 1;
	c.name = "shard";
	const cm_opt opts[] = {
		CM_OPT_GROUP("Packing:"),
		CM_OPT_STRING('t', "tokenizer", &tok_path, "FILE",
			      "tokenizer.json or a tiktoken rank file (see bpe-encode(1))"),
		CM_OPT_STRING('o', "output", &f.out_path, "DIR",
			      "the folder for the shards and manifest.json (made if missing)"),
		CM_OPT_CALLBACK(0, "name", set_name, &c.name, "NAME",
				"shard files are NAME_train_000000.bin... (default: shard)"),
		CM_OPT_INT(0, "shard-tokens", &shard_tokens, "N", 1, CM_SHARD_MAX_TOKENS,
			   "tokens a shard (default: 100000000; the last one of a split\n"
			   "holds the rest)"),
		CM_OPT_DOUBLE(0, "val-fraction", &c.val_fraction, "F", 0, 1,
			      "share of documents for val, by id hash (default: 0.01)"),
		CM_OPT_STRING(0, "weights", &weights, "FILE",
			      "mixing weights: lines 'domain<TAB>weight' (metadata.domain's\n"
			      "label); above 1 repeats a domain's documents, below 1 samples\n"
			      "them, by id hash (train only)"),
		CM_OPT_DOUBLE(0, "default-weight", &c.default_weight, "W", 0, 1e6,
			      "weight of domains not in the file and of unlabelled\n"
			      "documents (default: 1)"),
		CM_OPT_INT(0, "seed", &c.seed, "N", 0, INT64_MAX, "seed of the split and sampling hashes (default: 0)"),
		CM_OPT_FLAG(0, "allow-special", &allow_special, "special tokens' texts in the input give their ids"),
		CM_OPT_INT('j', "threads", &threads, "N", 1, 4096, "tokenize with N threads (default: all CPUs)"),
		CM_OPT_FLAG(0, "stdout", &to_stdout,
			    "stream the train shards to standard output, one after another\n"
			    "(for lm-train --data -); val shards and the manifest go to -o DIR\n"
			    "when given, else --val-fraction is 0"),
		CM_OPT_STRING(0, "rejects", &f.rejects_path, "FILE",
			      "write the documents not packed there, with the reason: no_text,\n"
			      "no_id, duplicate_key (metadata.domain with a key twice),\n"
			      "sampled_out (by a weight below 1)"),
		CM_OPT_GROUP("Reading:"),
		CM_OPT_FLAG(0, "verify", &verify,
			    "check shard sets against their manifests: sizes, headers,\n"
			    "checksums, ids, totals, and no shard-like file (*.bin,\n"
			    "*.bin.tmp) in the folder that the manifest does not list"),
		CM_OPT_FLAG(0, "cat", &cat,
			    "decode shards (or a manifest's or folder's shards, each\n"
			    "checked against the manifest) back to text"),
		CM_OPT_STRING(0, "cat-output", &cat_out, "FILE",
			      "write --cat's text to FILE (default: standard output)"),
		CM_OPT_INCLUDE(cm_filter_opts(&f, CM_FILTER_STATS | CM_FILTER_RECORDS | CM_FILTER_ID_FIELD | CM_FILTER_PROGRESS)),
		CM_OPT_END()
	};
	const cm_opt_info info = { usage, about, CM_FILTER_EPILOG,
				   "a summary at the end: shards, tokens and documents by split,\n"
				   "documents sampled out; records read, kept and dropped (twice:\n"
				   "also each file of an earlier set removed)" };

	snprintf(usage, sizeof(usage),
		 "-t TOKENIZER -o DIR [OPTION]... [FILE]...\n"
		 "   or: %s --verify DIR|MANIFEST...\n"
		 "   or: %s --cat -t TOKENIZER [--cat-output FILE] SHARD|MANIFEST|DIR...", cm_prog, cm_prog);
	int nf = cm_opt_parse(argc, argv, opts, &info);
	char **files = argv + 1;

	nf = cm_opt_lists(nf, &files);

	val_given = c.val_fraction >= 0;
	if (!val_given)
		c.val_fraction = 0.01;
	if (verify + cat > 1 || ((verify || cat) && to_stdout))
		cm_usage_error("--verify, --cat and --stdout do not go together");
	if (verify) {
		int status = 0;

		if (nf == 0)
			cm_usage_error("--verify wants shard folders or manifests");
		for (i = 0; i < nf; i++)
			status |= sp_verify(files[i]);
		cm_stats_free(&f.stats);
		cm_close_stdout();
		return status;
	}
	if (!tok_path)
		cm_usage_error("a tokenizer is needed (-t FILE)");
	tok = cm_tok_load(tok_path, NULL, err, sizeof err);
	if (!tok)
		cm_die("cannot load the tokenizer '%s': %s", tok_path, err);
	if (cat) {
		int status;

		if (nf == 0)
			cm_usage_error("--cat wants shards or manifests");
		/* --cat -o FILE: the old spelling, from when -o was also --cat's file */
		status = sp_cat(tok, files, nf, cat_out ? cat_out : f.out_path);
		cm_tok_free(tok);
		cm_stats_free(&f.stats);
		cm_close_stdout();
		return status;
	}
	if (!to_stdout && !f.out_path)
		cm_usage_error("where to put the shards? (-o DIR, or --stdout)");
	if (to_stdout && !f.out_path) {
		if (val_given && c.val_fraction > 0)
			cm_usage_error("--stdout without -o DIR has nowhere for val shards: --val-fraction 0");
		c.val_fraction = 0;
	}
	if ((eot = cm_tok_eot(tok)) < 0)
		cm_die("the tokenizer '%s' has no <|endoftext|> to put before each document", tok_path);
	c.eot = (uint32_t)eot;
	c.tok = tok;
	c.dir = f.out_path;
	if (weights)
		load_weights(&c, weights);
	if (c.dir) {
		const char *mine[2] = { f.stats_path, f.rejects_path };
		sp_names keep = { 0 };

		sp_folder_lock(c.dir);
		/* an input that cannot be read (a typo) fails the run before the earlier set goes */
		for (i = 0; i < nf; i++) {
			struct stat st;

			/* (not opened: a FIFO's writer would see its reader come and go) */
			if (strcmp(files[i], "-") && !cm_remote_is_url(files[i]) &&
			    (stat(files[i], &st) < 0 || access(files[i], R_OK) < 0))
				cm_die("cannot open '%s': %s (the folder '%s' is left as it was)", files[i],
				       strerror(errno), c.dir);
		}
		own_files(c.dir, mine, 2, &keep);
		unfinished = &c;
		atexit(take_back);
		sp_folder_clear(c.dir, c.name, &keep, &c.removed);
		sp_names_free(&keep);
	}
	writer_init(&c.w[0], 0, to_stdout, cm_shard_width(cm_tok_vocab_size(tok)), (uint64_t)shard_tokens);
	writer_init(&c.w[1], 1, 0, cm_shard_width(cm_tok_vocab_size(tok)), (uint64_t)shard_tokens);
	c.f = &f;
	cm_tokpipe_init(&c.pipe, tok, threads, allow_special, write_batch, &c);
	f.no_output = 1;
	f.json = cm_json_new();
	cm_json_want(f.json, f.text_field);
	cm_json_want(f.json, f.id_field);
	cm_json_want(f.json, "metadata.domain");
	{
		const char *out = f.out_path;

		f.out_path = NULL;
		cm_filter_start(&f, cm_filter_total_size(files, nf));
		f.out_path = out;
	}
	status = cm_filter_run(&f, files, nf, one, &c);
	cm_tokpipe_finish(&c.pipe);
	replay_spill(&c);
	wr_close(&c, &c.w[0]);
	wr_close(&c, &c.w[1]);
	{
		cm_buf b = CM_BUF_INIT;

		cm_buf_printf(&b, "{\"train_tokens\":%" PRIu64 ",\"val_tokens\":%" PRIu64 ",\"train_documents\":%"
			      PRIu64 ",\"val_documents\":%" PRIu64 ",\"shards\":%zu,\"ill_formed_runs\":%" PRIu64 "}",
			      c.w[0].tokens, c.w[1].tokens, c.w[0].docs, c.w[1].docs, c.nshards,
			      cm_tokbatch_invalid_runs(&c.pipe.b[0]));
		cm_stats_extra(&f.stats, "shards", b.p);
		cm_buf_free(&b);
	}
	/* Every other output is whole before the manifest says the set is: a run that fails to
	 * write any of them leaves no set that verifies. */
	if (to_stdout)
		cm_fflush(stdout, "standard output");
	cm_filter_close_outputs(&f);
	if (c.dir && status != CM_EXIT_OK) {
		/* an input that failed (cut short, unreadable, nothing valid, --strict): no set
		 * that verifies, nothing for lm-train's glob (take_back removes the shards) */
		cm_error("an input failed: no manifest written in '%s', and this run's shards are removed "
			 "(--allow-truncated accepts a cut input)", c.dir);
		exit(CM_EXIT_FAIL);
	}
	if (c.dir) {
		sp_names written = { 0 };

		for (i = 0; (size_t)i < c.nshards; i++)
			if (c.shards[i].file)
				sp_names_add(&written, c.shards[i].file);
		/* the shards' names are on disk before the manifest that lists them */
		sp_folder_sync(c.dir);
		sp_folder_report(c.dir, &c.removed, &written);
		sp_names_free(&written);
		write_manifest(&c, tok_path);
	}
	warn_empty_splits(&c);
	if (cm_verbosity > 0)
		cm_info("%zu shards: train %" PRIu64 " tokens in %" PRIu64 " documents, val %" PRIu64
			" tokens in %" PRIu64 " documents; %" PRIu64 " sampled out",
			c.nshards, c.w[0].tokens, c.w[0].docs, c.w[1].tokens, c.w[1].docs, c.sampled_out);
	for (i = 0; i < 2; i++) {
		XXH3_freeState(c.w[i].xs);
		free(c.w[i].buf);
		free(c.w[i].tmp);
		free(c.w[i].final);
	}
	for (i = 0; (size_t)i < c.nshards; i++)
		free(c.shards[i].file);
	free(c.shards);
	sp_names_free(&c.removed);
	for (i = 0; (size_t)i < c.ndom; i++)
		free(c.dom[i].label);
	free(c.dom);
	for (i = 0; i < 2; i++) {
		free(c.m[i].split);
		free(c.m[i].copies);
		free(c.m[i].domi);
	}
	cm_tokpipe_free(&c.pipe);
	cm_tok_free(tok);
	f.out_path = NULL;
	return cm_filter_finish(&f);
}
