/* tok.c - byte-level BPE tokenizer: vocabulary and merge tables, pre-tokenizer, encode, decode.
 *
 * Tables: token bytes live in one arena, found by id (off/len arrays) and by bytes (an open
 * addressing table of ids hashed with XXH3). Merges are an open addressing table keyed by the
 * pair of ids, giving rank and merged id, plus the list in the order given (for the hash and
 * for writing tokenizer.json). A piece of up to SMALL_PIECE bytes is merged by scanning its
 * pair ranks (tiktoken's way, fastest for short pieces); a longer one by a min-heap of
 * (rank, position) with lazy deletion over a linked list, so a 50 MB run of letters costs
 * n log n, not n^2. Both take the leftmost pair of lowest rank, so they agree. The files
 * (rank files, tokenizer.json) are tokfile.c's; the tables are in tok_impl.h for both.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "cli.h"
#include "tok.h"
#include "tok_impl.h"
#include "utf8.h"

#define SMALL_PIECE 64
#define MAX_PIECE ((size_t)1 << 20)	/* longer pieces are merged in parts of this size */

/* tiktoken's patterns (tiktoken_ext/openai_public.py), compiled by PCRE2 unchanged. */
static const char pat_r50k[] =
	"'(?:[sdmt]|ll|ve|re)| ?\\p{L}++| ?\\p{N}++| ?[^\\s\\p{L}\\p{N}]++|\\s++$|\\s+(?!\\S)|\\s";
static const char pat_cl100k[] =
	"'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}++|\\p{N}{1,3}+| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*+"
	"|\\s++$|\\s*[\\r\\n]|\\s+(?!\\S)|\\s";
static const char pat_o200k[] =
	"[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
	"(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
	"|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*"
	"(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
	"|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const char *cm_tok_preset(const char *name)
{
	if (!strcmp(name, "gpt2") || !strcmp(name, "r50k"))
		return pat_r50k;
	if (!strcmp(name, "cl100k"))
		return pat_cl100k;
	if (!strcmp(name, "o200k"))
		return pat_o200k;
	return NULL;
}

const char *cm_tok_pattern_arg(const char *arg)
{
	const char *p = cm_tok_preset(arg);

	return p ? p : arg;
}

#define HOT_SLOTS 2048	/* the hottest short pieces, direct-mapped: fits the L1 cache */

struct cm_tok_ctx {
	const cm_tok *t;
	pcre2_match_data *md;
	pcre2_match_context *mc;
	pcre2_jit_stack *js;
	/* merge scratch */
	uint32_t *ids, *rk, *mid, *nxt, *prv;
	uint64_t *heap;
	size_t cap, heap_cap;
	size_t *next_sp;
	cm_buf tmp;
	/* tiktoken's rule: pairs met so far, with their rank or PC_NO (they do not merge) */
	struct merge *pc;
	size_t pc_cap, pc_used;
	cm_buf pcbuf;
	struct cslot *cache;
	cm_buf carena;
	struct hot { uint64_t key; uint32_t id, plen; } hot[HOT_SLOTS];
	uint64_t invalid_runs, regex_failures;
};

void cm_ids_grow(cm_ids *a, size_t more)
{
	size_t cap = a->cap ? a->cap : 256;

	if (more > SIZE_MAX / 8 - a->n)
		cm_die("token array too large");
	while (cap < a->n + more)
		cap *= 2;
	a->v = cm_xrealloc(a->v, cap * sizeof *a->v);
	a->cap = cap;
}

void cm_ids_free(cm_ids *a)
{
	free(a->v);
	a->v = NULL;
	a->n = a->cap = 0;
}

/* ---- tables ---- */

static inline uint64_t pair_key(uint32_t a, uint32_t b)
{
	return (uint64_t)a << 32 | b;
}

static inline size_t pair_slot(uint64_t key, size_t mask)
{
	/* murmur3's finaliser: every bit of both ids reaches the low bits */
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdull;
	key ^= key >> 33;
	key *= 0xc4ceb9fe1a85ec53ull;
	key ^= key >> 33;
	return (size_t)key & mask;
}

/* The entries of old (oc slots) put into t, a table of mask + 1 empty slots; how many. */
static size_t merges_rehash(struct merge *t, size_t mask, const struct merge *old, size_t oc)
{
	size_t k, i, n = 0;

	for (k = 0; k < oc; k++) {
		if (old[k].rank == NONE)
			continue;
		i = pair_slot(old[k].key, mask);
		while (t[i].rank != NONE)
			i = (i + 1) & mask;
		t[i] = old[k];
		n++;
	}
	return n;
}

/* Rank of merging a then b, and the merged id in *id; NONE when they do not merge. */
static inline uint32_t pair_rank(const cm_tok *t, uint32_t a, uint32_t b, uint32_t *id)
{
	uint64_t key = pair_key(a, b);
	size_t mask = t->mt_cap - 1, i = pair_slot(key, mask);

	for (;;) {
		const struct merge *m = &t->mt[i];

		if (m->rank == NONE)
			return NONE;
		if (m->key == key) {
			*id = m->id;
			return m->rank;
		}
		i = (i + 1) & mask;
	}
}

