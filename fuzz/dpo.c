/* dpo.c - libFuzzer target: preference records from any bytes (lm_dpo_encode: prompt/chosen/
 * rejected strings or messages, chosen/rejected messages, HH-RLHF transcripts; the tokenizer a
 * byte-level one with the chat tokens, or without them when the first byte is odd): a record
 * encodes, or is refused with a reason; every id is in the vocabulary, the prompt is a shared
 * prefix of both sequences, they differ, and a pair fitted into a context fits it. The same
 * bytes as a PPO prompt (lm_dpo_encode_prompt): ids in the vocabulary, or a reason. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bytetok.h"
#include "dpo.h"
#include "tok.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static cm_tok *tk[2];
	static lm_dpo_enc e[2];
	if (!tk[0]) {
		char err[512];
		for (int i = 0; i < 2; i++) {
			tk[i] = fuzz_byte_tokenizer(i);
			if (lm_dpo_enc_init(&e[i], tk[i], err, sizeof err) < 0)
				abort();
		}
	}
	if (size == 0)
		return 0;
	lm_dpo_enc *en = &e[!(data[0] & 1)];
	char why[400] = "";
	int chat = -1;
	int pk = lm_dpo_encode_prompt(en, (const char *)data + 1, size - 1, &chat, why, sizeof why);
	if (pk < 0 ? !why[0] || pk < -2 : pk != 0 || en->e.ids.n == 0 || (chat != 0 && chat != 1))
		abort();
	for (size_t i = 0; pk == 0 && i < en->e.ids.n; i++)
		if (en->e.ids.v[i] >= cm_tok_vocab_size(en->e.tok))
			abort();
	why[0] = 0;
	int rc = lm_dpo_encode(en, (const char *)data + 1, size - 1, why, sizeof why);
	if (rc < 0) {
		if (!why[0] || rc < -2)
			abort();	/* a refusal always says why */
		return 0;
	}
	const cm_ids *c = &en->c, *r = &en->r;
	if (rc != 0 || c->n == 0 || r->n == 0 || en->prompt > c->n || en->prompt > r->n)
		abort();
	if (memcmp(c->v, r->v, en->prompt * sizeof *c->v) != 0)
		abort();
	if (c->n == r->n && !memcmp(c->v, r->v, c->n * sizeof *c->v))
		abort();
	uint32_t vocab = cm_tok_vocab_size(en->e.tok);
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i] >= vocab)
			abort();
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i] >= vocab)
			abort();
	for (int T = 2; T < 300; T += 37) {
		size_t kc, kr;
		lm_dpo_fit(c->n, r->n, T, &kc, &kr);
		if (kc > c->n || kr > r->n || kc < 1 || kr < 1 ||
		    (kc + kr - 2 > (size_t)T && (kc > 1 || kr > 1)))
			abort();
	}
	return 0;
}
