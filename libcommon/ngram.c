/* ngram.c - normalised text and its word n-grams (see ngram.h). */
#include <string.h>
#include <utf8proc.h>

#include "ngram.h"
#include "utf8.h"

static void put_space(cm_buf *out)
{
	if (out->len && out->p[out->len - 1] != ' ')
		cm_buf_addc(out, ' ');
}

void cm_ngram_normalize(const char *t, size_t n, cm_buf *out)
{
	size_t i = 0;
	int digits = 0;		/* in a run of digits: "0" already written */

	cm_buf_reset(out);
	cm_buf_grow(out, n + 1);
	while (i < n) {
		unsigned char c = (unsigned char)t[i];

		if (c < 0x80) {
			i++;
			if (c >= '0' && c <= '9') {
				if (!digits)
					cm_buf_addc(out, '0');
				digits = 1;
				continue;
			}
			digits = 0;
			if (c >= 'A' && c <= 'Z')
				cm_buf_addc(out, (char)(c + 32));
			else if (c >= 'a' && c <= 'z')
				cm_buf_addc(out, (char)c);
			else
				put_space(out);	/* white space, punctuation, symbols, controls */
			continue;
		}
		{
			uint32_t cp;
			size_t k = cm_utf8_decode(t + i, n - i, &cp);
			utf8proc_int32_t buf[8];
			utf8proc_ssize_t m, j;
			const utf8proc_property_t *pr;

			if (!k)
				k = 1;
			i += k;
			if (cp == CM_UTF8_INVALID) {
				digits = 0;
				put_space(out);
				continue;
			}
			pr = utf8proc_get_property((utf8proc_int32_t)cp);
			if (pr->category == UTF8PROC_CATEGORY_ND) {	/* other scripts' digits */
				if (!digits)
					cm_buf_addc(out, '0');
				digits = 1;
				continue;
			}
			digits = 0;
			/* decomposed, case-folded, marks dropped */
			m = utf8proc_decompose_char((utf8proc_int32_t)cp, buf, 8, UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD |
						    UTF8PROC_STRIPMARK, NULL);
			if (m < 0 || m > 8) {
				put_space(out);
				continue;
			}
			for (j = 0; j < m; j++) {
				const utf8proc_property_t *q = utf8proc_get_property(buf[j]);
				unsigned char enc[4];
				utf8proc_ssize_t el;

				switch (q->category) {
				case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
				case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_NL:
				case UTF8PROC_CATEGORY_NO: case UTF8PROC_CATEGORY_MC:
					el = utf8proc_encode_char(buf[j], enc);
					cm_buf_add(out, enc, (size_t)el);
					break;
				case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_ME:
					break;		/* a mark left after decomposition */
				default:
					put_space(out);	/* punctuation, symbols, separators */
				}
			}
		}
	}
	if (out->len && out->p[out->len - 1] == ' ')
		out->p[--out->len] = '\0';
}

size_t cm_ngrams(const char *s, size_t len, unsigned n, void (*fn)(void *ctx, const char *p, size_t len),
		 void *ctx)
{
	size_t starts[64], nw = 0, i = 0, count = 0;

	if (n == 0)
		n = 1;
	if (n > 64)
		n = 64;
	/* word starts in a ring of the last n; each full window is an n-gram */
	while (i < len) {
		size_t b = i;

		while (i < len && s[i] != ' ')
			i++;
		starts[nw % n] = b;
		nw++;
		if (nw >= n) {
			size_t first = starts[(nw - n) % n];

			fn(ctx, s + first, i - first);
			count++;
		}
		i++;		/* the space */
	}
	return count;
}
