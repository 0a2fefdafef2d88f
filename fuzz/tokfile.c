/* tokfile.c - libFuzzer target: tokenizer files (tiktoken rank files and tokenizer.json) from
 * any bytes, read under a preset's name (checked against that file's ranks and SHA-256, so
 * refused unless it is that file), under other names with patterns (checked against itself)
 * and as tokenizer.json: a clear error or a tokenizer; a tokenizer that loads encodes its own
 * bytes and decodes them back exactly. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tok.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(cm_tok *t, const uint8_t *data, size_t size)
{
	cm_tok_ctx *c = cm_tok_ctx_new(t);
	cm_ids ids = { 0 };
	cm_buf back = CM_BUF_INIT;
	size_t bad;

	cm_tok_encode(c, (const char *)data, size, 0, &ids);
	if (cm_tok_decode(t, ids.v, ids.n, &back, &bad) != 0 || back.len != size ||
	    (size && memcmp(back.p, data, size)))
		abort();
	ids.n = 0;
	cm_tok_encode(c, (const char *)data, size, 1, &ids);
	cm_buf_reset(&back);
	if (cm_tok_decode(t, ids.v, ids.n, &back, &bad) != 0 || back.len != size ||
	    (size && memcmp(back.p, data, size)))
		abort();
	cm_ids_free(&ids);
	cm_buf_free(&back);
	cm_tok_ctx_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *names[] = { "r50k_base.tiktoken", "mine.tiktoken", "x.json", "other" };
	static const char *pats[] = { NULL, "cl100k", NULL, "o200k" };
	char err[256];
	size_t k;

	for (k = 0; k < 4; k++) {
		cm_tok *t = cm_tok_parse(names[k], (const char *)data, size, pats[k], err, sizeof err);

		if (!t) {
			if (!err[0])
				abort();	/* a refusal says why */
			continue;
		}
		if (!cm_tok_prefix_space(t))	/* else a space is added, as Hugging Face does */
			exercise(t, data, size);
		cm_tok_free(t);
	}
	return 0;
}
