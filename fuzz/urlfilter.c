/* urlfilter.c - libFuzzer target: URL filter files and URLs, and domain-tag's URL rules.
 *
 * The input's first half is read as filter-file lines, the second half as URLs, one a line;
 * each URL's host must lie within its URL's length and be lower case. Each URL is also checked
 * against the built-in lists (datatrove's: the host as tldextract finds it, its registrable
 * domain through libpsl), loaded once.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "urlfilter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *mid = p + size / 2, *end = p + size;
	cm_urlfilter *u = cm_urlfilter_new();
	static cm_urlfilter *def;
	char host[256], err[256];

	if (!def) {
		def = cm_urlfilter_new();
		if (cm_urlfilter_load(def, "default", err, sizeof(err)) != 0)
			abort();
	}

	while (p < mid) {
		const char *nl = memchr(p, '\n', (size_t)(mid - p));

		if (!nl)
			nl = mid;
		cm_urlfilter_add_line(u, p, (size_t)(nl - p));
		p = nl + 1;
	}
	for (p = mid; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n, k, i;

		if (!nl)
			nl = end;
		n = (size_t)(nl - p);
		(void)cm_urlfilter_check(u, p, n);
		(void)cm_urlfilter_check(def, p, n);
		k = cm_url_host(p, n, host, sizeof(host));
		if (k > n || (k && strlen(host) != k))
			abort();
		for (i = 0; i < k; i++)
			if (host[i] >= 'A' && host[i] <= 'Z')
				abort();
		p = nl + 1;
	}
	cm_urlfilter_free(u);
	return 0;
}