static void mt_insert(cm_tok *t, uint64_t key, uint32_t rank, uint32_t id)
{
	size_t mask, i;

	if (t->mt_used + 1 > t->mt_cap / 2) {
		struct merge *old = t->mt;
		size_t oc = t->mt_cap, k;

		t->mt_cap = oc ? oc * 2 : 1024;
		t->mt = cm_xmalloc(t->mt_cap * sizeof *t->mt);
		for (k = 0; k < t->mt_cap; k++)
			t->mt[k].rank = NONE;
		merges_rehash(t->mt, t->mt_cap - 1, old, oc);
		free(old);
	}
	mask = t->mt_cap - 1;
	i = pair_slot(key, mask);
	while (t->mt[i].rank != NONE && t->mt[i].key != key)
		i = (i + 1) & mask;
	if (t->mt[i].rank == NONE)
		t->mt_used++;
	/* a pair listed twice: the later entry wins, as in Hugging Face's merge map */
	t->mt[i].key = key;
	t->mt[i].rank = rank;
	t->mt[i].id = id;
}

static void map_insert(cm_tok *t, uint32_t id)
{
	uint64_t h = XXH3_64bits(tok_ptr(t, id), t->len[id]);
	size_t mask = t->map_cap - 1, i = (size_t)h & mask;

	while (t->map[i])
		i = (i + 1) & mask;
	t->map[i] = (h >> 32) << 32 | (id + 1);
}

static void map_put(cm_tok *t, uint32_t id)
{
	if (t->map_used + 1 > t->map_cap / 2) {
		uint64_t *old = t->map;
		size_t oc = t->map_cap, k;

		t->map_cap = oc ? oc * 2 : 1024;
		t->map = cm_xcalloc(t->map_cap, sizeof *t->map);
		for (k = 0; k < oc; k++)
			if (old[k])
				map_insert(t, (uint32_t)old[k] - 1);
		free(old);
	}
	map_insert(t, id);
	t->map_used++;
}

/* ---- building ---- */

/* Hugging Face's regex engine (Oniguruma) reads X{n,m}+ as "X{n,m}, one or more times", PCRE2
 * and tiktoken's as possessive. Both read the atomic group (?>X{n,m}) alike, so patterns are
 * kept in that form (cl100k's \p{N}{1,3}+ becomes (?>\p{N}{1,3})): the same splits here, and
 * the same in a tokenizer.json that Hugging Face loads. */
static char *atomic_intervals(const char *p)
{
	size_t n = strlen(p), i = 0, nw = 0, depth = 0, k;
	size_t (*wrap)[2] = cm_xcalloc(n + 1, sizeof *wrap), *open = cm_xcalloc(n + 1, sizeof *open);
	long last = -1;
	cm_buf out = CM_BUF_INIT;

	while (i < n) {
		size_t start = i;

		if (p[i] == '\\') {
			if (i + 2 < n && (p[i + 1] == 'p' || p[i + 1] == 'P' || p[i + 1] == 'x') && p[i + 2] == '{') {
				const char *e = strchr(p + i, '}');

				i = e ? (size_t)(e - p) + 1 : n;
			} else {
				i += i + 1 < n ? 2 : 1;
			}
			last = (long)start;
		} else if (p[i] == '[') {
			i++;
			if (i < n && p[i] == '^')
				i++;
			if (i < n && p[i] == ']')
				i++;
			while (i < n && p[i] != ']') {
				if (p[i] == '\\')
					i += 2;
				else if (p[i] == '[' && i + 1 < n && p[i + 1] == ':' && strstr(p + i, ":]"))
					i = (size_t)(strstr(p + i, ":]") - p) + 2;
				else
					i++;
			}
			i = i < n ? i + 1 : n;
			last = (long)start;
		} else if (p[i] == '(') {
			open[depth++] = i++;
			last = -1;
		} else if (p[i] == ')') {
			last = depth ? (long)open[--depth] : -1;
			i++;
		} else if (p[i] == '{' && last >= 0) {
			k = i + 1;
			while (k < n && ((p[k] >= '0' && p[k] <= '9') || p[k] == ','))
				k++;
			if (k < n && p[k] == '}' && k > i + 1 && k + 1 < n && p[k + 1] == '+') {
				wrap[nw][0] = (size_t)last;
				wrap[nw][1] = k + 1;	/* the '+' */
				nw++;
				i = k + 2;
			} else {
				i = k < n ? k + 1 : n;
			}
			last = -1;
		} else if (p[i] == '|' || p[i] == '^' || p[i] == '$' || p[i] == '*' || p[i] == '+' ||
			   p[i] == '?') {
			i++;
			last = -1;
		} else {
			uint32_t cp;

			i += cm_utf8_decode(p + i, n - i, &cp);
			last = (long)start;
		}
	}
	for (i = 0; i < n; i++) {
		for (k = 0; k < nw; k++)
			if (wrap[k][0] == i)
				cm_buf_adds(&out, "(?>");
		for (k = 0; k < nw && wrap[k][1] != i; k++)
			;
		cm_buf_addc(&out, k < nw ? ')' : p[i]);
	}
	free(wrap);
	free(open);
	if (!out.p)
		return cm_xstrdup("");
	return out.p;
}

cm_tok *cm_tok_create(const char *pattern, char *err, size_t errlen)
{
	cm_tok *t = cm_xcalloc(1, sizeof *t);
	int code;
	PCRE2_SIZE eoff;

	t->pattern = atomic_intervals(pattern);
	t->re = pcre2_compile((PCRE2_SPTR)t->pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP,
			      &code, &eoff, NULL);
	if (!t->re) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(code, msg, sizeof msg);
		seterr(err, errlen, "bad pattern at offset %zu: %s", (size_t)eoff, (char *)msg);
		cm_tok_free(t);
		return NULL;
	}
	t->jit = pcre2_jit_compile(t->re, PCRE2_JIT_COMPLETE) == 0;
	memset(t->byte_id, 0xff, sizeof t->byte_id);
	return t;
}

