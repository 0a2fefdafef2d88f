/* bp_impl.h - the main-text extractor's state and tree helpers, shared by boilerplate.c (the
 * passes that find the main content) and bpwrite.c (writing it out); users include
 * boilerplate.h.
 */
#ifndef CM_BP_IMPL_H
#define CM_BP_IMPL_H
#include <stdint.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "boilerplate.h"
#include "buf.h"
#include "hset.h"

/* Class/id markers (data/boilerplate/README.md): "marker" matches as a substring of the
 * lower-cased value, "=marker" as a whole word of it (words split at space, '-' and '_'),
 * and a leading '!' makes it strong: it drops even where a keep marker matches. */
typedef struct markers {
	cm_hset tokens[2];		/* [0] weak, [1] strong */
	char **subs[2];
	size_t *sublen[2];	/* strlen of each of subs */
	size_t nsubs[2];
	uint32_t first[2][257];	/* subs sorted (markers_index()): those starting with byte c
				 * are [first[c], first[c + 1]) */
	uint8_t bigram[2][8192];	/* bit set: a substring marker starts with these two bytes */
} markers;

/* Class tokens to leave out before matching (CMS slugs such as "category-social"). */
typedef struct prefixes {
	char **p;
	size_t *len;		/* strlen of each */
	size_t n;
	uint8_t first[256];	/* a prefix starts with this byte (either case) */
} prefixes;

/* per-element facts */

enum {
	F_DROP = 1,		/* removed with its content */
	F_LINK = 2,		/* an <a> or inside one */
	F_BLOCK = 4,		/* a block-level element */
	F_PROSE = 32,		/* a paragraph-like element: p, li, td, blockquote, pre, dd */
	F_HASBLOCK = 64,	/* has block-level children */
	F_LEAFDIV = 128,	/* prose by shape only (a div of inline content): judged harder */
	F_TEASER = 256,		/* holds a heading that is all link: a teaser of another page */
	F_TABLIST = 512,	/* a table or a list */
	F_BODY = 1024,		/* the article body the page declares, or holds it (declared_bodies()) */
	F_DIVP = 2048,		/* a div of inline content that reads as a paragraph on its own */
	F_DECL = 4096,		/* the page names it its article's or a post's text (is_declared()) */
	F_INDECL = 8192,	/* a declared body (articleBody, F_DECL) or inside one */
};

struct info {
	uint32_t text;		/* characters of text below (dropped parts excluded) */
	uint32_t own;		/* of which in its own text nodes (not its children's) */
	uint32_t wide;		/* of which kana, CJK ideographs, Hangul (U+3000-U+DFFF) */
	uint32_t link;		/* of which inside links */
	uint32_t punct;		/* sentence punctuation */
	uint32_t words, stops;	/* words, and stop words among them */
	uint32_t good;		/* characters in paragraph-like blocks that read as prose */
	uint32_t glink;		/* of which link text */
	/* text in an element with block children that is in none of them (runs of inline
	 * content between its blocks: what a browser sets as anonymous paragraphs) */
	uint32_t atext, alink, apunct, awords, astops, awide;
	float score;		/* content score given by blocks below */
	int32_t parent;		/* index of the parent's info, -1 for the root */
	int32_t blk;		/* index of the nearest block-level element, itself or above */
	uint16_t depth;
	uint16_t flags;
	uint8_t scored;
	uint8_t ndivp;		/* children with F_DIVP (up to 255) */
};

#define NLANG 20
#define TEASER_MAX 600	/* characters: more is no teaser */

