/* dedup-minhash - exact and near-duplicate removal: in one streaming pass, or in steps (sign each
 * shard, cluster the signatures, filter each shard; cluster.c and sigfile.c) with the same result. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "cli.h"
#include "cluster.h"
#include "decon.h"
#include "filter.h"
#include "jsonw.h"
#include "lsh.h"
#include "minhash.h"
#include "ngx.h"
#include "sigfile.h"
#include "xsort.h"

#define NONE UINT64_MAX

enum mode { STREAM, SIGN, FILTER };

struct ctx {
	enum mode mode;
	unsigned bands, rows;
	int exact, urls, verify, annotate;
	double threshold;
	dm_hasher h;
	dm_table *band;
	dm_set128 texts, urlset;
	uint32_t *cluster;	/* document -> its cluster (the first document of it) */
	uint32_t *sigs;		/* --verify: document -> signature */
	size_t cap_docs;
	uint32_t doc;		/* documents seen */
	uint32_t *sig;
	cm_buf norm, meta;
	uint64_t exact_dups, near_dups, url_dups, empty;
	const char *against[DM_MAX_SETS];	/* --against */
	size_t nagainst;
	dm_decon *decon;
	uint64_t contaminated[DM_MAX_SETS], contaminated_docs;
	int lines;
	dm_set128 lineset;
	cm_buf edited, line;
	uint64_t lines_removed, lines_seen;
	size_t rec_lines;	/* lines removed from this record */

	/* multi-step mode */
	XXH3_state_t *fp;	/* the input's fingerprint: every record's text */
	dm_params params;
	dm_bw sigw;		/* sign: the signature file */
	dm_sigrec srec;
	dm_br list;		/* filter: the duplicate list */
	dm_dupent ent;		/* its next entry */
	int have_ent;
	uint64_t local, count[4], filtered_contaminated;
	/* sign --ngram-index: every n-gram's hash, sorted (bounded memory) */
	const char *ngx_path, *tmp;
	size_t mem;
	unsigned ngx_n;
	dm_sorter *ngx;
	uint64_t ngx_grams, ngx_distinct;
};

/* --lines: the text without the lines seen before (normalised as for deduplication, which is
 * CCNet's: case, accents, digits, punctuation, spaces), into c->edited; returns the lines
 * removed. Lines that normalise to nothing (blank, punctuation only) always stay. */
static size_t remove_seen_lines(struct ctx *c, const char *t, size_t n)
{
	size_t removed = 0;
	const char *p = t, *end = t + n;

	cm_buf_reset(&c->edited);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;
		XXH128_hash_t h;

		cm_ngram_normalize(p, (size_t)(e - p), &c->line);
		c->lines_seen++;
		if (c->line.len) {
			h = XXH3_128bits(c->line.p, c->line.len);
			if (dm_set128_find_add(&c->lineset, h.low64, h.high64, 0) >= 0) {
				removed++;
				p = nl ? nl + 1 : end;
				continue;
			}
		}
		cm_buf_add(&c->edited, p, (size_t)(e - p) + (nl ? 1 : 0));
		p = nl ? nl + 1 : end;
	}
	/* no newline left dangling where the last lines went */
	if (removed && c->edited.len && c->edited.p[c->edited.len - 1] == '\n' && (n == 0 || t[n - 1] != '\n'))
		c->edited.p[--c->edited.len] = '\0';
	c->lines_removed += removed;
	return removed;
}

/* metadata.dedup; of NONE: not a duplicate; sim < 0: none; sets: contaminated sets, named. */
static void annotate(cm_filter *f, struct ctx *c, uint64_t cluster, uint64_t of, const char *kind, double sim,
		     uint32_t sets, const char *const *names, size_t nnames)
{
	cm_jw w;

	cm_buf_reset(&c->meta);
	cm_jw_init(&w, &c->meta);
	cm_jw_obj(&w);
	cm_jw_key_uint(&w, "cluster", cluster);
	if (of != NONE) {
		cm_jw_key_uint(&w, "duplicate_of", of);
		cm_jw_key_str(&w, "kind", kind);
		if (sim >= 0)
			cm_jw_key_double(&w, "similarity", sim);
	}
	if (c->rec_lines)
		cm_jw_key_uint(&w, "lines_removed", c->rec_lines);
	if (sets) {
		size_t k;

		cm_jw_key(&w, "contaminated");
		cm_jw_arr(&w);
		for (k = 0; k < nnames; k++)
			if (sets & 1u << k)
				cm_jw_str(&w, names[k]);
		cm_jw_end(&w, ']');
	}
	cm_jw_end(&w, '}');
	cm_rw_meta_raw(&f->rw, "dedup", c->meta.p, c->meta.len);
}