void cm_tok_free(cm_tok *t)
{
	size_t i;

	if (!t)
		return;
	free(t->pattern);
	pcre2_code_free(t->re);
	free(t->off);
	free(t->len);
	cm_buf_free(&t->arena);
	free(t->map);
	free(t->mt);
	free(t->mlist);
	for (i = 0; i < t->nsp; i++)
		free(t->sp[i].text);
	free(t->sp);
	free(t->sp_text);
	free(t->sp_len);
	free(t);
}

int cm_tok_add_token(cm_tok *t, uint32_t id, const void *bytes, size_t len, char *err, size_t errlen)
{
	uint32_t other;

	if (id >= CM_TOK_MAX_VOCAB) {
		seterr(err, errlen, "token id %u is too large (at most %u)", id, CM_TOK_MAX_VOCAB - 1);
		return -1;
	}
	if (len == 0 || len > CM_TOK_MAX_TOKEN) {
		seterr(err, errlen, "token %u has %zu bytes (1 to %d allowed)", id, len, CM_TOK_MAX_TOKEN);
		return -1;
	}
	if (id >= t->tok_cap) {
		uint32_t cap = t->tok_cap ? t->tok_cap : 1024, k;

		while (cap <= id)
			cap *= 2;
		t->off = cm_xrealloc(t->off, (size_t)cap * sizeof *t->off);
		t->len = cm_xrealloc(t->len, (size_t)cap * sizeof *t->len);
		for (k = t->tok_cap; k < cap; k++)
			t->len[k] = NONE;
		t->tok_cap = cap;
	}
	if (t->len[id] != NONE) {
		seterr(err, errlen, "token id %u given twice", id);
		return -1;
	}
	if ((other = map_find(t, bytes, len)) != NONE) {
		seterr(err, errlen, "ids %u and %u have the same bytes", other, id);
		return -1;
	}
	t->off[id] = t->arena.len;
	t->len[id] = (uint32_t)len;
	cm_buf_add(&t->arena, bytes, len);
	if (id >= t->ntok)
		t->ntok = id + 1;
	map_put(t, id);
	return 0;
}

int cm_tok_add_merge(cm_tok *t, uint32_t a, uint32_t b, uint32_t rank, uint32_t id, char *err,
		     size_t errlen)
{
	if (!known(t, a) || !known(t, b) || !known(t, id)) {
		seterr(err, errlen, "merge %u + %u -> %u names an unknown token", a, b, id);
		return -1;
	}
	if (rank == NONE) {
		seterr(err, errlen, "merge rank %u is too large", rank);
		return -1;
	}
	if ((uint64_t)t->len[a] + t->len[b] != t->len[id] ||
	    memcmp(tok_ptr(t, a), tok_ptr(t, id), t->len[a]) ||
	    memcmp(tok_ptr(t, b), tok_ptr(t, id) + t->len[a], t->len[b])) {
		seterr(err, errlen, "merge %u + %u -> %u: the bytes do not add up", a, b, id);
		return -1;
	}
	if (t->nml == t->ml_cap) {
		t->ml_cap = t->ml_cap ? t->ml_cap * 2 : 1024;
		t->mlist = cm_xrealloc(t->mlist, t->ml_cap * sizeof *t->mlist);
	}
	t->mlist[t->nml][0] = a;
	t->mlist[t->nml][1] = b;
	t->mlist[t->nml][2] = rank;
	t->mlist[t->nml][3] = id;
	t->nml++;
	mt_insert(t, pair_key(a, b), rank, id);
	return 0;
}

int cm_tok_add_special(cm_tok *t, const char *text, uint32_t id, char *err, size_t errlen)
{
	size_t i, n = strlen(text);

	if (id >= CM_TOK_MAX_VOCAB) {
		seterr(err, errlen, "special token id %u is too large", id);
		return -1;
	}
	if (!n || !cm_utf8_valid(text, n)) {
		seterr(err, errlen, "special token %u is empty or not UTF-8", id);
		return -1;
	}
	for (i = 0; i < t->nsp; i++) {
		if (!strcmp(t->sp[i].text, text) || t->sp[i].id == id) {
			seterr(err, errlen, "special token '%s' (%u) given twice", text, id);
			return -1;
		}
	}
	if (known(t, id) && (t->len[id] != n || memcmp(tok_ptr(t, id), text, n))) {
		seterr(err, errlen, "special token '%s' has the id %u of another token", text, id);
		return -1;
	}
	t->sp = cm_xrealloc(t->sp, (t->nsp + 1) * sizeof *t->sp);
	t->sp[t->nsp].text = cm_xstrdup(text);
	t->sp[t->nsp].len = n;
	t->sp[t->nsp].id = id;
	t->sp_text = cm_xrealloc(t->sp_text, (t->nsp + 1) * sizeof *t->sp_text);
	t->sp_len = cm_xrealloc(t->sp_len, (t->nsp + 1) * sizeof *t->sp_len);
	t->sp_text[t->nsp] = t->sp[t->nsp].text;
	t->sp_len[t->nsp] = n;
	t->nsp++;
	return 0;
}

/* Every split of every token into two tokens, in rank order: the merges tiktoken's rule
 * implies, for writing tokenizer.json (encoding looks pairs up as it meets them). */
void cm_tok_rank_merges(const cm_tok *t, void (*fn)(uint32_t a, uint32_t b, uint32_t id, void *arg),
			void *arg)
{
	uint32_t id, k, l, r;

	for (id = 0; id < t->ntok; id++) {
		if (t->len[id] == NONE)
			continue;
		for (k = 1; k < t->len[id]; k++) {
			const char *p = tok_ptr(t, id);

			if ((l = map_find(t, p, k)) == NONE)
				continue;
			if ((r = map_find(t, p + k, t->len[id] - k)) == NONE)
				continue;
			fn(l, r, id, arg);
		}
	}
}