struct cm_bp {
	cm_bp_opts o;
	htmlParserCtxtPtr ctxt;
	cm_hset stop[NLANG];
	/* the words of all the stop-word lists, each with the languages whose list holds it
	 * (bit i: stop[i]), to guess a page's language at one probe a word */
	cm_hset anystop;
	uint32_t *anystop_langs;	/* by anystop's slot */
	char lang_name[NLANG][8];
	int nlang;
	cm_hset tags_drop, tags_maybe, roles_drop, roles_maybe, phrases, blocks;
	markers drop, keep;
	prefixes ignore;
	struct info *info;
	size_t ninfo, cap_info;
	uint8_t *mk;		/* per element (info index): its class/id markers once known
				 * (marker_memo()), kept for the second pass (same tree) */
	size_t cap_mk;
	struct tmeasure {	/* a text node's measure (measure()), kept for the next passes:
				 * the node's _private is its index + 1 */
		uint32_t text, wide, punct, words, stops;
	} *tm;
	size_t ntm, cap_tm;
	int debug;		/* CRAWL2LM_BP_DEBUG set */
	uint8_t mclass[256];	/* measure(): what each byte is (M_ flags) */
	xmlNodePtr *stack;
	size_t cap_stack;
	struct sib {		/* mark_listings(): children by listing, in order */
		uint64_t key;
		size_t order;
		xmlNodePtr node;
	} *sib;
	size_t cap_sib;
	int lang;		/* stop-word list in use for this page, -1 none */
	int loose;		/* the second pass of the cascade (cm_bp_extract): looser judgement */
	int markers_took_prose;	/* the first pass's class/id markers dropped most of the prose */
	xmlNodePtr article;	/* the page's one <article> (pass_mark), or NULL */
	int declared;		/* the declared bodies that hold prose (pass_measure) */
	uint32_t prose_before;	/* prose before those drops */
	int one_para;		/* the first pass's main content is one paragraph of several */
	int lighten;		/* leave out what the parser would read for nothing (htmlpre.h) */
	cm_buf tmp, light, nonul, alt;
	startElementSAXFunc sax_start;	/* the parser's own tree builders, wrapped */
	endElementSAXFunc sax_end;
	unsigned flags;		/* the page's CM_BP_ flags so far */
};

/* tree helpers */

static inline struct info *I(xmlNodePtr n)
{
	return n->_private;
}

static inline int is_elem(xmlNodePtr n)
{
	return n->type == XML_ELEMENT_NODE;
}

static inline int is_text(xmlNodePtr n)
{
	return n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE;
}

static inline int tag_is(xmlNodePtr n, const char *name)
{
	return is_elem(n) && n->name[0] == (xmlChar)name[0] && strcmp((const char *)n->name, name) == 0;
}

/* An attribute's value without copying (NULL when absent or not plain text). */
static inline const char *attr(xmlNodePtr n, const char *name)
{
	xmlAttrPtr a;

	for (a = n->properties; a; a = a->next)
		if (a->name && strcmp((const char *)a->name, name) == 0)
			return a->children && a->children->type == XML_TEXT_NODE ?
			       (const char *)a->children->content : "";
	return NULL;
}

/* Next node in document order (pre-order); skip_children to step over n's subtree. */
static inline xmlNodePtr next_node(xmlNodePtr n, xmlNodePtr root, int skip_children)
{
	if (!skip_children && n->children && is_elem(n))
		return n->children;
	while (n && n != root) {
		if (n->next)
			return n->next;
		n = n->parent;
	}
	return NULL;
}

static inline int is_heading(xmlNodePtr n)
{
	const char *s = (const char *)n->name;

	return is_elem(n) && s[0] == 'h' && s[1] >= '1' && s[1] <= '6' && !s[2];
}

/* measures of the passes that the writer judges blocks by again */

static inline float link_density(const struct info *in)
{
	return in->text ? (float)in->link / (float)in->text : 0.0f;
}

/* Is this block (or its parent or grandparent) a small unit around a heading that links
 * elsewhere? */
static inline int in_teaser(const cm_bp *bp, const struct info *in)
{
	const struct info *p;

	if (in->flags & F_TEASER)
		return 1;
	if (in->parent < 0)
		return 0;
	p = &bp->info[in->parent];
	if (p->flags & F_TEASER)
		return 1;
	return p->parent >= 0 && (bp->info[p->parent].flags & F_TEASER);
}

/* Write the blocks of main (bpwrite.c) into out, as bp's options say. */
void cm_bp_write(cm_bp *bp, xmlNodePtr main, cm_buf *out);
#endif