static void stream_annotate(cm_filter *f, struct ctx *c, int64_t of, const char *kind, double sim, uint32_t sets)
{
	const char *const *names = NULL;
	size_t n = c->decon ? dm_decon_sets(c->decon, &names) : 0;

	annotate(f, c, c->cluster[c->doc], of >= 0 ? (uint64_t)of : NONE, kind, sim, sets, names, n);
}

/* The input's fingerprint, which ties a duplicate list to the shard signed: each record's
 * text and its length (0: none). */
static void fingerprint(struct ctx *c, const cm_jfield *t)
{
	unsigned char len[8];
	uint64_t n = t && t->str ? (uint64_t)t->str_len + 1 : 0;
	int i;

	for (i = 0; i < 8; i++)
		len[i] = (unsigned char)(n >> (8 * i));
	if (n)
		XXH3_64bits_update(c->fp, t->str, t->str_len);
	XXH3_64bits_update(c->fp, len, sizeof(len));
}

static const char *one(cm_filter *f, const cm_jrec *rec, void *p)
{
	struct ctx *c = p;
	const cm_jfield *t = cm_jrec_get(rec, f->text_field), *u = cm_jrec_get(rec, "url");
	const char *why = NULL, *kind = NULL;
	int64_t of = -1;
	double sim = -1;
	unsigned b, k = c->bands * c->rows;
	uint32_t sets = 0;

	if (c->doc == UINT32_MAX)
		cm_die("more than 4,294,967,294 documents in one run: split the input (--shard)");
	if (c->doc == c->cap_docs) {
		c->cap_docs = c->cap_docs ? c->cap_docs + c->cap_docs / 2 : 4096;
		c->cluster = cm_xrealloc(c->cluster, c->cap_docs * sizeof(*c->cluster));
		if (c->verify)
			c->sigs = cm_xrealloc(c->sigs, c->cap_docs * k * sizeof(*c->sigs));
	}
	c->rec_lines = 0;
	if (c->lines && t && t->str && (c->rec_lines = remove_seen_lines(c, t->str, t->str_len))) {
		cm_rw_set_str(&f->rw, f->text_field, c->edited.p ? c->edited.p : "", c->edited.len);
		cm_ngram_normalize(c->edited.p ? c->edited.p : "", c->edited.len, &c->norm);
	} else {
		cm_ngram_normalize(t && t->str ? t->str : "", t && t->str ? t->str_len : 0, &c->norm);
	}
	if (c->decon && (sets = dm_decon_check(c->decon, c->norm.p ? c->norm.p : "", c->norm.len))) {
		for (b = 0; b < DM_MAX_SETS; b++)
			c->contaminated[b] += (sets >> b) & 1;
		c->contaminated_docs++;
		if (!c->annotate) {	/* dropped: it is no one's original either */
			c->cluster[c->doc] = c->doc;
			stream_annotate(f, c, -1, NULL, -1, sets);
			c->doc++;
			return "contaminated";
		}
	}
	if (c->urls && u && u->str && u->str_len) {
		XXH128_hash_t x = XXH3_128bits(u->str, u->str_len);

		if ((of = dm_set128_find_add(&c->urlset, x.low64, x.high64, c->doc)) >= 0) {
			kind = "url";
			why = "url_duplicate";
			c->url_dups++;
		}
	}
	if (!why && c->norm.len == 0) {
		c->empty++;	/* nothing to compare: kept, its own cluster */
	} else if (!why) {
		if (c->exact) {
			XXH128_hash_t x = XXH3_128bits(c->norm.p, c->norm.len);

			if ((of = dm_set128_find_add(&c->texts, x.low64, x.high64, c->doc)) >= 0) {
				kind = "exact";
				why = "exact_duplicate";
				sim = 1;
				c->exact_dups++;
			}
		}
		if (!why) {	/* an exact duplicate's keys are its original's: no need */
			int64_t best = -1;

			dm_signature(&c->h, c->norm.p, c->norm.len, c->sig);
			if (c->verify)
				memcpy(c->sigs + (size_t)c->doc * k, c->sig, k * sizeof(*c->sig));
			for (b = 0; b < c->bands; b++) {
				/* the first document with this key, or this one is stored as it */
				int64_t d = dm_table_find(&c->band[b], dm_band_hash(c->sig, b, c->rows), c->doc, 1);
				double sm = -1;

				if (d < 0 || (best >= 0 && d >= best))
					continue;
				if (c->verify && (sm = dm_similarity(c->sig, c->sigs + (size_t)d * k, k)) < c->threshold)
					continue;
				best = d;
				sim = sm;
			}
			if (best >= 0) {
				of = best;
				kind = "near";
				why = "near_duplicate";
				c->near_dups++;
			}
		}
	}
	c->cluster[c->doc] = why ? c->cluster[of] : c->doc;
	stream_annotate(f, c, why ? of : -1, kind, sim, sets);
	c->doc++;
	return c->annotate ? NULL : why;
}