void cm_tok_merges_from_ranks(cm_tok *t)
{
	t->ignore_merges = 1;
	t->from_ranks = 1;
}

void cm_tok_set_ignore_merges(cm_tok *t, int on)
{
	t->ignore_merges = on;
}

static void hash_u32(XXH3_state_t *h, uint32_t v)
{
	unsigned char b[4] = { v, v >> 8, v >> 16, v >> 24 };

	XXH3_64bits_update(h, b, 4);
}

struct implied {
	const cm_tok *t;
	size_t k;
	int same;
};

static void implied_one(uint32_t a, uint32_t b, uint32_t id, void *arg)
{
	struct implied *m = arg;
	const uint32_t *l = m->k < m->t->nml ? m->t->mlist[m->k] : NULL;

	m->same = m->same && l && l[0] == a && l[1] == b && l[3] == id;
	m->k++;
}

/* Whether the merges listed are exactly those the ranks imply (cm_tok_rank_merges), in its order. */
static int implied_merges(const cm_tok *t)
{
	struct implied m = { t, 0, 1 };

	cm_tok_rank_merges(t, implied_one, &m);
	return m.same && m.k == t->nml;
}

int cm_tok_finish(cm_tok *t, char *err, size_t errlen)
{
	XXH3_state_t *h;
	uint32_t i;
	size_t k;

	for (i = 0; i < 256; i++) {
		unsigned char c = (unsigned char)i;

		t->byte_id[i] = map_find(t, &c, 1);
		if (t->byte_id[i] == NONE) {
			seterr(err, errlen, "no token for the byte 0x%02x: not a byte-level vocabulary", i);
			return -1;
		}
	}
	if (!t->mt_cap) {	/* no merges at all: an empty table */
		t->mt_cap = 16;
		t->mt = cm_xmalloc(t->mt_cap * sizeof *t->mt);
		for (k = 0; k < t->mt_cap; k++)
			t->mt[k].rank = NONE;
	}
	t->vocab_size = t->ntok;
	for (k = 0; k < t->nsp; k++)
		if (t->sp[k].id >= t->vocab_size)
			t->vocab_size = t->sp[k].id + 1;
	/* the hash covers what decides ids: pattern, options, tokens, merges, special tokens */
	h = XXH3_createState();
	XXH3_64bits_reset(h);
	if (t->from_ranks || t->ignore_merges) {
		/* tiktoken's way (whole tokens first, merges by rank) has one form whether it came
		 * from a rank file (merges implied by the ranks) or from the tokenizer.json written
		 * from one (the same merges spelt out): the ids of every id, its merges in order */
		XXH3_64bits_update(h, "c2lm-tok1r", 10);
		hash_u32(h, (uint32_t)t->add_prefix_space);
		hash_u32(h, (uint32_t)strlen(t->pattern));
		XXH3_64bits_update(h, t->pattern, strlen(t->pattern));
		hash_u32(h, t->vocab_size);
		for (i = 0; i < t->vocab_size; i++) {
			size_t n;
			const char *p = cm_tok_bytes(t, i, &n);

			hash_u32(h, p ? (uint32_t)n : NONE);
			if (p)
				XXH3_64bits_update(h, p, n);
		}
		/* merges the ranks imply (a rank file; a tokenizer.json that spells out just
		 * those, in that order) are named, not listed: a rank file loads without
		 * enumerating them */
		if (t->from_ranks || implied_merges(t)) {
			XXH3_64bits_update(h, "ranks", 5);
		} else {
			hash_u32(h, (uint32_t)t->nml);
			for (k = 0; k < t->nml; k++) {
				hash_u32(h, t->mlist[k][0]);
				hash_u32(h, t->mlist[k][1]);
				hash_u32(h, t->mlist[k][3]);
			}
		}
	} else {
		XXH3_64bits_update(h, "c2lm-tok1", 9);
		hash_u32(h, (uint32_t)(t->ignore_merges | t->add_prefix_space << 1 | t->from_ranks << 2));
		hash_u32(h, (uint32_t)strlen(t->pattern));
		XXH3_64bits_update(h, t->pattern, strlen(t->pattern));
		hash_u32(h, t->ntok);
		for (i = 0; i < t->ntok; i++) {
			hash_u32(h, t->len[i]);
			if (t->len[i] != NONE)
				XXH3_64bits_update(h, tok_ptr(t, i), t->len[i]);
		}
		hash_u32(h, (uint32_t)t->nml);
		for (k = 0; k < t->nml; k++) {
			hash_u32(h, t->mlist[k][0]);
			hash_u32(h, t->mlist[k][1]);
			hash_u32(h, t->mlist[k][2]);
		}
	}
	hash_u32(h, (uint32_t)t->nsp);
	for (k = 0; k < t->nsp; k++) {
		hash_u32(h, t->sp[k].id);
		hash_u32(h, (uint32_t)t->sp[k].len);
		XXH3_64bits_update(h, t->sp[k].text, t->sp[k].len);
	}
	t->hash = XXH3_64bits_digest(h);
	XXH3_freeState(h);
	t->finished = 1;
	return 0;
}

uint32_t cm_tok_vocab_size(const cm_tok *t) { return t->vocab_size; }
uint32_t cm_tok_nmerges(const cm_tok *t) { return (uint32_t)t->nml; }
int cm_tok_prefix_space(const cm_tok *t) { return t->add_prefix_space; }
uint64_t cm_tok_hash(const cm_tok *t) { return t->hash; }
const char *cm_tok_pattern(const cm_tok *t) { return t->pattern; }
size_t cm_tok_nspecials(const cm_tok *t) { return t->nsp; }

