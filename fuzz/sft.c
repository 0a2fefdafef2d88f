/* sft.c - libFuzzer target: post-training records from any bytes (lm_sft_encode: pairs, chat
 * messages, HH-RLHF transcripts; the tokenizer a byte-level one with the chat tokens, or
 * without them when the first byte is odd): a record encodes, or is refused with a reason;
 * the mask is as long as the ids, every id is in the vocabulary. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bytetok.h"
#include "sft.h"
#include "tok.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static cm_tok *tk[2];
	static lm_sft_enc e[2];
	if (!tk[0]) {
		char err[512];
		for (int i = 0; i < 2; i++) {
			tk[i] = fuzz_byte_tokenizer(i);
			if (lm_sft_enc_init(&e[i], tk[i], err, sizeof err) < 0)
				abort();
		}
	}
	if (size == 0)
		return 0;
	lm_sft_enc *en = &e[!(data[0] & 1)];
	char why[400] = "";
	int rc = lm_sft_encode(en, (const char *)data + 1, size - 1, why, sizeof why);
	if (rc < 0) {
		if (!why[0] || rc < -2)
			abort();	/* a refusal always says why */
		return 0;
	}
	if (rc != 0 || en->ids.n == 0)
		abort();
	uint32_t vocab = cm_tok_vocab_size(en->tok);
	for (size_t i = 0; i < en->ids.n; i++)
		if (en->ids.v[i] >= vocab || en->mask[i] > 1)
			abort();
	return 0;
}