static void ngx_gram(void *p, const char *g, size_t len)
{
	struct ctx *c = p;

	dm_sorter_add(c->ngx, cm_ngram_hash(g, len), 0, 0);
	c->ngx_grams++;
}

/* sign --ngram-index: the sorted hashes, each once, into the index (replaced whole) */
static int ngx_write(struct ctx *c)
{
	char err[512];
	cm_ngx_writer *w = cm_xmalloc(sizeof(*w));
	const dm_rec *r;
	int st = 0;

	if (cm_ngx_create(w, c->ngx_path, c->ngx_n, err, sizeof(err)) != 0) {
		cm_error("%s", err);
		free(w);
		return -1;
	}
	while ((r = dm_sorter_next(c->ngx)))
		cm_ngx_add(w, r->a);
	c->ngx_distinct = w->count;
	if (cm_ngx_commit(w, err, sizeof(err)) != 0) {
		cm_error("%s", err);
		st = -1;
	}
	free(w);
	return st;
}

/* sign: every key of a document, whatever the streaming mode would look at (cluster decides). */
static const char *sign_one(cm_filter *f, const cm_jrec *rec, void *p)
{
	struct ctx *c = p;
	const cm_jfield *t = cm_jrec_get(rec, f->text_field), *u = cm_jrec_get(rec, "url");
	dm_sigrec *r = &c->srec;
	unsigned b;

	fingerprint(c, t);
	cm_ngram_normalize(t && t->str ? t->str : "", t && t->str ? t->str_len : 0, &c->norm);
	if (c->ngx)
		cm_ngrams(c->norm.p ? c->norm.p : "", c->norm.len, c->ngx_n, ngx_gram, c);
	r->flags = 0;
	r->sets = 0;
	memset(r->url, 0, sizeof(r->url));
	memset(r->text, 0, sizeof(r->text));
	if (c->decon && (r->sets = dm_decon_check(c->decon, c->norm.p ? c->norm.p : "", c->norm.len))) {
		for (b = 0; b < DM_MAX_SETS; b++)
			c->contaminated[b] += (r->sets >> b) & 1;
		c->contaminated_docs++;
	}
	if (c->urls && u && u->str && u->str_len) {
		XXH128_hash_t x = XXH3_128bits(u->str, u->str_len);

		r->flags |= DM_R_URL;
		r->url[0] = x.low64;
		r->url[1] = x.high64;
	}
	if (c->norm.len == 0) {
		r->flags |= DM_R_EMPTY;
		c->empty++;
		memset(r->band, 0, c->bands * sizeof(*r->band));
		memset(c->sig, 0, c->bands * c->rows * sizeof(*c->sig));
	} else {
		if (c->exact) {
			XXH128_hash_t x = XXH3_128bits(c->norm.p, c->norm.len);

			r->text[0] = x.low64;
			r->text[1] = x.high64;
		}
		dm_signature(&c->h, c->norm.p, c->norm.len, c->sig);
		for (b = 0; b < c->bands; b++)
			r->band[b] = dm_band_hash(c->sig, b, c->rows);
	}
	dm_sig_add(&c->sigw, &c->params, r);
	c->doc++;
	return NULL;
}

static void next_entry(struct ctx *c)
{
	uint64_t last = c->have_ent ? c->ent.doc : 0;
	int st = dm_dup_next(&c->list, &c->ent), had = c->have_ent;

	if (st < 0)
		cm_die("%s", c->list.err);
	c->have_ent = st;
	if (st && had && c->ent.doc <= last)
		cm_die("%s: damaged: entries out of order", c->list.path);
}

