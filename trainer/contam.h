/* contam.h - evaluation items seen in training data: an item is contaminated when one of its
 * strings (a prompt, a choice, a continuation) shares a word n-gram with a training text (13
 * words: GPT-3's check), both normalised as deduplication normalises text (ngram.h), so
 * lm-eval --contamination and dedup-minhash --against cut the same n-grams. A string of fewer
 * words than n has none and cannot be checked (it could not be told from a common phrase). */
#ifndef LM_CONTAM_H
#define LM_CONTAM_H
#include <stddef.h>
#include <stdint.h>

#include "tok.h"

typedef struct lm_contam lm_contam;

lm_contam *lm_contam_new(unsigned n);
void lm_contam_free(lm_contam *c);
/* Item item's string s: its n-grams are looked for in the training texts. Returns how many. */
size_t lm_contam_add(lm_contam *c, size_t item, const char *s, size_t len);
/* A training text: every item sharing one of its n-grams is marked. */
void lm_contam_scan(lm_contam *c, const char *s, size_t len);

typedef struct lm_contam_stats {
	uint64_t docs;		/* training texts scanned */
	uint64_t bytes;		/* their bytes (shards: decoded) */
	uint64_t skipped;	/* JSONL lines skipped: not JSON, no "text" string, too long */
	uint64_t ngrams;	/* n-grams read from indexes */
} lm_contam_stats;

/* Scan a training file: JSONL (its "text" fields; plain, gzip or zstd), a token shard (llm.c's
 * format, as shard-pack writes them: decoded with tok, documents split at its end-of-text), an
 * n-gram index (dedup-minhash sign --ngram-index: its n must be the check's; checked whole,
 * checksum included, before an item is marked) or a folder of shards (its *.bin files), or a
 * pattern (glob(3)) matching such files. 0, or -1 with the reason (a signature file of
 * dedup-minhash is refused: it holds no n-grams). */
int lm_contam_file(lm_contam *c, const char *path, const cm_tok *tok, lm_contam_stats *st,
		   char *err, size_t errlen);

/* Whether item is marked; whether it has an n-gram at all (could be checked). */
int lm_contam_hit(const lm_contam *c, size_t item);
int lm_contam_checked(const lm_contam *c, size_t item);
#endif
