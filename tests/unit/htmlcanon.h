/* htmlcanon.h - for the tests of htmlpre.c (tests/unit/2011-htmlpre.c, fuzz/htmlpre.c): parse a
 * page with libxml2 as the extractor does and write its tree in a canonical form without
 * what cm_html_lighten() leaves out (script and style contents, comment texts, attributes
 * not kept), so a page and its lightened copy can be compared; and random tag soup made of
 * the constructs the scanner has to follow. */
#ifndef HTMLCANON_H
#define HTMLCANON_H

#include <stdint.h>
#include <string.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "buf.h"

static const char *const canon_keep[] = { "id", "class", "hidden", NULL };

static int canon_kept(const char *name)
{
	size_t i;

	for (i = 0; canon_keep[i]; i++)
		if (strcmp(canon_keep[i], name) == 0)
			return 1;
	return 0;
}

static void canon_node(cm_buf *b, xmlNodePtr n)
{
	for (; n; n = n->next) {
		switch (n->type) {
		case XML_ELEMENT_NODE: {
			xmlAttrPtr a;

			cm_buf_printf(b, "<%s", (const char *)n->name);
			for (a = n->properties; a; a = a->next) {
				if (!canon_kept((const char *)a->name))
					continue;
				cm_buf_printf(b, " %s=[", (const char *)a->name);
				if (a->children && a->children->content)
					cm_buf_adds(b, (const char *)a->children->content);
				cm_buf_addc(b, ']');
			}
			cm_buf_addc(b, '>');
			if (strcmp((const char *)n->name, "script") && strcmp((const char *)n->name, "style"))
				canon_node(b, n->children);
			cm_buf_printf(b, "</%s>", (const char *)n->name);
			break;
		}
		case XML_TEXT_NODE:
		case XML_CDATA_SECTION_NODE:
			cm_buf_printf(b, "T[%s]", n->content ? (const char *)n->content : "");
			break;
		case XML_COMMENT_NODE:
			cm_buf_adds(b, "C");
			break;
		case XML_PI_NODE:
			cm_buf_printf(b, "P[%s|%s]", (const char *)n->name,
				      n->content ? (const char *)n->content : "");
			break;
		case XML_DTD_NODE: {
			xmlDtdPtr d = (xmlDtdPtr)n;

			cm_buf_printf(b, "D[%s|%s|%s]", d->name ? (const char *)d->name : "",
				      d->ExternalID ? (const char *)d->ExternalID : "",
				      d->SystemID ? (const char *)d->SystemID : "");
			break;
		}
		default:
			cm_buf_printf(b, "?%d", (int)n->type);
		}
	}
}

/* The canonical tree of s (as boilerplate.c parses it, but for XML_PARSE_HUGE and its depth
 * wrapper: libxml2 stops at 256 levels, which keeps canon_node()'s recursion short; the
 * lightened copy nests as the page does, so the comparison holds either way) into b. */
static void canon_page(htmlParserCtxtPtr ctxt, const char *s, size_t n, cm_buf *b)
{
	htmlDocPtr doc;

	cm_buf_reset(b);
	htmlCtxtReset(ctxt);
	doc = htmlCtxtReadMemory(ctxt, s, (int)n, "x", "UTF-8",
				 HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
				 HTML_PARSE_NONET | HTML_PARSE_COMPACT | HTML_PARSE_NODEFDTD |
				 HTML_PARSE_IGNORE_ENC);
	if (!doc) {
		cm_buf_adds(b, "(no document)");
		return;
	}
	canon_node(b, doc->children);
	xmlFreeDoc(doc);
}

/* Pieces of random pages: what the scanner must follow exactly. */
static const char *const soup_pieces[] = {
	"<script>", "<SCRIPT type=\"text/javascript\">", "</script>", "</SCRIPT >", "</scriptx>",
	"</script", "<style>", "</style>", "<StyLe media=all>", "</style foo>", "<script/>",
	"<script src=a/>", "<script src=\"a\" />", "<script / >", "<scripts>", "<div class=\"a b\">",
	"</div>", "<p>", "</p>", "<a href='x' title=\"<script>\">", "<a title=x>y>", "<b", ">", "/>",
	"\"", "'", "=", " ", "\n", "\t", "<!--", "-->", "--!>", "<!---->", "<!-->", "-", "--",
	"<!DOCTYPE html>", "<!doctype html PUBLIC \"-//W3C//DTD\" \"x>y\">",
	"<!DOCTYPE html SYSTEM 'a'>", "<?xml version=\"1.0\"?>", "<?", "<?php echo 1 ?>", "<!", "<![CDATA[",
	"]]>", "</", "</ p>", "</3>", "<", "&amp;", "&", "&#60;", "text", " more words ",
	"var x = '</div>';", "if (a < b && c > d) {}", "<img src=x alt=\"a>b\" hidden>",
	"<span id=i data-x='1' style='display:none'>", "<html>", "<body>", "</body>", "<head>",
	"</head>", "<title>", "</title>", "<table>", "<tr>", "<td>", "<li>", "<ul>", "<textarea>",
	"</textarea>", "\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "<_x>", "<:a>", "<.a>",
	"<a b c=d e = 'f' g=\"h\"/>", "<x y==z>", "<a /href=x>", "<a ='x>y'>", "<a class=c class=d>",
	"<a x=\"1\"y=\"2\" id='q'>", "<a \xc3\xa9=1 id=2>", "<br/>", "<hr id=h/>", "<meta charset=latin1>",
	"<select><option>", "<svg><style>", "</svg>", "<noscript>", "</noscript>", "<iframe>",
};

static inline uint64_t soup_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A random page of 1..max pieces into b. */
static inline void soup_page(uint64_t *seed, size_t max, cm_buf *b)
{
	size_t k, n = 1 + soup_rand(seed) % max;

	cm_buf_reset(b);
	for (k = 0; k < n; k++)
		cm_buf_adds(b, soup_pieces[soup_rand(seed) % (sizeof(soup_pieces) / sizeof(*soup_pieces))]);
}

#endif