/* filter: the list's verdict for this record, written as the streaming mode writes it. */
static const char *filter_one(cm_filter *f, const cm_jrec *rec, void *p)
{
	static const char *const kinds[] = { NULL, "exact", "near", "url" };
	static const char *const reasons[] = { NULL, "exact_duplicate", "near_duplicate", "url_duplicate" };
	struct ctx *c = p;
	const cm_jfield *t = cm_jrec_get(rec, f->text_field);
	dm_dupent e = { c->local, c->list.d.first + c->local, NONE, -1, 0, DM_KIND_NONE };
	const char *names[DM_MAX_SETS], *why;
	size_t k;

	fingerprint(c, t);
	if (c->have_ent && c->ent.doc == c->local) {
		e = c->ent;
		next_entry(c);
	}
	for (k = 0; k < c->list.d.nsets; k++)
		names[k] = c->list.d.sets[k];
	annotate(f, c, e.cluster, e.of, kinds[e.kind], e.sim, e.sets, names, c->list.d.nsets);
	c->local++;
	c->count[e.kind]++;
	why = reasons[e.kind];
	if (!why && e.sets) {
		why = "contaminated";
		c->filtered_contaminated++;
	}
	return c->annotate ? NULL : why;
}

/* --stats "contamination": documents caught, and per set. */
static void contamination_stats(cm_filter *f, struct ctx *c, unsigned against_ngram)
{
	const char *const *names;
	size_t n = dm_decon_sets(c->decon, &names), i;
	cm_buf db = CM_BUF_INIT;
	cm_jw w;

	cm_jw_init(&w, &db);
	cm_jw_obj(&w);
	cm_jw_key_uint(&w, "documents", c->contaminated_docs);
	cm_jw_key(&w, "by_set");
	cm_jw_obj(&w);
	for (i = 0; i < n; i++) {
		uint64_t items, grams;

		dm_decon_counts(c->decon, (unsigned)i, &items, &grams);
		cm_jw_key(&w, names[i]);
		cm_jw_obj(&w);
		cm_jw_key_uint(&w, "documents", c->contaminated[i]);
		cm_jw_key_uint(&w, "items", items);
		cm_jw_key_uint(&w, "ngrams", grams);
		cm_jw_end(&w, '}');
		if (cm_verbosity > 0)
			cm_info("against %s (%llu items of %u words or more): %llu documents", names[i],
				(unsigned long long)items, against_ngram, (unsigned long long)c->contaminated[i]);
	}
	cm_jw_end(&w, '}');
	cm_jw_end(&w, '}');
	cm_stats_extra(&f->stats, "contamination", db.p);
	cm_buf_free(&db);
}

static void stream_stats(cm_filter *f, struct ctx *c)
{
	char t[512];
	size_t bytes = dm_set128_bytes(&c->texts) + dm_set128_bytes(&c->urlset) + c->cap_docs * sizeof(*c->cluster) +
		       (c->verify ? c->cap_docs * c->bands * c->rows * sizeof(*c->sigs) : 0);
	unsigned b;

	for (b = 0; b < c->bands; b++)
		bytes += dm_table_bytes(&c->band[b]);
	snprintf(t, sizeof(t),
		 "{\"documents\":%u,\"kept\":%llu,\"exact_duplicates\":%llu,"
		 "\"near_duplicates\":%llu,\"url_duplicates\":%llu,\"empty\":%llu,\"table_bytes\":%zu,"
		 "\"table_bytes_per_document\":%.1f}",
		 c->doc, (unsigned long long)(c->doc - c->exact_dups - c->near_dups - c->url_dups -
					      (c->annotate ? 0 : c->contaminated_docs)),
		 (unsigned long long)c->exact_dups, (unsigned long long)c->near_dups,
		 (unsigned long long)c->url_dups, (unsigned long long)c->empty, bytes,
		 c->doc ? (double)bytes / c->doc : 0.0);
	cm_stats_extra(&f->stats, "dedup", t);
	if (c->lines) {
		snprintf(t, sizeof(t), "{\"lines\":%llu,\"removed\":%llu,\"distinct\":%zu}",
			 (unsigned long long)c->lines_seen, (unsigned long long)c->lines_removed, c->lineset.n);
		cm_stats_extra(&f->stats, "lines", t);
	}
	if (cm_verbosity > 0)
		cm_info("%u documents: %llu exact, %llu near, %llu url duplicates; tables %.1f MB, %.1f bytes a "
			"document", c->doc, (unsigned long long)c->exact_dups, (unsigned long long)c->near_dups,
			(unsigned long long)c->url_dups, (double)bytes / 1e6, c->doc ? (double)bytes / c->doc : 0.0);
}

