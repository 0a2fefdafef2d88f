/* train.h - bpe-train's work: counting pre-tokens and learning merges.
 *
 * Counting: unique pieces (pre-tokens) with 64-bit counts in an open addressing table; one
 * table per thread, added together at the end. Learning: each unique piece is a word of token
 * ids with its count; pair counts live in a table keyed by the pair, each with the list of
 * words that hold it; a max-heap of (count, pair) with lazy deletion picks the next merge, and
 * applying a merge touches only the words that hold the pair, changing the counts of the pairs
 * around each merged place. No recount over the corpus.
 *
 * Ties: the highest count wins; among equal counts, the greater pair, comparing the first
 * token's bytes, then the second's, as byte strings (Stanford CS336's rule; Hugging Face
 * breaks ties otherwise).
 */
#ifndef BT_TRAIN_H
#define BT_TRAIN_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

typedef struct bt_counts bt_counts;
bt_counts *bt_counts_new(void);
void bt_counts_free(bt_counts *c);
void bt_counts_add(bt_counts *c, const char *p, size_t n, uint64_t count);
/* Add src's counts into dst. */
void bt_counts_merge(bt_counts *dst, const bt_counts *src);
size_t bt_counts_unique(const bt_counts *c);
uint64_t bt_counts_total(const bt_counts *c);	/* pieces counted */
size_t bt_counts_bytes(const bt_counts *c);	/* memory held */

typedef struct bt_result {
	uint32_t ntok;		/* tokens: 256 bytes (id = byte value), then one per new merge */
	cm_buf bytes;		/* token bytes, one after another */
	uint64_t *off;		/* token i: bytes.p + off[i], off[i + 1] - off[i] bytes */
	uint32_t (*merges)[3];	/* a, b, merged id, in order */
	uint64_t *merge_count;	/* the pair's count when it was merged */
	size_t nmerges;
	size_t peak_bytes;	/* largest memory the learning tables held */
	size_t words, pairs;	/* unique words, distinct pairs at the start */
} bt_result;

typedef void (*bt_progress_fn)(size_t merges_done, size_t merges_wanted, void *arg);

/* Learn merges until ntok tokens exist or the best pair's count is below min_count. No token
 * grows past max_len bytes: a pair that would make a longer one is not counted at all, so the
 * merges go to other pairs (Hugging Face's max_token_length). */
void bt_train(const bt_counts *c, uint32_t ntok, uint64_t min_count, size_t max_len, bt_result *r,
	      bt_progress_fn progress, void *arg);
void bt_result_free(bt_result *r);
#endif
