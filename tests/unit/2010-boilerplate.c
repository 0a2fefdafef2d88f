/* 2010-boilerplate.c - main-content extraction: the rules one by one, formatting, bad pages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boilerplate.h"
#include "buf.h"
#include "cli.h"
#include "jsonw.h"
#include "tap.h"
#include "utf8.h"

static cm_bp *bp, *md, *rc;
static cm_bp_result r;

/* A page with a real article among boilerplate; body is spliced into <article>. */
static const char *page(cm_buf *b, const char *head, const char *body)
{
	cm_buf_reset(b);
	cm_buf_printf(b, "<!DOCTYPE html><html lang=\"en-GB\"><head><title> The  Title </title>%s</head><body>"
		      "<nav><a href=\"/\">Home</a> <a href=\"/news\">News</a></nav>"
		      "<div class=\"cookie-banner\">We use cookies to improve your experience. Accept all cookies.</div>"
		      "<article>%s"
		      "<p>The committee met on Tuesday to discuss the proposal, and after a long debate the members "
		      "agreed that the plan would go ahead in the spring of next year.</p>"
		      "<p>Critics of the plan said that it was too expensive and that the money would be better "
		      "spent on the schools of the town, which have been waiting for repairs for years.</p>"
		      "</article>"
		      "<aside class=\"sidebar\"><h3>Most read</h3><ul><li><a href=\"/a\">Another story that is "
		      "very popular</a></li><li><a href=\"/b\">And one more popular story</a></li></ul></aside>"
		      "<div id=\"comments\"><p>I think this is a terrible idea and that the council should resign "
		      "at once, as I have said many times before.</p></div>"
		      "<footer>Copyright 2019 The Paper. All rights reserved.</footer>"
		      "<script>var tracking = \"The committee\";</script></body></html>", head, body);
	return b->p;
}

static int has(const char *needle)
{
	return r.text.p && strstr(r.text.p, needle) != NULL;
}

#define PARA "<p>Paragraph %d is written in plain sentences, one after another, so that it reads as " \
	     "prose and the extractor keeps it.</p>"

/* Paragraphs 1, 2 and 3 in the text, in that order. */
static int three_in_order(void)
{
	const char *a = r.text.p ? strstr(r.text.p, "Paragraph 1 is") : NULL;
	const char *b = a ? strstr(a, "Paragraph 2 is") : NULL;

	return b && strstr(b, "Paragraph 3 is") != NULL;
}

/* A page: paragraph 1, then mid (the markup under test) n times, then paragraphs 2 and 3,
 * then tail; extracted by x into r. */
static void around(cm_bp *x, cm_buf *b, const char *mid, size_t n, const char *tail)
{
	size_t i;

	cm_buf_reset(b);
	cm_buf_adds(b, "<html><body>");
	cm_buf_printf(b, PARA, 1);
	for (i = 0; i < n; i++)
		cm_buf_adds(b, mid);
	cm_buf_printf(b, PARA, 2);
	cm_buf_printf(b, PARA, 3);
	cm_buf_adds(b, tail);
	cm_bp_extract(x, b->p, b->len, NULL, &r);
}

/* A page: head, then para n times, then tail; extracted by bp into r. */
static void repeated(cm_buf *b, const char *head, const char *para, size_t n, const char *tail)
{
	size_t i;

	cm_buf_reset(b);
	cm_buf_adds(b, head);
	for (i = 0; i < n; i++)
		cm_buf_adds(b, para);
	cm_buf_adds(b, tail);
	cm_bp_extract(bp, b->p, b->len, NULL, &r);
}

