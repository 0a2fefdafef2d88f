/* quality.c - libFuzzer target: language identification and every quality rule on any text.
 *
 * The bytes are made valid UTF-8 first (records hold UTF-8), then scored with the default
 * thresholds, C4's edit on; the edited text must be valid UTF-8 and no longer than the input.
 */
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "langid.h"
#include "rules.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static qs_opts o;
	static qs_result r;
	static cm_buf in;
	static int init;
	char code[16];
	double score;

	if (!init) {
		qs_opts_default(&o);
		qs_load_data();
		init = 1;
	}
	cm_buf_reset(&in);
	cm_utf8_repair((const char *)data, size, &in);
	langid_detect(in.p ? in.p : "", in.len, code, &score);
	if (score < 0 || score > 1)
		abort();
	qs_score(&o, in.p ? in.p : "", in.len, &r);
	if (r.c4_text.len > in.len || (r.c4_text.len && !cm_utf8_valid(r.c4_text.p, r.c4_text.len)))
		abort();
	return 0;
}
