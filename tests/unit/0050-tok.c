/* 0050-tok.c - the tokenizer core against a plain reference BPE: random vocabularies over a
 * small alphabet, random texts of 1 to 1,000 bytes (the short-piece scan and the long-piece
 * heap), both merge rules (tiktoken's ranks, a merges list), caches warm and cold; byte-level
 * strings; special tokens; shard headers and token streams. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shard.h"
#include "tap.h"
#include "tok.h"
#include "tokstream.h"

#define NT 600

struct vocab {
	char bytes[NT][64];
	size_t len[NT];
	uint32_t ma[NT], mb[NT];	/* merge k makes token 256 + k from ma + mb */
	int n;				/* merges */
	uint32_t rank[2][NT][NT];	/* by rule: rank of pair (a, b), UINT32_MAX when none */
};

/* Random merges over "abcd": each joins two existing tokens made of those letters. */
static void make_vocab(struct vocab *v, int nmerges)
{
	uint32_t pool[700];
	int np = 0, k, i;

	for (i = 0; i < 256; i++) {
		v->bytes[i][0] = (char)i;
		v->len[i] = 1;
	}
	for (i = 0; i < 4; i++)
		pool[np++] = 'a' + (uint32_t)i;
	v->n = 0;
	for (k = 0; v->n < nmerges && k < 100000; k++) {
		uint32_t a = pool[tap_rand((uint32_t)np)], b = pool[tap_rand((uint32_t)np)], id = 256 + (uint32_t)v->n;
		int dup = 0;

		if (v->len[a] + v->len[b] > 60)
			continue;
		memcpy(v->bytes[id], v->bytes[a], v->len[a]);
		memcpy(v->bytes[id] + v->len[a], v->bytes[b], v->len[b]);
		v->len[id] = v->len[a] + v->len[b];
		for (i = 0; i < (int)id && !dup; i++)
			dup = v->len[i] == v->len[id] && !memcmp(v->bytes[i], v->bytes[id], v->len[id]);
		if (dup)
			continue;
		v->ma[v->n] = a;
		v->mb[v->n] = b;
		v->n++;
		pool[np++] = id;
	}
	memset(v->rank, 0xff, sizeof v->rank);
	for (k = 0; k < v->n; k++) {
		uint32_t t = 256 + (uint32_t)k, a, b;
		size_t cut;

		v->rank[0][v->ma[k]][v->mb[k]] = (uint32_t)k;
		/* tiktoken's rule: every split of the token into two tokens */
		for (cut = 1; cut < v->len[t]; cut++) {
			for (a = 0; a < 256 + (uint32_t)v->n; a++) {
				if (v->len[a] != cut || memcmp(v->bytes[a], v->bytes[t], cut))
					continue;
				for (b = 0; b < 256 + (uint32_t)v->n; b++)
					if (v->len[b] == v->len[t] - cut && !memcmp(v->bytes[b], v->bytes[t] + cut, v->len[b]))
						v->rank[1][a][b] = t;
			}
		}
	}
}

/* The reference: merge the leftmost pair of lowest rank until none merges. ranks: 1 =
 * tiktoken's rule (a pair merges when its bytes are a token, at the token's id), 0 = the list. */
static size_t reference(const struct vocab *v, int ranks, const char *s, size_t n, uint32_t *out)
{
	size_t m = n, i, j;

	for (i = 0; i < n; i++)
		out[i] = (unsigned char)s[i];
	for (;;) {
		uint32_t best = UINT32_MAX, bid = 0;
		size_t bi = 0;

		for (i = 0; i + 1 < m; i++) {
			uint32_t r = v->rank[ranks][out[i]][out[i + 1]];
			uint32_t id = r == UINT32_MAX ? 0 : ranks ? r : 256 + r;

			if (r < best) {
				best = r;
				bi = i;
				bid = id;
			}
		}
		if (best == UINT32_MAX)
			return m;
		out[bi] = bid;
		for (j = bi + 1; j + 1 < m; j++)
			out[j] = out[j + 1];
		m--;
	}
}

static cm_tok *build(const struct vocab *v, int ranks)
{
	char err[256];
	cm_tok *t = cm_tok_create("[\\s\\S]+", err, sizeof err);	/* the whole text, one piece */
	uint32_t i;
	int k;

	for (i = 0; i < 256 + (uint32_t)v->n; i++)
		cm_tok_add_token(t, i, v->bytes[i], v->len[i], err, sizeof err);
	if (ranks) {
		cm_tok_merges_from_ranks(t);
		cm_tok_set_ignore_merges(t, 0);	/* the reference merges even a whole-token piece */
	} else {
		for (k = 0; k < v->n; k++)
			cm_tok_add_merge(t, v->ma[k], v->mb[k], (uint32_t)k, 256 + (uint32_t)k, err, sizeof err);
	}
	cm_tok_add_special(t, "<s>", 256 + (uint32_t)v->n, err, sizeof err);
	if (cm_tok_finish(t, err, sizeof err) < 0) {
		printf("# %s\n", err);
		return NULL;
	}
	return t;
}

