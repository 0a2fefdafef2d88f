/* 2010-boilerplate.c - main-content extraction: the rules one by one, formatting, bad pages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boilerplate.h"
#include "buf.h"
#include "tap.h"
#include "utf8.h"

static cm_bp *bp, *md;
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

int main(void)
{
	cm_bp_opts o = { CM_BP_BALANCED, CM_BP_TEXT, 1 }, om = { CM_BP_BALANCED, CM_BP_MARKDOWN, 1 };
	cm_buf b = CM_BUF_INIT, big = CM_BUF_INIT;
	size_t i;

	bp = cm_bp_new(&o);
	md = cm_bp_new(&om);

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
	cm_buf_reset(&b);
	cm_buf_adds(&b, "<html><body><form id=\"aspnetForm\"><div>");
	for (i = 0; i < 5; i++)
		cm_buf_adds(&b, "<p>This paragraph is part of the article that the whole page wraps in a form, "
			    "as some sites still do, and it should be kept.</p>");
	cm_buf_adds(&b, "</div></form></body></html>");
	cm_bp_extract(bp, b.p, b.len, NULL, &r);
	ok(has("wraps in a form"), "a form holding the page is no boilerplate");

	/* German page: stop words of its language */
	cm_buf_reset(&b);
	cm_buf_adds(&b, "<html lang=\"de\"><body><div class=\"menu\"><a href=\"/\">Start</a></div><div>");
	for (i = 0; i < 4; i++)
		cm_buf_adds(&b, "<p>Die Stadt hat am Dienstag beschlossen, dass der neue Park im Frühjahr "
			    "eröffnet wird, und die Bürger sind mit dem Plan sehr zufrieden.</p>");
	cm_buf_adds(&b, "</div></body></html>");
	cm_bp_extract(bp, b.p, b.len, NULL, &r);
	ok(has("Die Stadt hat am Dienstag") && !has("Start"), "German page");

	/* CJK: no spaces between words, its own punctuation */
	cm_buf_reset(&b);
	cm_buf_adds(&b, "<html lang=\"zh\"><body><div class=\"nav\"><a href=\"/\">首页</a> <a href=\"/n\">新闻</a></div>"
		    "<div class=\"main\">");
	for (i = 0; i < 4; i++)
		cm_buf_adds(&b, "<p>市政府周二宣布，新公园将于明年春天开放，市民对这个计划非常满意，认为它将改善城市的环境。</p>");
	cm_buf_adds(&b, "</div><div class=\"footer\">版权所有</div></body></html>");
	cm_bp_extract(bp, b.p, b.len, NULL, &r);
	ok(has("市政府周二宣布") && !has("首页") && !has("版权所有"), "Chinese page: article kept, menu and footer dropped");

	/* Russian, Cyrillic stop words */
	cm_buf_reset(&b);
	cm_buf_adds(&b, "<html lang=\"ru\"><body><ul class=\"menu\"><li><a href=\"/\">Главная</a></li></ul><article>");
	for (i = 0; i < 4; i++)
		cm_buf_adds(&b, "<p>Городской совет во вторник решил, что новый парк откроется весной, и жители "
			    "очень довольны этим планом, потому что он улучшит город.</p>");
	cm_buf_adds(&b, "</article></body></html>");
	cm_bp_extract(bp, b.p, b.len, NULL, &r);
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
	   "100,000-deep nesting: parsed (as deep as libxml2 goes), valid output");
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
	cm_buf_free(&b);
	cm_buf_free(&big);
	return tap_done();
}
