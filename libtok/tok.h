/* tok.h - byte-level BPE tokenizer: vocabulary, PCRE2 pre-tokenizer, encoding, decoding, files.
 *
 * One tokenizer model serves tiktoken rank files and Hugging Face tokenizer.json files. Text is
 * split into pieces by a regular expression (PCRE2, JIT, UTF + UCP); each piece's bytes start as
 * one token each and the adjacent pair of lowest merge rank is merged until none is left, the
 * leftmost first among equal ranks. The merge table maps a pair of token ids to its rank and the
 * merged id: for a tiktoken file every split of a token into two tokens is a merge of the
 * token's rank (tiktoken's rule), for tokenizer.json the merges list in order (Hugging Face's).
 *
 * Ill-formed UTF-8 is kept, not replaced: text is cut into maximal well-formed runs, split by
 * the pattern each on its own, and maximal runs of ill-formed bytes, each one piece encoded by
 * the merges alone. Decoding gives back the exact bytes. A piece longer than 1 MiB (a megabyte
 * of letters without a space) is merged in parts of 1 MiB, so memory stays bounded. Special tokens (<|endoftext|>) are
 * produced only from their id, or from their text when the caller allows it.
 *
 * A cm_tok is read-only once built and may be shared by threads; each thread encodes with its
 * own cm_tok_ctx.
 */
#ifndef CM_TOK_H
#define CM_TOK_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

#define CM_TOK_MAX_VOCAB (1u << 24)	/* ids at most this; larger files are refused */
#define CM_TOK_MAX_TOKEN 65536		/* bytes in one token */
#define CM_TOK_FILE_MAX ((size_t)1 << 30)	/* largest tokenizer file read */

typedef struct cm_tok cm_tok;
typedef struct cm_tok_ctx cm_tok_ctx;

/* A growable array of token ids. */
typedef struct cm_ids {
	uint32_t *v;
	size_t n, cap;
} cm_ids;
void cm_ids_grow(cm_ids *a, size_t more);
static inline void cm_ids_push(cm_ids *a, uint32_t id)
{
	if (a->n == a->cap)
		cm_ids_grow(a, 1);
	a->v[a->n++] = id;
}
void cm_ids_free(cm_ids *a);

/* The regex of a preset ("gpt2" or "r50k", "cl100k", "o200k"), else NULL. */
const char *cm_tok_preset(const char *name);
/* A preset's name or the pattern itself: what a user option --pattern means. */
const char *cm_tok_pattern_arg(const char *arg);

/* Read a tokenizer: a Hugging Face tokenizer.json (a file starting with '{') or a tiktoken
 * rank file, plain or compressed. For rank files the pattern and special tokens follow the
 * file's name (r50k_base, gpt2, p50k_base, cl100k_base, o200k_base) unless pattern is given (a
 * preset name or a regex; it also overrides a tokenizer.json's), and a file of such a name must
 * hold that file's ranks and have the SHA-256 tiktoken pins for it; any other must have ranks 0
 * to n - 1 each once. A tokenizer.json is checked against itself (keys once, merges of known
 * tokens, added tokens where the vocabulary has them, no token that no merge makes). Returns
 * NULL with a message in err. */
cm_tok *cm_tok_load(const char *path, const char *pattern, char *err, size_t errlen);
/* The same from bytes in memory; name stands for the file's name (the presets go by it). */
cm_tok *cm_tok_parse(const char *name, const char *data, size_t n, const char *pattern, char *err,
		     size_t errlen);
void cm_tok_free(cm_tok *t);

/* Building one (the loaders and bpe-train): create with a pattern, add tokens, merges and
 * special tokens, then finish (checks that every byte has a token, computes the hash). */
cm_tok *cm_tok_create(const char *pattern, char *err, size_t errlen);
int cm_tok_add_token(cm_tok *t, uint32_t id, const void *bytes, size_t len, char *err, size_t errlen);
/* Merging tokens a and b (adjacent, a first) gives token id; lower rank merges first. */
int cm_tok_add_merge(cm_tok *t, uint32_t a, uint32_t b, uint32_t rank, uint32_t id, char *err,
		     size_t errlen);
