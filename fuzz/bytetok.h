/* bytetok.h - for the libFuzzer targets of post-training records: a tokenizer of the 256
 * bytes, one token each, and <|endoftext|> (256); with the chat template's tokens
 * <|im_start|> (257) and <|im_end|> (258) when chat. Aborts when it cannot be made. */
#ifndef FUZZ_BYTETOK_H
#define FUZZ_BYTETOK_H

#include <stdint.h>
#include <stdlib.h>

#include "sft.h"
#include "tok.h"

static inline cm_tok *fuzz_byte_tokenizer(int chat)
{
	char err[512];
	cm_tok *tk = cm_tok_create("[\\s\\S]+", err, sizeof err);
	if (!tk)
		abort();
	for (uint32_t i = 0; i < 256; i++) {
		unsigned char b = (unsigned char)i;
		cm_tok_add_token(tk, i, &b, 1, err, sizeof err);
	}
	cm_tok_add_special(tk, "<|endoftext|>", 256, err, sizeof err);
	if (chat) {
		cm_tok_add_special(tk, LM_CHAT_START, 257, err, sizeof err);
		cm_tok_add_special(tk, LM_CHAT_END, 258, err, sizeof err);
	}
	if (cm_tok_finish(tk, err, sizeof err) < 0)
		abort();
	return tk;
}

#endif
