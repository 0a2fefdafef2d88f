/* sft.h - post-training examples: a JSONL record turned into token ids and a loss mask, and a
 * file of them packed into training rows (supervised fine-tuning; the reward model and DPO
 * read records the same way).
 *
 * Records, one JSON object a line:
 * - {"prompt": P, "response": R}: used as given (P already holds its template): the ids of
 *   P + R (encoded together, as Hugging Face's TRL does), then the end-of-text token; the
 *   loss is on the ids after those of P alone, the end-of-text token included.
 * - {"messages": [{"role": "system"|"user"|"assistant", "content": S}, ...]}: through the
 *   chat template (ChatML, LM_CHAT_TEMPLATE): each message is <|im_start|> ROLE "\n" CONTENT
 *   <|im_end|> "\n"; the loss is on every assistant message's content and its <|im_end|>.
 * - {"chosen": T} or {"text": T} where T is an HH-RLHF transcript ("\n\nHuman: ...\n\nAssistant:
 *   ..."): its turns become user and assistant messages.
 * Texts are encoded as plain text: a special token's text inside them is not that token.
 */
#ifndef LM_SFT_H
#define LM_SFT_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "tok.h"

/* The chat template as Hugging Face's tokenizer_config.json holds it (Jinja): rendering it
 * and tokenizing the text gives the ids lm_sft_encode gives. */
#define LM_CHAT_START "<|im_start|>"
#define LM_CHAT_END "<|im_end|>"
#define LM_CHAT_TEMPLATE                                                                      \
	"{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "          \
	"message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}" \
	"{{ '<|im_start|>assistant\\n' }}{% endif %}"

/* The tokenizer of the tokenizer.json at path (tok, loaded from it) with the chat template's
 * tokens it lacks added as special tokens at the next ids (its vocabulary size and up): *added
 * of them (0 to 2; 0: NULL is returned, tok serves). NULL with the reason when *added < 0. */
cm_tok *lm_chat_tokenizer(const char *path, const cm_tok *tok, int *added, char *err,
			  size_t errlen);

typedef struct lm_sft_enc {
	const cm_tok *tok;
	cm_tok_ctx *ctx;
	int64_t eot;			/* closes a response */
	int64_t start, end;		/* <|im_start|>, <|im_end|>; -1 when the tokenizer lacks them */
	cm_ids ids;			/* the last record's ids */
	uint8_t *mask;			/* mask[i]: id i is a target the loss is on */
	size_t mask_cap;
	cm_ids tmp;
	char *buf;
	size_t buf_cap;
} lm_sft_enc;

/* An encoder for tok (which must have an end-of-text token). 0, or -1 with the reason. */
int lm_sft_enc_init(lm_sft_enc *e, const cm_tok *tok, char *err, size_t errlen);
void lm_sft_enc_free(lm_sft_enc *e);
/* Encode one record into e->ids and e->mask. 0; -1 for a record to skip (the reason in err:
 * not JSON, an empty response, an unknown role, no assistant turn, ...); -2 when records of
 * this kind cannot be encoded at all (a template token missing from the tokenizer). */
int lm_sft_encode(lm_sft_enc *e, const char *rec, size_t n, char *err, size_t errlen);

/* A conversation through the chat template into e->ids (e->mask: the assistant messages),
 * ending with the generation prompt "<|im_start|>assistant\n" when gen. 0, or -1 (an unknown
 * role) or -2 (the template's tokens missing) with the reason. */
typedef struct lm_chat_msg {
	const char *role;	/* system, user or assistant */
	const char *text;
	size_t n;
} lm_chat_msg;
int lm_chat_encode(lm_sft_enc *e, const lm_chat_msg *m, size_t n, int gen, char *err,
		   size_t errlen);

/* An HH-RLHF transcript's turns ("\n\nHuman: ..." and "\n\nAssistant: ...", one space after
 * the colon left out) into t, at most max, pointing into s: their number, or -1 when s is not
 * such a transcript (text before the first turn, no turn, more than max). */
long lm_hh_turns(const char *s, size_t n, lm_chat_msg *t, size_t max);

/* A file of records for training: the usable ones (at least 2 ids and one trained target once
 * cut to T + 1 ids; a longer one is cut to its first T + 1 ids, counted in `truncated`), a
 * seeded shuffle, the first val_fraction of it held out, the rest packed into rows of T
 * positions in that order (an example never split; the rest of a row is padding without
 * loss). Every epoch reads the rows in another seeded order; global row g is row
 * perm_{g / rows}(g mod rows). Memory: a few words an example, never the file's tokens. */
