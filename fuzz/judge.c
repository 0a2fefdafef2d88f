/* judge.c - libFuzzer target: lm-judge's pieces on any bytes. The first line is read as a
 * judge's answer (lm_judge_verdict: A, B, a tie or none, never a read past its length) and as
 * a template (checked, and rendered when accepted); every later line as a record
 * (lm_judge_parse): a refusal names a reason and says why, an accepted record has two
 * non-empty responses and spans inside its parsed strings, and renders. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "judge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	const char *nl = memchr(p, '\n', size);
	size_t first = nl ? (size_t)(nl - p) : size;
	/* the answer, copied so that a read past its end is the sanitizer's to see */
	char *ans = malloc(first ? first : 1);
	memcpy(ans, p, first);
	int v = lm_judge_verdict(ans, first);
	if (v != LM_JV_NONSENSE && v != LM_JV_A && v != LM_JV_B && v != LM_JV_TIE)
		abort();
	char *tmpl = malloc(first + 1);
	memcpy(tmpl, p, first);
	tmpl[first] = 0;
	char err[512];
	err[0] = 0;
	int tok = lm_judge_template_check(tmpl, err, sizeof err) == 0;
	if (!tok && !err[0])
		abort();
	const char *t = tok ? tmpl : lm_judge_default_template;
	cm_buf b = CM_BUF_INIT;
	p += first + (nl != NULL);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		lm_judge_rec r;
		char why[512];
		why[0] = 0;
		int rc = lm_judge_parse(p, len, &r, why, sizeof why);
		if (rc < 0 || rc >= LM_JR_NREASONS || (rc != LM_JR_OK && !why[0]))
			abort();
		if (rc == LM_JR_OK) {
			if (!r.na || !r.nb || !r.a || !r.b || !r.out_a || !r.out_b ||
			    (r.np && !r.prompt) || r.label < -1 || r.label > LM_JV_TIE)
				abort();
			cm_buf_reset(&b);
			lm_judge_render(&b, t, r.prompt, r.np, r.a, r.na, r.b, r.nb);
			if (b.len < r.na + r.nb)
				abort();
		}
		lm_judge_rec_free(&r);
		p += len + (nl != NULL);
	}
	cm_buf_free(&b);
	free(tmpl);
	free(ans);
	return 0;
}
