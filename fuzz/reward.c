/* reward.c - libFuzzer target: preference pairs from any bytes (lm_rm_encode: prompt strings,
 * HH-RLHF transcripts, message lists; the tokenizer a byte-level one with the chat tokens, or
 * without them when the first byte is odd; the context the first byte's next 4 bits, 0 for
 * none): a pair encodes, or is refused with a reason of a known kind; an encoded pair has two
 * sequences of 1 to T ids in the vocabulary, and they differ. The same bytes as a classifier's
 * labelled text (lm_cls_encode, the objective the first byte's top bit): 1 to T ids and a
 * finite label (0 or 1 for a binary one), or a reason of a known kind. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bytetok.h"
#include "classify.h"
#include "reward.h"
#include "tok.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static cm_tok *tk[2];
	static lm_rm_enc e[2];
	if (!tk[0]) {
		char err[512];
		for (int i = 0; i < 2; i++) {
			tk[i] = fuzz_byte_tokenizer(i);
			if (lm_rm_enc_init(&e[i], tk[i], err, sizeof err) < 0)
				abort();
		}
	}
	if (size == 0)
		return 0;
	lm_rm_enc *en = &e[!(data[0] & 1)];
	int T = (data[0] >> 1) & 15;
	char why[400] = "";
	static cm_ids ids;
	float y;
	int cut, kind, obj = data[0] >> 7 ? LM_CLS_MSE : LM_CLS_BCE;
	int rc = lm_cls_encode(en->sft.ctx, (const char *)data + 1, size - 1, "text", "label", obj, T,
			       &ids, &y, &cut, &kind, why, sizeof why);
	if (rc < 0 ? (!why[0] || rc != -1 || kind < 0 || kind >= LM_CLS_NSKIP) :
	    (!ids.n || (T && ids.n > (size_t)T) || !isfinite(y) ||
	     (obj == LM_CLS_BCE && y != 0 && y != 1)))
		abort();
	why[0] = 0;
	rc = lm_rm_encode(en, (const char *)data + 1, size - 1, T, why, sizeof why);
	if (rc < 0) {
		if (!why[0] || rc < -2 || (rc == -1 && (en->why < 0 || en->why >= LM_RM_NSKIP)))
			abort();	/* a refusal always says why */
		return 0;
	}
	if (rc != 0 || !en->c.n || !en->r.n || (T && (en->c.n > (size_t)T || en->r.n > (size_t)T)))
		abort();
	if (en->c.n == en->r.n && !memcmp(en->c.v, en->r.v, en->c.n * sizeof *en->c.v))
		abort();
	uint32_t vocab = cm_tok_vocab_size(tk[0]) + 2;
	for (size_t i = 0; i < en->c.n; i++)
		if (en->c.v[i] >= vocab)
			abort();
	for (size_t i = 0; i < en->r.n; i++)
		if (en->r.v[i] >= vocab)
			abort();
	return 0;
}