typedef struct lm_sft_data {
	char path[4096];
	void *map;
	size_t size;
	lm_sft_enc enc;
	int T;
	uint64_t seed;
	uint64_t *off;		/* the usable examples: offsets of their lines */
	uint32_t *len;		/* their lengths in bytes */
	uint32_t *ntok;		/* their ids, at most T + 1 */
	size_t n;
	uint32_t *train, *val;	/* example numbers, training ones in packing order */
	size_t ntrain, nval;
	uint32_t *row;		/* row r: training examples train[row[r]] .. train[row[r + 1] - 1] */
	uint64_t rows;
	uint32_t *vrow;		/* the same for the held-out examples */
	uint64_t vrows;
	uint32_t *perm;		/* the current epoch's row order */
	int64_t perm_epoch;
	uint64_t records, skipped, truncated, train_targets;
	char first_skip[512];	/* the first skipped record's line and reason */
} lm_sft_data;

/* Open path (JSONL) for rows of T positions. 0, or -1 with the reason (a fatal one, or no
 * usable example). lm_sft_close after either. */
int lm_sft_open(lm_sft_data *d, const char *path, const cm_tok *tok, int T, uint64_t seed,
		double val_fraction, char *err, size_t errlen);
void lm_sft_close(lm_sft_data *d);
/* Global rows first, first + stride, ... (B of them) of batch k (k x B x stride rows before
 * it): inputs x, targets y (-1: no loss), positions pos (from 0 in each example) and doc (the
 * position in the row where each token's example starts), all [B x T]. Returns the number of
 * trained targets. */
int64_t lm_sft_rows(lm_sft_data *d, uint64_t k, int first, int stride, int B, int32_t *x,
		    int32_t *y, int32_t *pos, int32_t *doc);
/* Held-out row r (r < d->vrows) into row 0 of the arrays; returns its trained targets. */
int64_t lm_sft_val_row(lm_sft_data *d, uint64_t r, int32_t *x, int32_t *y, int32_t *pos,
		       int32_t *doc);
/* Map a JSONL file (a regular file, not compressed: its records are read again at every step)
 * whole. 0, or -1 with the reason (*map may be set: the caller unmaps it). */
int lm_jsonl_map(const char *path, void **map, size_t *size, char *err, size_t errlen);
/* A record's JSON object (duplicate keys refused, as every reader of the project does), or
 * NULL with "not a JSON object..." in err. The caller frees it (json_decref). */
json_t *lm_jsonl_object(const char *rec, size_t n, char *err, size_t errlen);
/* A reader's skipped record (its number, why): counted in *skipped, the first one's number
 * and reason kept in first[firstlen] for the messages. */
void lm_jsonl_skip(uint64_t record, const char *why, uint64_t *skipped, char *first,
		   size_t firstlen);
/* The end of a reader's open: an error when none of its records was usable ("no usable
 * NOUN in R records", the first skipped one named), else its n usable items split as
 * lm_split does. 0, or -1 with the reason. */
int lm_jsonl_split(const char *path, const char *noun, size_t n, uint64_t records,
		   uint64_t skipped, const char *first_skip, uint64_t seed, double val_fraction,
		   uint32_t **train, size_t *ntrain, uint32_t **val, size_t *nval, char *err,
		   size_t errlen);
/* The next record of a mapped JSONL file's bytes [*s, end): its first byte, its length
 * (without the newline) into *len, *s past it; blank lines ("" and "\r") skipped. NULL at the
 * end (*s NULL or at end). */
const char *lm_jsonl_line(const char **s, const char *end, size_t *len);
/* Item g of the global order of n items (examples, rows, pairs) read epoch after epoch, each
 * epoch (g / n) in another order drawn from seed: perm[g mod n], perm[0..n) drawn again when
 * the epoch is not *epoch (which is then set; -1 at the start). */
uint32_t lm_epoch_pick(uint32_t *perm, size_t n, uint64_t seed, uint64_t g, int64_t *epoch);
/* A seeded shuffle of a[0..n) (the examples' and the rows' orders). */
void lm_sft_shuffle(uint32_t *a, size_t n, uint64_t seed);
/* The split of n items (SFT examples, pairs, texts): 0..n) in an order drawn from seed (kept
 * as it is when val_fraction < 0), the first val_fraction of them (at least one when it is > 0)
 * into *val (*nval, one spare entry), the rest into *train (*ntrain). 0, or -1 (nothing
 * allocated) when the held-out part would take every item. */
int lm_split(size_t n, uint64_t seed, double val_fraction, uint32_t **train, size_t *ntrain,
	     uint32_t **val, size_t *nval);
#endif