int main(void)
{
	cm_bp_opts o = { CM_BP_BALANCED, CM_BP_TEXT, 1 }, om = { CM_BP_BALANCED, CM_BP_MARKDOWN, 1 };
	cm_bp_opts orc = { CM_BP_RECALL, CM_BP_TEXT, 1 };
	cm_buf b = CM_BUF_INIT, big = CM_BUF_INIT;
	char err[200];
	size_t i;

	bp = cm_bp_new(&o, err, sizeof(err));
	md = cm_bp_new(&om, err, sizeof(err));
	rc = cm_bp_new(&orc, err, sizeof(err));
	if (!bp || !md || !rc)
		cm_die("%s", err);

	page(&b, "", "");
	is_int(cm_bp_extract(bp, b.p, b.len, NULL, &r), 0, "a page extracts");
	ok(has("The committee met on Tuesday"), "article paragraphs kept");
	ok(has("Critics of the plan"), "both of them");
	ok(!has("Home") && !has("News"), "nav dropped");
	ok(!has("cookies"), "cookie banner dropped (class marker)");
	ok(!has("Most read") && !has("popular"), "sidebar dropped");
	ok(!has("terrible idea"), "comments dropped (id marker)");
	ok(!has("Copyright"), "footer dropped");
	ok(!has("tracking"), "script dropped");
	is_str(r.title.p, "The Title", "title from <title>, whitespace normalised");
	is_str(r.lang, "en-GB", "lang attribute");
	ok(strstr(r.text.p, ".\n\nCritics") != NULL, "blocks separated by a blank line");
	ok(r.text_chars > 200 && r.text_chars < 400, "text_chars counted (%zu)", r.text_chars);

	page(&b, "", "<h2>A heading</h2><ul><li>first point</li><li>second point</li></ul>"
		 "<table><tr><th>Name</th><th>Votes</th></tr><tr><td>Yes</td><td>12</td></tr></table>"
		 "<pre>  code\n    indented</pre><p>Line one<br>line two &amp; &eacute;t&eacute; &#8364;</p>");
	cm_bp_extract(bp, b.p, b.len, NULL, &r);
	ok(has("A heading\n\n"), "heading kept as a block");
	ok(has("- first point\n\n- second point") || has("- first point\n- second point"), "list items as '- item'");
	ok(has("Name\tVotes\nYes\t12"), "table rows with tab-separated cells");
	ok(has("  code\n    indented"), "pre verbatim");
	ok(has("Line one\nline two & été €"), "<br> a newline, entities decoded");
	cm_bp_extract(md, b.p, b.len, NULL, &r);
	ok(has("## A heading"), "markdown: heading level");
	ok(has("```\n  code\n    indented\n```"), "markdown: fenced pre");

	page(&b, "", "<div style=\"display: none\">Hidden text that should not appear anywhere.</div>"
		 "<div hidden>Also hidden.</div><div aria-hidden=\"true\">Hidden from readers too.</div>");
	cm_bp_extract(bp, b.p, b.len, NULL, &r);
	ok(!has("Hidden") && !has("Also hidden"), "hidden elements dropped");

	page(&b, "", "<div role=\"navigation\">Skip to main menu</div>"
		 "<div class=\"share-buttons\">Share on Facebook Share on Twitter</div>");
	cm_bp_extract(bp, b.p, b.len, NULL, &r);
	ok(!has("Skip to") && !has("Share on"), "ARIA role and share bar dropped");

	/* a page whose only wrapper is a form (ASP.NET style) keeps its text */
	repeated(&b, "<html><body><form id=\"aspnetForm\"><div>",
		 "<p>This paragraph is part of the article that the whole page wraps in a form, "
		 "as some sites still do, and it should be kept.</p>", 5,
		 "</div></form></body></html>");
	ok(has("wraps in a form"), "a form holding the page is no boilerplate");

	/* German page: stop words of its language */
	repeated(&b, "<html lang=\"de\"><body><div class=\"menu\"><a href=\"/\">Start</a></div><div>",
		 "<p>Die Stadt hat am Dienstag beschlossen, dass der neue Park im Frühjahr "
		 "eröffnet wird, und die Bürger sind mit dem Plan sehr zufrieden.</p>", 4,
		 "</div></body></html>");
	ok(has("Die Stadt hat am Dienstag") && !has("Start"), "German page");

	/* CJK: no spaces between words, its own punctuation */
	repeated(&b, "<html lang=\"zh\"><body><div class=\"nav\"><a href=\"/\">首页</a> <a href=\"/n\">新闻</a></div>"
		 "<div class=\"main\">",
		 "<p>市政府周二宣布，新公园将于明年春天开放，市民对这个计划非常满意，认为它将改善城市的环境。</p>", 4,
		 "</div><div class=\"footer\">版权所有</div></body></html>");
	ok(has("市政府周二宣布") && !has("首页") && !has("版权所有"), "Chinese page: article kept, menu and footer dropped");

	/* Russian, Cyrillic stop words */
	repeated(&b, "<html lang=\"ru\"><body><ul class=\"menu\"><li><a href=\"/\">Главная</a></li></ul><article>",
		 "<p>Городской совет во вторник решил, что новый парк откроется весной, и жители "
		 "очень довольны этим планом, потому что он улучшит город.</p>", 4,
		 "</article></body></html>");
	ok(has("Городской совет во вторник") && !has("Главная"), "Russian page");

	/* a listing of teasers after the article is left out */
	cm_buf_reset(&b);
	cm_buf_adds(&b, "<html><body><article>");
	for (i = 0; i < 4; i++)
		cm_buf_printf(&b, "<p>The council met again on day %zu and agreed, after a long and careful debate, "
			      "that the new park would open in the spring of next year.</p>", i);
	cm_buf_adds(&b, "</article><div class=\"more\">");
	for (i = 0; i < 5; i++)
		cm_buf_printf(&b, "<div class=\"teaser\"><h3><a href=\"/s%zu\">Another story number %zu</a></h3>"
			      "<p>A short summary of another story, which is about something else entirely.</p></div>", i, i);
	cm_buf_adds(&b, "</div></body></html>");
	cm_bp_extract(bp, b.p, b.len, NULL, &r);
	ok(has("agreed, after a long") && !has("summary of another story"), "teasers after the article left out");

	/* bad pages: none may crash, hang or leak */
	is_int(cm_bp_extract(bp, "", 0, NULL, &r), -1, "empty input: an error, no crash");
	ok(cm_bp_extract(bp, "<frameset><frame src=\"a.html\"><frame src=\"b.html\"></frameset>", 61, NULL, &r) <= 0 &&
	   r.text.len == 0, "frameset: no text");
	ok(cm_bp_extract(bp, "just some text without any markup at all, but it is a sentence.", 63, NULL, &r) == 0 &&
	   has("just some text without any markup"), "no html or body element: the text is kept");
	cm_buf_reset(&big);
	for (i = 0; i < 100000; i++)
		cm_buf_adds(&big, "<div>");
	cm_buf_adds(&big, "deep text");
	ok(cm_bp_extract(bp, big.p, big.len, NULL, &r) == 0 && cm_utf8_valid(r.text.p ? r.text.p : "", r.text.len),
	   "100,000-deep nesting: parsed, valid output");
	ok(has("deep text") && r.flags == CM_BP_DEEP, "and the text below it kept, the page flagged deep");

	/* deeper than libxml2 goes (256 levels): the text after it was lost, now it is kept */
	{
		static const struct { const char *mid; size_t n; } deep[] = {
			{ "<font>", 300 }, { "<div>", 3000 }, { "<b>", 3000 }, { "<span>", 3000 },
			{ "<table><tr><td>", 1000 }, { "<ul><li>", 1000 }, { "<ol><li><ul><li><p>", 500 },
			{ "<blockquote>", 3000 }, { "<div><section><article>", 1000 }, { "<div>", 100000 },
			{ "<em><i><u>", 2000 },
		};

		for (i = 0; i < sizeof(deep) / sizeof(*deep); i++) {
			around(bp, &big, deep[i].mid, deep[i].n, "</body></html>");
			ok(three_in_order() && (r.flags & CM_BP_DEEP), "%zu x %s: all three paragraphs, in order; "
			   "flagged deep", deep[i].n, deep[i].mid);
		}
	}
	around(bp, &big, "<div>", 250, "");
	ok(three_in_order() && r.flags == 0, "250 levels: no flag (libxml2's own limit is 256)");
	around(bp, &big, "<font>", 300, "");
	ok(has("keeps it.\n\nParagraph 2 is written in plain sentences, one after another, so that it "
	       "reads as prose and the extractor keeps it.\n\nParagraph 3"),
	   "300 x <font>: the paragraphs stay blocks of their own");
	cm_buf_reset(&big);
	cm_buf_adds(&big, "<html><body>");
	for (i = 0; i < 3000; i++)
		cm_buf_printf(&big, "<span>Level %zu. ", i);
	cm_bp_extract(rc, big.p, big.len, NULL, &r);
	ok(has("Level 0. Level 1. ") && has("Level 255. Level 256. Level 257. ") && has("Level 2999."),
	   "text at every one of 3000 levels, in order (recall)");
	/* hostile shapes that make the parser scan the open elements at every tag: with the
	 * depth bounded they stay linear (before: seconds to minutes) */
	cm_buf_reset(&big);
	cm_buf_printf(&big, PARA, 1);
	for (i = 0; i < 100000; i++)
		cm_buf_adds(&big, "<div>");
	for (i = 0; i < 100000; i++)
		cm_buf_adds(&big, "</span><body>");
	cm_buf_printf(&big, PARA, 2);
	cm_buf_printf(&big, PARA, 3);
	cm_bp_extract(bp, big.p, big.len, NULL, &r);
	ok(three_in_order(), "100,000 <div>, then 100,000 </span><body>: the text kept");

	/* a NUL byte: libxml2 ends the page there */
	cm_buf_reset(&big);
	cm_buf_printf(&big, PARA, 1);
	cm_buf_adds(&big, "<p>This sentence has a NUL byte in it, right here: a");
	cm_buf_add(&big, "\0b, and then it goes on to its end.</p>", 39);
	cm_buf_printf(&big, PARA, 2);
	cm_buf_printf(&big, PARA, 3);
	cm_bp_extract(bp, big.p, big.len, NULL, &r);
	ok(three_in_order() && has("right here: ab, and then") && r.flags == CM_BP_NUL,
	   "NUL in the page: left out, the rest kept, flagged");
	cm_buf_reset(&big);
	cm_buf_addc(&big, '\0');
	cm_buf_printf(&big, PARA, 1);
	cm_buf_printf(&big, PARA, 2);
	cm_buf_printf(&big, PARA, 3);
	ok(cm_bp_extract(bp, big.p, big.len, NULL, &r) == 0 && three_in_order(), "a page that starts with NUL");

	/* a text node over 10 MB: libxml2 stops there without XML_PARSE_HUGE */
	cm_buf_reset(&big);
	cm_buf_adds(&big, "<html><body><article>");
	cm_buf_printf(&big, PARA, 1);
	cm_buf_adds(&big, "<p>");
	while (big.len < 11u << 20)
		cm_buf_adds(&big, "The same sentence is written again and again, so the page is long. ");
	cm_buf_adds(&big, "</p>");
	cm_buf_printf(&big, PARA, 2);
	cm_buf_printf(&big, PARA, 3);
	cm_buf_adds(&big, "</article></body></html>");
	cm_bp_extract(bp, big.p, big.len, NULL, &r);
	ok(three_in_order() && r.text.len > 11u << 20 && r.flags == 0, "an 11 MB paragraph and the text after it "
	   "(%zu bytes)", r.text.len);

	/* after </body> and </html>: libxml2 puts it beside the body, or in a second root */
	around(bp, &big, "</body>", 1, "");
	ok(three_in_order(), "text after </body> kept");
	around(bp, &big, "</body></html>", 1, "");
	ok(three_in_order(), "text after </html> kept");
	cm_buf_reset(&big);
	cm_buf_adds(&big, "<!DOCTYPE html><html><head><title>T</title></head><body>");
	cm_buf_printf(&big, PARA, 1);
	cm_buf_adds(&big, "</body></html>\n<div>");
	cm_buf_printf(&big, PARA, 2);
	cm_buf_printf(&big, PARA, 3);
	cm_bp_extract(bp, big.p, big.len, NULL, &r);
	ok(three_in_order(), "text after </html> behind a doctype (a second root) kept");

	/* text in a table but outside its cells */
	around(bp, &big, "<table><caption>The caption of the table</caption><tr><td>cell one</td><td>cell two</td></tr>", 1,
	       "</table>");
	ok(three_in_order() && has("The caption of the table\ncell one\tcell two"),
	   "a table's caption and the paragraphs in it outside the cells");

	/* many siblings with distinct classes: listings are found in n log n (before: quadratic) */
	cm_buf_reset(&big);
	cm_buf_adds(&big, "<html><body><article>");
	cm_buf_printf(&big, PARA, 1);
	cm_buf_adds(&big, "</article><div>");
	for (i = 0; i < 50000; i++)
		cm_buf_printf(&big, "<div class=\"c%zu\"><a href=\"/x\">a link here</a> and more</div>", i);
	cm_buf_adds(&big, "</div></body></html>");
	cm_bp_extract(bp, big.p, big.len, NULL, &r);
	ok(has("Paragraph 1 is") && !has("a link here"), "50,000 siblings of distinct classes");

	/* the flags in metadata.boilerplate */
	{
		cm_buf m = CM_BUF_INIT;
		cm_jw w;

		around(bp, &big, "<font>", 300, "");
		r.flags |= CM_BP_NUL;
		cm_jw_init(&w, &m);
		cm_bp_meta(&w, &r, 7);
		ok(strstr(m.p, ",\"lang\":\"\",\"flags\":[\"deep\",\"nul\"]}") != NULL, "metadata flags: %s", m.p);
		around(bp, &big, "<font>", 3, "");
		cm_buf_reset(&m);
		cm_jw_init(&w, &m);
		cm_bp_meta(&w, &r, 7);
		ok(strstr(m.p, "flags") == NULL, "no flags key for a plain page: %s", m.p);
		cm_buf_free(&m);
	}
	cm_buf_reset(&big);
	srand(7);
	for (i = 0; i < 1000000; i++)
		cm_buf_addc(&big, (char)(rand() & 0xff));
	cm_bp_extract(bp, big.p, big.len, NULL, &r);
	ok(cm_utf8_valid(r.text.p ? r.text.p : "", r.text.len), "binary junk: survives, output valid UTF-8");
	cm_bp_extract(bp, "<p>caf\xc3 \xff\xfe ok</p>", 17, NULL, &r);
	ok(cm_utf8_valid(r.text.p ? r.text.p : "", r.text.len), "invalid UTF-8: output valid UTF-8");
	cm_buf_reset(&big);
	cm_buf_adds(&big, "<html><body><article>");
	for (i = 0; big.len < 10u << 20; i++)
		cm_buf_printf(&big, "<p>A long page keeps going with sentences of ordinary prose, one after "
			      "the other, and this is sentence number %zu of them.</p>", i);
	cm_buf_adds(&big, "</article></body></html>");
	is_int(cm_bp_extract(bp, big.p, big.len, NULL, &r), 0, "10 MB page extracts");
	ok(r.text.len > 8u << 20, "and keeps its text (%zu bytes)", r.text.len);

	cm_bp_result_free(&r);
	cm_bp_free(bp);
	cm_bp_free(md);
	cm_bp_free(rc);
	cm_buf_free(&b);
	cm_buf_free(&big);
	return tap_done();
}