static void add_against(const cm_opt *o, const char *file)
{
	struct ctx *c = o->ctx;

	if (c->nagainst == DM_MAX_SETS)
		cm_usage_error("at most %d --against sets", DM_MAX_SETS);
	c->against[c->nagainst++] = file;
}

#define LINES_WHY "--lines rewrites texts in corpus order, which needs the whole corpus in one pass: " \
		  "the streaming mode only"

#define LIST_WHY "option '--list' belongs to `dedup-minhash filter`"
#define NGX_WHY "option '--ngram-index' belongs to `dedup-minhash sign`"

#define SIGN_USAGE "-o SIGFILE [OPTION]... [FILE]..."
#define FILTER_USAGE "--list DUPFILE [OPTION]... [FILE]..."

static int sign_main(int argc, char **argv);
static int filter_main(int argc, char **argv);

/* The steps of the multi-step mode: `dedup-minhash sign|cluster|filter ...` */
static const struct command {
	const char *name;
	int (*main)(int argc, char **argv);	/* argv[0]: "dedup-minhash NAME" */
	const char *usage;			/* after "dedup-minhash NAME" */
	const char *help;			/* a line for dedup-minhash --help */
} commands[] = {
	{ "sign", sign_main, SIGN_USAGE, "write each shard's keys to a signature file (with this mode's options)" },
	{ "cluster", dm_cluster_main, DM_CLUSTER_USAGE, "merge all signature files into a duplicate list per shard" },
	{ "filter", filter_main, FILTER_USAGE, "apply a shard's duplicate list to the shard" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(*commands))

static const char stream_about[] =
	"Drop exact and near-duplicate documents in one pass, keeping the first seen of each\n"
	"cluster; metadata.dedup records the cluster, and for a duplicate what it duplicates.\n"
	"The multi-step mode gives the same result for inputs too big for one process, in\n"
	"three steps ('%s STEP --help' for each):\n";

static const cm_opt_info sign_info = {
	SIGN_USAGE,
	"Write the deduplication keys of one input shard (every document's url and text\n"
	"hashes, LSH band keys, contamination) to SIGFILE, for `dedup-minhash cluster`. Give\n"
	"every shard the same options.\n",
	CM_FILTER_EPILOG, "a summary line at the end"
};

static const cm_opt_info filter_info = {
	FILTER_USAGE,
	"Apply a duplicate list of `dedup-minhash cluster` to the shard it was signed from:\n"
	"drop (or, when signed with --annotate-only, keep) its duplicates and contaminated\n"
	"documents and write metadata.dedup, as the streaming mode does. The input must be\n"
	"the one signed: its record count and texts are checked against the list.\n",
	CM_FILTER_EPILOG, "a summary line at the end"
};

/* The streaming mode (argv[0] the program), or a step that reads records (argv[0] the step:
 * "dedup-minhash sign"). */
static int run(enum mode mode, int argc, char **argv)
{
	static struct ctx c;
	unsigned ngram = 5, against_ngram = 13;
	uint64_t seed = 1;
	const char *list = NULL;
	cm_buf about = CM_BUF_INIT, usage = CM_BUF_INIT;
	cm_opt_info info = { NULL, NULL, CM_FILTER_EPILOG, "a summary line at the end, with the tables' size" };
	cm_filter f;
	unsigned b;
	size_t k;

	c.mode = mode;
	c.mem = (size_t)1 << 30;
	c.tmp = getenv("TMPDIR");
	c.bands = 14;
	c.rows = 8;
	c.exact = 1;
	c.threshold = 0.8;
	cm_filter_init(&f, argc, argv);
	/* what decides the result: the streaming mode's and sign's options (filter follows the list) */
	const cm_opt dedup_opts[] = {
		CM_OPT_GROUP("Near duplicates (MinHash LSH over word n-grams of normalised text):"),
		CM_OPT_INT(0, "ngram", &ngram, "N", 1, 64, "words a shingle (default: 5)"),
		CM_OPT_INT(0, "bands", &c.bands, "B", 1, 256, "LSH bands (default: 14)"),
		CM_OPT_INT(0, "rows", &c.rows, "R", 1, 256,
			   "hashes a band (default: 8; B x R hashes in all, FineWeb's 112)"),
		CM_OPT_INT(0, "seed", &seed, "N", 0, 1LL << 62, "of the hash family (default: 1)"),
		CM_OPT_FLAG(0, "verify", &c.verify,
			    "a candidate must also reach --threshold in estimated Jaccard\n"
			    "similarity (keeps every document's signature)"),
		CM_OPT_DOUBLE(0, "threshold", &c.threshold, "X", 0, 1, "for --verify (default: 0.8)"),
		CM_OPT_GROUP("Exact duplicates:"),
		CM_OPT_SET(0, "no-exact", &c.exact, 0, "no exact pass (XXH3-128 of the normalised text)"),
		CM_OPT_FLAG(0, "urls", &c.urls, "also drop a document whose url was seen before"),
		CM_OPT_FLAG(0, "annotate-only", &c.annotate, "keep every record, only annotate"),
		CM_OPT_GROUP("Decontamination:"),
		CM_OPT_CALLBACK(0, "against", add_against, &c, "FILE",
				"an evaluation set (JSON Lines; every string of a line is an\n"
				"item): drop documents sharing a word n-gram with an item\n"
				"(reason 'contaminated'); repeatable, counts per set in --stats"),
		CM_OPT_INT(0, "against-ngram", &against_ngram, "N", 1, 64,
			   "words of those n-grams (default: 13, as GPT-3)"),
		CM_OPT_END()
	};
	/* a signature file is written whole, never compressed; sign drops nothing */
	const cm_opt *io = cm_filter_opts(&f, mode == SIGN ? CM_FILTER_STATS | CM_FILTER_RECORDS | CM_FILTER_PROGRESS
							  : CM_FILTER_ALL);
	/* options of another step, refused with the step they belong to */
	const cm_opt stream_refuse[] = {
		CM_OPT_REFUSE(0, "list", LIST_WHY),
		CM_OPT_REFUSE(0, "ngram-index", NGX_WHY),
		CM_OPT_END()
	};
	const cm_opt sign_refuse[] = {
		CM_OPT_REFUSE(0, "list", LIST_WHY),
		CM_OPT_REFUSE(0, "lines", LINES_WHY),
		CM_OPT_REFUSE(0, "rejects", "sign drops nothing: --rejects belongs to filter"),
		CM_OPT_REFUSE('z', "gzip", "a signature file is not compressed (--gzip)"),
		CM_OPT_END()
	};
	/* filter follows the list: what decides it is sign's */
	cm_opt filter_refuse[sizeof(dedup_opts) / sizeof(*dedup_opts) + 2];
	char why[sizeof(dedup_opts) / sizeof(*dedup_opts) + 1][96];
	int nr = 0;

	filter_refuse[nr++] = (cm_opt)CM_OPT_REFUSE(0, "lines", LINES_WHY);
	filter_refuse[nr++] = (cm_opt)CM_OPT_REFUSE(0, "ngram-index", NGX_WHY);
	for (k = 0; dedup_opts[k].type != CM_OPT_END_; k++) {
		if (!dedup_opts[k].long_name)
			continue;
		snprintf(why[nr], sizeof(why[nr]), "option '--%s' is given to sign; filter follows the list",
			 dedup_opts[k].long_name);
		filter_refuse[nr] = (cm_opt)CM_OPT_REFUSE(0, dedup_opts[k].long_name, why[nr]);
		nr++;
	}
	filter_refuse[nr] = (cm_opt)CM_OPT_END();
	const cm_opt stream_opts[] = {
		CM_OPT_INCLUDE(stream_refuse),
		CM_OPT_INCLUDE(dedup_opts),
		CM_OPT_GROUP("Lines (edits text; this mode only):"),
		CM_OPT_FLAG(0, "lines", &c.lines,
			    "remove a line seen before in the corpus (CCNet-style: compared\n"
			    "normalised), the first kept; before deduplication"),
		CM_OPT_INCLUDE(io),
		CM_OPT_END()
	};
	const cm_opt sign_opts[] = {
		CM_OPT_INCLUDE(sign_refuse),
		CM_OPT_STRING('o', "output", &f.out_path, "SIGFILE", "the signature file (required)"),
		CM_OPT_INCLUDE(dedup_opts),
		CM_OPT_GROUP("N-gram index (for lm-eval --contamination):"),
		CM_OPT_STRING(0, "ngram-index", &c.ngx_path, "FILE",
			      "also write the distinct hashes of every --against-ngram\n"
			      "word n-gram of the normalised texts to FILE"),
		CM_OPT_SIZE(0, "memory", &c.mem, "SIZE", 0, 0,
			    "for sorting the index's hashes, e.g. 512M (default: 1G);\n"
			    "more is spilled to sorted runs in --tmp"),
		CM_OPT_STRING(0, "tmp", &c.tmp, "DIR", "for the runs (default: $TMPDIR, else /tmp)"),
		CM_OPT_INCLUDE(io),
		CM_OPT_END()
	};
	const cm_opt filter_opts[] = {
		CM_OPT_INCLUDE(filter_refuse),
		CM_OPT_STRING(0, "list", &list, "DUPFILE", "the shard's duplicate list (required)"),
		CM_OPT_INCLUDE(io),
		CM_OPT_END()
	};

	if (mode == STREAM) {
		cm_buf_printf(&usage, "[OPTION]... [FILE]...");
		for (k = 0; k < NCOMMANDS; k++)
			cm_buf_printf(&usage, "\n  or:  %s %s %s", cm_prog, commands[k].name, commands[k].usage);
		cm_buf_printf(&about, stream_about, cm_prog);
		for (k = 0; k < NCOMMANDS; k++)
			cm_buf_printf(&about, "  %-9s%s\n", commands[k].name, commands[k].help);
		info.usage = usage.p;
		info.about = about.p;
	}
	int nf = cm_opt_parse(argc, argv, mode == SIGN ? sign_opts : mode == FILTER ? filter_opts : stream_opts,
			      mode == SIGN ? &sign_info : mode == FILTER ? &filter_info : &info);
	char **files = argv + 1;

	nf = cm_opt_lists(nf, &files);

	cm_buf_free(&usage);
	cm_buf_free(&about);
	if (c.mode == SIGN && !f.out_path)
		cm_usage_error("no signature file: give -o SIGFILE");
	if (c.mode == FILTER && !list)
		cm_usage_error("no duplicate list: give --list DUPFILE (made by `dedup-minhash cluster`)");
	if (c.bands * c.rows > 4096)
		cm_usage_error("--bands x --rows is %u: at most 4096 hashes", c.bands * c.rows);
	if (c.nagainst) {
		char err[512];

		c.decon = dm_decon_new(against_ngram);
		for (k = 0; k < c.nagainst; k++)
			if (dm_decon_load(c.decon, c.against[k], err, sizeof(err)) != 0)
				cm_usage_error("option '--against': %s", err);
	}
	if (c.mode != STREAM && !(c.fp = XXH3_createState()))
		cm_die("out of memory");
	if (c.fp)
		XXH3_64bits_reset(c.fp);
	if (c.mode == FILTER) {
		/* the whole list checked before a record is written */
		int st;

		if (dm_dup_open(&c.list, list) != 0)
			cm_die("%s", c.list.err);
		while ((st = dm_dup_next(&c.list, &c.ent)) > 0)
			;
		if (st < 0 || dm_br_rewind(&c.list) != 0)
			cm_die("%s", c.list.err);
		c.annotate = !!(c.list.d.flags & DM_P_ANNOTATE);
		next_entry(&c);
	}
	if (c.mode != FILTER) {
		dm_hasher_init(&c.h, c.bands * c.rows, ngram, seed);
		c.band = cm_xcalloc(c.bands, sizeof(*c.band));
		c.sig = cm_xmalloc(c.bands * c.rows * sizeof(*c.sig));
	}
	if (c.mode == SIGN) {
		const char *const *names;
		size_t n = c.decon ? dm_decon_sets(c.decon, &names) : 0;

		c.params.ngram = ngram;
		c.params.bands = c.bands;
		c.params.rows = c.rows;
		c.params.against_ngram = n ? against_ngram : 0;
		c.params.flags = (c.exact ? DM_P_EXACT : 0) | (c.urls ? DM_P_URLS : 0) | (c.verify ? DM_P_VERIFY : 0) |
				 (c.annotate ? DM_P_ANNOTATE : 0);
		c.params.seed = seed;
		c.params.threshold = c.threshold;
		c.params.nsets = (unsigned)n;
		for (k = 0; k < n; k++)
			snprintf(c.params.sets[k], sizeof(c.params.sets[k]), "%s", names[k]);
		c.srec.band = cm_xmalloc(c.bands * sizeof(*c.srec.band));
		c.srec.sig = c.sig;
		f.no_output = 1;
		if (c.ngx_path) {
			c.ngx_n = against_ngram;
			c.ngx = dm_sorter_new(c.mem, c.tmp);
		}
	}
	f.json = cm_json_new();
	cm_json_want(f.json, f.text_field);
	cm_json_want(f.json, "url");
	cm_filter_start(&f, cm_filter_total_size(files, nf));
	if (c.mode == SIGN) {
		int st;

		/* written under a temporary name and renamed when whole (sigfile.c) */
		dm_sig_create(&c.sigw, f.out_path, &c.params);
		st = cm_filter_run(&f, files, nf, sign_one, &c);
		if (st == CM_EXIT_OK || f.allow_truncated) {
			if (c.ngx && ngx_write(&c) != 0)
				f.status = CM_EXIT_FAIL;
			dm_sig_finish(&c.sigw, XXH3_64bits_digest(c.fp));
		} else {
			/* a failed input: no signature file or index that looks whole */
			dm_bw_abort(&c.sigw);
			cm_error("%s not written", f.out_path);
			if (c.ngx)
				cm_error("%s not written", c.ngx_path);
		}
		if (c.ngx) {
			char t[256];

			snprintf(t, sizeof(t), "{\"ngram\":%u,\"ngrams\":%llu,\"distinct\":%llu,\"runs\":%zu}",
				 c.ngx_n, (unsigned long long)c.ngx_grams,
				 (unsigned long long)c.ngx_distinct, dm_sorter_runs(c.ngx));
			cm_stats_extra(&f.stats, "ngram_index", t);
			dm_sorter_free(c.ngx);
		}
		{
			char t[256];

			snprintf(t, sizeof(t), "{\"documents\":%u,\"empty\":%llu,\"contaminated\":%llu}", c.doc,
				 (unsigned long long)c.empty, (unsigned long long)c.contaminated_docs);
			cm_stats_extra(&f.stats, "dedup", t);
		}
	} else if (c.mode == FILTER) {
		char t[512];

		cm_filter_run(&f, files, nf, filter_one, &c);
		if (c.local != c.list.d.docs) {
			cm_error("%s: the input has %llu records, the shard signed had %llu: not the same input",
				 list, (unsigned long long)c.local, (unsigned long long)c.list.d.docs);
			f.status = CM_EXIT_FAIL;
		} else if (XXH3_64bits_digest(c.fp) != c.list.d.fingerprint) {
			cm_error("%s: the input's texts differ from the shard signed: not the same input", list);
			f.status = CM_EXIT_FAIL;
		}
		snprintf(t, sizeof(t),
			 "{\"documents\":%llu,\"kept\":%llu,\"exact_duplicates\":%llu,\"near_duplicates\":%llu,"
			 "\"url_duplicates\":%llu,\"contaminated\":%llu}",
			 (unsigned long long)c.local, (unsigned long long)f.stats.kept,
			 (unsigned long long)c.count[DM_KIND_EXACT], (unsigned long long)c.count[DM_KIND_NEAR],
			 (unsigned long long)c.count[DM_KIND_URL], (unsigned long long)c.filtered_contaminated);
		cm_stats_extra(&f.stats, "dedup", t);
		dm_br_close(&c.list);
	} else {
		cm_filter_run(&f, files, nf, one, &c);
		stream_stats(&f, &c);
	}
	if (c.decon && c.mode != FILTER)
		contamination_stats(&f, &c, against_ngram);
	for (b = 0; c.band && b < c.bands; b++)
		dm_table_free(&c.band[b]);
	free(c.band);
	dm_set128_free(&c.texts);
	dm_set128_free(&c.urlset);
	if (c.mode != FILTER)
		dm_hasher_free(&c.h);
	dm_decon_free(c.decon);
	dm_set128_free(&c.lineset);
	cm_buf_free(&c.edited);
	cm_buf_free(&c.line);
	free(c.cluster);
	free(c.sigs);
	free(c.sig);
	free(c.srec.band);
	if (c.fp)
		XXH3_freeState(c.fp);
	cm_buf_free(&c.norm);
	cm_buf_free(&c.meta);
	return cm_filter_finish(&f);
}

static int sign_main(int argc, char **argv)
{
	return run(SIGN, argc, argv);
}

static int filter_main(int argc, char **argv)
{
	return run(FILTER, argc, argv);
}

int main(int argc, char **argv)
{
	static char name[256];
	size_t k;

	/* dedup-minhash STEP ...: the step runs as the program "dedup-minhash STEP" */
	for (k = 0; argc > 1 && k < NCOMMANDS; k++) {
		if (strcmp(argv[1], commands[k].name) != 0)
			continue;
		const char *slash = strrchr(argv[0], '/');

		snprintf(name, sizeof(name), "%s %s", slash ? slash + 1 : argv[0], argv[1]);
		cm_reject_program = "dedup-minhash";
		argv[1] = name;
		return commands[k].main(argc - 1, argv + 1);
	}
	return run(STREAM, argc, argv);
}
