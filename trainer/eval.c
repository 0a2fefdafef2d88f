/* eval.c - held-out loss and bits per byte. */
#include <math.h>
#include <stdlib.h>

#include "cli.h"
#include "eval.h"

float *lm_token_bytes(const cm_tok *tok, int vocab)
{
	float *b = cm_xcalloc((size_t)vocab, sizeof(float));
	for (int i = 0; i < vocab; i++) {
		size_t len = 0;
		if (cm_tok_bytes(tok, (uint32_t)i, &len) && (int64_t)i != cm_tok_eot(tok))
			b[i] = (float)len;
	}
	return b;
}

int lm_evaluate(lm_model *m, const lm_data *d, uint64_t windows, int B, int T,
		const float *tokbytes, int32_t *x, int32_t *y, lm_eval *r, char *err, size_t errlen)
{
	double loss = 0, bytes = 0;
	uint64_t ntok = 0;
	float *losses = cm_xmalloc((size_t)B * T * sizeof(float));
	for (uint64_t w = 0; w < windows; w += B) {
		for (int b = 0; b < B; b++) {
			int32_t *xb = x + (size_t)b * T, *yb = y + (size_t)b * T;
			if (w + b >= windows) {	/* a short last batch: rows ignored */
				for (int t = 0; t < T; t++) {
					xb[t] = 0;
					yb[t] = -1;
				}
			} else if (lm_data_eval_window(d, w + b, xb, yb, err, errlen) < 0) {
				free(losses);
				return -1;
			}
		}
		lm_forward(m, B, T, x, NULL, NULL);
		loss += lm_loss(m, y, 0.0f, tokbytes ? losses : NULL);
		for (int i = 0; i < B * T; i++)
			if (y[i] >= 0) {
				ntok++;
				if (tokbytes)
					bytes += tokbytes[y[i]];
			}
	}
	free(losses);
	r->loss = ntok ? loss / (double)ntok : NAN;
	r->tokens = ntok;
	r->bytes = bytes;
	r->bpb = bytes > 0 ? loss / log(2.0) / bytes : NAN;
	return 0;
}
