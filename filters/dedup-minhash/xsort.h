/* xsort.h - sorting more triples of 64-bit numbers than memory holds: the multi-step mode's
 * tool. Records are added, sorted in memory in runs of at most the given bytes, runs spilled to
 * unlinked temporary files and merged back, read in order of (a, b, c).
 */
#ifndef DM_XSORT_H
#define DM_XSORT_H

#include <stddef.h>
#include <stdint.h>

typedef struct dm_rec {
	uint64_t a, b, c;
} dm_rec;

typedef struct dm_sorter dm_sorter;

/* mem: bytes of records kept in memory (at least 64 KiB is used); tmpdir: where runs go. */
dm_sorter *dm_sorter_new(size_t mem, const char *tmpdir);
void dm_sorter_add(dm_sorter *s, uint64_t a, uint64_t b, uint64_t c);
/* After the last add: the records in order, one a call; NULL at the end. */
const dm_rec *dm_sorter_next(dm_sorter *s);
uint64_t dm_sorter_count(const dm_sorter *s);
size_t dm_sorter_runs(const dm_sorter *s);	/* spilled runs (0: all in memory) */
void dm_sorter_free(dm_sorter *s);

/* Sort n records in place (introsort), as the sorter does with each run. */
void dm_rec_sort(dm_rec *r, size_t n);

#endif
