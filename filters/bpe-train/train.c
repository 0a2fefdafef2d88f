/* train.c - counting pre-tokens and learning BPE merges with incremental pair counts. */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "cli.h"
#include "train.h"

/* ---- counting ---- */

struct cslot {
	uint64_t off, count;
	uint32_t len, h;	/* len 0: empty */
};

struct bt_counts {
	cm_buf arena;
	struct cslot *s;
	size_t cap, used;
	uint64_t total;
};

bt_counts *bt_counts_new(void)
{
	bt_counts *c = cm_xcalloc(1, sizeof *c);

	c->cap = 1 << 16;
	c->s = cm_xcalloc(c->cap, sizeof *c->s);
	return c;
}

void bt_counts_free(bt_counts *c)
{
	if (!c)
		return;
	cm_buf_free(&c->arena);
	free(c->s);
	free(c);
}

static void counts_grow(bt_counts *c)
{
	struct cslot *old = c->s;
	size_t oc = c->cap, i, mask;

	c->cap *= 2;
	c->s = cm_xcalloc(c->cap, sizeof *c->s);
	mask = c->cap - 1;
	for (i = 0; i < oc; i++) {
		size_t k;

		if (!old[i].len)
			continue;
		k = XXH3_64bits(c->arena.p + old[i].off, old[i].len) & mask;
		while (c->s[k].len)
			k = (k + 1) & mask;
		c->s[k] = old[i];
	}
	free(old);
}

void bt_counts_add(bt_counts *c, const char *p, size_t n, uint64_t count)
{
	uint64_t h;
	size_t mask, k;

	if (!n)
		return;
	if (n > UINT32_MAX)
		cm_die("a pre-token of %zu bytes is too long to count", n);
	if (c->used + 1 > c->cap / 4 * 3)
		counts_grow(c);
	h = XXH3_64bits(p, n);
	mask = c->cap - 1;
	k = h & mask;
	for (;;) {
		struct cslot *s = &c->s[k];

		if (!s->len) {
			s->off = c->arena.len;
			s->len = (uint32_t)n;
			s->h = (uint32_t)(h >> 32);
			s->count = count;
			cm_buf_add(&c->arena, p, n);
			c->used++;
			break;
		}
		if (s->h == (uint32_t)(h >> 32) && s->len == n && !memcmp(c->arena.p + s->off, p, n)) {
			s->count += count;
			break;
		}
		k = (k + 1) & mask;
	}
	c->total += count;
}

void bt_counts_merge(bt_counts *dst, const bt_counts *src)
{
	size_t i;
	uint64_t total = dst->total;

	for (i = 0; i < src->cap; i++)
		if (src->s[i].len)
			bt_counts_add(dst, src->arena.p + src->s[i].off, src->s[i].len, src->s[i].count);
	dst->total = total + src->total;
}

size_t bt_counts_unique(const bt_counts *c) { return c->used; }
uint64_t bt_counts_total(const bt_counts *c) { return c->total; }
size_t bt_counts_bytes(const bt_counts *c) { return c->arena.cap + c->cap * sizeof *c->s; }

/* ---- learning ---- */

struct where {
	uint32_t *v;
	uint32_t n, cap;
};

struct heap_e {
	int64_t count;
	uint32_t p;
};

struct trainer {
	bt_result *r;
	/* words */
	uint32_t *sym;
	uint64_t *woff;
	uint32_t *wlen;
	uint64_t *wcnt;
	uint32_t *stamp;
	size_t nw;
	/* pairs */
	uint64_t *pkey;
	int64_t *pcnt;
	struct where *pw;
	uint32_t *pstamp;
	size_t np, pcap;
	uint32_t *pmap;		/* pair index + 1 by key hash */
	size_t pmap_cap;
	/* heap */
	struct heap_e *h;
	size_t hn, hcap;
	/* result tokens by bytes: id + 1 */
	uint32_t *tmap;
	size_t tmap_cap, off_cap;
	uint32_t *touched;
	size_t ntouched, touched_cap;
	size_t where_bytes;
	size_t max_len;		/* a pair whose bytes would be longer is never counted */
	int capped;		/* some word is longer than max_len: pairs must be checked */
};

