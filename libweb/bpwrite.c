/* bpwrite.c - the main text written out: its blocks, each judged once more on its own (link
 * density, stop words, length, boilerplate phrases, repeats), as text or markdown; tables a
 * line per row, cells by tabs. boilerplate.c found the main content (bp_impl.h).
 */
#include <stdint.h>
#include <string.h>

#include <libxml/tree.h>

#include "ascii.h"
#include "boilerplate.h"
#include "bp_impl.h"
#include "buf.h"
#include "hset.h"

/* Blocks of up to this many bytes written twice are written once: a caption or a pull quote
 * shown in two places. Longer ones are paragraphs, kept as often as the page has them. */
#define DUP_MAX 300

typedef struct writer {
	cm_bp *bp;
	cm_buf *out;
	int format;
	size_t block_start;	/* where the current block began in out */
	int space;		/* a space is pending */
	cm_hset seen;		/* blocks written so far (hashes) */
	int whole;		/* --whole-page: every block written, repeats too */
} writer;

static void end_block(writer *w)
{
	cm_buf *o = w->out;

	/* trim trailing spaces */
	while (o->len > w->block_start && (o->p[o->len - 1] == ' ' || o->p[o->len - 1] == '\n'))
		o->len--;
	o->p[o->len] = '\0';
	if (o->len > w->block_start) {
		/* the same block twice (a caption shown in two places): once is enough */
		const char *b = o->p + w->block_start;
		size_t bl = o->len - w->block_start;

		if (!w->whole && bl > 20 && bl <= DUP_MAX && cm_hset_find(&w->seen, b, bl)) {
			o->len = w->block_start;
			o->p[o->len] = '\0';
		} else {
			if (!w->whole && bl > 20 && bl <= DUP_MAX)
				cm_hset_add(&w->seen, b, bl);
			cm_buf_adds(o, "\n\n");
		}
	}
	w->block_start = o->len;
	w->space = 0;
}

static void add_text(writer *w, const char *s, int pre)
{
	cm_buf *o = w->out;

	if (pre) {
		cm_buf_adds(o, s);
		return;
	}
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
			w->space = 1;
			continue;
		}
		if (w->space && o->len > w->block_start && o->p[o->len - 1] != '\n' &&
		    o->p[o->len - 1] != '\t')
			cm_buf_addc(o, ' ');
		w->space = 0;
		cm_buf_addc(o, (char)c);
	}
}