int64_t cm_tok_special(const cm_tok *t, const char *text)
{
	size_t i;

	for (i = 0; i < t->nsp; i++)
		if (!strcmp(t->sp[i].text, text))
			return t->sp[i].id;
	return -1;
}

int64_t cm_tok_eot(const cm_tok *t)
{
	return cm_tok_special(t, "<|endoftext|>");
}

const char *cm_tok_bytes(const cm_tok *t, uint32_t id, size_t *len)
{
	size_t i;

	if (known(t, id)) {
		*len = t->len[id];
		return tok_ptr(t, id);
	}
	for (i = 0; i < t->nsp; i++) {
		if (t->sp[i].id == id) {
			*len = t->sp[i].len;
			return t->sp[i].text;
		}
	}
	*len = 0;
	return NULL;
}

/* ---- encoding ---- */

static void pc_reset(cm_tok_ctx *c, size_t cap);
static void cache_clear(cm_tok_ctx *c);

cm_tok_ctx *cm_tok_ctx_new(const cm_tok *t)
{
	cm_tok_ctx *c = cm_xcalloc(1, sizeof *c);

	c->t = t;
	c->md = pcre2_match_data_create_from_pattern(t->re, NULL);
	c->mc = pcre2_match_context_create(NULL);
	if (!c->md || !c->mc)
		cm_die("out of memory");
	/* Backtracking is bounded: a match that needs more gives up, and the text is kept whole. */
	pcre2_set_match_limit(c->mc, 10000000);
	if (t->jit) {
		c->js = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, NULL);
		if (!c->js)
			cm_die("out of memory");
		pcre2_jit_stack_assign(c->mc, NULL, c->js);
	}
	c->next_sp = cm_xcalloc(t->nsp + 1, sizeof *c->next_sp);
	if (t->from_ranks)
		pc_reset(c, 1 << 14);
	cache_clear(c);
	return c;
}

void cm_tok_ctx_free(cm_tok_ctx *c)
{
	if (!c)
		return;
	pcre2_match_data_free(c->md);
	pcre2_match_context_free(c->mc);
	if (c->js)
		pcre2_jit_stack_free(c->js);
	free(c->ids);
	free(c->rk);
	free(c->mid);
	free(c->nxt);
	free(c->prv);
	free(c->heap);
	free(c->next_sp);
	free(c->pc);
	cm_buf_free(&c->pcbuf);
	free(c->cache);
	cm_buf_free(&c->carena);
	cm_buf_free(&c->tmp);
	free(c);
}

uint64_t cm_tok_ctx_invalid_runs(const cm_tok_ctx *c) { return c->invalid_runs; }
uint64_t cm_tok_ctx_regex_failures(const cm_tok_ctx *c) { return c->regex_failures; }

#define PC_NO (NONE - 1)
#define PC_MAX ((size_t)1 << 22)	/* cached pairs at most; then the cache starts again */

static void pc_reset(cm_tok_ctx *c, size_t cap)
{
	size_t k;

	free(c->pc);
	c->pc_cap = cap;
	c->pc_used = 0;
	c->pc = cm_xmalloc(cap * sizeof *c->pc);
	for (k = 0; k < cap; k++)
		c->pc[k].rank = NONE;
}

/* Under tiktoken's rule a pair merges when its bytes together are a token, of that rank. */
static uint32_t pair_rank_slow(cm_tok_ctx *c, uint32_t a, uint32_t b, uint32_t *id)
{
	const cm_tok *t = c->t;
	uint64_t key = pair_key(a, b);
	size_t mask, i;
	uint32_t m = NONE;

	if ((uint64_t)t->len[a] + t->len[b] <= CM_TOK_MAX_TOKEN) {
		cm_buf_reset(&c->pcbuf);
		cm_buf_add(&c->pcbuf, tok_ptr(t, a), t->len[a]);
		cm_buf_add(&c->pcbuf, tok_ptr(t, b), t->len[b]);
		m = map_find(t, c->pcbuf.p, c->pcbuf.len);
	}
	if (c->pc_used + 1 > c->pc_cap / 2) {
		if (c->pc_cap >= PC_MAX) {
			pc_reset(c, c->pc_cap);
		} else {
			struct merge *old = c->pc;
			size_t oc = c->pc_cap;

			c->pc = NULL;
			pc_reset(c, oc * 2);
			c->pc_used += merges_rehash(c->pc, c->pc_cap - 1, old, oc);
			free(old);
		}
	}
	mask = c->pc_cap - 1;
	i = pair_slot(key, mask);
	while (c->pc[i].rank != NONE)
		i = (i + 1) & mask;
	c->pc[i].key = key;
	c->pc[i].rank = m == NONE ? PC_NO : m;
	c->pc[i].id = m;
	c->pc_used++;
	*id = m;
	return m;
}

static inline uint32_t pair_rank_c(cm_tok_ctx *c, uint32_t a, uint32_t b, uint32_t *id)
{
	uint64_t key;
	size_t mask, i;

	if (!c->t->from_ranks)
		return pair_rank(c->t, a, b, id);
	key = pair_key(a, b);
	mask = c->pc_cap - 1;
	i = pair_slot(key, mask);
	for (;;) {
		const struct merge *m = &c->pc[i];

		if (m->rank == NONE)
			return pair_rank_slow(c, a, b, id);
		if (m->key == key) {
			*id = m->id;
			return m->rank == PC_NO ? NONE : m->rank;
		}
		i = (i + 1) & mask;
	}
}

