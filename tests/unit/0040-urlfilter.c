/* 0040-urlfilter.c - URL filtering: hosts, blocked domains by suffix, exact URLs, hard, soft
 * and sub-words, the file syntax and its errors, the built-in lists, a list of a million
 * domains. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "urlfilter.h"

static const char *check(const cm_urlfilter *u, const char *url)
{
	const char *why = cm_urlfilter_check(u, url, strlen(url));

	return why ? why : "pass";
}

static const char *host(const char *url)
{
	static char h[256];

	if (!cm_url_host(url, strlen(url), h, sizeof(h)))
		return "(none)";
	return h;
}

int main(void)
{
	cm_urlfilter *u = cm_urlfilter_new(), *d = cm_urlfilter_new(), *big = cm_urlfilter_new();
	static const char *const lines[] = { "# a comment", "", "Example.ORG", "*.bad.net", ".dots.io.",
					     "word casino", "soft free", "soft win", "sub xyzzy",
					     "url https://ok.com/exact", "soft-threshold 2" };
	char err[256], path[] = "/tmp/crawl2lm-urlfilter-XXXXXX";
	size_t i, nd, nu, nw, ns, nsub;
	FILE *f;
	int fd;

	is_str(host("https://User:pw@WWW.Example.org.:8080/a?b#c"), "www.example.org", "host: user, port, case, point");
	is_str(host("http://[2001:db8::1]:80/x"), "[2001:db8::1]", "host: an IPv6 literal");
	is_str(host("example.com/path"), "example.com", "host: no scheme");
	is_str(host("http:///x"), "(none)", "host: none");

	for (i = 0; i < sizeof(lines) / sizeof(*lines); i++)
		ok(cm_urlfilter_add_line(u, lines[i], strlen(lines[i])) == 0, "line '%s'", lines[i]);
	ok(cm_urlfilter_add_line(u, "nonsense here", 13) == -1, "an unknown directive is an error");
	ok(cm_urlfilter_add_line(u, "soft-threshold 0", 16) == -1, "a threshold of 0 is an error");
	cm_urlfilter_sizes(u, &nd, &nu, &nw, &ns, &nsub);
	ok(nd == 3 && nu == 1 && nw == 1 && ns == 2 && nsub == 1, "sizes: 3 domains, 1 URL, 1 word, 2 soft, 1 sub");

	is_str(check(u, "https://example.org/"), "url_domain", "a blocked domain");
	is_str(check(u, "https://a.b.EXAMPLE.org/x"), "url_domain", "a host under it");
	is_str(check(u, "https://notexample.org/"), "pass", "not a suffix at a point");
	is_str(check(u, "http://x.bad.net"), "url_domain", "*.bad.net blocks below it");
	is_str(check(u, "http://bad.net"), "url_domain", "and bad.net");
	is_str(check(u, "http://dots.io/"), "url_domain", "leading and trailing points ignored");
	is_str(check(u, "https://ok.com/exact"), "url_exact", "an exact URL");
	is_str(check(u, "https://ok.com/exact2"), "pass", "only that one");
	is_str(check(u, "https://ok.com/Casino-night"), "url_word", "a hard word, any case");
	is_str(check(u, "https://ok.com/casinos"), "pass", "not inside a longer word");
	is_str(check(u, "https://ok.com/free/win"), "url_soft_words", "two soft words");
	is_str(check(u, "https://ok.com/free/free"), "pass", "one soft word twice: one");
	is_str(check(u, "https://ok.com/a-x-y-z-z-y"), "url_subword", "a sub-word across punctuation");
	is_str(check(u, ""), "url_missing", "an empty URL");
	is_str(check(u, "http:///nohost"), "url_bad", "no host, with a domain list");

	ok(cm_urlfilter_load(d, "default", err, sizeof(err)) == 0, "the built-in lists load");
	is_str(check(d, "https://www.example.com/porn/video"), "url_word", "built-in: a hard word");
	is_str(check(d, "https://www.example.com/hot-girls"), "url_soft_words", "built-in: two soft words");
	is_str(check(d, "https://www.example.com/best-pornhubvideos"), "url_subword", "built-in: a sub-word");
	is_str(check(d, "https://www.bbc.co.uk/news/world-europe-123"), "pass", "built-in: news passes");
	is_str(check(d, "https://en.wikipedia.org/wiki/Sex_education"), "pass", "built-in: one soft word passes");

	fd = mkstemp(path);
	f = fdopen(fd, "w");
	fprintf(f, "# a UT1-style list\n");
	for (i = 0; i < 1000000; i++)
		fprintf(f, "site%zu.example\n", i);
	fprintf(f, "block x y\n");
	fclose(f);
	ok(cm_urlfilter_load(big, path, err, sizeof(err)) == -1 && strstr(err, ":1000002:") != NULL,
	   "an error names the file and line: %s", err);
	f = fopen(path, "w");
	for (i = 0; i < 1000000; i++)
		fprintf(f, "site%zu.example\n", i);
	fclose(f);
	cm_urlfilter_free(big);
	big = cm_urlfilter_new();
	ok(cm_urlfilter_load(big, path, err, sizeof(err)) == 0, "a million domains load");
	{
		size_t blocked = 0;
		char url[64];

		for (i = 0; i < 2000000; i += 7) {
			snprintf(url, sizeof(url), "https://www.site%zu.example/page", i);
			blocked += cm_urlfilter_check(big, url, strlen(url)) != NULL;
		}
		is_int(blocked, 142858, "of 285,715 URLs, those under the million listed domains are blocked");
	}
	ok(cm_urlfilter_load(big, "/nonexistent/list", err, sizeof(err)) == -1 && strstr(err, "/nonexistent/list"),
	   "a missing file: %s", err);
	remove(path);
	cm_urlfilter_free(u);
	cm_urlfilter_free(d);
	cm_urlfilter_free(big);
	return tap_done();
}
