/* domainmodel.c - libFuzzer target: the text classifier's model file reader (domain-tag,
 * quality-score) and domain-tag's rules reader on any bytes. A model that loads must predict a label in range with probabilities summing to 1. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "textclass.h"
#include "urlrules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	char err[512];
	cm_tc_model *m;
	dt_rules *r;
	FILE *f;

	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/fuzz-domainmodel-%d", (int)getpid());
	if (!(f = fopen(path, "wb")))
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	if ((m = cm_tc_load(path, err, sizeof(err)))) {
		float *p = malloc(m->nclass * sizeof(*p)), sum = 0;
		int best = cm_tc_predict(m, (const char *)data, size, p);
		uint32_t c;

		if (best < 0 || (uint32_t)best >= m->nclass)
			abort();
		for (c = 0; c < m->nclass; c++)
			sum += p[c];
		if (!(fabsf(sum - 1) < 1e-3f) && !isnan(sum))
			abort();
		free(p);
		cm_tc_free(m);
	}
	r = dt_rules_new();
	dt_rules_load(r, path, err, sizeof(err));
	(void)dt_rules_match(r, (const char *)data, size);
	dt_rules_free(r);
	return 0;
}