static void scratch(cm_tok_ctx *c, size_t n)
{
	if (n <= c->cap)
		return;
	c->cap = n < 256 ? 256 : n;
	c->ids = cm_xrealloc(c->ids, c->cap * sizeof *c->ids);
	c->rk = cm_xrealloc(c->rk, c->cap * sizeof *c->rk);
	c->mid = cm_xrealloc(c->mid, c->cap * sizeof *c->mid);
	c->nxt = cm_xrealloc(c->nxt, c->cap * sizeof *c->nxt);
	c->prv = cm_xrealloc(c->prv, c->cap * sizeof *c->prv);
}

/* Short piece: rank of each adjacent pair in an array, merge the lowest, update two ranks. */
static void merge_small(cm_tok_ctx *c, const unsigned char *p, size_t n, cm_ids *out)
{
	const cm_tok *t = c->t;
	uint32_t *ids = c->ids, *rk = c->rk, *mid = c->mid, best;
	size_t m = n, i, bi;

	for (i = 0; i < n; i++)
		ids[i] = t->byte_id[p[i]];
	for (i = 0; i + 1 < n; i++)
		rk[i] = pair_rank_c(c, ids[i], ids[i + 1], &mid[i]);
	while (m > 1) {
		best = NONE;
		bi = 0;
		for (i = 0; i + 1 < m; i++) {
			if (rk[i] < best) {
				best = rk[i];
				bi = i;
			}
		}
		if (best == NONE)
			break;
		ids[bi] = mid[bi];
		memmove(ids + bi + 1, ids + bi + 2, (m - bi - 2) * sizeof *ids);
		if (bi + 2 < m) {
			memmove(rk + bi + 1, rk + bi + 2, (m - bi - 3) * sizeof *rk);
			memmove(mid + bi + 1, mid + bi + 2, (m - bi - 3) * sizeof *mid);
		}
		m--;
		if (bi + 1 < m)
			rk[bi] = pair_rank_c(c, ids[bi], ids[bi + 1], &mid[bi]);
		if (bi > 0)
			rk[bi - 1] = pair_rank_c(c, ids[bi - 1], ids[bi], &mid[bi - 1]);
	}
	if (out->cap - out->n < m)
		cm_ids_grow(out, m);
	memcpy(out->v + out->n, ids, m * sizeof *ids);
	out->n += m;
}

static void heap_push(cm_tok_ctx *c, size_t *hn, uint64_t key)
{
	uint64_t *h = c->heap;
	size_t i = (*hn)++;

	while (i > 0) {
		size_t up = (i - 1) / 2;

		if (h[up] <= key)
			break;
		h[i] = h[up];
		i = up;
	}
	h[i] = key;
}

static uint64_t heap_pop(cm_tok_ctx *c, size_t *hn)
{
	uint64_t *h = c->heap, top = h[0], last = h[--*hn];
	size_t i = 0, n = *hn;

	for (;;) {
		size_t k = 2 * i + 1;

		if (k >= n)
			break;
		if (k + 1 < n && h[k + 1] < h[k])
			k++;
		if (last <= h[k])
			break;
		h[i] = h[k];
		i = k;
	}
	if (n)
		h[i] = last;
	return top;
}

/* Long piece: a linked list of parts and a heap of (rank << 32 | position) of their pairs. */
static void merge_large(cm_tok_ctx *c, const unsigned char *p, size_t n, cm_ids *out)
{
	const cm_tok *t = c->t;
	uint32_t *ids = c->ids, *nxt = c->nxt, *prv = c->prv, r, m, i, j;
	size_t hn = 0, k;

	if (c->heap_cap < 3 * n) {	/* n - 1 pairs, then at most two more per merge */
		c->heap_cap = 3 * n;
		c->heap = cm_xrealloc(c->heap, c->heap_cap * sizeof *c->heap);
	}
	for (k = 0; k < n; k++) {
		ids[k] = t->byte_id[p[k]];
		nxt[k] = k + 1 < n ? (uint32_t)k + 1 : NONE;
		prv[k] = k > 0 ? (uint32_t)k - 1 : NONE;
	}
	for (k = 0; k + 1 < n; k++)
		if ((r = pair_rank_c(c, ids[k], ids[k + 1], &m)) != NONE)
			heap_push(c, &hn, (uint64_t)r << 32 | k);
	while (hn) {
		uint64_t key = heap_pop(c, &hn);

		i = (uint32_t)key;
		j = nxt[i];
		if (j == NONE || prv[i] == NONE - 1)	/* gone, or nothing after it */
			continue;
		if (pair_rank_c(c, ids[i], ids[j], &m) != (uint32_t)(key >> 32))
			continue;	/* the pair changed since this entry was pushed */
		ids[i] = m;
		nxt[i] = nxt[j];
		if (nxt[j] != NONE)
			prv[nxt[j]] = i;
		prv[j] = NONE - 1;	/* mark j merged away */
		nxt[j] = NONE;
		if (prv[i] != NONE && (r = pair_rank_c(c, ids[prv[i]], ids[i], &m)) != NONE)
			heap_push(c, &hn, (uint64_t)r << 32 | prv[i]);
		if (nxt[i] != NONE && (r = pair_rank_c(c, ids[i], ids[nxt[i]], &m)) != NONE)
			heap_push(c, &hn, (uint64_t)r << 32 | i);
	}
	for (i = 0; i != NONE; i = nxt[i])
		cm_ids_push(out, ids[i]);
}

/* The piece cache: the ids of pieces met lately (of CACHE_PIECE bytes at most), so a word
 * met again costs one cache line. Buckets of four slots (one cache line); a new piece takes
 * an empty slot or replaces one chosen by its key. A piece of up to 8 bytes is its own key
 * (the bytes, zero-padded, and the length); a longer one is keyed by its XXH3 hash and its
 * bytes compared on a match. The arena for pieces of more than one id is emptied, with the
 * cache, when full. */
