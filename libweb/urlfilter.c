/* urlfilter.c - dropping pages by URL (see urlfilter.h). Domains, URLs and words are kept in
 * sets of their hashes (hset.h): a list of millions of domains loads in a second and a lookup
 * is a probe or two. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "data.h"
#include "hset.h"
#include "input.h"
#include "urlfilter.h"

struct cm_urlfilter {
	cm_hset domains, urls, words, soft;
	char **subs;
	size_t nsubs;
	unsigned soft_threshold;
};

cm_urlfilter *cm_urlfilter_new(void)
{
	cm_urlfilter *u = cm_xcalloc(1, sizeof(*u));

	u->soft_threshold = 2;
	return u;
}

void cm_urlfilter_free(cm_urlfilter *u)
{
	size_t i;

	if (!u)
		return;
	cm_hset_free(&u->domains);
	cm_hset_free(&u->urls);
	cm_hset_free(&u->words);
	cm_hset_free(&u->soft);
	for (i = 0; i < u->nsubs; i++)
		free(u->subs[i]);
	free(u->subs);
	free(u);
}

void cm_urlfilter_sizes(const cm_urlfilter *u, size_t *domains, size_t *urls, size_t *words, size_t *soft,
			size_t *subs)
{
	*domains = u->domains.n;
	*urls = u->urls.n;
	*words = u->words.n;
	*soft = u->soft.n;
	*subs = u->nsubs;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static int alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A word or substring of a list: lower case, letters and digits only (as URLs are read). */
static size_t norm_word(const char *p, size_t n, char *out, size_t outlen)
{
	size_t i, k = 0;

	for (i = 0; i < n && k < outlen; i++)
		if (alnum(p[i]))
			out[k++] = lower(p[i]);
	return k;
}

static int directive(const char *p, size_t n, const char *d, const char **arg, size_t *alen)
{
	size_t k = strlen(d);

	if (n <= k || memcmp(p, d, k) != 0 || (p[k] != ' ' && p[k] != '\t'))
		return 0;
	p += k;
	n -= k;
	while (n && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	*arg = p;
	*alen = n;
	return 1;
}

int cm_urlfilter_add_line(cm_urlfilter *u, const char *p, size_t n)
{
	const char *a;
	size_t an;
	char w[256];

	while (n && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
		n--;
	if (!n || *p == '#')
		return 0;
	if (directive(p, n, "word", &a, &an)) {
		if ((an = norm_word(a, an, w, sizeof(w))))
			cm_hset_add(&u->words, w, an);
		return 0;
	}
	if (directive(p, n, "soft", &a, &an)) {
		if ((an = norm_word(a, an, w, sizeof(w))))
			cm_hset_add(&u->soft, w, an);
		return 0;
	}
	if (directive(p, n, "sub", &a, &an)) {
		if ((an = norm_word(a, an, w, sizeof(w)))) {
			u->subs = cm_xrealloc(u->subs, (u->nsubs + 1) * sizeof(*u->subs));
			u->subs[u->nsubs] = cm_xmalloc(an + 1);
			memcpy(u->subs[u->nsubs], w, an);
			u->subs[u->nsubs++][an] = '\0';
		}
		return 0;
	}
	if (directive(p, n, "url", &a, &an)) {
		cm_hset_add(&u->urls, a, an);
		return 0;
	}
	if (directive(p, n, "soft-threshold", &a, &an)) {
		char t[32];
		char *end;
		unsigned long v;

		snprintf(t, sizeof(t), "%.*s", (int)(an < 31 ? an : 31), a);
		errno = 0;
		v = strtoul(t, &end, 10);
		if (errno || *end || v == 0 || v > 1000)
			return -1;
		u->soft_threshold = (unsigned)v;
		return 0;
	}
	if (memchr(p, ' ', n) || memchr(p, '\t', n))
		return -1;	/* a directive we do not know */
	/* a domain: lower case, without a leading "*." or "." and a trailing "." */
	if (n >= 2 && p[0] == '*' && p[1] == '.') {
		p += 2;
		n -= 2;
	}
	while (n && *p == '.') {
		p++;
		n--;
	}
	while (n && p[n - 1] == '.')
		n--;
	if (!n || n >= sizeof(w))
		return 0;
	for (an = 0; an < n; an++)
		w[an] = lower(p[an]);
	cm_hset_add(&u->domains, w, n);
	return 0;
}

int cm_urlfilter_load(cm_urlfilter *u, const char *path, char *err, size_t errlen)
{
	cm_input *in;
	char *line;
	size_t len, lineno = 0;
	int r;

	if (strcmp(path, "default") == 0) {
		size_t n = 0;
		const char *p = cm_data("urlfilter/default.txt", &n), *end;

		if (!p) {
			snprintf(err, errlen, "built without data/urlfilter/default.txt");
			return -1;
		}
		for (end = p + n; p < end;) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));

			if (!nl)
				nl = end;
			cm_urlfilter_add_line(u, p, (size_t)(nl - p));
			p = nl + 1;
		}
		return 0;
	}
	{
		FILE *f = fopen(path, "r");	/* a clear message of our own, not cm_input's */

		if (!f) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		fclose(f);
	}
	in = cm_input_open(path);
	if (!in) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((r = cm_input_line(in, &line, &len, 1 << 20)) != 0) {
		lineno++;
		if (r < 0 || cm_urlfilter_add_line(u, line, len) != 0) {
			snprintf(err, errlen, "%s:%zu: %s", path, lineno,
				 r < 0 ? "line too long" : "unknown directive (word, soft, sub, url, soft-threshold)");
			cm_input_close(in);
			return -1;
		}
	}
	if (cm_input_truncated(in)) {
		snprintf(err, errlen, "%s: %s", path, cm_input_error(in));
		cm_input_close(in);
		return -1;
	}
	cm_input_close(in);
	return 0;
}

