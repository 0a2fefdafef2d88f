/* dedup.c - libFuzzer target: dedup-minhash's normalisation and signatures on any bytes.
 *
 * The normalised text must be valid UTF-8, without a space at either end or two in a row,
 * and the same text must give the same signature twice.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "minhash.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static cm_buf out;
	static dm_hasher h;
	static int init;
	uint32_t a[112], b[112];

	if (!init) {
		dm_hasher_init(&h, 112, 5, 1);
		init = 1;
	}
	cm_ngram_normalize((const char *)data, size, &out);
	if (out.len && (!cm_utf8_valid(out.p, out.len) || out.p[0] == ' ' || out.p[out.len - 1] == ' ' ||
			memmem(out.p, out.len, "  ", 2)))
		abort();
	dm_signature(&h, out.p ? out.p : "", out.len, a);
	dm_signature(&h, out.p ? out.p : "", out.len, b);
	if (memcmp(a, b, sizeof(a)) != 0)
		abort();
	return 0;
}
