/* pii.c - libFuzzer target: pii-scrub's finder on any bytes, public addresses and all.
 *
 * The finds must lie in the text, in order, without overlapping, and have a kind.
 */
#include <stdint.h>
#include <stdlib.h>

#include "pii.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static pii_scanner *s[2];
	const pii_match *m;
	size_t n, i, end = 0;
	int k;

	if (!s[0]) {
		pii_opts o = { (1u << PII_NKINDS) - 1, 0 }, a = { (1u << PII_NKINDS) - 1, 1 };

		s[0] = pii_new(&o);
		s[1] = pii_new(&a);
	}
	for (k = 0; k < 2; k++) {
		n = pii_find(s[k], (const char *)data, size, &m);
		for (i = 0, end = 0; i < n; i++) {
			if (m[i].off < end || m[i].len == 0 || m[i].off + m[i].len > size || m[i].kind < 0 ||
			    m[i].kind >= PII_NKINDS)
				abort();
			end = m[i].off + m[i].len;
		}
	}
	return 0;
}
