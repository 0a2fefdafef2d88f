/* tok_impl.h - the tokenizer's tables, shared by tok.c (building, encoding, decoding) and
 * tokfile.c (rank files and tokenizer.json in and out); users of the tokenizer include tok.h.
 */
#ifndef CM_TOK_IMPL_H
#define CM_TOK_IMPL_H
#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "buf.h"
#include "tok.h"

#define NONE UINT32_MAX

struct merge {
	uint64_t key;		/* a << 32 | b; 0 with rank NONE: empty */
	uint32_t rank, id;
};

struct special {
	char *text;
	size_t len;
	uint32_t id;
};

struct cm_tok {
	char *pattern;
	pcre2_code *re;
	int jit;
	/* tokens by id: bytes at arena + off[id], len[id] of them; len NONE: no such id */
	uint32_t ntok, tok_cap;
	uint64_t *off;
	uint32_t *len;
	cm_buf arena;
	/* bytes -> id + 1 (0: empty slot) */
	uint64_t *map;
	size_t map_cap, map_used;
	uint32_t byte_id[256];
	/* merges */
	struct merge *mt;
	size_t mt_cap, mt_used;
	uint32_t (*mlist)[4];	/* a, b, rank, id in the order given */
	size_t nml, ml_cap;
	struct special *sp;
	size_t nsp;
	char **sp_text;		/* the special tokens' texts and lengths again, for cm_cut_at */
	size_t *sp_len;
	int ignore_merges, add_prefix_space, from_ranks;
	uint32_t vocab_size;
	uint64_t hash;
	int finished;
};

static inline void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static inline const char *tok_ptr(const cm_tok *t, uint32_t id)
{
	return t->arena.p + t->off[id];
}

/* Map slots: id + 1 in the low half (0: empty), the hash's high half as a tag. */
static inline uint32_t map_find_h(const cm_tok *t, const void *p, size_t n, uint64_t h)
{
	size_t mask, i;
	uint32_t tag = (uint32_t)(h >> 32);

	if (!t->map_cap)
		return NONE;
	mask = t->map_cap - 1;
	i = (size_t)h & mask;
	for (;;) {
		uint64_t v = t->map[i];
		uint32_t id = (uint32_t)v;

		if (!id)
			return NONE;
		if ((uint32_t)(v >> 32) == tag && t->len[id - 1] == n && !memcmp(tok_ptr(t, id - 1), p, n))
			return id - 1;
		i = (i + 1) & mask;
	}
}

static inline uint32_t map_find(const cm_tok *t, const void *p, size_t n)
{
	return map_find_h(t, p, n, XXH3_64bits(p, n));
}

static inline int known(const cm_tok *t, uint32_t id)
{
	return id < t->ntok && t->len[id] != NONE;
}

/* fn for each merge tiktoken's rule implies (tok.c) */
void cm_tok_rank_merges(const cm_tok *t, void (*fn)(uint32_t a, uint32_t b, uint32_t id, void *arg),
			void *arg);
#endif