static int is_alnum_byte(unsigned char c)
{
	return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Is a short block mostly a boilerplate phrase ("share this", "read more", "all rights
 * reserved")? The block's text, lower-cased, spaces collapsed and punctuation trimmed at the
 * ends, must have a phrase as whole words making up 60% of it (data/boilerplate/README.md). */
static int is_phrase_block(cm_bp *bp, xmlNodePtr n)
{
	char buf[128];
	size_t len = 0, i, j, b, e;
	xmlNodePtr c;
	int space = 0;

	if (!bp->phrases.n)
		return 0;
	for (c = n; c && len < sizeof(buf) - 4; c = next_node(c, n, is_elem(c) && (I(c)->flags & F_DROP))) {
		const unsigned char *t;

		if (!is_text(c) || !c->content)
			continue;
		for (t = c->content; *t && len < sizeof(buf) - 4; t++) {
			if (*t == ' ' || *t == '\t' || *t == '\n' || *t == '\r' ||
			    (t[0] == 0xc2 && t[1] == 0xa0)) {
				space = len > 0;
				if (*t == 0xc2)
					t++;
				continue;
			}
			if (space)
				buf[len++] = ' ';
			space = 0;
			/* ' and ' as ' */
			if (t[0] == 0xe2 && t[1] == 0x80 && (t[2] == 0x98 || t[2] == 0x99)) {
				buf[len++] = '\'';
				t += 2;
				continue;
			}
			buf[len++] = (char)cm_lower(*t);
		}
	}
	if (len == 0 || len >= sizeof(buf) - 4)
		return 0;
	/* trim what is not a letter or digit at both ends (ASCII and common symbols) */
	b = 0;
	while (b < len && !is_alnum_byte((unsigned char)buf[b]))
		b++;
	e = len;
	while (e > b && !is_alnum_byte((unsigned char)buf[e - 1]))
		e--;
	/* multi-byte symbols at the ends (›, », •, …) are not letters: trim them too */
	while (e > b && (unsigned char)buf[e - 1] >= 0x80 && e - b >= 3 &&
	       ((unsigned char)buf[e - 3] == 0xe2 || (unsigned char)buf[e - 2] == 0xc2))
		e -= (unsigned char)buf[e - 3] == 0xe2 ? 3 : 2;
	if (e <= b || e - b > 80)
		return 0;
	for (i = b; i < e; i++) {
		if (i > b && is_alnum_byte((unsigned char)buf[i - 1]))
			continue;	/* a phrase starts at a word start */
		for (j = e; j > i; j--) {
			if (j < e && is_alnum_byte((unsigned char)buf[j]))
				continue;	/* and ends at a word end */
			if ((j - i) * 10 < (e - b) * 6)
				break;
			if (cm_hset_find(&bp->phrases, buf + i, j - i))
				return 1;
		}
	}
	return 0;
}

/* Judge a block on its own: is it worth keeping? */
static int good_block(cm_bp *bp, xmlNodePtr n)
{
	const struct info *in = I(n);
	float ld = link_density(in);
	/* the cascade's second pass (bp->loose) judges one step looser than the mode */
	int precise = bp->o.mode == CM_BP_PRECISION && !bp->loose,
	    recall = bp->o.mode == CM_BP_RECALL || (bp->loose && bp->o.mode == CM_BP_BALANCED);

	if (in->text == 0)
		return 0;
	if (in->text <= 80 && !tag_is(n, "pre") && is_phrase_block(bp, n))
		return 0;
	if (tag_is(n, "pre"))
		return ld < 0.6f;
	if (!in->words)
		return 0;	/* no letter or digit: a rule drawn with "___", a bullet, an icon */
	if (is_heading(n)) {
		xmlNodePtr x;

		if (ld < 0.6f)
			return 1;
		/* a heading that is all link heads a section of the article when the block after it
		 * is prose (a list of games, each a linked name over its review); over a teaser's
		 * line or a list of links, it points elsewhere (and one character, a permalink's
		 * "¶" left of a heading whose title went with a marker, is no title) */
		if (in->text < 2)
			return 0;
		for (x = n->next; x; x = x->next)
			if (is_elem(x) && !(I(x)->flags & F_DROP) && I(x)->text > 0)
				break;
		return x && I(x)->good * 2 > I(x)->text && !in_teaser(bp, I(x));
	}
	/* a list item is judged with its list: the items of a list of notes, each
	 * a link and a few words, stay together; a list of links goes */
	if (!precise && tag_is(n, "li") && n->parent && is_elem(n->parent))
		ld = link_density(I(n->parent));
	if (ld > (recall ? 0.7f : precise ? 0.35f : 0.5f))
		return 0;
	if (!recall && !is_heading(n) && in_teaser(bp, in))
		return 0;
	/* with --precision, a short block with no function words and no sentence end reads
	 * as a label, a byline, a caption credit or a button: not kept (in an article it is
	 * as often a subheading, a name in a list, a line of a poem) */
	if (precise && (tag_is(n, "p") || tag_is(n, "div") || tag_is(n, "span") || tag_is(n, "li")) &&
	    in->text < 80u && in->stops == 0 && in->punct == 0 && bp->lang >= 0)
		return 0;
	return 1;
}

static void write_node(writer *w, xmlNodePtr root);

static int blank_text(const xmlChar *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r' && *s != '\f')
			return 0;
	return 1;
}

/* A table: a line per row, cells separated by tabs. Text outside the cells (a caption, or
 * what a browser would put before the table, which libxml2 leaves inside it) gets lines of
 * its own, ended by the next block. */
static void write_table(writer *w, xmlNodePtr t)
{
	xmlNodePtr n;
	cm_buf *o = w->out;
	int loose = 0;		/* on a line of text outside the cells */

	end_block(w);
	for (n = t; n; n = next_node(n, t, is_elem(n) && ((I(n)->flags & F_DROP) || tag_is(n, "td") || tag_is(n, "th")))) {
		if ((tag_is(n, "td") || tag_is(n, "th")) && !(I(n)->flags & F_DROP)) {
			xmlNodePtr c;

			if (o->len > w->block_start && o->p[o->len - 1] != '\n')
				cm_buf_addc(o, loose ? '\n' : '\t');
			loose = 0;
			for (c = n; c; c = next_node(c, n, is_elem(c) && (I(c)->flags & F_DROP))) {
				if (is_text(c) && c->content)
					add_text(w, (const char *)c->content, 0);
				else if (tag_is(c, "br"))
					w->space = 1;
			}
			w->space = 0;
		} else if (is_elem(n) && (I(n)->flags & F_BLOCK)) {	/* tr, tbody, caption, p... */
			if (o->len > w->block_start && o->p[o->len - 1] != '\n')
				cm_buf_addc(o, '\n');
			loose = 0;
			w->space = 0;
		} else if (is_text(n) && n->content && (loose || !blank_text(n->content))) {
			if (!loose && o->len > w->block_start && o->p[o->len - 1] != '\n')
				cm_buf_addc(o, '\n');
			if (!loose)
				w->space = 0;
			loose = 1;
			add_text(w, (const char *)n->content, 0);
		}
	}
	end_block(w);
}

static void write_node(writer *w, xmlNodePtr root)
{
	xmlNodePtr n = root;
	int md = w->format == CM_BP_MARKDOWN;

	while (n) {
		int skip = 0;

		if (is_elem(n)) {
			struct info *in = I(n);

			if (in->flags & F_DROP) {
				skip = 1;
			} else if (tag_is(n, "table")) {
				if (w->whole || good_block(w->bp, n))
					write_table(w, n);
				skip = 1;
			} else if (tag_is(n, "br")) {
				if (w->out->len > w->block_start)
					cm_buf_addc(w->out, '\n');
				w->space = 0;
			} else if (in->flags & F_BLOCK) {
				end_block(w);
				if (!w->whole && !good_block(w->bp, n) && !tag_is(n, "ul") && !tag_is(n, "ol") &&
				    !tag_is(n, "div") && !tag_is(n, "section") && !tag_is(n, "article") &&
				    !tag_is(n, "main") && !tag_is(n, "body") && !tag_is(n, "dl")) {
					skip = 1;
				} else if (tag_is(n, "li")) {
					cm_buf_adds(w->out, "- ");
					w->block_start = w->out->len - 2;
				} else if (is_heading(n) && md) {
					int level = n->name[1] - '0';

					while (level--)
						cm_buf_addc(w->out, '#');
					cm_buf_addc(w->out, ' ');
				} else if (tag_is(n, "pre")) {
					xmlNodePtr c;

					if (md)
						cm_buf_adds(w->out, "```\n");
					for (c = n; c; c = next_node(c, n, is_elem(c) && (I(c)->flags & F_DROP)))
						if (is_text(c) && c->content)
							add_text(w, (const char *)c->content, 1);
					while (w->out->len > w->block_start && w->out->p[w->out->len - 1] == '\n')
						w->out->len--;
					if (md)
						cm_buf_adds(w->out, "\n```");
					end_block(w);
					skip = 1;
				}
			}
		} else if (is_text(n) && n->content) {
			add_text(w, (const char *)n->content, 0);
		}
		/* step: into children, or over them; close blocks when leaving them */
		if (!skip && is_elem(n) && n->children) {
			n = n->children;
			continue;
		}
		while (n && n != root && !n->next) {
			n = n->parent;
			if (n && is_elem(n) && (I(n)->flags & F_BLOCK))
				end_block(w);
		}
		if (!n || n == root)
			break;
		n = n->next;
	}
	end_block(w);
}

void cm_bp_write(cm_bp *bp, xmlNodePtr main, cm_buf *out)
{
	writer w;

	memset(&w, 0, sizeof(w));
	w.bp = bp;
	w.out = out;
	w.format = bp->o.format;
	w.whole = bp->o.mode == CM_BP_WHOLE;
	write_node(&w, main);
	cm_hset_free(&w.seen);
}
