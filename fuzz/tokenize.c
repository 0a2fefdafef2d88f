/* tokenize.c - libFuzzer target: GPT-2's and GPT-4o's tokenizers (data/tokenizers, read once;
 * run from the repository root) on any bytes, special tokens allowed or not: decoding gives
 * back the bytes exactly; the same text encodes the same a second time (the piece and pair
 * caches change nothing). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cm_tok *tok[2];
static cm_tok_ctx *ctx[2];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *paths[2] = { "data/tokenizers/r50k_base.tiktoken.zst",
					"data/tokenizers/o200k_base.tiktoken.zst" };
	cm_ids a = { 0 }, b = { 0 };
	cm_buf back = CM_BUF_INIT;
	char err[256];
	int k, sp;
	size_t bad;

	for (k = 0; k < 2; k++) {
		if (!tok[k]) {
			if (!(tok[k] = cm_tok_load(paths[k], NULL, err, sizeof err))) {
				fprintf(stderr, "tokenize: %s: %s (run from the repository root)\n", paths[k], err);
				abort();
			}
			ctx[k] = cm_tok_ctx_new(tok[k]);
		}
		for (sp = 0; sp < 2; sp++) {
			a.n = b.n = 0;
			cm_tok_encode(ctx[k], (const char *)data, size, sp, &a);
			cm_tok_encode(ctx[k], (const char *)data, size, sp, &b);
			if (a.n != b.n || (a.n && memcmp(a.v, b.v, a.n * sizeof *a.v)))
				abort();
			cm_buf_reset(&back);
			if (cm_tok_decode(tok[k], a.v, a.n, &back, &bad) != 0 || back.len != size ||
			    (size && memcmp(back.p, data, size)))
				abort();
		}
	}
	cm_ids_free(&a);
	cm_ids_free(&b);
	cm_buf_free(&back);
	return 0;
}
