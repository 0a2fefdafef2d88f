/* 2011-htmlpre.c - cm_html_lighten(): what it leaves out, where it stops, and that libxml2
 * builds the same tree from a page and from its lightened copy (hand-written pages, then
 * random tag soup). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "htmlcanon.h"
#include "htmlpre.h"
#include "tap.h"

static cm_buf out, ca, cb;
static htmlParserCtxtPtr ctxt;

/* Lighten s, expect want (NULL: left as it is), and the same tree either way. */
static void check_n(const char *s, size_t n, const char *want, const char *what)
{
	int r = cm_html_lighten(s, n, canon_keep, &out);

	if (want)
		is_mem(r ? out.p : "(untouched)", r ? out.len : 11, want, "%s", what);
	else
		ok(!r, "%s: untouched", what);
	if (r) {
		canon_page(ctxt, s, n, &ca);
		canon_page(ctxt, out.p, out.len, &cb);
		if (!ok(ca.len == cb.len && memcmp(ca.p, cb.p, ca.len) == 0, "%s: same tree", what))
			printf("#   page:    %s\n#   tree:    %s\n#   lighter: %s\n", ca.p, ca.p, cb.p);
	}
}

#define check(s, want, what) check_n(s, sizeof(s) - 1, want, what)

static void soup(void)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	int i, lightened = 0, differ = 0;
	cm_buf page = CM_BUF_INIT;

	for (i = 0; i < 30000; i++) {
		soup_page(&seed, 40, &page);
		if (!cm_html_lighten(page.p, page.len, canon_keep, &out))
			continue;
		lightened++;
		canon_page(ctxt, page.p, page.len, &ca);
		canon_page(ctxt, out.p, out.len, &cb);
		if (ca.len != cb.len || memcmp(ca.p, cb.p, ca.len) != 0) {
			if (differ++ < 3)
				printf("#   page:    %s\n#   lighter: %s\n#   tree:    %s\n#   lighter: %s\n",
				       page.p, out.p, ca.p, cb.p);
		}
	}
	is_int(differ, 0, "random tag soup: the same tree from %d lightened pages of 30000", lightened);
	ok(lightened > 10000, "random tag soup: most pages are lightened (%d)", lightened);
	cm_buf_free(&page);
}

int main(void)
{
	ctxt = htmlNewParserCtxt();
	if (!cm_html_lighten_useful()) {
		printf("1..0 # SKIP libxml2 %s tokenizes as HTML5: pages are parsed as they are\n",
		       xmlParserVersion);
		return 0;
	}
	check("<p>a<script>var x = '<p>';</script>b</p>", "<p>a<script></script>b</p>",
	      "script content");
	check("<p>a<STYLE media=x>p { color: red }</Style >b", "<p>a<STYLE ></Style >b",
	      "style content, attribute, case");
	check("<p id=a data-x=\"1\" class='c'>x</p>", "<p id=a  class='c'>x</p>", "attributes not kept");
	check("<p hidden onclick=go()>x", "<p hidden >x", "boolean attribute kept, unquoted value cut");
	check("<p>a<!-- a comment -->b<!-- <script> -->c", "<p>a<!---->b<!---->c", "comment texts");
	check("<p>a<!-- x --!>b", "<p>a<!---->b", "comment ended by --!>");
	check("<p>a<!---->b", NULL, "nothing to leave out");
	check("<a title=\"<script>\">x</a><script>y</script>", "<a >x</a><script></script>",
	      "<script> inside a quoted value is a value");
	check("<a title='x>y' id=i>x</a>", "<a  id=i>x</a>", "'>' inside a quoted value");
	check("<a =\"x>y\" class=c>z", NULL, "bogus attribute dumped up to '>'");
	check("<script src=a/><p>x</p></script>", "<script ><p>x</p></script>",
	      "an unquoted value takes the slash: the script stays open");
	check("<script/><p>x</p><script>y</script>", "<script/><p>x</p><script></script>",
	      "self-closed script");
	check("<script></script><p>x", NULL, "empty script");
	check("<script>a</scriptx>b</script>c", NULL, "</scriptx> stops the scanner");
	check("<script><p>x</p></script>", NULL, "content starting with '<' stops the scanner");
	check("<script>never closed", NULL, "unclosed script stops the scanner");
	check("<p>a<!-- never closed", NULL, "unclosed comment stops the scanner");
	check("<a title=\"never closed><script>x</script>", NULL, "unclosed quote stops the scanner");
	check("<!DOCTYPE html PUBLIC \"a>b\"><script>x</script>", NULL, "'>' in a doctype string");
	check("<!DOCTYPE html PUBLIC \"-//W3C//DTD HTML 4.01//EN\"><script>x</script>",
	      "<!DOCTYPE html PUBLIC \"-//W3C//DTD HTML 4.01//EN\"><script></script>", "doctype");
	check("<?xml version=\"1.0\"?><script>x</script>", "<?xml version=\"1.0\"?><script></script>",
	      "processing instruction");
	check("< script>x</script><p id=q x=y>", "< script>x</script><p id=q >", "'< ' is text");
	check("</ p><script>x</script>", "</ p><script></script>", "'</ ' is text");
	check("<p>a\0<script>x</script>", NULL, "NUL byte: untouched");
	check("<p>\xff<script>x</script>", NULL, "invalid UTF-8: untouched");
	check("", NULL, "empty page");
	soup();
	cm_buf_free(&out);
	cm_buf_free(&ca);
	cm_buf_free(&cb);
	htmlFreeParserCtxt(ctxt);
	return tap_done();
}