size_t cm_url_host(const char *url, size_t n, char *out, size_t outlen)
{
	size_t i = 0, b, e, k;
	const char *s = memchr(url, ':', n);

	/* after "scheme://", or from the start when there is none */
	if (s && (size_t)(s - url) + 2 < n && s[1] == '/' && s[2] == '/')
		i = (size_t)(s - url) + 3;
	b = i;
	while (i < n && url[i] != '/' && url[i] != '?' && url[i] != '#')
		i++;
	e = i;
	for (i = b; i < e; i++)		/* user@ */
		if (url[i] == '@')
			b = i + 1;
	if (b < e && url[b] == '[') {	/* an IPv6 literal */
		for (i = b; i < e && url[i] != ']'; i++)
			;
		e = i < e ? i + 1 : e;
	} else {
		for (i = b; i < e && url[i] != ':'; i++)
			;
		e = i;
	}
	while (e > b && url[e - 1] == '.')
		e--;
	if (e <= b || e - b >= outlen)
		return 0;
	for (i = b; i < e; i++)		/* no control bytes or spaces in a host */
		if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f)
			return 0;
	for (k = 0; b < e; b++)
		out[k++] = lower(url[b]);
	out[k] = '\0';
	return k;
}

const char *cm_urlfilter_check(const cm_urlfilter *u, const char *url, size_t n)
{
	char host[256];
	size_t hn, i;

	if (n == 0)
		return "url_missing";
	if (u->domains.n) {
		if (!(hn = cm_url_host(url, n, host, sizeof(host))))
			return "url_bad";
		/* the host, then every suffix after a '.' */
		for (i = 0; i < hn; i++)
			if ((i == 0 || host[i - 1] == '.') && cm_hset_find(&u->domains, host + i, hn - i))
				return "url_domain";
	}
	if (u->urls.n && cm_hset_find(&u->urls, url, n))
		return "url_exact";
	if (u->words.n || u->soft.n) {
		uint64_t seen[64];
		size_t nseen = 0, k;

		for (i = 0; i < n;) {
			char w[256];
			size_t wn = 0;
			uint64_t key;

			while (i < n && !alnum(url[i]))
				i++;
			while (i < n && alnum(url[i])) {
				if (wn < sizeof(w))
					w[wn++] = lower(url[i]);
				i++;
			}
			if (!wn)
				continue;
			key = cm_hset_key(w, wn);
			if (cm_hset_has(&u->words, key))
				return "url_word";
			if (cm_hset_has(&u->soft, key)) {
				for (k = 0; k < nseen && seen[k] != key; k++)
					;
				if (k == nseen && nseen < sizeof(seen) / sizeof(*seen))
					seen[nseen++] = key;
			}
		}
		if (u->soft.n && nseen >= u->soft_threshold)
			return "url_soft_words";
	}
	if (u->nsubs) {
		char norm[4096];
		size_t nn = norm_word(url, n, norm, sizeof(norm));

		for (i = 0; i < u->nsubs; i++)
			if (memmem(norm, nn, u->subs[i], strlen(u->subs[i])))
				return "url_subword";
	}
	return NULL;
}

void cm_urlfilter_option(const cm_opt *opt, const char *value)
{
	cm_urlfilter **uf = opt->ctx;
	char err[512];

	if (!*uf)
		*uf = cm_urlfilter_new();
	if (cm_urlfilter_load(*uf, value, err, sizeof(err)) != 0)
		cm_usage_error("option '--url-filter': %s", err);
}
