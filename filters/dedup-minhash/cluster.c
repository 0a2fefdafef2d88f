/* cluster.c - `dedup-minhash cluster`: signature files in, one duplicate list per shard out.
 *
 * The result is the streaming mode's, computed from sorted keys instead of tables: a document
 * is a duplicate of the earliest document before it that shares a key with it, where only
 * documents the streaming mode would have given keys count. Documents are numbered across the
 * signature files in the order given. In turn:
 *   url keys (--urls): in each group of equal urls the first is the original, the rest url
 *     duplicates (which give no further keys);
 *   exact keys: likewise among documents with a text that are not url duplicates;
 *   band keys: among those left that are not exact duplicates, each band's groups give every
 *     document but the first a candidate, the group's first; a document's original is its
 *     smallest candidate (with --verify, the smallest whose estimated similarity reaches the
 *     threshold).
 * Keys are sorted (dm_sorter: runs in --memory, spilled and merged), so memory is the sort
 * budget, a bit a document, and a map from each duplicate to its cluster (the cluster of its
 * original: following the chain of originals, as union-find with the earliest document as the
 * root), 16 bytes a slot.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cluster.h"
#include "jsonw.h"
#include "opt.h"
#include "sigfile.h"
#include "stats.h"
#include "xsort.h"

#define NONE UINT64_MAX

struct shard {
	dm_br br;
	uint64_t first;		/* number of its first document */
	char *out;		/* its duplicate list */
};

struct cl {
	struct shard *sh;
	size_t nsh;
	uint64_t docs;
	dm_params p;
	int annotate;
	size_t mem;
	const char *tmp;
	uint8_t *gone;		/* url or exact duplicates: no band keys */
	dm_sigrec rec;
	uint32_t *sig_a, *sig_b;
	uint64_t verified;
};

/* --- the duplicate -> cluster map (open addressing, key doc + 1) --- */

struct map {
	uint64_t *key, *val;
	size_t size, n;
};

static size_t map_slot(const struct map *m, uint64_t key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 16) & (m->size - 1);
}

static void map_put(struct map *m, uint64_t doc, uint64_t val);

static void map_grow(struct map *m)
{
	struct map g = { 0 };
	size_t i;

	g.size = m->size ? m->size * 2 : 1024;
	g.key = cm_xcalloc(g.size, sizeof(*g.key));
	g.val = cm_xmalloc(g.size * sizeof(*g.val));
	for (i = 0; i < m->size; i++)
		if (m->key[i])
			map_put(&g, m->key[i] - 1, m->val[i]);
	free(m->key);
	free(m->val);
	*m = g;
}

static void map_put(struct map *m, uint64_t doc, uint64_t val)
{
	size_t j;

	if (10 * (m->n + 1) > 7 * m->size)
		map_grow(m);
	for (j = map_slot(m, doc + 1); m->key[j] && m->key[j] != doc + 1; j = (j + 1) & (m->size - 1))
		;
	if (!m->key[j])
		m->n++;
	m->key[j] = doc + 1;
	m->val[j] = val;
}

static uint64_t map_get(const struct map *m, uint64_t doc, uint64_t dflt)
{
	size_t j;

	if (!m->size)
		return dflt;
	for (j = map_slot(m, doc + 1); m->key[j]; j = (j + 1) & (m->size - 1))
		if (m->key[j] == doc + 1)
			return m->val[j];
	return dflt;
}

/* --- passes over the signature files --- */

typedef void (*doc_fn)(struct cl *c, uint64_t doc, const dm_sigrec *r, void *arg);

static void pass(struct cl *c, doc_fn fn, void *arg)
{
	size_t i;

	for (i = 0; i < c->nsh; i++) {
		dm_br *br = &c->sh[i].br;
		uint64_t d = c->sh[i].first;
		int st;

		if (dm_br_rewind(br) != 0)
			cm_die("%s", br->err);
		while ((st = dm_sig_next(br, &c->rec)) > 0)
			fn(c, d++, &c->rec, arg);
		if (st < 0)
			cm_die("%s", br->err);
	}
}

static int dropped_unseen(const struct cl *c, const dm_sigrec *r)
{
	return r->sets && !c->annotate;	/* contaminated and dropped: no keys */
}

static void emit_url(struct cl *c, uint64_t doc, const dm_sigrec *r, void *arg)
{
	if ((r->flags & DM_R_URL) && !dropped_unseen(c, r))
		dm_sorter_add(arg, r->url[1], r->url[0], doc);
}

