/* boilerplate.h - a page's main text: HTML in, the text a reader came for out.
 *
 * The page is parsed with libxml2's HTML parser (recover mode, never the network). Elements
 * that are boilerplate by tag, ARIA role, class or id (lists in data/boilerplate/) or hidden
 * are removed; the blocks left are scored on general signals (text length, link density,
 * punctuation, stop words, structure) to find the main content, whose blocks are written as
 * text: headings, paragraphs, "- " list items, tab-separated table cells, pre verbatim,
 * blocks separated by a blank line. A library function: boilerplate-strip and warc-extract
 * (--text) share it.
 *
 * No text is lost to the parser's limits: NUL bytes are left out before parsing (libxml2
 * stops at the first); elements nested deeper than CM_BP_MAX_DEPTH open in place of the
 * innermost open element instead of inside it (libxml2 stops at 256 levels, and its scans of
 * the open elements grow with the depth); text nodes may be any size (XML_PARSE_HUGE; the
 * default stops at 10 MB); content after </body> or </html> is moved into the body, where a
 * browser shows it. A result says which of these a page needed (cm_bp_result.flags).
 */
#ifndef CM_BOILERPLATE_H
#define CM_BOILERPLATE_H

#include <stddef.h>

#include "opt.h"

#include "buf.h"

/* CM_BP_WHOLE: no boilerplate removal, the visible text of the whole page (cm_bp_extract) */
enum cm_bp_mode { CM_BP_BALANCED, CM_BP_PRECISION, CM_BP_RECALL, CM_BP_WHOLE };
enum cm_bp_format { CM_BP_TEXT, CM_BP_MARKDOWN };

typedef struct cm_bp_opts {
	enum cm_bp_mode mode;
	enum cm_bp_format format;
	size_t min_chars;	/* shorter texts are dropped (see cm_bp_verdict) */
} cm_bp_opts;

/* Defaults: balanced, text, min_chars 1. */
void cm_bp_opts_default(cm_bp_opts *o);
/* The extraction options both boilerplate-strip and warc-extract --text take (--format,
 * --precision, --recall, --min-chars), as rows of an option table writing into o (opt.h):
 * include it with CM_OPT_INCLUDE. One table a process: it is static. */
const cm_opt *cm_bp_option_table(cm_bp_opts *o);

/* Elements open at once; deeper ones are flattened (see above). */
#define CM_BP_MAX_DEPTH 256

/* What a page needed: cm_bp_result.flags, bit i named cm_bp_flag_names[i]. */
enum {
	CM_BP_DEEP = 1,		/* nested deeper than CM_BP_MAX_DEPTH: flattened */
	CM_BP_NUL = 2,		/* NUL bytes, left out */
	CM_BP_STOPPED = 4,	/* the parser stopped before the end: the text may be incomplete */
};
#define CM_BP_NFLAGS 3
extern const char *const cm_bp_flag_names[CM_BP_NFLAGS];	/* "deep", "nul", "parse_stopped" */

typedef struct cm_bp_result {
	cm_buf text;		/* the main text, UTF-8; empty when nothing was found */
	cm_buf title;		/* <title>, else the first <h1>; whitespace normalised */
	char lang[36];		/* <html lang>, as written (trimmed), or "" */
	size_t text_chars;	/* characters (code points) in text */
	int parse_error;	/* the parser gave up (the result is empty) */
	unsigned flags;		/* CM_BP_DEEP, ...: what the page needed */
} cm_bp_result;

typedef struct cm_bp cm_bp;

/* An extractor, reused for many pages (one per thread); NULL with a message in err when
 * libxml2 cannot give it a parser. */
cm_bp *cm_bp_new(const cm_bp_opts *opts, char *err, size_t errlen);
void cm_bp_free(cm_bp *bp);

/* Extract the main text of html (UTF-8, n bytes) into r (its buffers are reset first).
 * url may be NULL. Returns 0, or -1 when the page could not be parsed at all. In mode
 * CM_BP_WHOLE nothing is judged or removed: every text of the body is written, in the same
 * block format, but what a browser does not show as text (head, script, style, noscript,
 * template, embedded content's fallback: svg, canvas, iframe, object, embed, audio, video)
 * and what the page hides (hidden, aria-hidden, display:none). */
int cm_bp_extract(cm_bp *bp, const char *html, size_t n, const char *url, cm_bp_result *r);

void cm_bp_result_free(cm_bp_result *r);

/* Why a result is not kept, or NULL: "unparsable", "no_text", "too_short" (--min-chars). */
const char *cm_bp_verdict(const cm_bp_result *r, const cm_bp_opts *o);

struct cm_jw;
/* metadata.boilerplate's value: {"title", "html_bytes", "text_chars", "lang"}, and "flags"
 * (["deep", ...]) when a page has any. */
void cm_bp_meta(struct cm_jw *w, const cm_bp_result *r, size_t html_bytes);

#endif