static size_t pslot(uint64_t key, size_t mask)
{
	return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & mask;
}

static void pmap_rehash(struct trainer *t)
{
	size_t i, mask;

	free(t->pmap);
	t->pmap_cap = t->pmap_cap ? t->pmap_cap * 2 : 1 << 16;
	t->pmap = cm_xcalloc(t->pmap_cap, sizeof *t->pmap);
	mask = t->pmap_cap - 1;
	for (i = 0; i < t->np; i++) {
		size_t k = pslot(t->pkey[i], mask);

		while (t->pmap[k])
			k = (k + 1) & mask;
		t->pmap[k] = (uint32_t)i + 1;
	}
}

static uint32_t pair_get(struct trainer *t, uint32_t a, uint32_t b)
{
	uint64_t key = (uint64_t)a << 32 | b;
	size_t mask = t->pmap_cap - 1, k = pslot(key, mask);

	for (;;) {
		uint32_t v = t->pmap[k];

		if (!v)
			break;
		if (t->pkey[v - 1] == key)
			return v - 1;
		k = (k + 1) & mask;
	}
	if (t->np == t->pcap) {
		t->pcap = t->pcap ? t->pcap * 2 : 1 << 16;
		t->pkey = cm_xrealloc(t->pkey, t->pcap * sizeof *t->pkey);
		t->pcnt = cm_xrealloc(t->pcnt, t->pcap * sizeof *t->pcnt);
		t->pw = cm_xrealloc(t->pw, t->pcap * sizeof *t->pw);
		t->pstamp = cm_xrealloc(t->pstamp, t->pcap * sizeof *t->pstamp);
	}
	if (t->np >= UINT32_MAX - 1)
		cm_die("too many distinct pairs");
	t->pkey[t->np] = key;
	t->pcnt[t->np] = 0;
	memset(&t->pw[t->np], 0, sizeof t->pw[t->np]);
	t->pstamp[t->np] = UINT32_MAX;
	t->pmap[k] = (uint32_t)t->np + 1;
	t->np++;
	if (t->np > t->pmap_cap / 2)
		pmap_rehash(t);
	return (uint32_t)t->np - 1;
}

static void where_add(struct trainer *t, uint32_t p, uint32_t w)
{
	struct where *x = &t->pw[p];

	if (x->n && x->v[x->n - 1] == w)
		return;
	if (x->n == x->cap) {
		uint32_t cap = x->cap ? x->cap * 2 : 4;

		t->where_bytes += (size_t)(cap - x->cap) * sizeof *x->v;
		x->v = cm_xrealloc(x->v, (size_t)cap * sizeof *x->v);
		x->cap = cap;
	}
	x->v[x->n++] = w;
}

static const unsigned char *tbytes(const struct trainer *t, uint32_t id, size_t *n)
{
	*n = (size_t)(t->r->off[id + 1] - t->r->off[id]);
	return (const unsigned char *)t->r->bytes.p + t->r->off[id];
}

static int bytes_cmp(const struct trainer *t, uint32_t x, uint32_t y)
{
	size_t nx, ny;
	const unsigned char *px = tbytes(t, x, &nx), *py = tbytes(t, y, &ny);
	int c = memcmp(px, py, nx < ny ? nx : ny);

	if (c)
		return c;
	return nx < ny ? -1 : nx > ny;
}

/* Does e come before f: a higher count, then the greater pair of byte strings. */
static int before(const struct trainer *t, const struct heap_e *e, const struct heap_e *f)
{
	uint64_t ke, kf;
	int c;

	if (e->count != f->count)
		return e->count > f->count;
	ke = t->pkey[e->p];
	kf = t->pkey[f->p];
	if (ke == kf)
		return 0;
	c = bytes_cmp(t, (uint32_t)(ke >> 32), (uint32_t)(kf >> 32));
	if (!c)
		c = bytes_cmp(t, (uint32_t)ke, (uint32_t)kf);
	return c > 0;
}