static void emit_text(struct cl *c, uint64_t doc, const dm_sigrec *r, void *arg)
{
	if (!(r->flags & DM_R_EMPTY) && !dropped_unseen(c, r) && !(c->gone[doc >> 3] & 1 << (doc & 7)))
		dm_sorter_add(arg, r->text[1], r->text[0], doc);
}

static void emit_bands(struct cl *c, uint64_t doc, const dm_sigrec *r, void *arg)
{
	unsigned b;

	if ((r->flags & DM_R_EMPTY) || dropped_unseen(c, r) || (c->gone[doc >> 3] & 1 << (doc & 7)))
		return;
	/* the streaming tables tell keys apart by their top 48 bits */
	for (b = 0; b < c->p.bands; b++)
		dm_sorter_add(arg, b, r->band[b] & ~(uint64_t)0xffff, doc);
}

/* Groups of equal (a, b): every member after the first gets an edge to it (kind) or, for
 * bands, a candidate. */
static void groups(struct cl *c, dm_sorter *keys, dm_sorter *out, unsigned kind)
{
	const dm_rec *r;
	uint64_t a = 0, b = 0, first = NONE;

	while ((r = dm_sorter_next(keys))) {
		if (first == NONE || r->a != a || r->b != b) {
			a = r->a;
			b = r->b;
			first = r->c;
			continue;
		}
		if (kind == DM_KIND_NEAR) {
			dm_sorter_add(out, r->c, first, 0);
		} else {
			dm_sorter_add(out, r->c, first, kind);
			c->gone[r->c >> 3] |= (uint8_t)(1 << (r->c & 7));
		}
	}
}

/* A pass whose keys (fn), sorted in half the memory, are grouped into out; returns the sorted
 * runs spilled. */
static size_t key_pass(struct cl *c, doc_fn fn, dm_sorter *out, unsigned kind)
{
	dm_sorter *keys = dm_sorter_new(c->mem / 2, c->tmp);
	size_t runs;

	pass(c, fn, keys);
	groups(c, keys, out, kind);
	runs = dm_sorter_runs(keys);
	dm_sorter_free(keys);
	return runs;
}

static struct shard *shard_of(struct cl *c, uint64_t doc)
{
	size_t lo = 0, hi = c->nsh;

	while (hi - lo > 1) {	/* the last shard whose first is <= doc */
		size_t m = (lo + hi) / 2;

		if (c->sh[m].first <= doc)
			lo = m;
		else
			hi = m;
	}
	return &c->sh[lo];
}

static unsigned same_hashes(struct cl *c, uint64_t x, uint64_t y)
{
	struct shard *sx = shard_of(c, x), *sy = shard_of(c, y);
	unsigned k = c->p.bands * c->p.rows, i, same = 0;

	if (dm_sig_signature(&sx->br, x - sx->first, c->sig_a) != 0)
		cm_die("%s", sx->br.err);
	if (dm_sig_signature(&sy->br, y - sy->first, c->sig_b) != 0)
		cm_die("%s", sy->br.err);
	for (i = 0; i < k; i++)
		same += c->sig_a[i] == c->sig_b[i];
	c->verified++;
	return same;
}

/* Candidates by (document, original): the smallest (that passes --verify) is the original. */
static void choose(struct cl *c, dm_sorter *cand, dm_sorter *edges)
{
	const dm_rec *r;
	uint64_t doc = NONE, last = NONE;
	int done = 0;
	unsigned k = c->p.bands * c->p.rows;

	while ((r = dm_sorter_next(cand))) {
		if (r->a != doc) {
			doc = r->a;
			last = NONE;
			done = 0;
		}
		if (done || r->b == last)
			continue;
		last = r->b;
		if (c->p.flags & DM_P_VERIFY) {
			unsigned same = same_hashes(c, r->a, r->b);

			if ((double)same / (double)k < c->p.threshold)
				continue;
			dm_sorter_add(edges, r->a, r->b, DM_KIND_NEAR | (uint64_t)(same + 1) << 8);
		} else {
			dm_sorter_add(edges, r->a, r->b, DM_KIND_NEAR);
		}
		done = 1;
	}
}

