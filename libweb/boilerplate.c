/* boilerplate.c - a page's main text: HTML in, the text a reader came for out.
 *
 * Passes over libxml2's tree, all iterative (the tree can be deep):
 *   1. drop what is boilerplate by what it is: tags, ARIA roles, hidden elements;
 *   2. measure every element: characters of text, of link text, punctuation, words and stop
 *      words (in the page's language), and prose: paragraph-like blocks that read as
 *      sentences, leaving out teasers (small units around a heading that links elsewhere,
 *      and listings of like siblings with title links);
 *   3. drop by class/id marker and the conditional tags (header, form), unless the element
 *      holds most of the page or of its prose (data/boilerplate/ has the lists);
 *   4. the main content is the element with the most prose for the least clutter (link text
 *      outside prose, other text); pages without prose fall back to readability-style
 *      scores given by paragraphs to their ancestors;
 *   5. write its blocks, each judged once more on its own (link density, stop words, length,
 *      boilerplate phrases, repeats), as text or markdown (bpwrite.c).
 * The extractor's state and the tree helpers both files use are in bp_impl.h.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "ascii.h"
#include "boilerplate.h"
#include "bp_impl.h"
#include "cli.h"
#include "data.h"
#include "hset.h"
#include "htmlpre.h"
#include "jsonw.h"
#include "utf8.h"

/* ---- word sets (stop words, markers: cm_hset) ---- */

