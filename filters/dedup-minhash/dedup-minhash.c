/* dedup-minhash - exact and near-duplicate removal in one streaming pass. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "cli.h"
#include "decon.h"
#include "filter.h"
#include "jsonw.h"
#include "lsh.h"
#include "minhash.h"

enum {
	OPT_NGRAM = CM_OPT_PROGRAM,
	OPT_BANDS,
	OPT_ROWS,
	OPT_SEED,
	OPT_NO_EXACT,
	OPT_URLS,
	OPT_VERIFY,
	OPT_THRESHOLD,
	OPT_ANNOTATE,
	OPT_AGAINST,
	OPT_AGAINST_NGRAM,
	OPT_LINES,
};

static const struct option longopts[] = {
	{ "ngram", required_argument, NULL, OPT_NGRAM },
	{ "bands", required_argument, NULL, OPT_BANDS },
	{ "rows", required_argument, NULL, OPT_ROWS },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "no-exact", no_argument, NULL, OPT_NO_EXACT },
	{ "urls", no_argument, NULL, OPT_URLS },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "threshold", required_argument, NULL, OPT_THRESHOLD },
	{ "annotate-only", no_argument, NULL, OPT_ANNOTATE },
	{ "against", required_argument, NULL, OPT_AGAINST },
	{ "against-ngram", required_argument, NULL, OPT_AGAINST_NGRAM },
	{ "lines", no_argument, NULL, OPT_LINES },
	CM_FILTER_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static void usage(void)
{
	printf("Usage: %s [OPTION]... [FILE]...\n"
	       "Drop exact and near-duplicate documents in one pass, keeping the first seen of each\n"
	       "cluster; metadata.dedup records the cluster, and for a duplicate what it duplicates.\n"
	       "\n"
	       "Near duplicates (MinHash LSH over word n-grams of normalised text):\n"
	       "      --ngram N          words a shingle (default: 5)\n"
	       "      --bands B          LSH bands (default: 14)\n"
	       "      --rows R           hashes a band (default: 8; B x R hashes in all, FineWeb's 112)\n"
	       "      --seed N           of the hash family (default: 1)\n"
	       "      --verify           a candidate must also reach --threshold in estimated Jaccard\n"
	       "                         similarity (keeps every kept document's signature)\n"
	       "      --threshold X      for --verify (default: 0.8)\n"
	       "Exact duplicates:\n"
	       "      --no-exact         no exact pass (XXH3-128 of the normalised text)\n"
	       "      --urls             also drop a document whose url was seen before\n"
	       "      --annotate-only    keep every record, only annotate\n"
	       "Decontamination:\n"
	       "      --against FILE     an evaluation set (JSON Lines; every string of a line is an\n"
	       "                         item): drop documents sharing a word n-gram with an item\n"
	       "                         (reason 'contaminated'); repeatable, counts per set in --stats\n"
	       "      --against-ngram N  words of those n-grams (default: 13, as GPT-3)\n"
	       "Lines (edits text):\n"
	       "      --lines            remove a line seen before in the corpus (CCNet-style: compared\n"
	       "                         normalised), the first kept; before deduplication\n"
	       "\n"
	       CM_FILTER_USAGE,
	       cm_prog);
}

struct ctx {
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
	dm_decon *decon;
	uint64_t contaminated[DM_MAX_SETS], contaminated_docs;
	int lines;
	dm_set128 lineset;
	cm_buf edited, line;
	uint64_t lines_removed, lines_seen;
	size_t rec_lines;	/* lines removed from this record */
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

		dm_normalize(p, (size_t)(e - p), &c->line);
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

