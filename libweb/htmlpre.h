/* htmlpre.h - lighten an HTML page before libxml2 parses it.
 *
 * libxml2 2.9's HTML parser reads script and style contents, comments and attribute values
 * byte by byte, copying them into nodes that an extractor then throws away. On the web a
 * page is mostly that: in the article extraction benchmark 30% of the bytes are inside
 * script elements and 26% inside style elements. cm_html_lighten() copies a page leaving
 * those parts out: script and style contents, comment texts (the comment itself stays, as
 * "<!---->") and every attribute whose name is not in a keep list. It follows the parser's
 * own tokenizer (libxml2 2.9 HTMLparser.c: tags, attribute values quoted or not, end tags,
 * comments ended by "-->" or "--!>", doctypes, processing instructions, what "</script"
 * ends), so the tree libxml2 builds from the copy is the tree it builds from the page less
 * the parts left out. Where the page does something the model does not cover (an
 * unterminated tag, quote or comment, a script whose content begins with '<', "</scriptx",
 * a '>' inside a doctype's quoted string) the rest of the page is copied as it is: the
 * result is always correct, only less light.
 *
 * Pages with a NUL byte or invalid UTF-8 are not touched (the parser stops at NUL and
 * switches encoding at a bad byte: leaving bytes out would move those points). libxml2 2.14
 * tokenizes as HTML5 does, differently: callers use this with older versions only
 * (cm_html_lighten_useful()). */
#ifndef CM_HTMLPRE_H
#define CM_HTMLPRE_H

#include <stddef.h>

#include "buf.h"

/* Copy the lightened page to out (reset first). keep: attribute names kept (lower case,
 * NULL-terminated; NULL keeps every attribute). Returns 1 when out holds a copy, 0 when the
 * page is to be parsed as it is (nothing to leave out, or not touched: see above). */
int cm_html_lighten(const char *s, size_t n, const char *const *keep, cm_buf *out);

/* Whether the libxml2 in use tokenizes as cm_html_lighten() models (before 2.14). */
int cm_html_lighten_useful(void);

#endif