#define CACHE_BUCKETS (1u << 14)
#define CACHE_WAYS 4
#define CACHE_PIECE 255
#define CACHE_ARENA ((size_t)8 << 20)

struct cslot {
	uint64_t key;		/* the bytes (up to 8) or the hash */
	uint32_t a;		/* one id: the id; more: where the piece's bytes and the ids are
				 * in the cache arena */
	uint16_t plen, nids;	/* plen 0: empty */
};

static void cache_clear(cm_tok_ctx *c)
{
	size_t n = (size_t)CACHE_BUCKETS * CACHE_WAYS * sizeof *c->cache;

	if (!c->cache)
		c->cache = aligned_alloc(64, n);
	if (!c->cache)
		cm_die("out of memory");
	memset(c->cache, 0, n);
	cm_buf_reset(&c->carena);
}

static inline uint64_t short_key(const unsigned char *p, size_t n)
{
	uint64_t w = 0;

	memcpy(&w, p, n);
	return w;
}

static inline struct cslot *cache_bucket(cm_tok_ctx *c, uint64_t key, size_t n)
{
	uint64_t h = n <= 8 ? (key ^ n) * 0x9E3779B97F4A7C15ull : key;

	return &c->cache[((h >> 40) & (CACHE_BUCKETS - 1)) * CACHE_WAYS];
}

static int cache_get(cm_tok_ctx *c, const unsigned char *p, size_t n, uint64_t key, cm_ids *out)
{
	const struct cslot *e = cache_bucket(c, key, n);
	int k;

	for (k = 0; k < CACHE_WAYS; k++, e++) {
		if (e->key != key || e->plen != n)
			continue;
		if (e->nids == 1) {
			if (n > 8 && memcmp(tok_ptr(c->t, e->a), p, n))
				return 0;
			cm_ids_push(out, e->a);
			return 1;
		}
		if (n <= 8 || !memcmp(c->carena.p + e->a, p, n)) {
			const char *ids = c->carena.p + e->a + ((n + 3) & ~(size_t)3);

			if (out->cap - out->n < e->nids)
				cm_ids_grow(out, e->nids);
			memcpy(out->v + out->n, ids, (size_t)e->nids * sizeof *out->v);
			out->n += e->nids;
			return 1;
		}
		return 0;
	}
	return 0;
}

static void cache_put(cm_tok_ctx *c, const unsigned char *p, size_t n, uint64_t key,
		      const uint32_t *ids, size_t nids)
{
	struct cslot *b = cache_bucket(c, key, n), *e = NULL;
	size_t pad = ((n + 3) & ~(size_t)3) - n;
	static const char zero[4];
	int k;

	if (nids > UINT16_MAX)
		return;
	if (nids > 1 && c->carena.len + n + 4 * nids + 4 > CACHE_ARENA) {
		cache_clear(c);
		b = cache_bucket(c, key, n);
	}
	for (k = 0; k < CACHE_WAYS && !e; k++)
		if (!b[k].plen)
			e = &b[k];
	if (!e)
		e = &b[(key >> 13 ^ key) & (CACHE_WAYS - 1)];
	e->key = key;
	e->plen = (uint16_t)n;
	e->nids = (uint16_t)nids;
	if (nids == 1) {
		e->a = ids[0];
		return;
	}
	e->a = (uint32_t)c->carena.len;
	cm_buf_add(&c->carena, p, n);
	cm_buf_add(&c->carena, zero, pad);
	cm_buf_add(&c->carena, ids, nids * sizeof *ids);
}

/* The ids of one piece. */
static void encode_piece(cm_tok_ctx *c, const char *s, size_t n, cm_ids *out)
{
	const cm_tok *t = c->t;
	const unsigned char *p = (const unsigned char *)s;
	uint64_t h = 0;
	size_t first;

	if (n == 1) {
		cm_ids_push(out, t->byte_id[p[0]]);
		return;
	}
	if (n <= 8) {
		uint64_t k = short_key(p, n);
		struct hot *e = &c->hot[((k ^ n) * 0x9E3779B97F4A7C15ull) >> 53];
		size_t before = out->n;

		if (e->key == k && e->plen == n) {
			cm_ids_push(out, e->id);
			return;
		}
		if (cache_get(c, p, n, k, out)) {
			if (out->n == before + 1) {
				e->key = k;
				e->plen = (uint32_t)n;
				e->id = out->v[before];
			}
			return;
		}
		h = k;
	} else if (n <= CACHE_PIECE) {
		h = XXH3_64bits(p, n);
		if (cache_get(c, p, n, h, out))
			return;
	}
	if (n <= CACHE_PIECE) {
		if (t->ignore_merges) {
			uint32_t id = n <= 8 ? map_find(t, p, n) : map_find_h(t, p, n, h);

			if (id != NONE) {
				cache_put(c, p, n, h, &id, 1);
				cm_ids_push(out, id);
				return;
			}
		}
	} else if (t->ignore_merges && n <= CM_TOK_MAX_TOKEN) {
		uint32_t id = map_find(t, p, n);

		if (id != NONE) {
			cm_ids_push(out, id);
			return;
		}
	}
	while (n > MAX_PIECE) {
		encode_piece(c, s, MAX_PIECE, out);
		s += MAX_PIECE;
		p += MAX_PIECE;
		n -= MAX_PIECE;
	}
	scratch(c, n);
	first = out->n;
	if (n <= SMALL_PIECE)
		merge_small(c, p, n, out);
	else
		merge_large(c, p, n, out);
	if (n <= CACHE_PIECE)
		cache_put(c, p, n, h, out->v + first, out->n - first);
}

