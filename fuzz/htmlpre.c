/* htmlpre.c - libFuzzer target: a page and its lightened copy (cm_html_lighten) must give
 * libxml2 the same tree, less what is left out (tests/unit/htmlcanon.h).
 *
 * Half of the inputs are taken as they are (bytes), half as recipes for tag soup: each byte
 * picks a piece from the list the unit test uses, which reaches deep states sooner.
 */
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>

#include "../tests/unit/htmlcanon.h"
#include "htmlpre.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static htmlParserCtxtPtr ctxt;
	static cm_buf in, out, a, b;
	size_t i;

	if (!ctxt)
		ctxt = htmlNewParserCtxt();
	cm_buf_reset(&in);
	if (size && data[0] & 1) {
		for (i = 1; i < size; i++)
			cm_buf_adds(&in, soup_pieces[data[i] % (sizeof(soup_pieces) / sizeof(*soup_pieces))]);
	} else if (size) {
		cm_utf8_repair((const char *)data + 1, size - 1, &in);
	}
	if (!in.len || in.len > 1 << 20 || !cm_html_lighten(in.p, in.len, canon_keep, &out))
		return 0;
	canon_page(ctxt, in.p, in.len, &a);
	canon_page(ctxt, out.p, out.len, &b);
	if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0) {
		fprintf(stderr, "page:    %s\nlighter: %s\ntree:    %s\nlighter: %s\n", in.p, out.p, a.p, b.p);
		abort();
	}
	return 0;
}