static char *out_name(const char *sig, const char *dir)
{
	const char *base = strrchr(sig, '/');
	size_t n;
	char *o;

	base = base ? base + 1 : sig;
	n = strlen(base);
	if (n > 4 && strcmp(base + n - 4, ".sig") == 0)
		n -= 4;
	if (dir) {
		o = cm_xmalloc(strlen(dir) + n + 7);
		sprintf(o, "%s/%.*s.dups", dir, (int)n, base);
	} else {
		size_t d = (size_t)(base - sig);

		o = cm_xmalloc(d + n + 6);
		sprintf(o, "%.*s%.*s.dups", (int)d, sig, (int)n, base);
	}
	return o;
}

static const cm_opt_info cluster_info = {
	DM_CLUSTER_USAGE,
	"Merge the signature files of `dedup-minhash sign` (documents numbered across them in\n"
	"the order given) into one duplicate list per file, NAME.dups for NAME.sig, which\n"
	"`dedup-minhash filter` applies to the same input: the streaming mode's result.\n",
	NULL, "a summary line at the end"
};

int dm_cluster_main(int argc, char **argv)
{
	static struct cl c;
	const char *dir = NULL, *stats_path = NULL;
	uint64_t count[4] = { 0 }, contaminated = 0, empty = 0;
	dm_sorter *edges, *cand;
	const dm_rec *e;
	struct map m = { 0 };
	cm_stats stats;
	size_t i, j, runs = 0;

	cm_init(argv[0]);
	cm_stats_init(&stats, argc, argv);
	c.mem = (size_t)1 << 30;
	c.tmp = getenv("TMPDIR");
	const cm_opt opts[] = {
		CM_OPT_STRING('o', "output-dir", &dir, "DIR", "write the lists there (default: beside each signature file)"),
		CM_OPT_SIZE(0, "memory", &c.mem, "SIZE", 0, 0,
			    "for sorting keys, e.g. 512M (default: 1G); more is spilled\n"
			    "to sorted runs in --tmp"),
		CM_OPT_STRING(0, "tmp", &c.tmp, "DIR", "for the runs (default: $TMPDIR, else /tmp)"),
		CM_OPT_STRING(0, "stats", &stats_path, "FILE", "write run statistics (JSON) to FILE"),
		CM_OPT_END()
	};
	int nsig = cm_opt_parse(argc, argv, opts, &cluster_info);
	char **sig = argv + 1;

	nsig = cm_opt_lists(nsig, &sig);

	if (nsig == 0)
		cm_usage_error("no signature files (made by `dedup-minhash sign`)");
	c.nsh = (size_t)nsig;
	c.sh = cm_xcalloc(c.nsh, sizeof(*c.sh));
	for (i = 0; i < c.nsh; i++) {
		struct shard *s = &c.sh[i];
		char why[64];

		if (dm_sig_open(&s->br, sig[i]) != 0)
			cm_die("%s", s->br.err);
		if (i == 0)
			c.p = s->br.p;
		else if (!dm_params_same(&c.p, &s->br.p, why, sizeof(why)))
			cm_die("%s: signed with other parameters than %s (%s differs)", sig[i], sig[0], why);
		s->first = c.docs;
		c.docs += s->br.n;
		s->out = out_name(sig[i], dir);
		for (j = 0; j < i; j++)
			if (strcmp(s->out, c.sh[j].out) == 0)
				cm_usage_error("%s and %s would both write %s: give them different names",
					       sig[j], sig[i], s->out);
	}
	if (dir && mkdir(dir, 0777) != 0 && errno != EEXIST)
		cm_die("cannot create %s: %s", dir, strerror(errno));
	c.annotate = !!(c.p.flags & DM_P_ANNOTATE);
	c.gone = cm_xcalloc(c.docs / 8 + 1, 1);
	c.rec.band = cm_xmalloc(c.p.bands * sizeof(*c.rec.band));
	c.sig_a = cm_xmalloc((size_t)c.p.bands * c.p.rows * sizeof(*c.sig_a));
	c.sig_b = cm_xmalloc((size_t)c.p.bands * c.p.rows * sizeof(*c.sig_b));
	/* the edges (document, original, kind) live through every phase: a quarter of the budget */
	edges = dm_sorter_new(c.mem / 4, c.tmp);
	if (c.p.flags & DM_P_URLS)
		runs += key_pass(&c, emit_url, edges, DM_KIND_URL);
	if (c.p.flags & DM_P_EXACT)
		runs += key_pass(&c, emit_text, edges, DM_KIND_EXACT);
	cand = dm_sorter_new(c.mem / 4, c.tmp);
	runs += key_pass(&c, emit_bands, cand, DM_KIND_NEAR);
	choose(&c, cand, edges);
	runs += dm_sorter_runs(cand);
	dm_sorter_free(cand);
	free(c.gone);

	/* the lists, in document order: each duplicate's cluster is its original's */
	e = dm_sorter_next(edges);
	for (i = 0; i < c.nsh; i++) {
		struct shard *s = &c.sh[i];
		dm_dup_header h = { 0 };
		dm_bw w;
		uint64_t d = s->first;
		int st;

		h.flags = c.annotate ? DM_P_ANNOTATE : 0;
		h.shard = (uint32_t)i;
		h.shards = (uint32_t)c.nsh;
		h.first = s->first;
		h.docs = s->br.n;
		h.fingerprint = s->br.fingerprint;
		h.nsets = c.p.nsets;
		memcpy(h.sets, c.p.sets, sizeof(h.sets));
		dm_dup_create(&w, s->out, &h);
		if (dm_br_rewind(&s->br) != 0)
			cm_die("%s", s->br.err);
		while ((st = dm_sig_next(&s->br, &c.rec)) > 0) {
			dm_dupent de = { d - s->first, d, NONE, -1, c.rec.sets, DM_KIND_NONE };

			if (c.rec.flags & DM_R_EMPTY)
				empty++;
			if (c.rec.sets)
				contaminated++;
			if (e && e->a == d) {
				unsigned same = (unsigned)(e->c >> 8);

				de.of = e->b;
				de.kind = (uint32_t)(e->c & 0xff);
				de.cluster = map_get(&m, e->b, e->b);
				map_put(&m, d, de.cluster);
				if (de.kind == DM_KIND_EXACT)
					de.sim = 1;
				else if (same)
					de.sim = (double)(same - 1) / (double)(c.p.bands * c.p.rows);
				count[de.kind]++;
				e = dm_sorter_next(edges);
			}
			if (de.kind != DM_KIND_NONE || de.sets)
				dm_dup_add(&w, &de);
			d++;
		}
		if (st < 0)
			cm_die("%s", s->br.err);
		dm_dup_finish(&w);
	}
	if (e)
		cm_die("internal error: a duplicate beyond the last document");
	runs += dm_sorter_runs(edges);
	dm_sorter_free(edges);

	{
		uint64_t dups = count[DM_KIND_EXACT] + count[DM_KIND_NEAR] + count[DM_KIND_URL];
		uint64_t kept = c.docs - dups - (c.annotate ? 0 : contaminated);
		char t[512];

		stats.read = c.docs;
		stats.kept = c.annotate ? c.docs : kept;
		snprintf(t, sizeof(t),
			 "{\"documents\":%llu,\"kept\":%llu,\"exact_duplicates\":%llu,\"near_duplicates\":%llu,"
			 "\"url_duplicates\":%llu,\"empty\":%llu,\"contaminated\":%llu,\"shards\":%zu,"
			 "\"verified_pairs\":%llu,\"sort_runs\":%zu,\"map_bytes\":%zu}",
			 (unsigned long long)c.docs, (unsigned long long)kept,
			 (unsigned long long)count[DM_KIND_EXACT], (unsigned long long)count[DM_KIND_NEAR],
			 (unsigned long long)count[DM_KIND_URL], (unsigned long long)empty,
			 (unsigned long long)contaminated, c.nsh, (unsigned long long)c.verified, runs,
			 m.size * 2 * sizeof(uint64_t));
		cm_stats_extra(&stats, "dedup", t);
		if (stats_path)
			cm_stats_write(&stats, stats_path);
		if (cm_verbosity > 0)
			cm_info("%llu documents in %zu shards: %llu kept; %llu exact, %llu near, %llu url duplicates, "
				"%llu contaminated; %zu sort runs spilled",
				(unsigned long long)c.docs, c.nsh, (unsigned long long)kept,
				(unsigned long long)count[DM_KIND_EXACT], (unsigned long long)count[DM_KIND_NEAR],
				(unsigned long long)count[DM_KIND_URL], (unsigned long long)contaminated, runs);
	}
	for (i = 0; i < c.nsh; i++) {
		dm_br_close(&c.sh[i].br);
		free(c.sh[i].out);
	}
	free(c.sh);
	free(m.key);
	free(m.val);
	free(c.rec.band);
	free(c.sig_a);
	free(c.sig_b);
	cm_stats_free(&stats);
	return CM_EXIT_OK;
}