static void heap_push(struct trainer *t, int64_t count, uint32_t p)
{
	struct heap_e e = { count, p };
	size_t i;

	if (t->hn == t->hcap) {
		t->hcap = t->hcap ? t->hcap * 2 : 1 << 16;
		t->h = cm_xrealloc(t->h, t->hcap * sizeof *t->h);
	}
	i = t->hn++;
	while (i > 0) {
		size_t up = (i - 1) / 2;

		if (!before(t, &e, &t->h[up]))
			break;
		t->h[i] = t->h[up];
		i = up;
	}
	t->h[i] = e;
}

static struct heap_e heap_pop(struct trainer *t)
{
	struct heap_e top = t->h[0], last = t->h[--t->hn];
	size_t i = 0, n = t->hn;

	for (;;) {
		size_t k = 2 * i + 1;

		if (k >= n)
			break;
		if (k + 1 < n && before(t, &t->h[k + 1], &t->h[k]))
			k++;
		if (!before(t, &t->h[k], &last))
			break;
		t->h[i] = t->h[k];
		i = k;
	}
	if (n)
		t->h[i] = last;
	return top;
}

static inline size_t tlen(const struct trainer *t, uint32_t id)
{
	return (size_t)(t->r->off[id + 1] - t->r->off[id]);
}

/* Change the count of pair (a, b) by delta times word w's count; a rise records w there.
 * A pair that would make a token longer than max_len is left out, rises and falls alike: it
 * is never counted, so it never becomes a merge (Hugging Face's max_token_length). */
static void pair_delta(struct trainer *t, uint32_t a, uint32_t b, int delta, uint32_t w,
		       uint32_t merge_no)
{
	uint32_t p;

	if (t->capped && tlen(t, a) + tlen(t, b) > t->max_len)
		return;
	p = pair_get(t, a, b);
	t->pcnt[p] += delta * (int64_t)t->wcnt[w];
	if (delta > 0) {
		where_add(t, p, w);
		if (t->pstamp[p] != merge_no) {
			t->pstamp[p] = merge_no;
			if (t->ntouched == t->touched_cap) {
				t->touched_cap = t->touched_cap ? t->touched_cap * 2 : 1024;
				t->touched = cm_xrealloc(t->touched, t->touched_cap * sizeof *t->touched);
			}
			t->touched[t->ntouched++] = p;
		}
	}
}

static uint32_t tmap_find(struct trainer *t, const char *p, size_t n, size_t *slot)
{
	size_t mask = t->tmap_cap - 1, k = XXH3_64bits(p, n) & mask;

	for (;;) {
		uint32_t v = t->tmap[k];
		size_t len;
		const unsigned char *q;

		if (!v) {
			*slot = k;
			return UINT32_MAX;
		}
		q = tbytes(t, v - 1, &len);
		if (len == n && !memcmp(q, p, n))
			return v - 1;
		k = (k + 1) & mask;
	}
}

static void tmap_grow(struct trainer *t)
{
	size_t mask, k;
	uint32_t id;

	free(t->tmap);
	t->tmap_cap = t->tmap_cap ? t->tmap_cap * 2 : 1024;
	t->tmap = cm_xcalloc(t->tmap_cap, sizeof *t->tmap);
	mask = t->tmap_cap - 1;
	for (id = 0; id < t->r->ntok; id++) {
		size_t n;
		const unsigned char *q = tbytes(t, id, &n);

		k = XXH3_64bits(q, n) & mask;
		while (t->tmap[k])
			k = (k + 1) & mask;
		t->tmap[k] = id + 1;
	}
}

/* A new token, at the slot tmap_find gave; the tables grow with the tokens made, not with the
 * vocabulary asked for. */
