/* 0040-urlfilter.c - URL filtering as datatrove's URLFilter does it: hosts, blocked domains
 * (the registrable domain or the whole host), exact URLs, hard, soft and sub-words, the file
 * syntax and its errors, the built-in lists (datatrove's), a list of a million domains. */
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
	is_str(check(u, "https://a.b.example.org/x"), "url_domain", "a host under it (its registrable domain)");
	is_str(check(u, "https://a.b.EXAMPLE.org/x"), "pass", "the host as written: upper case is not lowered");
	is_str(check(u, "https://notexample.org/"), "pass", "not a suffix at a point");
	is_str(check(u, "http://x.bad.net"), "url_domain", "*.bad.net blocks below it");
	is_str(check(u, "http://bad.net"), "url_domain", "and bad.net");
	is_str(check(u, "http://dots.io/"), "url_domain", "leading and trailing points ignored");
	is_str(check(u, "http://dots.io.:8080/"), "url_domain", "a URL's trailing point and port");
	is_str(check(u, "http://u:p@dots.io/"), "url_domain", "user info");
	is_str(check(u, "dots.io/no-scheme"), "url_domain", "no scheme");
	is_str(check(u, "https://ok.com/exact"), "url_exact", "an exact URL");
	is_str(check(u, "https://ok.com/exact2"), "pass", "only that one");
	is_str(check(u, "https://ok.com/casino-night"), "url_word", "a hard word");
	is_str(check(u, "https://ok.com/Casino-night"), "pass", "a URL's words keep their case (as datatrove's)");
	is_str(check(u, "https://ok.com/casinos"), "pass", "not inside a longer word");
	is_str(check(u, "https://ok.com/free/win"), "url_soft_words", "two soft words");
	is_str(check(u, "https://ok.com/free/free"), "pass", "one soft word twice: one");
	is_str(check(u, "https://ok.com/a-x-y-z-z-y"), "url_subword", "a sub-word across punctuation");
	is_str(check(u, "https://ok.com/A-X-Y-Z-Z-Y"), "url_subword", "a sub-word in any case");
	is_str(check(u, ""), "url_missing", "an empty URL");
	is_str(check(u, "http:///nohost"), "pass", "no host: words only, as datatrove");
	is_str(check(u, "http:///casino"), "url_word", "no host, a hard word");

	/* sub-domains listed: the whole host only (datatrove's fqdn), not what is under it */
	ok(cm_urlfilter_add_line(u, "x.blogspot.com", 14) == 0, "a listed host under a registrable domain");
	is_str(check(u, "http://x.blogspot.com/"), "url_domain", "that host");
	is_str(check(u, "http://www.x.blogspot.com/"), "pass", "not a host under it (blogspot.com is registrable)");
	is_str(check(u, "http://y.blogspot.com/"), "pass", "nor its neighbour");
	ok(cm_urlfilter_add_line(u, "shop.co.uk", 10) == 0, "a domain under a two-label suffix");
	is_str(check(u, "https://www.shop.co.uk/a"), "url_domain", "blocked under co.uk");
	ok(cm_urlfilter_add_line(u, "intranet", 8) == 0, "a name with no public suffix");
	is_str(check(u, "http://intranet/"), "pass", "has no registrable domain: never blocked (as tldextract)");
	is_str(check(u, "http://[2001:db8::1]/x"), "pass", "an IPv6 host");
	is_str(check(u, "http://[broken/x"), "pass", "a broken bracket");
	is_str(check(u, "http://co.uk/"), "pass", "a public suffix alone");

	ok(cm_urlfilter_load(d, "default", err, sizeof(err)) == 0, "the built-in lists load");
	cm_urlfilter_sizes(d, &nd, &nu, &nw, &ns, &nsub);
	ok(nd > 4500000 && nu > 19000 && nw > 150 && ns > 50 && nsub > 100,
	   "datatrove's lists: %zu domains, %zu URLs, %zu words, %zu soft, %zu sub", nd, nu, nw, ns, nsub);
	is_str(check(d, "http://0-1sex.com/"), "url_domain", "built-in: a UT1 domain");
	is_str(check(d, "https://www.0-1sex.com/x"), "url_domain", "built-in: a host under it");
	is_str(check(d, "https://www.example.com/porn/video"), "url_word", "built-in: a hard word");
	is_str(check(d, "https://www.example.com/babes/bastard"), "url_soft_words", "built-in: two soft words");
	is_str(check(d, "https://www.example.com/babes"), "pass", "built-in: one soft word passes");
	is_str(check(d, "https://www.example.com/2-girls-1-cup"), "url_subword", "built-in: a sub-word");
	is_str(check(d, "https://www.bbc.co.uk/news/world-europe-123"), "pass", "built-in: news passes");

	fd = mkstemp(path);
	f = fdopen(fd, "w");
	fprintf(f, "# a UT1-style list\n");
	for (i = 0; i < 1000000; i++)
		fprintf(f, "site%zu.com\n", i);
	fprintf(f, "block x y\n");
	fclose(f);
	ok(cm_urlfilter_load(big, path, err, sizeof(err)) == -1 && strstr(err, ":1000002:") != NULL,
	   "an error names the file and line: %s", err);
	f = fopen(path, "w");
	for (i = 0; i < 1000000; i++)
		fprintf(f, "site%zu.com\n", i);
	fclose(f);
	cm_urlfilter_free(big);
	big = cm_urlfilter_new();
	ok(cm_urlfilter_load(big, path, err, sizeof(err)) == 0, "a million domains load");
	{
		size_t blocked = 0;
		char url[64];

		for (i = 0; i < 2000000; i += 7) {
			snprintf(url, sizeof(url), "https://www.site%zu.com/page", i);
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
