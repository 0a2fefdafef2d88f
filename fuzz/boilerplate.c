/* boilerplate.c - libFuzzer target: main-content extraction on any bytes.
 *
 * The bytes are made valid UTF-8 first (as warc-extract hands pages over), then extracted in
 * text and markdown, in the three modes; the output must be valid UTF-8.
 */
#include <stdint.h>
#include <stdlib.h>

#include "boilerplate.h"
#include "buf.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static cm_bp *bp[3];
	static cm_bp_result r;
	static cm_buf in;
	int i;

	if (!bp[0]) {
		cm_bp_opts o[3] = { { CM_BP_BALANCED, CM_BP_TEXT, 0 }, { CM_BP_PRECISION, CM_BP_MARKDOWN, 0 },
				    { CM_BP_RECALL, CM_BP_TEXT, 0 } };

		char err[200];

		for (i = 0; i < 3; i++)
			if (!(bp[i] = cm_bp_new(&o[i], err, sizeof(err))))
				abort();
	}
	cm_buf_reset(&in);
	cm_utf8_repair((const char *)data, size, &in);
	for (i = 0; i < 3; i++) {
		cm_bp_extract(bp[i], in.p ? in.p : "", in.len, NULL, &r);
		if (r.text.len && !cm_utf8_valid(r.text.p, r.text.len))
			abort();
	}
	return 0;
}