/* Call fn for each line of a data file that is not blank or a # comment. */
static void each_line(const char *name, void (*fn)(void *, const char *, size_t), void *ctx)
{
	size_t n = 0;
	const char *p = cm_data(name, &n), *end, *nl;

	if (!p)
		return;
	for (end = p + n; p < end; p = nl + 1) {
		const char *e;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		e = nl;
		while (e > p && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
			e--;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if (p < e && *p != '#')
			fn(ctx, p, (size_t)(e - p));
	}
}

static void add_word(void *ctx, const char *p, size_t n)
{
	cm_hset_add(ctx, p, n);
}

/* "!name" to the first set (always), "name" to the second (unless it holds the page). */
static void add_strong_or_weak(void *ctx, const char *p, size_t n)
{
	cm_hset **sets = ctx;

	if (*p == '!')
		cm_hset_add(sets[0], p + 1, n - 1);
	else
		cm_hset_add(sets[1], p, n);
}

/* A line of a class/id marker list (its syntax: markers, in bp_impl.h). */
static void add_marker(void *ctx, const char *p, size_t n)
{
	markers *m = ctx;
	int strong = 0;

	if (*p == '!') {
		strong = 1;
		p++;
		n--;
	}
	if (n && *p == '=') {
		if (n > 1)
			cm_hset_add(&m->tokens[strong], p + 1, n - 1);
		return;
	}
	if (!n)
		return;
	m->subs[strong] = cm_xrealloc(m->subs[strong], (m->nsubs[strong] + 1) * sizeof(char *));
	m->subs[strong][m->nsubs[strong]] = cm_xmalloc(n + 1);
	memcpy(m->subs[strong][m->nsubs[strong]], p, n);
	m->subs[strong][m->nsubs[strong]][n] = '\0';
	m->sublen[strong] = cm_xrealloc(m->sublen[strong], (m->nsubs[strong] + 1) * sizeof(size_t));
	m->sublen[strong][m->nsubs[strong]] = n;
	m->nsubs[strong]++;
	{
		unsigned b = (unsigned)(unsigned char)p[0] << 8 | (n > 1 ? (unsigned char)p[1] : 0);

		m->bigram[strong][b >> 3] |= (uint8_t)(1u << (b & 7));
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort the substring markers and index them by first byte (marker_strength() tries only
 * those that start where it stands). */
static void markers_index(markers *m)
{
	int k;

	for (k = 0; k < 2; k++) {
		size_t i;
		unsigned c;

		if (m->nsubs[k])
			qsort(m->subs[k], m->nsubs[k], sizeof(char *), cmp_str);
		for (i = 0; i < m->nsubs[k]; i++)
			m->sublen[k][i] = strlen(m->subs[k][i]);
		for (c = 0, i = 0; c < 257; c++) {
			while (i < m->nsubs[k] && (unsigned char)m->subs[k][i][0] < c)
				i++;
			m->first[k][c] = (uint32_t)i;
		}
	}
}

/* A class token prefix to leave out. */
static void add_prefix(void *ctx, const char *p, size_t n)
{
	prefixes *x = ctx;

	x->p = cm_xrealloc(x->p, (x->n + 1) * sizeof(char *));
	x->len = cm_xrealloc(x->len, (x->n + 1) * sizeof(size_t));
	x->len[x->n] = n;
	x->first[cm_lower((unsigned char)p[0])] = 1;
	x->first[cm_lower((unsigned char)p[0]) >= 'a' && cm_lower((unsigned char)p[0]) <= 'z' ?
		 cm_lower((unsigned char)p[0]) - 'a' + 'A' : (unsigned char)p[0]] = 1;
	x->p[x->n] = cm_xmalloc(n + 1);
	memcpy(x->p[x->n], p, n);
	x->p[x->n][n] = '\0';
	x->n++;
}

/* Lower-case a class or id value into buf, leaving out ignored class tokens. */
static size_t normalise_attr(const prefixes *ign, const char *v, char *buf, size_t cap)
{
	size_t n = 0, i;

	while (*v && n + 2 < cap) {
		const char *t;
		size_t tl;

		while (*v == ' ' || *v == '\t' || *v == '\n')
			v++;
		t = v;
		while (*v && *v != ' ' && *v != '\t' && *v != '\n')
			v++;
		tl = (size_t)(v - t);
		if (!tl)
			break;
		/* (no setlocale(): strncasecmp() folds ASCII only) */
		for (i = ign && ign->first[(unsigned char)*t] ? 0 : ign ? ign->n : 0; ign && i < ign->n; i++) {
			size_t pl = ign->len[i];

			if (tl >= pl && strncasecmp(t, ign->p[i], pl) == 0)
				break;
		}
		if (ign && i < ign->n)
			continue;
		/* atomic CSS ("Mend(395px)", "Mstart(82px)!--modal-floating-close-btn"): a style,
		 * with selectors of other elements, not a name of this one */
		if (memchr(t, '(', tl))
			continue;
		if (n)
			buf[n++] = ' ';
		for (i = 0; i < tl && n + 2 < cap; i++) {
			/* camelCase words apart: "commentsContainer" is "comments container" */
			if (i > 0 && t[i] >= 'A' && t[i] <= 'Z' && t[i - 1] >= 'a' && t[i - 1] <= 'z')
				buf[n++] = ' ';
			buf[n++] = (char)cm_lower((unsigned char)t[i]);
		}
	}
	buf[n] = '\0';
	return n;
}

/* 0: no marker; 1: a weak one; 2: a strong one. */
static int marker_strength(const markers *m, const char *buf, size_t n)
{
	int strong, best = 0;
	size_t i, start;

	for (strong = 1; strong >= 0 && !best; strong--) {
		size_t j;

		/* substrings: only where a marker's first two bytes stand */
		for (j = 0; j + 1 < n + 1 && m->nsubs[strong]; j++) {
			unsigned b = (unsigned)(unsigned char)buf[j] << 8 | (unsigned char)buf[j + 1];

			if (!(m->bigram[strong][b >> 3] & (1u << (b & 7))))
				continue;
			for (i = m->first[strong][(unsigned char)buf[j]];
			     i < m->first[strong][(unsigned char)buf[j] + 1]; i++) {
				const char *sub = m->subs[strong][i];
				size_t sl = m->sublen[strong][i];

				if (sub[0] == buf[j] && j + sl <= n && (sl < 2 || sub[1] == buf[j + 1]) &&
				    memcmp(buf + j, sub, sl) == 0)
					return strong + 1;
			}
		}
		for (i = 0, start = 0; i <= n; i++) {
			char c = buf[i];

			if (c == ' ' || c == '-' || c == '_' || c == '\0') {
				if (i > start && cm_hset_find(&m->tokens[strong], buf + start, i - start))
					return strong + 1;
				start = i + 1;
			}
		}
	}
	return best;
}

/* An id of five or more words ("sharing-with-a-single-developer") is a heading's anchor,
 * made from the page's text, not a name the template gives a part of the page. */
static int is_slug(const char *id)
{
	int words = 1;

	for (; *id; id++)
		if (*id == '-' || *id == '_')
			words++;
		else if (*id == ' ')
			return 0;
	return words >= 5;
}

/* The strongest marker on an element's class or id. */
static int has_marker(const markers *m, const prefixes *ign, xmlNodePtr n, const char *cls,
		      const char *id)
{
	char buf[512];
	size_t len;
	int a = 0, b = 0;

	(void)n;
	if (cls) {
		len = normalise_attr(ign, cls, buf, sizeof(buf));
		a = marker_strength(m, buf, len);
	}
	if (id && a < 2 && !is_slug(id)) {
		len = normalise_attr(NULL, id, buf, sizeof(buf));
		b = marker_strength(m, buf, len);
	}
	return a > b ? a : b;
}

/* has_marker() of the drop (keep = 0) or keep markers on element n, worked out once a page:
 * bp->mk holds both per element, 2 bits each (0 not known yet, else the strength + 1). */
static int marker_of(cm_bp *bp, xmlNodePtr n, int keep, const char *cls, const char *id)
{
	size_t k = (size_t)(I(n) - bp->info);
	unsigned sh = keep ? 2 : 0, v = (bp->mk[k] >> sh) & 3u;

	if (!v) {
		v = (unsigned)has_marker(keep ? &bp->keep : &bp->drop, &bp->ignore, n, cls, id) + 1;
		bp->mk[k] |= (uint8_t)(v << sh);
	}
	return (int)v - 1;
}

/* Forget the markers worked out (a new page, or a tree of another shape). */
static void marker_reset(cm_bp *bp)
{
	if (bp->cap_mk < bp->ninfo) {
		bp->cap_mk = bp->cap_info;
		free(bp->mk);
		bp->mk = cm_xmalloc(bp->cap_mk);
	}
	memset(bp->mk, 0, bp->ninfo);
}

const char *const cm_bp_flag_names[CM_BP_NFLAGS] = { "deep", "nul", "parse_stopped" };

/* The attributes the extractor reads: cm_html_lighten() leaves the others out. */
static const char *const read_attrs[] = {
	"id", "class", "role", "lang", "style", "hidden", "aria-hidden", "itemprop", NULL,
};

static const char *const langs[] = {
	"en", "de", "fr", "es", "it", "pt", "nl", "ru", "pl", "sv", "da", "no", "fi", "hu", "tr",
	"cs", "ro", "id",
};

static const char *const block_tags[] = {
	"address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog",
	"dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
	"h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "li", "main", "menu", "nav",
	"ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead",
	"tr", "ul", "caption", "br",
};

/* An element starts. libxml2 has pushed its name (htmlnamePush() comes before every
 * startElement) and its tree builder would make it a child of the innermost open element.
 * Past CM_BP_MAX_DEPTH open elements, the innermost one is closed first, so the new element
 * opens beside it: the stack of open elements (names and nodes) stays CM_BP_MAX_DEPTH deep,
 * and every element and text still comes, in document order. Without this libxml2 halts at
 * 256 levels (xmlParserMaxDepth), the rest of the page lost; with XML_PARSE_HUGE alone it
 * goes on, but its scans of the open elements for each end tag (htmlParseEndTag(),
 * htmlAutoCloseOnClose()) and <body> tag would make hostile pages quadratic. The name stack
 * is the parser context's public nameTab/nameNr, kept as htmlnamePop() keeps it. */
static void sax_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
	htmlParserCtxtPtr c = ctx;
	cm_bp *bp = c->_private;

	if (c->nameNr > CM_BP_MAX_DEPTH && xmlStrEqual(c->nameTab[c->nameNr - 1], name)) {
		bp->sax_end(ctx, c->nameTab[c->nameNr - 2]);	/* pops the innermost node */
		c->nameTab[c->nameNr - 2] = c->nameTab[c->nameNr - 1];
		c->nameTab[--c->nameNr] = NULL;
		c->name = c->nameTab[c->nameNr - 1];
		bp->flags |= CM_BP_DEEP;
	}
	bp->sax_start(ctx, name, atts);
}

static void measure_classes(uint8_t *cls);

_Static_assert(NLANG <= 32, "a language is a bit of anystop_langs");

/* The set of every stop word (bp->anystop) and each one's languages (bp->anystop_langs by its
 * slot), from the languages' sets: reserved whole first, so no slot moves. */
static void anystop_build(cm_bp *bp)
{
	size_t total = 0;
	int i;

	for (i = 0; i < bp->nlang; i++)
		total += bp->stop[i].n;
	cm_hset_reserve(&bp->anystop, total);
	bp->anystop_langs = cm_xcalloc(bp->anystop.mask + 1, sizeof(*bp->anystop_langs));
	for (i = 0; i < bp->nlang; i++) {
		const cm_hset *set = &bp->stop[i];
		size_t j;

		for (j = 0; set->n && j <= set->mask; j++)
			if (set->slot[j]) {
				cm_hset_put(&bp->anystop, set->slot[j]);
				bp->anystop_langs[cm_hset_slot(&bp->anystop, set->slot[j])] |= 1u << i;
			}
	}
}

/* The languages whose stop-word list holds the word of key k (bit i: stop[i]). */
static uint32_t anystop_langs(const cm_bp *bp, uint64_t k)
{
	ptrdiff_t i = cm_hset_slot(&bp->anystop, k);

	return i < 0 ? 0 : bp->anystop_langs[i];
}

cm_bp *cm_bp_new(const cm_bp_opts *opts, char *err, size_t errlen)
{
	cm_bp *bp = cm_xcalloc(1, sizeof(*bp));
	const char *e;
	size_t i;

	if (opts)
		bp->o = *opts;
	for (i = 0; i < sizeof(block_tags) / sizeof(*block_tags); i++)
		cm_hset_add(&bp->blocks, block_tags[i], strlen(block_tags[i]));
	bp->ctxt = htmlNewParserCtxt();
	bp->lighten = cm_html_lighten_useful() &&
		      !((e = getenv("CRAWL2LM_BP_LIGHTEN")) && strcmp(e, "0") == 0);
	if (!bp->ctxt) {
		snprintf(err, errlen, "cannot create an HTML parser");
		goto fail;
	}
	bp->ctxt->_private = bp;
	bp->debug = getenv("CRAWL2LM_BP_DEBUG") != NULL;
	measure_classes(bp->mclass);
	bp->sax_start = bp->ctxt->sax->startElement;
	bp->sax_end = bp->ctxt->sax->endElement;
	if (!bp->sax_start || !bp->sax_end) {
		snprintf(err, errlen, "the HTML parser builds no tree");
		goto fail;
	}
	bp->ctxt->sax->startElement = sax_start;
	for (i = 0; i < sizeof(langs) / sizeof(*langs) && bp->nlang < NLANG; i++) {
		char name[64];

		snprintf(name, sizeof(name), "stopwords/%s.txt", langs[i]);
		if (!cm_data(name, NULL))
			continue;
		each_line(name, add_word, &bp->stop[bp->nlang]);
		snprintf(bp->lang_name[bp->nlang], sizeof(bp->lang_name[0]), "%s", langs[i]);
		bp->nlang++;
	}
	anystop_build(bp);
	each_line("boilerplate/tags-drop.txt", add_strong_or_weak, (cm_hset *[]){ &bp->tags_drop, &bp->tags_maybe });
	each_line("boilerplate/roles-drop.txt", add_strong_or_weak, (cm_hset *[]){ &bp->roles_drop, &bp->roles_maybe });
	each_line("boilerplate/phrases.txt", add_word, &bp->phrases);
	each_line("boilerplate/class-id.txt", add_marker, &bp->drop);
	each_line("boilerplate/class-id-keep.txt", add_marker, &bp->keep);
	each_line("boilerplate/class-id-ignore.txt", add_prefix, &bp->ignore);
	markers_index(&bp->drop);
	markers_index(&bp->keep);
	return bp;
fail:
	cm_bp_free(bp);
	return NULL;
}

static void markers_free(markers *m)
{
	size_t i;
	int k;

	for (k = 0; k < 2; k++) {
		for (i = 0; i < m->nsubs[k]; i++)
			free(m->subs[k][i]);
		free(m->subs[k]);
		free(m->sublen[k]);
		cm_hset_free(&m->tokens[k]);
	}
}

void cm_bp_free(cm_bp *bp)
{
	int i;

	if (!bp)
		return;
	htmlFreeParserCtxt(bp->ctxt);
	cm_buf_free(&bp->light);
	cm_buf_free(&bp->nonul);
	cm_buf_free(&bp->alt);
	for (i = 0; i < bp->nlang; i++)
		cm_hset_free(&bp->stop[i]);
	cm_hset_free(&bp->anystop);
	free(bp->anystop_langs);
	cm_hset_free(&bp->tags_drop);
	cm_hset_free(&bp->tags_maybe);
	cm_hset_free(&bp->roles_drop);
	cm_hset_free(&bp->roles_maybe);
	cm_hset_free(&bp->phrases);
	cm_hset_free(&bp->blocks);
	for (size_t k = 0; k < bp->ignore.n; k++)
		free(bp->ignore.p[k]);
	free(bp->ignore.p);
	free(bp->ignore.len);
	free(bp->mk);
	free(bp->tm);
	markers_free(&bp->drop);
	markers_free(&bp->keep);
	free(bp->info);
	free(bp->stack);
	free(bp->sib);
	cm_buf_free(&bp->tmp);
	free(bp);
}

void cm_bp_result_free(cm_bp_result *r)
{
	cm_buf_free(&r->text);
	cm_buf_free(&r->title);
}

/* ---- tree helpers (more in bp_impl.h) ---- */

static int is_block_tag(const cm_bp *bp, const char *name)
{
	return cm_hset_find(&bp->blocks, name, strlen(name));
}

/* Hidden by the page itself: hidden attribute, aria-hidden, display:none. */
static int is_hidden(xmlNodePtr n)
{
	const char *s;

	if (attr(n, "hidden"))
		return 1;
	if ((s = attr(n, "aria-hidden")) && strcmp(s, "true") == 0)
		return 1;
	if ((s = attr(n, "style"))) {
		char buf[256];
		size_t k = 0;

		/* "display: none" in any spacing and case */
		for (; *s && k + 1 < sizeof(buf); s++)
			if (*s != ' ' && *s != '\t')
				buf[k++] = (char)cm_lower((unsigned char)*s);
		buf[k] = '\0';
		if (strstr(buf, "display:none") || strstr(buf, "visibility:hidden"))
			return 1;
	}
	return 0;
}

/* ---- text measures ---- */

static int is_punct_ascii(int c)
{
	return c == '.' || c == ',' || c == ';' || c == '!' || c == '?' || c == ':';
}

/* Words for stop-word lookups, a byte at a time: letters (any byte above 0x7f counts as
 * one), and with `wide` digits and apostrophes too, lower-cased into low. */
typedef struct wordcut {
	char low[64];
	size_t len;		/* of the word being read */
	size_t done;		/* of the word just ended; over sizeof(low): no stop word */
} wordcut;

/* Feed one byte (0 ends the text); returns 1 when a word has just ended. */
static int wc_feed(wordcut *w, unsigned char c, int wide)
{
	int letter = c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		     (wide && ((c >= '0' && c <= '9') || c == '\''));

	if (letter) {
		if (w->len < sizeof(w->low))
			w->low[w->len] = (char)cm_lower(c);
		w->len++;
		return 0;
	}
	if (!w->len)
		return 0;
	/* the word is in low[0..len); the next byte starts afresh */
	w->done = w->len;
	w->len = 0;
	return 1;
}

/* measure(): byte classes */
enum {
	M_LETTER = 1,	/* part of a word (wc_feed() with wide) */
	M_SPACE = 2,	/* whitespace, collapsed */
	M_CHAR = 4,	/* starts a character */
	M_WIDE = 8,	/* starts U+3000-U+DFFF: kana, CJK ideographs, Hangul */
	M_PUNCT = 16,	/* ASCII sentence punctuation */
	M_CJKP = 32,	/* may start CJK punctuation (0xe3, 0xef) */
};

static void measure_classes(uint8_t *cls)
{
	unsigned c;

	for (c = 0; c < 256; c++) {
		unsigned k = 0;

		if (c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '\'')
			k |= M_LETTER;
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f')
			k |= M_SPACE;
		if ((c & 0xc0) != 0x80)
			k |= M_CHAR;
		if (c >= 0xe3 && c <= 0xed)
			k |= M_WIDE;
		if (is_punct_ascii((int)c))
			k |= M_PUNCT;
		if (c == 0xe3 || c == 0xef)
			k |= M_CJKP;
		cls[c] = (uint8_t)k;
	}
}

/* Measure a text node: characters (collapsing whitespace runs), punctuation, words, stop
 * words in the page's language (the words as wc_feed() with wide cuts them). */
static void measure(cm_bp *bp, const char *s, struct info *m)
{
	size_t chars = 0, punct = 0, words = 0, stops = 0, wide = 0;
	int in_space = 1;
	char low[sizeof(((wordcut *)0)->low)];
	size_t len = 0;

	for (;; s++) {
		unsigned char c = (unsigned char)*s;
		unsigned k = bp->mclass[c];

		if (k & M_LETTER) {
			if (len < sizeof(low))
				low[len] = (char)cm_lower(c);
			len++;
		} else {
			if (len) {
				words++;
				if (bp->lang >= 0 && len <= sizeof(low) &&
				    cm_hset_find(&bp->stop[bp->lang], low, len))
					stops++;
				len = 0;
			}
			if (!c)
				break;
			if (k & M_SPACE) {
				if (!in_space)
					chars++;
				in_space = 1;
				continue;
			}
		}
		in_space = 0;
		chars += (k & M_CHAR) != 0;
		wide += (k & M_WIDE) != 0;
		if (k & M_PUNCT)
			punct++;
		else if (!(k & M_CJKP))
			;
		else if (c == 0xe3 && (unsigned char)s[1] == 0x80 &&
			 ((unsigned char)s[2] == 0x82 || (unsigned char)s[2] == 0x81))
			punct++;	/* 。、 */
		else if (c == 0xef && (unsigned char)s[1] == 0xbc &&
			 ((unsigned char)s[2] == 0x8c || (unsigned char)s[2] == 0x81 ||
			  (unsigned char)s[2] == 0x9f || (unsigned char)s[2] == 0x9b))
			punct++;	/* ，！？； */
	}
	m->text += (uint32_t)chars;
	m->wide += (uint32_t)wide;
	m->punct += (uint32_t)punct;
	m->words += (uint32_t)words;
	m->stops += (uint32_t)stops;
}

/* Pick the stop-word list: the page's lang attribute, else the list that matches most
 * words of its first few thousand characters. */
static void pick_language(cm_bp *bp, xmlNodePtr root, const char *lang)
{
	int i, best = -1;
	size_t hits[NLANG] = { 0 }, seen = 0;
	xmlNodePtr n;

	int declared = -1;

	bp->lang = -1;
	if (lang && *lang) {
		for (i = 0; i < bp->nlang; i++)
			if (cm_lower((unsigned char)lang[0]) == bp->lang_name[i][0] &&
			    cm_lower((unsigned char)lang[1]) == bp->lang_name[i][1] &&
			    (!lang[2] || lang[2] == '-' || lang[2] == '_'))
				declared = i;
	}
	for (n = root; n && seen < 8000; n = next_node(n, root, is_elem(n) && (I(n)->flags & F_DROP))) {
		const char *s;
		wordcut wc = { { 0 }, 0, 0 };

		if (!is_text(n) || !n->content)
			continue;
		for (s = (const char *)n->content;; s++) {
			unsigned char c = (unsigned char)*s;

			if (wc_feed(&wc, c, 0) && wc.done <= sizeof(wc.low)) {
				uint64_t h = cm_hset_key(wc.low, wc.done);

				uint32_t m = anystop_langs(bp, h);

				for (; m; m &= m - 1)
					hits[__builtin_ctz(m)]++;
			}
			if (!c)
				break;
			seen++;
		}
	}
	/* long lists (inflected languages) match more by chance: weigh by their size */
	{
		double best_v = 0;

		for (i = 0; i < bp->nlang; i++) {
			double v = (double)hits[i] / sqrt((double)(bp->stop[i].n + 1));

			if (hits[i] > 10 && (best < 0 || v > best_v)) {
				best = i;
				best_v = v;
			}
		}
	}
	/* the declared language, unless the text plainly is another (templates carry the
	 * site's default lang attribute on pages in other languages) */
	if (declared >= 0 && (best < 0 || hits[declared] * 2 >= hits[best]))
		best = declared;
	bp->lang = best;
}

/* ---- the passes ---- */

/* The cascade (cm_bp_extract): a first pass's text is too little for the page when it is
 * shorter than MIN_TEXT characters or than TOO_LITTLE of the page's text outside links (after
 * the drops), or when the page has less than MIN_PROSE characters of prose, or when its main
 * content was one paragraph widened to the parent that holds the rest; the second pass's
 * text replaces it when it is more than GAIN times as long. Where the text is still shorter
 * than MIN_TEXT, a third pass does without the class/id markers. */
#define MIN_TEXT 250
#define TOO_LITTLE 0.25
#define GAIN 1.25
#define MIN_PROSE 200	/* less: pick_main() falls back on the readability-style scores */



/* HTML's white space, which separates the names of a class or itemprop attribute */
static inline int html_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

/* Does the space-separated list s hold the name w (ASCII case folded)? */
static int has_name(const char *s, const char *w)
{
	size_t wl = strlen(w);

	while (s && *s) {
		size_t k;

		while (html_space(*s))
			s++;
		for (k = 0; s[k] && !html_space(s[k]); k++)
			;
		if (k == wl && strncasecmp(s, w, wl) == 0)
			return 1;
		s += k;
	}
	return 0;
}

/* Does the page declare n its article's body? schema.org microdata: itemprop="articleBody". */
static int is_article_body(xmlNodePtr n)
{
	return has_name(attr(n, "itemprop"), "articleBody");
}

/* Is n named a post's text by microformats? hAtom's entry-content (WordPress and Blogger
 * themes put it on every post's text) and microformats2's e-content. Widgets use them too
 * (a Twitter timeline marks each tweet entry-content), so this declares a body only where
 * it holds prose (declare()). */
static int is_entry_content(xmlNodePtr n)
{
	const char *cls = attr(n, "class");

	return has_name(cls, "entry-content") || has_name(cls, "e-content");
}

/* Mark the article body the page declares, and its ancestors, F_BODY (each once). */
static void mark_body(cm_bp *bp, struct info *in)
{
	for (; in && !(in->flags & F_BODY); in = in->parent >= 0 ? &bp->info[in->parent] : NULL)
		in->flags |= F_BODY;
}

static struct info *new_info(cm_bp *bp)
{
	if (bp->ninfo == bp->cap_info) {
		bp->cap_info = bp->cap_info ? bp->cap_info * 2 : 4096;
		bp->info = cm_xrealloc(bp->info, bp->cap_info * sizeof(*bp->info));
	}
	memset(&bp->info[bp->ninfo], 0, sizeof(*bp->info));
	return &bp->info[bp->ninfo++];
}

/* Give every element its info (pointers set after the array stops moving), and mark the
 * elements dropped for what they are. */
static void pass_mark(cm_bp *bp, xmlNodePtr root)
{
	xmlNodePtr n, article = NULL;
	size_t k = 0;
	int articles = 0;

	bp->ninfo = 0;
	for (n = root; n; n = next_node(n, root, 0))
		if (is_elem(n))
			new_info(bp);
	for (n = root; n; n = next_node(n, root, 0)) {
		struct info *in, *up;
		const char *role;

		if (!is_elem(n))
			continue;
		in = &bp->info[k++];
		n->_private = in;
		up = n != root && n->parent && is_elem(n->parent) ? I(n->parent) : NULL;
		in->parent = up ? (int32_t)(up - bp->info) : -1;
		in->depth = up ? (uint16_t)(up->depth + 1) : 0;
		if (up)
			in->flags |= up->flags & (F_LINK | F_INDECL);
		if (tag_is(n, "a"))
			in->flags |= F_LINK;
		if (tag_is(n, "table") || tag_is(n, "ul") || tag_is(n, "ol") || tag_is(n, "dl"))
			in->flags |= F_TABLIST;
		if (tag_is(n, "p") || tag_is(n, "li") || tag_is(n, "td") || tag_is(n, "blockquote") ||
		    tag_is(n, "pre") || tag_is(n, "dd"))
			in->flags |= F_PROSE;
		if (is_block_tag(bp, (const char *)n->name))
			in->flags |= F_BLOCK;
		if (up && (in->flags & F_BLOCK) && !tag_is(n, "br"))
			up->flags |= F_HASBLOCK;
		in->blk = !up || (in->flags & F_BLOCK) ? (int32_t)(in - bp->info) : up->blk;
		if (cm_hset_find(&bp->tags_drop, (const char *)n->name, strlen((const char *)n->name)) ||
		    ((role = attr(n, "role")) && cm_hset_find(&bp->roles_drop, role, strlen(role))) ||
		    is_hidden(n))
			in->flags |= F_DROP;
		/* the declared article body and its ancestors */
		if (is_article_body(n)) {
			mark_body(bp, in);
			in->flags |= F_DECL | F_INDECL;
		} else if (is_entry_content(n)) {
			in->flags |= F_DECL | F_INDECL;
		}
		if (tag_is(n, "article")) {
			articles++;
			article = n;
		}
	}
	/* the one <article> of a page is its article (where there are several, they are
	 * teasers, posts of a thread, comments), unless it holds little of the page's prose
	 * (declare()) */
	bp->article = NULL;
	if (articles == 1 && !(I(article)->flags & F_INDECL)) {
		bp->article = article;
		I(article)->flags |= F_DECL;
		for (n = article; n; n = next_node(n, article, 0))
			if (is_elem(n))
				I(n)->flags |= F_INDECL;
	}
}

static int teaser_like(xmlNodePtr c)
{
	const struct info *in = I(c);

	/* repeated <article>s are separate items by definition; other containers need a title
	 * link's share of text */
	return (tag_is(c, "article") || tag_is(c, "div") || tag_is(c, "section") || tag_is(c, "li")) &&
	       !(in->flags & F_DROP) && in->text >= 40 && in->text < 2 * TEASER_MAX &&
	       (in->link * 100 >= in->text * 15 || (tag_is(c, "article") && in->link > 0)) &&
	       attr(c, "class") && *attr(c, "class");
}

/* Which listing a teaser-like element may belong to: its tag and the first word of its class
 * (listing items differ further on: "post post-7816"). */
static uint64_t listing_key(xmlNodePtr c)
{
	const char *cls = attr(c, "class"), *e;

	while (*cls == ' ')
		cls++;
	for (e = cls; *e && *e != ' '; e++)
		;
	return XXH3_64bits_withSeed(cls, (size_t)(e - cls), XXH3_64bits(c->name, strlen((const char *)c->name)));
}

static int cmp_sib(const void *a, const void *b)
{
	const struct sib *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Listings: among an element's teaser-like children, those of one tag and first class word,
 * with no paragraph of prose between them, are teasers when there are three or more of them,
 * counted from the first one not already a teaser. Children are grouped by sorting, so a page of many siblings costs n log n. */
static void mark_listings(cm_bp *bp, xmlNodePtr root)
{
	xmlNodePtr n, c;

	for (n = root; n; n = next_node(n, root, is_elem(n) && (I(n)->flags & F_DROP))) {
		size_t k = 0, i, j, m;
		uint64_t run = 0;	/* paragraphs of prose seen among the children so far */

		if (!is_elem(n))
			continue;
		for (c = n->children; c; c = c->next) {
			if (is_elem(c) && tag_is(c, "p") && !(I(c)->flags & F_DROP)) {
				const struct info *ci = I(c);

				/* items between paragraphs of prose are parts of an article (embedded
				 * posts, figures), not a listing: a paragraph starts a new run */
				if (ci->text >= 80 && ci->punct >= 1 && ci->link * 10 < ci->text * 3)
					run++;
				continue;
			}
			if (!is_elem(c) || !teaser_like(c))
				continue;
			if (k == bp->cap_sib) {
				bp->cap_sib = bp->cap_sib ? bp->cap_sib * 2 : 64;
				bp->sib = cm_xrealloc(bp->sib, bp->cap_sib * sizeof(*bp->sib));
			}
			bp->sib[k].key = listing_key(c) ^ (run * 0x9e3779b97f4a7c15ULL);
			bp->sib[k].order = k;
			bp->sib[k].node = c;
			k++;
		}
		if (k < 3)
			continue;
		qsort(bp->sib, k, sizeof(*bp->sib), cmp_sib);
		for (i = 0; i < k; i = j) {
			for (j = i; j < k && bp->sib[j].key == bp->sib[i].key; j++)
				;
			for (m = i; m < j && (I(bp->sib[m].node)->flags & F_TEASER); m++)
				;
			if (j - m >= 3)
				for (; m < j; m++)
					I(bp->sib[m].node)->flags |= F_TEASER;
		}
	}
}

/* Does n have at least k <br> children? */
static int has_brs(xmlNodePtr n, int k)
{
	xmlNodePtr c;

	for (c = n->children; c && k > 0; c = c->next)
		if (tag_is(c, "br"))
			k--;
	return k == 0;
}

/* A block's length as prose: characters, each kana, CJK ideograph or Hangul syllable
 * counting as three (one carries about as much as a word of three letters and a space
 * does elsewhere: a paragraph of 30 of them is no label) */
static uint32_t prose_len(const struct info *in)
{
	return in->text + 2 * in->wide;
}

/* Does text (of which wide in kana, CJK, Hangul; punct sentence marks, link in links, words
 * words of which stops stop words) read as a paragraph of prose, as a <div> of inline content
 * must: 80 characters (a wide one three), two marks, under 30% links, a fifth stop words
 * where the language is known? */
static int div_prose(const cm_bp *bp, uint32_t text, uint32_t wide, uint32_t punct,
		     uint32_t link, uint32_t stops, uint32_t words)
{
	return text + 2 * wide >= 80 && punct >= 2 && link * 10 < text * 3 &&
	       (bp->lang < 0 || stops * 5 >= words);
}

static void pass_prose(cm_bp *bp);
static void declare(cm_bp *bp, xmlNodePtr root);

/* Measure every element bottom-up, leaving out what is dropped: text nodes count for their
 * parent, then each element's sums go to its parent, children first (the info array is in
 * document order, so backwards). */
static void pass_measure(cm_bp *bp, xmlNodePtr root)
{
	xmlNodePtr n;
	size_t k;
	int32_t ri = (int32_t)(I(root) - bp->info);

	for (k = 0; k < bp->ninfo; k++) {
		struct info *in = &bp->info[k];

		in->text = in->link = in->punct = in->words = in->stops = in->own = in->wide = 0;
		in->atext = in->alink = in->apunct = in->awords = in->astops = in->awide = 0;
	}
	for (n = root; n; n = next_node(n, root, is_elem(n) && (I(n)->flags & F_DROP))) {
		struct info *p, m;

		if (!is_text(n) || !n->content || !n->parent || !is_elem(n->parent))
			continue;
		p = I(n->parent);
		memset(&m, 0, sizeof(m));
		if (n->_private) {	/* measured by an earlier pass */
			const struct tmeasure *t = &bp->tm[(uintptr_t)n->_private - 1];

			m.text = t->text;
			m.wide = t->wide;
			m.punct = t->punct;
			m.words = t->words;
			m.stops = t->stops;
		} else {
			measure(bp, (const char *)n->content, &m);
			if (bp->ntm == bp->cap_tm) {
				bp->cap_tm = bp->cap_tm ? bp->cap_tm * 2 : 4096;
				bp->tm = cm_xrealloc(bp->tm, bp->cap_tm * sizeof(*bp->tm));
			}
			bp->tm[bp->ntm] = (struct tmeasure){ m.text, m.wide, m.punct, m.words, m.stops };
			n->_private = (void *)(uintptr_t)++bp->ntm;
		}
		p->text += m.text;
		p->punct += m.punct;
		p->words += m.words;
		p->stops += m.stops;
		p->wide += m.wide;
		p->own += m.text;
		if (p->flags & F_LINK)
			p->link += m.text;
		/* inline text in a block that has blocks of its own: in none of them */
		{
			/* the nearest block at or above the text's element, root at the highest */
			struct info *bi = p->blk < ri ? I(root) : &bp->info[p->blk];

			if ((bi->flags & (F_BLOCK | F_HASBLOCK)) == (F_BLOCK | F_HASBLOCK)) {
				bi->atext += m.text;
				bi->apunct += m.punct;
				bi->awords += m.words;
				bi->astops += m.stops;
				bi->awide += m.wide;
				if (p->flags & F_LINK)
					bi->alink += m.text;
			}
		}
	}
	for (k = bp->ninfo; k-- > 0;) {
		struct info *in = &bp->info[k], *p;

		if (in->parent < 0 || (in->flags & F_DROP))
			continue;
		p = &bp->info[in->parent];
		p->text += in->text;
		p->link += in->link;
		p->punct += in->punct;
		p->words += in->words;
		p->stops += in->stops;
		p->wide += in->wide;
	}
	/* a div whose text is mostly its own (not its blocks'), broken into lines by <br>s,
	 * is a paragraph too (as some sites write whole articles); in the cascade's second
	 * pass, any div, judged as a whole (the paragraphs of some pages are too short, or
	 * have no punctuation, to be prose one by one); a div of inline content alone, one that
	 * reads as prose, where three or more such are siblings (below). And teasers: a heading that is all
	 * link, and the text beside it, point to another page. (One walk for both: neither
	 * reads what the other sets.) */
	for (k = 0; k < bp->ninfo; k++) {
		bp->info[k].flags &= (uint16_t)~(F_TEASER | F_DIVP);
		bp->info[k].ndivp = 0;
	}
	for (n = root; n; n = next_node(n, root, is_elem(n) && (I(n)->flags & F_DROP))) {
		struct info *in;

		if (!is_elem(n))
			continue;
		in = I(n);
		if (tag_is(n, "div")) {
			if (bp->loose ||
			    (has_brs(n, 2) && (!(in->flags & F_HASBLOCK) || in->own * 2 >= in->text)))
				in->flags |= F_PROSE | F_LEAFDIV;
			else if (!(in->flags & F_HASBLOCK) && in->parent >= 0 &&
				 div_prose(bp, in->text, in->wide, in->punct, in->link, in->stops,
					   in->words)) {
				in->flags |= F_DIVP;
				if (bp->info[in->parent].ndivp < 255)
					bp->info[in->parent].ndivp++;
			}
			continue;
		}
		if (!is_heading(n) || n->name[1] == '1')
			continue;
		/* a small unit: a heading link and a line or two (an article's own title links
		 * to itself too, but sits over much more text) */
		if (in->text > 0 && in->link * 10 >= in->text * 8) {
			int32_t a;

			for (a = in->parent; a >= 0 && bp->info[a].text < TEASER_MAX; a = bp->info[a].parent)
				bp->info[a].flags |= F_TEASER;
		}
	}
	/* listings: three or more siblings of the same tag and class, each a small unit with a
	 * fair share of link text (a title), are teasers of other pages */
	mark_listings(bp, root);
	pass_prose(bp);
	declare(bp, root);
}

/* Which blocks read as prose: good and glink of every element, from the measured text. */
static void pass_prose(cm_bp *bp)
{
	size_t k;

	/* divs of inline content that read as paragraphs (as a leaf div must), three or more
	 * of them siblings: the page writes its paragraphs as divs (a lone one is as often a
	 * caption, a teaser's summary or an author's note); inside the body the page declares,
	 * any such div */
	for (k = 0; k < bp->ninfo; k++) {
		struct info *in = &bp->info[k];

		if ((in->flags & F_DIVP) && (bp->info[in->parent].ndivp >= 3 || (in->flags & F_INDECL)))
			in->flags |= F_PROSE | F_LEAFDIV;
	}
	/* prose: paragraph-like blocks of some length, few links, sentence punctuation */
	for (k = bp->ninfo; k-- > 0;) {
		struct info *in = &bp->info[k];

		in->good = in->glink = 0;
	}
	for (k = bp->ninfo; k-- > 0;) {
		struct info *in = &bp->info[k];

		if (in->flags & F_DROP)
			continue;
		if ((in->flags & F_PROSE) && prose_len(in) >= 80 && in->punct >= 1 &&
		    (in->link * 10 < in->text * 3 ||
		     /* linked prose (encyclopedias): sentences around the links */
		     (prose_len(in) >= 150 && in->link * 10 < in->text * 6 && in->punct >= 2 &&
		      bp->lang >= 0 && in->stops * 5 >= in->words)) &&
		    !in_teaser(bp, in) &&
		    (!(in->flags & F_LEAFDIV) || (in->punct >= 2 && (bp->lang < 0 || in->stops * 5 >= in->words)))) {
			in->good = in->text;
			in->glink = in->link;
		}
		/* the runs of inline text between a block's own blocks, taken together, as one
		 * paragraph, judged as a div of inline content is (an article written as text
		 * and <br>s around a <p> or a heading or two) */
		if (!(in->flags & F_PROSE) && !in_teaser(bp, in) &&
		    div_prose(bp, in->atext, in->awide, in->apunct, in->alink, in->astops, in->awords)) {
			in->good += in->atext;
			in->glink += in->alink;
		}
		/* the second pass: a table or a list of few links is content as a whole (a page
		 * whose article is a table of results, a list of steps) */
		if (bp->loose && (in->flags & F_TABLIST) && in->text >= 80 && in->link * 10 < in->text * 3) {
			in->good = in->text;
			in->glink = in->link;
		}
		if (in->parent >= 0) {
			bp->info[in->parent].good += in->good;
			bp->info[in->parent].glink += in->glink;
		}
	}
}

/* The bodies the page declares, once their prose is known: the one <article> only where it
 * holds a quarter of the page's prose (its marks undone otherwise, and the prose judged
 * again); bp->declared counts those that hold prose (the outermost), and F_BODY goes on those
 * with 200 characters of it and what holds them (no class marker drops them). */
static void declare(cm_bp *bp, xmlNodePtr root)
{
	xmlNodePtr n, a = bp->article;

	if (a && (I(a)->flags & F_DECL) && I(a)->good * 4 < I(root)->good) {
		I(a)->flags &= (uint16_t)~(F_DECL | F_INDECL);
		for (n = a; n; n = next_node(n, a, n != a && is_elem(n) && (I(n)->flags & F_DECL))) {
			struct info *in;

			if (!is_elem(n) || n == a || (I(n)->flags & F_DECL))
				continue;
			in = I(n);
			in->flags &= (uint16_t)~F_INDECL;
			/* a lone div of prose was a paragraph for being inside it */
			if ((in->flags & F_DIVP) && bp->info[in->parent].ndivp < 3)
				in->flags &= (uint16_t)~(F_PROSE | F_LEAFDIV);
		}
		pass_prose(bp);
	}
	bp->declared = 0;
	for (n = root; n; n = next_node(n, root, is_elem(n) && (I(n)->flags & F_DROP))) {
		if (!is_elem(n) || !(I(n)->flags & F_DECL) || !I(n)->good)
			continue;
		if (I(n)->parent < 0 || !(bp->info[I(n)->parent].flags & F_INDECL))
			bp->declared++;
		if (I(n)->good >= MIN_PROSE)
			mark_body(bp, I(n));
	}
}

/* Drop by class/id marker, and the tags that are boilerplate unless they hold the page
 * (header, form, ...): decided once the text is measured. */
static int pass_markers(cm_bp *bp, xmlNodePtr root)
{
	int dropped = 0;

	xmlNodePtr n;
	uint32_t total = I(root)->text, good = I(root)->good;

	for (n = root; n; n = next_node(n, root, is_elem(n) && (I(n)->flags & F_DROP))) {
		struct info *in;
		const char *cls, *id, *role;
		int hit = 0;

		if (!is_elem(n) || n == root)
			continue;
		in = I(n);
		if (tag_is(n, "body") || tag_is(n, "html") || tag_is(n, "main") || tag_is(n, "article"))
			continue;
		/* the article body the page declares, and what holds it, whatever they are called
		 * (a share bar's wrapper around the article, a byline's span left open) */
		if (in->flags & F_BODY)
			continue;
		cls = attr(n, "class");
		id = attr(n, "id");
		if (cls || id) {
			int d = marker_of(bp, n, 0, cls, id);

			if (d == 2)
				hit = 2;
			else if (d == 1 && !marker_of(bp, n, 1, cls, id))
				hit = 1;
		}
		if (!hit && cm_hset_find(&bp->tags_maybe, (const char *)n->name, strlen((const char *)n->name)))
			hit = 1;
		if (!hit && (role = attr(n, "role")) && cm_hset_find(&bp->roles_maybe, role, strlen(role)))
			hit = 1;
		/* a wrapper holding most of the page, or much of its prose, is no boilerplate,
		 * whatever it is called */
		if (hit == 1 && ((in->text * 2 > total && in->text > 200) || (good && in->good * 3 > good)))
			hit = 0;
		/* a strong marker (comments, related stories...) yields only to a wrapper of
		 * nearly everything */
		if (hit == 2 && in->text * 4 > total * 3 && in->text > 200)
			hit = 0;
		if (hit) {
			in->flags |= F_DROP;
			dropped = 1;
			if (in->text > 200 && bp->debug)
				fprintf(stderr, "drop %s class=%.60s id=%.40s text=%u\n", n->name,
					cls ? cls : "", id ? id : "", in->text);
		}
	}
	return dropped;
}

static float class_weight(cm_bp *bp, xmlNodePtr n)
{
	const char *cls = attr(n, "class"), *id = attr(n, "id");
	float w = 0;

	if (!cls && !id)
		return 0;
	if (marker_of(bp, n, 1, cls, id))
		w += 25;
	if (marker_of(bp, n, 0, cls, id))
		w -= 25;
	return w;
}

/* Score paragraphs and give the score to their ancestors; returns the best container. */
static xmlNodePtr pass_score(cm_bp *bp, xmlNodePtr root)
{
	xmlNodePtr n, best = NULL;
	float best_score = 0;

	for (n = root; n; n = next_node(n, root, is_elem(n) && (I(n)->flags & F_DROP))) {
		struct info *in;
		float s;
		xmlNodePtr a;
		int level;

		if (!is_elem(n))
			continue;
		in = I(n);
		if (!(tag_is(n, "p") || tag_is(n, "pre") || tag_is(n, "td") || tag_is(n, "blockquote") ||
		      tag_is(n, "li") || tag_is(n, "dd") || tag_is(n, "section") ||
		      ((tag_is(n, "div") || tag_is(n, "span") || tag_is(n, "font")) && in->text > 0)))
			continue;
		if (tag_is(n, "div") || tag_is(n, "section") || tag_is(n, "span") || tag_is(n, "font")) {
			/* a div counts as a paragraph only for text that is its own */
			xmlNodePtr c;
			int own = 0;

			for (c = n->children; c; c = c->next)
				if (is_text(c) && c->content && strlen((const char *)c->content) > 25) {
					own = 1;
					break;
				}
			if (!own)
				continue;
		}
		if (in->text < 25)
			continue;
		s = 1.0f + (float)in->punct;
		s += in->text / 100 > 3 ? 3.0f : (float)(in->text / 100);
		if (in->words && bp->lang >= 0)
			s *= 0.5f + 2.0f * (float)in->stops / (float)in->words;
		s *= 1.0f - link_density(in);
		for (a = n->parent, level = 0; a && is_elem(a) && level < 5; a = a->parent, level++) {
			struct info *ai = I(a);

			if (!ai->scored) {
				ai->scored = 1;
				ai->score += class_weight(bp, a);
				if (tag_is(a, "article") || tag_is(a, "main"))
					ai->score += 10;
			}
			ai->score += level == 0 ? s : level == 1 ? s / 2 : s / (float)(level * 3);
			if (a == root)
				break;
		}
	}
	for (n = root; n; n = next_node(n, root, is_elem(n) && (I(n)->flags & F_DROP))) {
		struct info *in;
		float s;

		if (!is_elem(n) || !I(n)->scored)
			continue;
		in = I(n);
		s = in->score * (1.0f - link_density(in));
		if (!best || s > best_score) {
			best = n;
			best_score = s;
		}
	}
	return best;
}

/* The main content: the element with the most prose for the least else, where prose is
 * text in paragraph-like blocks that read as sentences. Clutter (other text, links) costs
 * more in precision mode and less in recall mode. Pages without prose fall back to the
 * best readability-style score. */
static xmlNodePtr pick_main(cm_bp *bp, xmlNodePtr root, xmlNodePtr scored)
{
	float beta = bp->o.mode == CM_BP_PRECISION ? 0.4f : bp->o.mode == CM_BP_RECALL ? 0.1f : 0.2f;
	float best_v = 0;
	xmlNodePtr n, best = NULL;

	for (n = root; n; n = next_node(n, root, is_elem(n) && (I(n)->flags & F_DROP))) {
		struct info *in;
		float v;

		if (!is_elem(n))
			continue;
		in = I(n);
		/* where the page declares its article's text and that holds prose, the main
		 * content is that or what it holds; where it declares several (the posts of a
		 * blog's page), what holds them too (declare()) */
		if (!in->good || (bp->declared &&
				  !(in->flags & (bp->declared > 1 ? F_BODY | F_INDECL : F_INDECL))))
			continue;
		/* link text outside prose costs fully, other text that is not prose a little */
		{
			float other_link = (float)(in->link > in->glink ? in->link - in->glink : 0);
			float rest = (float)in->text - (float)in->good - other_link;

			v = (float)in->good - other_link - beta * (rest > 0 ? rest : 0);
		}
		if (!best || v > best_v) {
			best = n;
			best_v = v;
		}
	}
	if (!best || I(root)->good < MIN_PROSE)
		return scored ? scored : root;
	/* a table's row group is no container of its own: the table is (its rows are written
	 * as rows, cells side by side, and its caption with them) */
	while (best != root && best->parent && is_elem(best->parent) &&
	       (tag_is(best, "tbody") || tag_is(best, "thead") || tag_is(best, "tfoot")))
		best = best->parent;
	/* one paragraph is no article: where the best is a single paragraph-like block and its
	 * parent holds half as much prose again (the rest of the article beside it, a
	 * link-dense line of credits or tags between them), the parent is the main content; and
	 * the cascade runs all the same (what else the article holds, such as lists of links,
	 * only the second pass's judgement keeps) */
	if ((I(best)->flags & F_PROSE) && !tag_is(best, "td") && best != root && best->parent &&
	    is_elem(best->parent) && I(best->parent)->good * 2 >= I(best)->good * 3) {
		bp->one_para |= !bp->loose;
		return best->parent;
	}
	return best;
}

/* CRAWL2LM_BP_DEBUG: the best-scoring containers, for tuning. */
static void debug_candidates(cm_bp *bp, xmlNodePtr root, xmlNodePtr best)
{
	xmlNodePtr n;

	fprintf(stderr, "lang %s; best %s\n", bp->lang >= 0 ? bp->lang_name[bp->lang] : "-",
		best ? (const char *)best->name : "-");
	for (n = root; n; n = next_node(n, root, is_elem(n) && (I(n)->flags & F_DROP))) {
		struct info *in;
		const char *c, *id;

		if (!is_elem(n) || !I(n)->scored)
			continue;
		in = I(n);
		if (in->score < 5)
			continue;
		c = attr(n, "class");
		id = attr(n, "id");
		fprintf(stderr, "%*s%s class=%.40s id=%.30s score=%.1f text=%u good=%u link=%.2f%s\n",
			in->depth, "", n->name, c ? c : "", id ? id : "", in->score, in->text, in->good,
			link_density(in), n == best ? " <== best" : "");
	}
}

/* ---- the whole ---- */

static void normalise_into(cm_buf *out, const char *s, size_t max)
{
	int space = 0;

	for (; *s && out->len < max; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
			space = out->len > 0;
			continue;
		}
		if (space)
			cm_buf_addc(out, ' ');
		space = 0;
		cm_buf_addc(out, (char)c);
	}
}

static void get_title(xmlNodePtr root, cm_buf *title)
{
	xmlNodePtr n, h1 = NULL;

	for (n = root; n; n = next_node(n, root, 0)) {
		if (tag_is(n, "title") && !title->len) {
			xmlChar *s = xmlNodeGetContent(n);

			if (s) {
				normalise_into(title, (const char *)s, 1000);
				xmlFree(s);
			}
			if (title->len)
				return;
		}
		if (!h1 && tag_is(n, "h1"))
			h1 = n;
	}
	if (h1) {
		xmlChar *s = xmlNodeGetContent(h1);

		if (s) {
			normalise_into(title, (const char *)s, 1000);
			xmlFree(s);
		}
	}
}

static void valid_utf8(cm_bp *bp, cm_buf *b)
{
	cm_buf t;

	if (!b->len || cm_utf8_valid(b->p, b->len))
		return;
	cm_buf_reset(&bp->tmp);
	cm_utf8_repair(b->p, b->len, &bp->tmp);
	t = *b;
	*b = bp->tmp;
	bp->tmp = t;
}

/* The page without its NUL bytes: libxml2 2.9 ends the document at the first one (its content
 * loop reads NUL as the end of the input). HTML5 ignores NUL in text too. */
static void drop_nul(cm_buf *out, const char *s, size_t n)
{
	const char *z;

	cm_buf_reset(out);
	cm_buf_grow(out, n);
	while (n && (z = memchr(s, '\0', n))) {
		cm_buf_add(out, s, (size_t)(z - s));
		n -= (size_t)(z - s) + 1;
		s = z + 1;
	}
	cm_buf_add(out, s, n);
}

/* Move what the parser put after the body into it (body may be the root), where a browser
 * shows it: after </body> libxml2 2.9 adds elements to <html> beside the body, and after
 * </html> a second <html> (a child of the first, or a second root after a doctype). */
static void gather_into_body(xmlNodePtr root, xmlNodePtr body)
{
	xmlNodePtr n, next;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		for (n = pass ? root->next : body->next; n; n = next) {
			next = n->next;
			if (!is_elem(n) && !is_text(n))
				continue;
			xmlUnlinkNode(n);
			xmlAddChild(body, n);	/* may merge a text node into body->last and free it */
		}
	}
}

static size_t count_chars(const cm_buf *b)
{
	size_t i, k = 0;

	for (i = 0; i < b->len; i++)
		k += ((unsigned char)b->p[i] & 0xc0) != 0x80;
	return k;
}


/* One pass: measure, drop by marker, find the main content and write it into out. */
static void extract_pass(cm_bp *bp, xmlNodePtr body, cm_buf *out)
{
	xmlNodePtr best, main;

	cm_buf_reset(out);
	cm_buf_grow(out, 256);	/* the writer trims in place */
	pass_measure(bp, body);
	if (!bp->loose)
		bp->prose_before = I(body)->good;
	if ((!bp->loose || !bp->markers_took_prose) && pass_markers(bp, body))
		pass_measure(bp, body);
	if (!bp->loose) {
		bp->markers_took_prose = I(body)->good * 2 < bp->prose_before;
	}
	best = pass_score(bp, body);
	main = pick_main(bp, body, best);
	if (bp->debug)
		debug_candidates(bp, body, main);
	cm_bp_write(bp, main, out);
	while (out->len && (out->p[out->len - 1] == '\n' || out->p[out->len - 1] == ' '))
		out->len--;
	if (out->cap)
		out->p[out->len] = '\0';
}

/* --whole-page: every element of the body kept but what a browser does not show as text */
static const char *const unshown_tags[] = {
	"head", "script", "style", "noscript", "template", "link", "meta", "base", "title",
	"svg", "canvas", "iframe", "frame", "frameset", "object", "embed", "applet", "audio",
	"video",
};

/* Drop only what a browser does not show (after pass_mark(), which drops more). */
static void drop_unshown(xmlNodePtr body)
{
	xmlNodePtr n;

	for (n = body; n; n = next_node(n, body, 0)) {
		size_t i;

		if (!is_elem(n))
			continue;
		I(n)->flags &= (uint16_t)~F_DROP;
		for (i = 0; i < sizeof(unshown_tags) / sizeof(*unshown_tags); i++)
			if (tag_is(n, unshown_tags[i]))
				I(n)->flags |= F_DROP;
		if (is_hidden(n))
			I(n)->flags |= F_DROP;
	}
}

static void whole_page(cm_bp *bp, xmlNodePtr root, xmlNodePtr body, cm_buf *out)
{
	pass_mark(bp, root);
	drop_unshown(body);
	cm_bp_write(bp, body, out);
	while (out->len && (out->p[out->len - 1] == '\n' || out->p[out->len - 1] == ' '))
		out->len--;
	if (out->cap)
		out->p[out->len] = '\0';
}

static int too_little(cm_bp *bp, xmlNodePtr body, size_t chars)
{
	const struct info *in = I(body);
	size_t rest = in->text > in->link ? in->text - in->link : 0;

	if (chars < MIN_TEXT || (double)chars < TOO_LITTLE * (double)rest)
		return 1;
	/* the first pass widened one paragraph to its parent (pick_main()): what else the
	 * article holds, the second pass judges */
	if (bp->one_para)
		return 1;
	/* no prose (paragraphs that read as sentences) found: the first pass fell back on the
	 * readability-style scores; the second reads paragraphs more broadly */
	return in->good < MIN_PROSE;
}

int cm_bp_extract(cm_bp *bp, const char *html, size_t n, const char *url, cm_bp_result *r)
{
	htmlDocPtr doc;
	xmlNodePtr root, body;
	const char *lang = NULL;

	cm_buf_reset(&r->text);
	cm_buf_reset(&r->title);
	cm_buf_grow(&r->text, 256);	/* the writer trims in place */
	cm_buf_grow(&r->title, 64);
	r->lang[0] = '\0';
	r->text_chars = 0;
	r->parse_error = 0;
	r->flags = bp->flags = 0;
	if (n > INT32_MAX) {
		r->parse_error = 1;
		return -1;
	}
	if (memchr(html, '\0', n)) {
		drop_nul(&bp->nonul, html, n);
		html = bp->nonul.p;
		n = bp->nonul.len;
		bp->flags |= CM_BP_NUL;
	}
	if (bp->lighten && cm_html_lighten(html, n, read_attrs, &bp->light)) {
		html = bp->light.p;
		n = bp->light.len;
	}
	htmlCtxtReset(bp->ctxt);
	doc = htmlCtxtReadMemory(bp->ctxt, html, (int)n, url, "UTF-8",
				 HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
				 HTML_PARSE_NONET | HTML_PARSE_COMPACT | HTML_PARSE_NODEFDTD |
				 HTML_PARSE_IGNORE_ENC | XML_PARSE_HUGE);
	/* the parser halts (xmlHaltParser(), an out-of-memory error) by disabling SAX: what it
	 * built so far is kept, and the page is flagged */
	if (bp->ctxt->disableSAX)
		bp->flags |= CM_BP_STOPPED;
	r->flags = bp->flags;
	if (!doc || !(root = xmlDocGetRootElement(doc))) {
		if (doc)
			xmlFreeDoc(doc);
		r->parse_error = 1;
		return -1;
	}
	if (tag_is(root, "html") && (lang = attr(root, "lang"))) {
		size_t k = 0;

		while (*lang == ' ')
			lang++;
		for (; lang[k] && lang[k] != ' ' && k + 1 < sizeof(r->lang); k++)
			r->lang[k] = lang[k];
		r->lang[k] = '\0';
	}
	for (body = root->children; body && !tag_is(body, "body"); body = body->next)
		;
	if (!body)
		body = root;
	gather_into_body(root, body);
	get_title(root, &r->title);
	if (bp->o.mode == CM_BP_WHOLE) {
		whole_page(bp, root, body, &r->text);
		r->text_chars = count_chars(&r->text);
		goto done;
	}

	pass_mark(bp, root);
	marker_reset(bp);
	bp->ntm = 0;
	pick_language(bp, body, r->lang);
	bp->loose = 0;
	bp->one_para = 0;
	extract_pass(bp, body, &r->text);
	r->text_chars = count_chars(&r->text);
	if (too_little(bp, body, r->text_chars)) {
		size_t c2;

		/* the second pass: afresh, with the looser judgement (bp->loose) */
		bp->loose = 1;
		/* where the markers took most of the prose and left the page next to no text
		 * outside links, the page is what they mark (an FAQ of collapsed answers, a
		 * thread of posts called comments): the second pass keeps it */
		bp->markers_took_prose &= I(body)->text - I(body)->link < MIN_TEXT;
		{
			size_t before = bp->ninfo;

			pass_mark(bp, root);
			if (bp->ninfo != before)
				marker_reset(bp);
		}
		extract_pass(bp, body, &bp->alt);
		c2 = count_chars(&bp->alt);
		if (bp->debug)
			fprintf(stderr, "cascade: %zu characters -> %zu\n", r->text_chars, c2);
		if ((double)c2 > GAIN * (double)r->text_chars) {
			cm_buf t = r->text;

			r->text = bp->alt;
			bp->alt = t;
			r->text_chars = c2;
		}
		/* still too little: the markers may have taken the article (a share bar or a
		 * byline wrapped around it); the third pass does without them (not in precision
		 * mode: it would take what they mark, a thread of comments as often) */
		if (r->text_chars < MIN_TEXT && !bp->markers_took_prose && bp->o.mode != CM_BP_PRECISION) {
			bp->markers_took_prose = 1;
			pass_mark(bp, root);
			extract_pass(bp, body, &bp->alt);
			c2 = count_chars(&bp->alt);
			if (bp->debug)
				fprintf(stderr, "cascade, no markers: %zu characters -> %zu\n", r->text_chars, c2);
			if ((double)c2 > GAIN * (double)r->text_chars) {
				cm_buf t = r->text;

				r->text = bp->alt;
				bp->alt = t;
				r->text_chars = c2;
			}
		}
		bp->loose = 0;
	}
	/* nothing at all: the page's text may all be in what the passes drop for what it is (a
	 * page that is one <aside> or <footer>); the last pass drops only what a browser does
	 * not show, uses no markers, and keeps what reads as content there (not with
	 * --precision; a page of navigation alone stays empty) */
	if (!r->text_chars && bp->o.mode != CM_BP_PRECISION) {
		size_t c2;

		bp->loose = 1;
		bp->markers_took_prose = 1;
		pass_mark(bp, root);
		drop_unshown(body);
		extract_pass(bp, body, &bp->alt);
		bp->loose = 0;
		c2 = count_chars(&bp->alt);
		if (bp->debug)
			fprintf(stderr, "cascade, nothing dropped for what it is: 0 characters -> %zu\n", c2);
		if (c2) {
			cm_buf t = r->text;

			r->text = bp->alt;
			bp->alt = t;
			r->text_chars = c2;
		}
	}
done:
	/* libxml2 reads undecodable bytes as Latin-1 or passes them on: the text must be
	 * valid UTF-8 whatever came in */
	if (!cm_utf8_valid(r->text.p ? r->text.p : "", r->text.len)) {
		valid_utf8(bp, &r->text);
		r->text_chars = count_chars(&r->text);
	}
	valid_utf8(bp, &r->title);
	xmlFreeDoc(doc);
	return 0;
}

void cm_bp_meta(cm_jw *w, const cm_bp_result *r, size_t html_bytes)
{
	cm_jw_obj(w);
	cm_jw_key_strn(w, "title", r->title.len ? r->title.p : "", r->title.len);
	cm_jw_key_uint(w, "html_bytes", html_bytes);
	cm_jw_key_uint(w, "text_chars", r->text_chars);
	cm_jw_key_str(w, "lang", r->lang);
	if (r->flags) {
		int i;

		cm_jw_key(w, "flags");
		cm_jw_arr(w);
		for (i = 0; i < CM_BP_NFLAGS; i++)
			if (r->flags & (1u << i))
				cm_jw_str(w, cm_bp_flag_names[i]);
		cm_jw_end(w, ']');
	}
	cm_jw_end(w, '}');
}

const char *cm_bp_verdict(const cm_bp_result *r, const cm_bp_opts *o)
{
	if (r->parse_error)
		return "unparsable";
	if (r->text_chars < o->min_chars)
		return r->text_chars ? "too_short" : "no_text";
	return NULL;
}

void cm_bp_opts_default(cm_bp_opts *o)
{
	o->mode = CM_BP_BALANCED;
	o->format = CM_BP_TEXT;
	o->min_chars = 1;
}

const cm_opt *cm_bp_option_table(cm_bp_opts *o)
{
	static const char *const formats[] = { "text", "markdown", NULL };	/* enum cm_bp_format */
	static cm_opt t[6];

	t[0] = (cm_opt)CM_OPT_CHOICE(0, "format", &o->format, "FORMAT", formats, "text (default) or markdown");
	t[1] = (cm_opt)CM_OPT_SET(0, "precision", &o->mode, CM_BP_PRECISION,
				  "leave out more: only what is surely main content");
	t[2] = (cm_opt)CM_OPT_SET(0, "recall", &o->mode, CM_BP_RECALL,
				  "keep more: everything that may be main content");
	t[3] = (cm_opt)CM_OPT_SET(0, "whole-page", &o->mode, CM_BP_WHOLE,
				  "no boilerplate removal: the visible text of the whole page");
	t[4] = (cm_opt)CM_OPT_INT(0, "min-chars", &o->min_chars, "N", 0, 1LL << 40,
				  "drop records whose text is shorter (default: 1)");
	t[5] = (cm_opt)CM_OPT_END();
	return t;
}
