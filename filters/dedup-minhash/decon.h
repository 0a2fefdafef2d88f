/* decon.h - decontamination: training documents that share a word 13-gram with an item of an
 * evaluation set (the GPT-3 method), over the same normalised text as deduplication. */
#ifndef DM_DECON_H
#define DM_DECON_H

#include <stddef.h>
#include <stdint.h>

#define DM_MAX_SETS 32

typedef struct dm_decon dm_decon;

dm_decon *dm_decon_new(unsigned n);
void dm_decon_free(dm_decon *d);
/* Add an evaluation set: a JSON Lines file whose every string (at any depth: question,
 * choices, context, ...) is an item; returns 0, or -1 with a message. */
int dm_decon_load(dm_decon *d, const char *path, char *err, size_t errlen);
/* The sets (bit k: set k) that a normalised text shares an n-gram with. */
uint32_t dm_decon_check(const dm_decon *d, const char *norm, size_t n);
size_t dm_decon_sets(const dm_decon *d, const char *const **names);
/* n-grams and items taken from set k (for reports) */
void dm_decon_counts(const dm_decon *d, unsigned k, uint64_t *items, uint64_t *ngrams);

#endif