static void add_token(struct trainer *t, const char *p, size_t n, size_t slot)
{
	bt_result *r = t->r;

	if (r->ntok + 2 > t->off_cap) {
		t->off_cap *= 2;
		r->off = cm_xrealloc(r->off, t->off_cap * sizeof *r->off);
	}
	cm_buf_add(&r->bytes, p, n);
	r->off[r->ntok + 1] = r->bytes.len;
	t->tmap[slot] = r->ntok + 1;
	r->ntok++;
	if ((size_t)r->ntok * 2 > t->tmap_cap)
		tmap_grow(t);
}

void bt_train(const bt_counts *c, uint32_t ntok, uint64_t min_count, size_t max_len, bt_result *r,
	      bt_progress_fn progress, void *arg)
{
	struct trainer t = { 0 };
	size_t i, k, nsym = 0, slot, mcap;
	uint32_t merge_no = 0;
	cm_buf cat = CM_BUF_INIT;

	memset(r, 0, sizeof *r);
	t.r = r;
	t.max_len = max_len;
	if (ntok < 256)
		ntok = 256;
	t.off_cap = 1024;
	r->off = cm_xcalloc(t.off_cap, sizeof *r->off);
	tmap_grow(&t);
	for (i = 0; i < 256; i++) {
		char b = (char)i;

		tmap_find(&t, &b, 1, &slot);
		add_token(&t, &b, 1, slot);
	}
	mcap = ntok - 256 < 65536 ? ntok - 256 : 65536;
	r->merges = cm_xcalloc(mcap ? mcap : 1, sizeof *r->merges);
	r->merge_count = cm_xcalloc(mcap ? mcap : 1, sizeof *r->merge_count);

	/* words: the pieces of two bytes or more (a single byte has no pair) */
	for (i = 0; i < c->cap; i++)
		if (c->s[i].len >= 2) {
			t.nw++;
			nsym += c->s[i].len;
			if (c->s[i].len > max_len)
				t.capped = 1;	/* else no token can grow past it */
		}
	if (t.nw >= UINT32_MAX)
		cm_die("too many distinct pre-tokens (%zu)", t.nw);
	t.sym = cm_xmalloc((nsym ? nsym : 1) * sizeof *t.sym);
	t.woff = cm_xmalloc((t.nw ? t.nw : 1) * sizeof *t.woff);
	t.wlen = cm_xmalloc((t.nw ? t.nw : 1) * sizeof *t.wlen);
	t.wcnt = cm_xmalloc((t.nw ? t.nw : 1) * sizeof *t.wcnt);
	t.stamp = cm_xmalloc((t.nw ? t.nw : 1) * sizeof *t.stamp);
	pmap_rehash(&t);
	nsym = 0;
	for (i = 0, k = 0; i < c->cap; i++) {
		const struct cslot *s = &c->s[i];
		const unsigned char *p = (const unsigned char *)c->arena.p + s->off;
		uint32_t j;

		if (s->len < 2)
			continue;
		t.woff[k] = nsym;
		t.wlen[k] = s->len;
		t.wcnt[k] = s->count;
		t.stamp[k] = UINT32_MAX;
		for (j = 0; j < s->len; j++)
			t.sym[nsym + j] = p[j];
		for (j = 0; j + 1 < s->len; j++) {
			uint32_t pi = pair_get(&t, p[j], p[j + 1]);

			t.pcnt[pi] += (int64_t)s->count;
			where_add(&t, pi, (uint32_t)k);
		}
		nsym += s->len;
		k++;
	}
	r->words = t.nw;
	r->pairs = t.np;
	for (i = 0; i < t.np; i++)
		if (t.pcnt[i] > 0)
			heap_push(&t, t.pcnt[i], (uint32_t)i);

	while (r->ntok < ntok && t.hn) {
		struct heap_e e = heap_pop(&t);
		uint32_t a, b, m, p = e.p;
		struct where wl;
		size_t na, nb, mem;
		const unsigned char *pa, *pb;

		if (e.count != t.pcnt[p]) {
			if (t.pcnt[p] > 0 && t.pcnt[p] < e.count)
				heap_push(&t, t.pcnt[p], p);
			continue;
		}
		if (e.count <= 0 || (uint64_t)e.count < min_count)
			break;
		a = (uint32_t)(t.pkey[p] >> 32);
		b = (uint32_t)t.pkey[p];
		pa = tbytes(&t, a, &na);
		pb = tbytes(&t, b, &nb);
		cm_buf_reset(&cat);
		cm_buf_add(&cat, pa, na);
		cm_buf_add(&cat, pb, nb);
		m = tmap_find(&t, cat.p, cat.len, &slot);
		if (m == UINT32_MAX) {
			m = r->ntok;
			add_token(&t, cat.p, cat.len, slot);
		}
		if (r->nmerges == mcap) {
			mcap = mcap ? mcap * 2 : 16;
			r->merges = cm_xrealloc(r->merges, mcap * sizeof *r->merges);
			r->merge_count = cm_xrealloc(r->merge_count, mcap * sizeof *r->merge_count);
		}
		r->merges[r->nmerges][0] = a;
		r->merges[r->nmerges][1] = b;
		r->merges[r->nmerges][2] = m;
		r->merge_count[r->nmerges] = (uint64_t)e.count;
		r->nmerges++;
		merge_no++;
		t.ntouched = 0;
		wl = t.pw[p];
		memset(&t.pw[p], 0, sizeof t.pw[p]);
		for (i = 0; i < wl.n; i++) {
			uint32_t w = wl.v[i], *s = t.sym + t.woff[w], n = t.wlen[w], j = 0, out = 0;

			if (t.stamp[w] == merge_no)
				continue;
			t.stamp[w] = merge_no;
			while (j < n) {
				if (j + 1 < n && s[j] == a && s[j + 1] == b) {
					if (out > 0) {
						pair_delta(&t, s[out - 1], a, -1, w, merge_no);
						pair_delta(&t, s[out - 1], m, 1, w, merge_no);
					}
					if (j + 2 < n) {
						pair_delta(&t, b, s[j + 2], -1, w, merge_no);
						pair_delta(&t, m, s[j + 2], 1, w, merge_no);
					}
					t.pcnt[p] -= (int64_t)t.wcnt[w];
					s[out++] = m;
					j += 2;
				} else {
					s[out++] = s[j++];
				}
			}
			t.wlen[w] = out;
		}
		mem = nsym * 4 + t.nw * 24 + t.np * 40 + t.pmap_cap * 4 + t.hcap * sizeof *t.h +
		      t.where_bytes;
		if (mem > r->peak_bytes)
			r->peak_bytes = mem;
		t.where_bytes -= (size_t)wl.cap * sizeof *wl.v;
		free(wl.v);
		for (i = 0; i < t.ntouched; i++)
			if (t.pcnt[t.touched[i]] > 0)
				heap_push(&t, t.pcnt[t.touched[i]], t.touched[i]);
		if (progress && (r->nmerges & 255) == 0)
			progress(r->nmerges, ntok - 256, arg);
	}
	if (progress)
		progress(r->nmerges, r->nmerges, arg);
	for (i = 0; i < t.np; i++)
		free(t.pw[i].v);
	free(t.pw);
	free(t.pkey);
	free(t.pcnt);
	free(t.pstamp);
	free(t.pmap);
	free(t.h);
	free(t.tmap);
	free(t.touched);
	free(t.sym);
	free(t.woff);
	free(t.wlen);
	free(t.wcnt);
	free(t.stamp);
	cm_buf_free(&cat);
}

void bt_result_free(bt_result *r)
{
	cm_buf_free(&r->bytes);
	free(r->off);
	free(r->merges);
	free(r->merge_count);
	memset(r, 0, sizeof *r);
}
