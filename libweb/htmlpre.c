/* htmlpre.c - lighten an HTML page before libxml2 parses it: see htmlpre.h.
 *
 * The scanner walks the page as libxml2 2.9's htmlParseContentInternal() does, byte by byte
 * where the parser goes character by character (every delimiter is ASCII, and UTF-8 never
 * hides one inside a multi-byte character). The functions it mirrors are named beside each
 * step. A cut is a byte range [a, b) left out of the copy; cuts are only ever made where the
 * parser would read the bytes as content it then stores and nothing else. */
#include "htmlpre.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/globals.h>
#include <libxml/xmlversion.h>

#include "ascii.h"
#include "utf8.h"

#define NAME_MAX_CHARS 100	/* HTML_PARSER_BUFFER_SIZE: htmlParseHTMLName() stops there */
#define TAG_CUTS 32		/* attribute cuts remembered per tag; later ones are kept */

typedef struct {
	const unsigned char *s;
	size_t n;
	size_t from;		/* bytes before this are copied or cut */
	cm_buf *out;
	int cut;		/* anything left out yet */
} scan;

static int blank(unsigned c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';	/* IS_BLANK_CH */
}

static int letter(unsigned c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static int name_start(unsigned c)	/* htmlParseHTMLName(): the first character */
{
	return letter(c) || c == '_' || c == ':' || c == '.';
}

static int name_char(unsigned c)
{
	return letter(c) || (c >= '0' && c <= '9') || c == ':' || c == '-' || c == '_' || c == '.';
}

static size_t name_len(const scan *sc, size_t p)
{
	size_t k = 0;

	while (p + k < sc->n && k < NAME_MAX_CHARS && name_char(sc->s[p + k]))
		k++;
	return k;
}

static size_t skip_blanks(const scan *sc, size_t p)
{
	while (p < sc->n && blank(sc->s[p]))
		p++;
	return p;
}

/* Leave out [a, b), putting rep (if any) in its place. */
static void cut(scan *sc, size_t a, size_t b, const char *rep)
{
	cm_buf_add(sc->out, sc->s + sc->from, a - sc->from);
	if (rep)
		cm_buf_adds(sc->out, rep);
	sc->from = b;
	sc->cut = 1;
}

static int kept(const char *const *keep, const unsigned char *name, size_t len)
{
	size_t i;

	if (!keep)
		return 1;
	for (i = 0; keep[i]; i++)
		if (cm_lower(name[0]) == cm_lower((unsigned char)keep[i][0]) && strlen(keep[i]) == len &&
		    cm_eq_ci((const char *)name, len, keep[i]))
			return 1;
	return 0;
}

/* A start tag at p ('<' then an ASCII letter): htmlParseStartTag() and the end of
 * htmlParseElementInternal(). Cuts the attributes not kept. Returns the position after the
 * tag, or 0 when it does not end (the caller stops). *raw: the name of the script or style
 * element the tag opens (not self-closed), else NULL. */
static size_t start_tag(scan *sc, size_t p, const char *const *keep, const char **raw)
{
	size_t cuts[TAG_CUTS][2], ncut = 0, i;
	const unsigned char *s = sc->s;
	size_t n = sc->n, nl;

	p++;
	nl = name_len(sc, p);
	*raw = CM_EQ_CI((const char *)s + p, nl, "script") ? "script" :
	       CM_EQ_CI((const char *)s + p, nl, "style") ? "style" : NULL;
	p = skip_blanks(sc, p + nl);
	while (p < n && s[p] != '>' && !(s[p] == '/' && p + 1 < n && s[p + 1] == '>')) {
		if (name_start(s[p])) {		/* htmlParseAttribute() */
			size_t a = p, al = name_len(sc, p);

			p = skip_blanks(sc, p + al);
			if (p < n && s[p] == '=') {	/* htmlParseAttValue() */
				p = skip_blanks(sc, p + 1);
				if (p < n && (s[p] == '"' || s[p] == '\'')) {
					const unsigned char *q = memchr(s + p + 1, s[p], n - p - 1);

					if (!q)
						return 0;
					p = (size_t)(q - s) + 1;
				} else {
					while (p < n && !blank(s[p]) && s[p] != '>')
						p++;
				}
			} else {
				p = a + al;
			}
			if (al < NAME_MAX_CHARS && !kept(keep, s + a, al) && ncut < TAG_CUTS) {
				cuts[ncut][0] = a;
				cuts[ncut][1] = p;
				ncut++;
			}
		} else {	/* a bogus attribute: dumped up to a blank or the tag's end */
			while (p < n && !blank(s[p]) && s[p] != '>' &&
			       !(s[p] == '/' && p + 1 < n && s[p + 1] == '>'))
				p++;
		}
		p = skip_blanks(sc, p);
	}
	if (p >= n)
		return 0;
	for (i = 0; i < ncut; i++)
		cut(sc, cuts[i][0], cuts[i][1], NULL);
	if (s[p] == '/') {
		*raw = NULL;
		return p + 2;
	}
	return p + 1;
}

/* The content of a script or style element starting at p: htmlParseScript() reads up to
 * "</" followed by the element's name in any case. Returns where the end tag starts, or 0
 * when the model stops: no end; content starting with '<' other than the end tag (the
 * content loop reads it as markup first); an end tag whose name only begins with the
 * element's, "</scriptx" (the parser skips it and stays in the element); an end tag with
 * anything but blanks before its '>' ("</script<p>", whose recovery skips to the next '>'). */
static size_t raw_end(const scan *sc, size_t p, const char *name)
{
	const unsigned char *s = sc->s;
	size_t n = sc->n, len = strlen(name), p0 = p;

	while (p < n) {
		const unsigned char *q = memchr(s + p, '<', n - p);

		if (!q)
			return 0;
		p = (size_t)(q - s);
		if (p + 2 + len <= n && s[p + 1] == '/' && cm_eq_ci((const char *)s + p + 2, len, name)) {
			size_t e = skip_blanks(sc, p + 2 + len);

			/* only "</script>" (blanks allowed) is modelled: after a broken end tag
			 * ("</script<script ...>") the parser's recovery is not followed */
			if (e >= n || s[e] != '>')
				return 0;
			return p;
		}
		if (p == p0)
			return 0;
		p++;
	}
	return 0;
}

/* "<!DOCTYPE" at p: htmlParseDocTypeDecl() ends at the first '>' outside the identifiers'
 * quoted strings. Returns the position after it, or 0 (no end, or a '>' inside quotes). */
static size_t doctype(const scan *sc, size_t p)
{
	unsigned quote = 0;

	for (p += 9; p < sc->n; p++) {
		unsigned c = sc->s[p];

		if (quote) {
			if (c == quote)
				quote = 0;
			else if (c == '>')
				return 0;
		} else if (c == '"' || c == '\'') {
			quote = c;
		} else if (c == '>') {
			return p + 1;
		}
	}
	return 0;
}

/* "<!--" at p: htmlParseComment() ends at the first "-->" or "--!>" whose dashes come after
 * the opening. Returns the position after it, or 0 (no end: the parser drops the rest). */
static size_t comment_end(const scan *sc, size_t p)
{
	const unsigned char *s = sc->s;
	size_t n = sc->n;

	for (p += 4; p + 3 <= n;) {
		const unsigned char *q = memchr(s + p, '-', n - p);

		if (!q)
			return 0;
		p = (size_t)(q - s);
		if (p + 3 <= n && s[p + 1] == '-' && s[p + 2] == '>')
			return p + 3;
		if (p + 4 <= n && s[p + 1] == '-' && s[p + 2] == '!' && s[p + 3] == '>')
			return p + 4;
		p++;
	}
	return 0;
}

int cm_html_lighten(const char *page, size_t n, const char *const *keep, cm_buf *out)
{
	scan sc = { (const unsigned char *)page, n, 0, out, 0 };
	const unsigned char *s = sc.s;
	size_t p = 0;

	cm_buf_reset(out);
	if (!n || memchr(page, '\0', n) || !cm_utf8_valid(page, n))
		return 0;
	cm_buf_grow(out, n / 2);
	while (p < n) {
		const unsigned char *q = memchr(s + p, '<', n - p);
		unsigned c1;

		if (!q)
			break;
		p = (size_t)(q - s);
		c1 = p + 1 < n ? s[p + 1] : 0;
		if (c1 == '/') {		/* htmlParseEndTag() */
			if (p + 2 < n && name_start(s[p + 2])) {
				size_t e = skip_blanks(&sc, p + 2 + name_len(&sc, p + 2));

				/* only "</name>" (blanks allowed) is modelled: the parser's recovery
				 * from a broken end tag ("</script<p>") is not followed */
				if (e >= n || s[e] != '>')
					break;
				p = e + 1;
			} else {
				p += 2;		/* "</" is dropped, what follows is text */
			}
		} else if (c1 == '!') {
			if (p + 4 <= n && s[p + 2] == '-' && s[p + 3] == '-') {
				size_t e = comment_end(&sc, p);

				if (!e)
					break;
				if (e - p > 7)
					cut(&sc, p, e, "<!---->");
				p = e;
			} else if (p + 9 <= n && cm_eq_ci((const char *)s + p + 2, 7, "doctype")) {
				if (!(p = doctype(&sc, p)))
					break;
			} else {
				p++;		/* '<' as text */
			}
		} else if (c1 == '?') {		/* htmlParsePI() */
			unsigned c2 = p + 2 < n ? s[p + 2] : 0;

			if (letter(c2) || c2 == '_' || c2 == ':') {
				q = memchr(s + p + 2, '>', n - p - 2);
				if (!q)
					break;
				p = (size_t)(q - s) + 1;
			} else if (c2 >= 0x80) {
				break;		/* a name htmlParseNameComplex() would judge */
			} else {
				p += 2;
			}
		} else if (letter(c1)) {
			const char *raw;
			size_t e;

			if (!(p = start_tag(&sc, p, keep, &raw)))
				break;
			if (raw) {
				if (!(e = raw_end(&sc, p, raw)))
					break;
				if (e > p)
					cut(&sc, p, e, NULL);
				p = e;
			}
		} else {
			p++;			/* '<' as text */
		}
	}
	if (!sc.cut)
		return 0;
	cm_buf_add(out, page + sc.from, n - sc.from);
	return 1;
}

int cm_html_lighten_useful(void)
{
	return atoi(xmlParserVersion) < 21400;
}
