/* httphdr.c - libFuzzer target: an HTTP answer's head from any bytes, a line at a time
 * (cm_http_header, remote inputs' header callback): every line is taken or ignored, the
 * status is 0 or 100 to 999, the reason and ETag are NUL-terminated strings without control
 * bytes in the reason, a kept range starts at or after 0 and before a known total. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const cm_http_answer *a)
{
	if (a->status != 0 && (a->status < 100 || a->status > 999))
		abort();
	if (!memchr(a->reason, 0, sizeof a->reason) || !memchr(a->etag, 0, sizeof a->etag))
		abort();
	for (const char *p = a->reason; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
	if (a->cr_start < -1 || a->cr_total < -1 ||
	    (a->cr_start >= 0 && a->cr_total >= 0 && a->cr_start >= a->cr_total))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cm_http_answer a;
	cm_http_answer_reset(&a);
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {	/* curl hands over a line at a time, its CR LF included */
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		/* a copy of exactly the line, so a read past it is caught */
		char *line = malloc(n ? n : 1);
		memcpy(line, p, n);
		int st = cm_http_header(&a, line, n);
		free(line);
		if (st != 0 && st != 1)
			abort();
		check(&a);
		p += n;
	}
	return 0;
}