int main(void)
{
	static struct vocab v;
	static char text[3001];
	static uint32_t want[3001];
	int round, ranks, bad[2] = { 0, 0 }, tried = 0, i;

	tap_rng = 0x243F6A8885A308D3ull;

	for (round = 0; round < 40; round++) {
		make_vocab(&v, 20 + (int)tap_rand(300));
		for (ranks = 0; ranks < 2; ranks++) {
			cm_tok *t = build(&v, ranks);
			cm_tok_ctx *c;
			int k;

			if (!t) {
				bad[ranks]++;
				continue;
			}
			c = cm_tok_ctx_new(t);
			for (k = 0; k < 12; k++) {
				size_t n = k < 6 ? 1 + tap_rand(60) : 60 + tap_rand(940), m, j;
				cm_ids ids = { 0 };
				int pass;

				for (j = 0; j < n; j++)
					text[j] = (char)("abcd"[tap_rand(tap_rand(8) ? 3 : 4)]);
				m = reference(&v, ranks, text, n, want);
				for (pass = 0; pass < 2; pass++) {	/* cold, then from the caches */
					ids.n = 0;
					cm_tok_encode(c, text, n, 0, &ids);
					tried++;
					if (ids.n != m || memcmp(ids.v, want, m * sizeof *want))
						bad[ranks]++;
				}
				cm_ids_free(&ids);
			}
			cm_tok_ctx_free(c);
			cm_tok_free(t);
		}
	}
	is_int(bad[0], 0, "merges list: %d encodings of random texts equal the reference", tried / 2);
	is_int(bad[1], 0, "tiktoken's rule: the same");

	/* special tokens: text unless allowed, the longest at one place */
	{
		char err[256];
		cm_tok *t = cm_tok_create("\\S+|\\s+", err, sizeof err);
		cm_tok_ctx *c;
		cm_ids ids = { 0 };
		cm_buf back = CM_BUF_INIT;
		uint32_t b;

		for (b = 0; b < 256; b++) {
			char ch = (char)b;

			cm_tok_add_token(t, b, &ch, 1, err, sizeof err);
		}
		ok(cm_tok_add_special(t, "<e>", 300, err, sizeof err) == 0, "a special token");
		ok(cm_tok_add_special(t, "<e>x", 301, err, sizeof err) == 0, "a longer one sharing its start");
		ok(cm_tok_add_special(t, "<e>", 302, err, sizeof err) < 0, "the same text twice is refused");
		ok(cm_tok_add_special(t, "\xff", 303, err, sizeof err) < 0, "ill-formed UTF-8 is refused");
		ok(cm_tok_finish(t, err, sizeof err) == 0, "finished");
		is_int(cm_tok_vocab_size(t), 302, "vocabulary size counts the special ids");
		c = cm_tok_ctx_new(t);
		cm_tok_encode(c, "a<e>x<e>", 8, 1, &ids);
		is_int(ids.n, 3, "allowed: 'a', '<e>x', '<e>'");
		ok(ids.n == 3 && ids.v[0] == 'a' && ids.v[1] == 301 && ids.v[2] == 300, "the longest special at one place");
		ids.n = 0;
		cm_tok_encode(c, "a<e>x<e>", 8, 0, &ids);
		is_int(ids.n, 8, "not allowed: ordinary text");
		cm_tok_decode(t, ids.v, ids.n, &back, NULL);
		is_mem(back.p, back.len, "a<e>x<e>", "decodes back");
		ids.v[0] = 299;
		{
			size_t where = 9;

			ok(cm_tok_decode(t, ids.v, 1, &back, &where) < 0 && where == 0, "an unknown id is an error");
		}
		cm_ids_free(&ids);
		cm_buf_free(&back);
		cm_tok_ctx_free(c);
		cm_tok_free(t);
	}

	/* byte-level strings: all 256 bytes there and back */
	{
		char all[256];
		cm_buf bl = CM_BUF_INIT, back = CM_BUF_INIT;

		for (i = 0; i < 256; i++)
			all[i] = (char)i;
		cm_tok_bl_encode(all, 256, &bl);
		ok(cm_tok_bl_decode(bl.p, bl.len, &back) == 0 && back.len == 256 && !memcmp(back.p, all, 256),
		   "byte-level form round trips every byte");
		cm_buf_reset(&bl);
		cm_tok_bl_encode(" \n", 2, &bl);
		is_str(bl.p, "\xc4\xa0\xc4\x8a", "space and newline are U+0120 and U+010A (GPT-2's)");
		ok(cm_tok_bl_decode("\xc5\x84", 2, &back) < 0, "U+0144 is not a byte");
		ok(cm_tok_bl_decode(" ", 1, &back) < 0, "a plain space is not a byte-level character");
		cm_buf_free(&bl);
		cm_buf_free(&back);
	}

	/* shard headers */
	{
		unsigned char h[CM_SHARD_HEADER];
		cm_shard_hdr sh;
		char err[200];

		cm_shard_header(h, 2, 1000);
		ok(cm_shard_parse(h, CM_SHARD_HEADER + 2000, &sh, err, sizeof err) == 0 && sh.width == 2 &&
		   sh.ntok == 1000, "uint16 header read back");
		ok(cm_shard_parse(h, CM_SHARD_HEADER + 1999, &sh, err, sizeof err) < 0, "a size that disagrees");
		cm_shard_header(h, 4, 7);
		ok(cm_shard_parse(h, -1, &sh, err, sizeof err) == 0 && sh.width == 4 && sh.ntok == 7,
		   "uint32 header (magic 20240801, version 7)");
		h[4] = 1;
		ok(cm_shard_parse(h, -1, &sh, err, sizeof err) < 0, "magic 20240801 with version 1 is refused");
		h[11] = 0x80;
		h[4] = 7;
		ok(cm_shard_parse(h, -1, &sh, err, sizeof err) < 0, "a negative count is refused");
		is_int(cm_shard_width(65536), 2, "65,536 ids fit uint16");
		is_int(cm_shard_width(65537), 4, "65,537 do not");
	}
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