int cm_tok_add_special(cm_tok *t, const char *text, uint32_t id, char *err, size_t errlen);
/* tiktoken's rule: add every split of every token into two tokens as a merge of its rank, and
 * encode a piece that is itself a token as that token. */
void cm_tok_merges_from_ranks(cm_tok *t);
/* Encode a whole piece that is a token as that token (tiktoken; tokenizer.json ignore_merges). */
void cm_tok_set_ignore_merges(cm_tok *t, int on);
int cm_tok_finish(cm_tok *t, char *err, size_t errlen);

/* Write a tokenizer.json that Hugging Face tokenizers loads (byte-level BPE, the pattern as a
 * Split pre-tokenizer, the merges, the special tokens as added tokens). 0 or -1 with err. */
int cm_tok_save_json(const cm_tok *t, const char *path, char *err, size_t errlen);

uint32_t cm_tok_vocab_size(const cm_tok *t);	/* largest id + 1, special tokens included */
uint32_t cm_tok_nmerges(const cm_tok *t);
/* A tokenizer.json's ByteLevel add_prefix_space: a space is put before text (between special
 * tokens) that does not start with one, as Hugging Face does; decoding keeps it. */
int cm_tok_prefix_space(const cm_tok *t);
/* XXH3-64 of what decides the ids: a rank file and the tokenizer.json written from it hash
 * the same */
uint64_t cm_tok_hash(const cm_tok *t);
const char *cm_tok_pattern(const cm_tok *t);
/* The id of a special token's text, or -1. cm_tok_eot: <|endoftext|>'s. */
int64_t cm_tok_special(const cm_tok *t, const char *text);
int64_t cm_tok_eot(const cm_tok *t);
size_t cm_tok_nspecials(const cm_tok *t);
/* Bytes of token id (a special token's text); 0 and NULL for an unused id. */
const char *cm_tok_bytes(const cm_tok *t, uint32_t id, size_t *len);

cm_tok_ctx *cm_tok_ctx_new(const cm_tok *t);
void cm_tok_ctx_free(cm_tok_ctx *c);
/* Append the ids of text to out. allow_special: special tokens' texts give their ids. */
void cm_tok_encode(cm_tok_ctx *c, const char *text, size_t n, int allow_special, cm_ids *out);
/* Counters since the context was made: ill-formed byte runs seen, regex failures (a piece the
 * pattern could not split, e.g. past the JIT stack: kept whole). */
uint64_t cm_tok_ctx_invalid_runs(const cm_tok_ctx *c);
uint64_t cm_tok_ctx_regex_failures(const cm_tok_ctx *c);

/* Split text into the pieces cm_tok_encode merges, calling fn for each: the pattern's matches
 * in well-formed runs (unmatched text between matches is a piece too) and each maximal run of
 * ill-formed bytes. Special tokens are not looked for. For bpe-train's counting. */
typedef void (*cm_tok_piece_fn)(const char *p, size_t n, void *arg);
void cm_tok_split(cm_tok_ctx *c, const char *text, size_t n, cm_tok_piece_fn fn, void *arg);

/* Cut s at every occurrence of any of the strings (the earliest first; at one place the
 * longest): fn gets each stretch before one, with the string's index, and the rest after the
 * last, with -1 (stretches may be empty). next: room for nstr positions. Special tokens'
 * texts are cut out this way, in encoding and in bpe-train's counting. */
typedef void (*cm_cut_fn)(const char *p, size_t n, long which, void *arg);
void cm_cut_at(const char *s, size_t n, const char *const *str, const size_t *len, size_t nstr,
	       size_t *next, cm_cut_fn fn, void *arg);

/* Append the bytes of ids to out. Returns 0, or -1 with *bad the index of an unknown id. */
int cm_tok_decode(const cm_tok *t, const uint32_t *ids, size_t n, cm_buf *out, size_t *bad);

/* Byte-level BPE's printable form of bytes (GPT-2's bytes_to_unicode): each byte one
 * character. cm_tok_bl_decode: back to bytes; -1 when a character is not one of them. */
void cm_tok_bl_encode(const void *bytes, size_t n, cm_buf *out);
int cm_tok_bl_decode(const char *s, size_t n, cm_buf *out);
#endif