static int match_at(cm_tok_ctx *c, const char *s, size_t n, size_t off)
{
	const cm_tok *t = c->t;

	if (t->jit)
		return pcre2_jit_match(t->re, (PCRE2_SPTR)s, n, off, 0, c->md, c->mc);
	return pcre2_match(t->re, (PCRE2_SPTR)s, n, off, PCRE2_NO_UTF_CHECK, c->md, c->mc);
}

static size_t char_len(const char *s, size_t n)
{
	uint32_t cp;

	return cm_utf8_decode(s, n, &cp);
}

/* Split well-formed s into the pattern's matches and the text between them. */
static void split_valid(cm_tok_ctx *c, const char *s, size_t n, cm_tok_piece_fn fn, void *arg)
{
	size_t off = 0, gap = 0;

	while (off < n) {
		int rc = match_at(c, s, n, off);
		PCRE2_SIZE *ov;

		if (rc == PCRE2_ERROR_NOMATCH)
			break;
		if (rc < 0) {
			c->regex_failures++;
			break;
		}
		ov = pcre2_get_ovector_pointer(c->md);
		if (ov[0] > gap)
			fn(s + gap, ov[0] - gap, arg);
		if (ov[1] == ov[0]) {	/* an empty match: the next character joins the gap */
			gap = ov[0];
			off = ov[0] + char_len(s + ov[0], n - ov[0]);
			continue;
		}
		fn(s + ov[0], ov[1] - ov[0], arg);
		off = gap = ov[1];
	}
	if (gap < n)
		fn(s + gap, n - gap, arg);
}

void cm_tok_split(cm_tok_ctx *c, const char *s, size_t n, cm_tok_piece_fn fn, void *arg);

struct enc_arg {
	cm_tok_ctx *c;
	cm_ids *out;
};

static void enc_fn(const char *p, size_t n, void *arg)
{
	struct enc_arg *a = arg;

	encode_piece(a->c, p, n, a->out);
}

/* Ordinary text: well-formed runs split by the pattern, ill-formed runs one piece each. */
static void encode_plain(cm_tok_ctx *c, const char *s, size_t n, cm_ids *out)
{
	struct enc_arg a = { c, out };

	if (c->t->add_prefix_space && n && s[0] != ' ') {
		cm_buf_reset(&c->tmp);
		cm_buf_addc(&c->tmp, ' ');
		cm_buf_add(&c->tmp, s, n);
		s = c->tmp.p;
		n = c->tmp.len;
	}
	cm_tok_split(c, s, n, enc_fn, &a);
}

static size_t find_from(const char *s, size_t n, size_t from, const char *what, size_t len)
{
	const char *f;

	if (from >= n)
		return SIZE_MAX;
	f = memmem(s + from, n - from, what, len);
	return f ? (size_t)(f - s) : SIZE_MAX;
}

void cm_cut_at(const char *s, size_t n, const char *const *str, const size_t *len, size_t nstr,
	       size_t *next, cm_cut_fn fn, void *arg)
{
	size_t pos = 0, k;

	for (k = 0; k < nstr; k++)
		next[k] = find_from(s, n, 0, str[k], len[k]);
	for (;;) {
		size_t at = SIZE_MAX, best = 0;

		/* the earliest; at one place the longest */
		for (k = 0; k < nstr; k++) {
			if (next[k] < at || (next[k] == at && at != SIZE_MAX && len[k] > len[best])) {
				at = next[k];
				best = k;
			}
		}
		if (at == SIZE_MAX) {
			fn(s + pos, n - pos, -1, arg);
			return;
		}
		fn(s + pos, at - pos, (long)best, arg);
		pos = at + len[best];
		for (k = 0; k < nstr; k++)
			if (next[k] < pos)
				next[k] = find_from(s, n, pos, str[k], len[k]);
	}
}

static void encode_cut(const char *p, size_t n, long which, void *arg)
{
	struct enc_arg *a = arg;

	encode_plain(a->c, p, n, a->out);
	if (which >= 0)
		cm_ids_push(a->out, a->c->t->sp[which].id);
}

void cm_tok_encode(cm_tok_ctx *c, const char *s, size_t n, int allow_special, cm_ids *out)
{
	const cm_tok *t = c->t;
	struct enc_arg a = { c, out };

	if (!allow_special || !t->nsp)
		encode_plain(c, s, n, out);
	else
		cm_cut_at(s, n, (const char *const *)t->sp_text, t->sp_len, t->nsp, c->next_sp,
			  encode_cut, &a);
}

void cm_tok_split(cm_tok_ctx *c, const char *s, size_t n, cm_tok_piece_fn fn, void *arg)
{
	while (n) {
		size_t v = cm_utf8_valid_len(s, n), k = 0;

		if (v) {
			split_valid(c, s, v, fn, arg);
			s += v;
			n -= v;
		}
		while (k < n) {
			uint32_t cp;
			size_t l = cm_utf8_decode(s + k, n - k, &cp);

			if (cp != CM_UTF8_INVALID)
				break;
			k += l;
		}
		if (k) {
			c->invalid_runs++;
			fn(s, k, arg);
			s += k;
			n -= k;
		}
	}
}

int cm_tok_decode(const cm_tok *t, const uint32_t *ids, size_t n, cm_buf *out, size_t *bad)
{
	size_t i, len;

	for (i = 0; i < n; i++) {
		const char *p;

		if (known(t, ids[i])) {
			cm_buf_add(out, tok_ptr(t, ids[i]), t->len[ids[i]]);
			continue;
		}
		p = cm_tok_bytes(t, ids[i], &len);
		if (!p) {
			if (bad)
				*bad = i;
			return -1;
		}
		cm_buf_add(out, p, len);
	}
	return 0;
}
