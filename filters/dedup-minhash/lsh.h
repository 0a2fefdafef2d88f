/* lsh.h - the streaming mode's memory: one table per LSH band, and the set of exact hashes.
 *
 * A band table slot is 10 bytes, in three arrays: the band hash's top 48 bits (32 + 16; the
 * top ones also choose the home slot) and the number of the document that holds it. Tables
 * grow by a fifth when 78% full, one at a time, so they stay 65% to 78% full: 12.8 to 15.4
 * bytes a band a document. Two band hashes pass for one when their top 48 bits agree: about
 * n / 2^48 a lookup in a table of n (4 in a million at 10^9 documents). The exact set keeps
 * whole XXH3-128 hashes and the document, 20 bytes a slot, as full.
 */
#ifndef DM_LSH_H
#define DM_LSH_H

#include <stddef.h>
#include <stdint.h>

typedef struct dm_table {
	uint32_t *hi;		/* the hash's top 32 bits */
	uint16_t *mid;		/* its next 16 */
	uint32_t *doc;		/* document + 1; 0: empty */
	size_t size, n;
} dm_table;

/* The document stored under hash h, or -1; stores doc when absent and insert is set. */
int64_t dm_table_find(dm_table *t, uint64_t h, uint32_t doc, int insert);
void dm_table_free(dm_table *t);
size_t dm_table_bytes(const dm_table *t);

typedef struct dm_set128 {
	uint64_t *lo, *hi;
	uint32_t *doc;		/* document + 1; 0: empty */
	size_t size, n;
} dm_set128;

/* The document that had this 128-bit hash, or -1 (and it is added for doc). */
int64_t dm_set128_find_add(dm_set128 *s, uint64_t lo, uint64_t hi, uint32_t doc);
void dm_set128_free(dm_set128 *s);
size_t dm_set128_bytes(const dm_set128 *s);

#endif