static void annotate(cm_filter *f, struct ctx *c, int64_t of, const char *kind, double sim, uint32_t sets)
{
	cm_jw w;

	cm_buf_reset(&c->meta);
	cm_jw_init(&w, &c->meta);
	cm_jw_obj(&w);
	cm_jw_key(&w, "cluster");
	cm_jw_uint(&w, c->cluster[c->doc]);
	if (of >= 0) {
		cm_jw_key(&w, "duplicate_of");
		cm_jw_uint(&w, (unsigned long long)of);
		cm_jw_key(&w, "kind");
		cm_jw_str(&w, kind);
		if (sim >= 0) {
			cm_jw_key(&w, "similarity");
			cm_jw_double(&w, sim);
		}
	}
	if (c->rec_lines) {
		cm_jw_key(&w, "lines_removed");
		cm_jw_uint(&w, c->rec_lines);
	}
	if (sets) {
		const char *const *names;
		size_t k, n = dm_decon_sets(c->decon, &names);

		cm_jw_key(&w, "contaminated");
		cm_jw_arr(&w);
		for (k = 0; k < n; k++)
			if (sets & 1u << k)
				cm_jw_str(&w, names[k]);
		cm_jw_end(&w, ']');
	}
	cm_jw_end(&w, '}');
	cm_rw_meta_raw(&f->rw, "dedup", c->meta.p, c->meta.len);
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
		dm_normalize(c->edited.p ? c->edited.p : "", c->edited.len, &c->norm);
	} else {
		dm_normalize(t && t->str ? t->str : "", t && t->str ? t->str_len : 0, &c->norm);
	}
	if (c->decon && (sets = dm_decon_check(c->decon, c->norm.p ? c->norm.p : "", c->norm.len))) {
		for (b = 0; b < DM_MAX_SETS; b++)
			c->contaminated[b] += (sets >> b) & 1;
		c->contaminated_docs++;
		if (!c->annotate) {	/* dropped: it is no one's original either */
			c->cluster[c->doc] = c->doc;
			annotate(f, c, -1, NULL, -1, sets);
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
	annotate(f, c, why ? of : -1, kind, sim, sets);
	c->doc++;
	return c->annotate ? NULL : why;
}

int main(int argc, char **argv)
{
	static struct ctx c;
	unsigned ngram = 5, against_ngram = 13;
	char *against[DM_MAX_SETS];
	size_t nagainst = 0;
	uint64_t seed = 1;
	cm_filter f;
	int ch;
	unsigned b;

	c.bands = 14;
	c.rows = 8;
	c.exact = 1;
	c.threshold = 0.8;
	cm_filter_init(&f, argc, argv);
	while ((ch = getopt_long(argc, argv, CM_FILTER_SHORTOPTS, longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_NGRAM: ngram = (unsigned)cm_parse_ll("--ngram", optarg, 1, 64); break;
		case OPT_BANDS: c.bands = (unsigned)cm_parse_ll("--bands", optarg, 1, 256); break;
		case OPT_ROWS: c.rows = (unsigned)cm_parse_ll("--rows", optarg, 1, 256); break;
		case OPT_SEED: seed = (uint64_t)cm_parse_ll("--seed", optarg, 0, 1LL << 62); break;
		case OPT_NO_EXACT: c.exact = 0; break;
		case OPT_URLS: c.urls = 1; break;
		case OPT_VERIFY: c.verify = 1; break;
		case OPT_THRESHOLD: c.threshold = cm_parse_double("--threshold", optarg, 0, 1); break;
		case OPT_ANNOTATE: c.annotate = 1; break;
		case OPT_AGAINST:
			if (nagainst == DM_MAX_SETS)
				cm_usage_error("at most %d --against sets", DM_MAX_SETS);
			against[nagainst++] = optarg;
			break;
		case OPT_LINES: c.lines = 1; break;
		case OPT_AGAINST_NGRAM: against_ngram = (unsigned)cm_parse_ll("--against-ngram", optarg, 1, 64); break;
		default: cm_filter_option(&f, ch, optarg, usage); break;
		}
	}
	if (c.bands * c.rows > 4096)
		cm_usage_error("--bands x --rows is %u: at most 4096 hashes", c.bands * c.rows);
	if (nagainst) {
		char err[512];
		size_t i;

		c.decon = dm_decon_new(against_ngram);
		for (i = 0; i < nagainst; i++)
			if (dm_decon_load(c.decon, against[i], err, sizeof(err)) != 0)
				cm_usage_error("option '--against': %s", err);
	}
	dm_hasher_init(&c.h, c.bands * c.rows, ngram, seed);
	c.band = cm_xcalloc(c.bands, sizeof(*c.band));
	c.sig = cm_xmalloc(c.bands * c.rows * sizeof(*c.sig));
	f.json = cm_json_new();
	cm_json_want(f.json, f.text_field);
	cm_json_want(f.json, "url");
	cm_filter_start(&f, cm_filter_total_size(argv + optind, argc - optind));
	cm_filter_run(&f, argv + optind, argc - optind, one, &c);
	{
		char t[512];
		size_t bytes = dm_set128_bytes(&c.texts) + dm_set128_bytes(&c.urlset) + c.cap_docs * sizeof(*c.cluster) +
			       (c.verify ? c.cap_docs * c.bands * c.rows * sizeof(*c.sigs) : 0);

		for (b = 0; b < c.bands; b++)
			bytes += dm_table_bytes(&c.band[b]);
		snprintf(t, sizeof(t),
			 "{\"documents\":%u,\"kept\":%llu,\"exact_duplicates\":%llu,"
			 "\"near_duplicates\":%llu,\"url_duplicates\":%llu,\"empty\":%llu,\"table_bytes\":%zu,"
			 "\"table_bytes_per_document\":%.1f}",
			 c.doc, (unsigned long long)(c.doc - c.exact_dups - c.near_dups - c.url_dups -
						     (c.annotate ? 0 : c.contaminated_docs)),
			 (unsigned long long)c.exact_dups, (unsigned long long)c.near_dups,
			 (unsigned long long)c.url_dups, (unsigned long long)c.empty, bytes,
			 c.doc ? (double)bytes / c.doc : 0.0);
		cm_stats_extra(&f.stats, "dedup", t);
		if (c.lines) {
			snprintf(t, sizeof(t), "{\"lines\":%llu,\"removed\":%llu,\"distinct\":%zu}",
				 (unsigned long long)c.lines_seen, (unsigned long long)c.lines_removed, c.lineset.n);
			cm_stats_extra(&f.stats, "lines", t);
		}
		if (c.decon) {
			const char *const *names;
			size_t n = dm_decon_sets(c.decon, &names), i;
			cm_buf db = CM_BUF_INIT;
			cm_jw w;

			cm_jw_init(&w, &db);
			cm_jw_obj(&w);
			cm_jw_key(&w, "documents");
			cm_jw_uint(&w, c.contaminated_docs);
			cm_jw_key(&w, "by_set");
			cm_jw_obj(&w);
			for (i = 0; i < n; i++) {
				uint64_t items, grams;

				dm_decon_counts(c.decon, (unsigned)i, &items, &grams);
				cm_jw_key(&w, names[i]);
				cm_jw_obj(&w);
				cm_jw_key(&w, "documents");
				cm_jw_uint(&w, c.contaminated[i]);
				cm_jw_key(&w, "items");
				cm_jw_uint(&w, items);
				cm_jw_key(&w, "ngrams");
				cm_jw_uint(&w, grams);
				cm_jw_end(&w, '}');
				if (cm_verbosity > 0)
					cm_info("against %s (%llu items of %u words or more): %llu documents", names[i],
						(unsigned long long)items, against_ngram, (unsigned long long)c.contaminated[i]);
			}
			cm_jw_end(&w, '}');
			cm_jw_end(&w, '}');
			cm_stats_extra(&f.stats, "contamination", db.p);
			cm_buf_free(&db);
		}
		if (cm_verbosity > 0)
			cm_info("%u documents: %llu exact, %llu near, %llu url duplicates; tables %.1f MB, %.1f bytes a "
				"document", c.doc, (unsigned long long)c.exact_dups, (unsigned long long)c.near_dups,
				(unsigned long long)c.url_dups, (double)bytes / 1e6, c.doc ? (double)bytes / c.doc : 0.0);
	}
	for (b = 0; b < c.bands; b++)
		dm_table_free(&c.band[b]);
	free(c.band);
	dm_set128_free(&c.texts);
	dm_set128_free(&c.urlset);
	dm_hasher_free(&c.h);
	dm_decon_free(c.decon);
	dm_set128_free(&c.lineset);
	cm_buf_free(&c.edited);
	cm_buf_free(&c.line);
	free(c.cluster);
	free(c.sigs);
	free(c.sig);
	cm_buf_free(&c.norm);
	cm_buf_free(&c.meta);
	return cm_filter_finish(&f);
}
