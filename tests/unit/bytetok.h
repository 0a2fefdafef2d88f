/* bytetok.h - for the trainer's unit tests: a tokenizer of the 256 bytes, one token each, and
 * <|endoftext|> (256); with the chat template's tokens <|im_start|> (257) and <|im_end|> (258)
 * when chat. */
#ifndef TEST_BYTETOK_H
#define TEST_BYTETOK_H
#include <stdint.h>

#include "tap.h"
#include "tok.h"

static inline cm_tok *byte_tokenizer_chat(int chat)
{
	char err[1024] = "";
	cm_tok *tk = cm_tok_create("[\\s\\S]+", err, sizeof err);
	for (uint32_t i = 0; tk && i < 256; i++) {
		unsigned char b = (unsigned char)i;
		cm_tok_add_token(tk, i, &b, 1, err, sizeof err);
	}
	if (tk)
		cm_tok_add_special(tk, "<|endoftext|>", 256, err, sizeof err);
	if (tk && chat) {
		cm_tok_add_special(tk, "<|im_start|>", 257, err, sizeof err);
		cm_tok_add_special(tk, "<|im_end|>", 258, err, sizeof err);
	}
	ok(tk && cm_tok_finish(tk, err, sizeof err) == 0, "a byte tokenizer%s: %s",
	   chat ? " with the chat tokens" : "", err);
	return tk;
}

static inline cm_tok *byte_tokenizer(void)
{
	return byte_tokenizer_chat(0);
}
#endif
