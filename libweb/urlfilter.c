/* urlfilter.c - dropping pages by URL (see urlfilter.h), with datatrove's URLFilter's rules.
 * Domains, URLs and words are kept in sets of their hashes (hset.h): the 4.6 million domains
 * of the built-in list load in about half a second and a lookup is a probe or two. A URL's
 * registrable domain is found with libpsl, over the Public Suffix List snapshot that
 * tldextract ships (data/urlfilter/), ICANN section only, as datatrove's tldextract does. */
#include <errno.h>
#include <libpsl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "cli.h"
#include "data.h"
#include "hset.h"
#include "input.h"
#include "urlfilter.h"
#include "urlfilter_data.h"

struct cm_urlfilter {
	cm_hset domains, urls, words, soft;
	char **subs;
	size_t *sub_len;
	size_t nsubs;
	size_t *sub_first;	/* per leading byte pair: the last sub-word added with it, or SIZE_MAX */
	size_t *sub_next;	/* the sub-word added before it with the same pair, or SIZE_MAX */
	int sub_short;		/* a one-byte sub-word is held */
	unsigned soft_threshold;
	const psl_ctx_t *psl;	/* set with the first domain (the process's one copy) */
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
	free(u->sub_len);
	free(u->sub_first);
	free(u->sub_next);
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

static psl_ctx_t *psl_shared;
static pthread_once_t psl_once = PTHREAD_ONCE_INIT;

/* The Public Suffix List, from its zstd-compressed copy built into the program: read once a
 * process (about 10 ms), kept to its end, shared by every filter (libpsl only reads it). */
static void psl_read(void)
{
	size_t zn = (size_t)(cm_urlfilter_psl_end - cm_urlfilter_psl), n;
	unsigned long long want = ZSTD_getFrameContentSize(cm_urlfilter_psl, zn);
	psl_ctx_t *psl;
	char *text;
	FILE *f;

	if (want == ZSTD_CONTENTSIZE_UNKNOWN || want == ZSTD_CONTENTSIZE_ERROR || want > (1u << 24))
		cm_die("the built-in public suffix list is damaged");
	text = cm_xmalloc((size_t)want + 1);
	n = ZSTD_decompress(text, (size_t)want, cm_urlfilter_psl, zn);
	if (ZSTD_isError(n) || n != want || !(f = fmemopen(text, n, "r")))
		cm_die("the built-in public suffix list is damaged");
	psl = psl_load_fp(f);
	fclose(f);
	free(text);
	if (!psl)
		cm_die("the built-in public suffix list cannot be read");
	psl_shared = psl;
}

static const psl_ctx_t *load_psl(void)
{
	pthread_once(&psl_once, psl_read);
	return psl_shared;
}

static void add_domain(cm_urlfilter *u, const char *p, size_t n)
{
	if (!u->psl)
		u->psl = load_psl();
	cm_hset_add(&u->domains, p, n);
}

static void add_sub(cm_urlfilter *u, const char *w, size_t n)
{
	size_t k = u->nsubs;

	u->subs = cm_xrealloc(u->subs, (k + 1) * sizeof(*u->subs));
	u->sub_next = cm_xrealloc(u->sub_next, (k + 1) * sizeof(*u->sub_next));
	u->sub_len = cm_xrealloc(u->sub_len, (k + 1) * sizeof(*u->sub_len));
	u->sub_len[k] = n;
	u->subs[k] = cm_xmalloc(n + 1);
	memcpy(u->subs[k], w, n);
	u->subs[k][n] = '\0';
	u->nsubs++;
	if (n == 1) {
		u->sub_short = 1;
		u->sub_next[k] = SIZE_MAX;
		return;
	}
	if (!u->sub_first) {
		size_t i;

		u->sub_first = cm_xmalloc(65536 * sizeof(*u->sub_first));
		for (i = 0; i < 65536; i++)
			u->sub_first[i] = SIZE_MAX;
	}
	{
		size_t pair = (size_t)(unsigned char)w[0] << 8 | (unsigned char)w[1];

		u->sub_next[k] = u->sub_first[pair];
		u->sub_first[pair] = k;
	}
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
		if ((an = norm_word(a, an, w, sizeof(w))))
			add_sub(u, w, an);
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
		if (errno || *end || v == 0 || v > 64)
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
	add_domain(u, w, n);
	return 0;
}

/* Python's str.strip() white space, for the ASCII bytes a list holds */
static int py_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

/* Adds to set every line of the zstd data from p to end, as datatrove reads a list: lines
 * that start with '#' are skipped, the others stripped of white space. A first line "#n=N"
 * says how many lines follow (the set is sized for them at once). Returns 0, or -1 when the
 * data is damaged or a line is over 1 MiB. */
static int zst_lines(const unsigned char *p, const unsigned char *end, cm_hset *set)
{
	ZSTD_DCtx *z = ZSTD_createDCtx();
	ZSTD_inBuffer in = { p, (size_t)(end - p), 0 };
	size_t cap = 1 << 20, have = 0, r = 1, nk = 0;
	char *buf = cm_xmalloc(cap);
	uint64_t keys[512];
	int first = 1, status = 0;

	if (!z)
		cm_die("out of memory");
	for (;;) {
		ZSTD_outBuffer out = { buf, cap, have };
		char *q, *nl, *stop;
		int last = in.pos == in.size && r == 0;

		if (!last) {
			r = ZSTD_decompressStream(z, &out, &in);
			if (ZSTD_isError(r) || (r != 0 && in.pos == in.size && out.pos == have)) {
				status = -1;
				break;
			}
		} else if (have) {	/* the last line, without a newline */
			buf[out.pos++] = '\n';
		}
		stop = buf + out.pos;
		for (q = buf; (nl = memchr(q, '\n', (size_t)(stop - q))); q = nl + 1) {
			const char *b = q, *e = nl;

			if (first && e - b > 3 && memcmp(b, "#n=", 3) == 0)
				cm_hset_reserve(set, strtoul(b + 3, NULL, 10));
			first = 0;
			if (*b == '#')
				continue;
			while (b < e && py_space(*b))
				b++;
			while (e > b && py_space(e[-1]))
				e--;
			keys[nk++] = cm_hset_key(b, (size_t)(e - b));
			if (nk == sizeof(keys) / sizeof(*keys)) {
				cm_hset_put_many(set, keys, nk);
				nk = 0;
			}
		}
		have = (size_t)(stop - q);
		memmove(buf, q, have);
		if (last)
			break;
		if (have == cap) {
			status = -1;
			break;
		}
	}
	cm_hset_put_many(set, keys, nk);
	ZSTD_freeDCtx(z);
	free(buf);
	return status;
}

/* datatrove's word lists (normalised: letters and digits, lower case; an empty result is left
 * out, where datatrove would keep an empty word that every URL ending in '/' holds) */
static void words_of(cm_urlfilter *u, const char *name, int kind)
{
	size_t n = 0;
	const char *p = cm_data(name, &n), *end;
	char w[256];

	if (!p)
		cm_die("built without data/%s", name);
	for (end = p + n; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t wn;

		if (!nl)
			nl = end;
		if (*p != '#' && (wn = norm_word(p, (size_t)(nl - p), w, sizeof(w)))) {
			if (kind == 'w')
				cm_hset_add(&u->words, w, wn);
			else if (kind == 's')
				cm_hset_add(&u->soft, w, wn);
			else
				add_sub(u, w, wn);
		}
		p = nl + 1;
	}
}

/* "default": datatrove 0.10.1's integrated lists */
static int load_default(cm_urlfilter *u, char *err, size_t errlen)
{
	if (!u->psl)
		u->psl = load_psl();
	if (zst_lines(cm_urlfilter_domains, cm_urlfilter_domains_end, &u->domains) != 0 ||
	    zst_lines(cm_urlfilter_urls, cm_urlfilter_urls_end, &u->urls) != 0) {
		snprintf(err, errlen, "the built-in UT1 lists are damaged");
		return -1;
	}
	words_of(u, "urlfilter/banned_words.txt", 'w');
	words_of(u, "urlfilter/soft_banned_words.txt", 's');
	words_of(u, "urlfilter/banned_subwords.txt", 'b');
	return 0;
}

int cm_urlfilter_load(cm_urlfilter *u, const char *path, char *err, size_t errlen)
{
	cm_input *in;
	char *line;
	size_t len, lineno = 0;
	int r;

	if (strcmp(path, "default") == 0)
		return load_default(u, err, errlen);
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

/* Python's str.strip() white space at p (n bytes left): its length in bytes, 0 if none. The
 * Unicode spaces are those of UTF-8 that str.isspace() knows. */
static size_t py_space_at(const unsigned char *p, size_t n)
{
	if (py_space((char)p[0]))
		return 1;
	if (n >= 2 && p[0] == 0xc2 && (p[1] == 0x85 || p[1] == 0xa0))
		return 2;
	if (n >= 3 && p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80)
		return 3;
	if (n >= 3 && p[0] == 0xe2 && p[1] == 0x80 &&
	    (p[2] <= 0x8a || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf))
		return 3;
	if (n >= 3 && p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f)
		return 3;
	if (n >= 3 && p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80)
		return 3;
	return 0;
}

/* a full stop of UTF-8 that tldextract reads as '.': U+3002, U+FF0E, U+FF61 (3 bytes each) */
static int uni_dot(const unsigned char *p, size_t n)
{
	return n >= 3 && ((p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x82) ||
			  (p[0] == 0xef && p[1] == 0xbc && p[2] == 0x8e) ||
			  (p[0] == 0xef && p[1] == 0xbd && p[2] == 0xa1));
}

static int scheme_char(char c)
{
	return alnum(c) || c == '+' || c == '-' || c == '.';
}

/* The host as tldextract's lenient_netloc() finds it, case kept, its Unicode full stops made
 * '.'; into out (outlen bytes), its length returned, 0 when empty, too long, or an IPv6 (or
 * other bracketed) literal, which has no registrable domain. */
static size_t dt_host(const char *url, size_t n, char *out, size_t outlen)
{
	const char *s = url, *e, *at, *dd = memmem(url, n, "//", 2);
	size_t i, k;

	if (dd == url) {
		s = url + 2;
	} else if (dd && dd - url >= 2 && dd[-1] == ':') {
		for (i = 0; i < (size_t)(dd - url) - 1 && scheme_char(url[i]); i++)
			;
		if (i == (size_t)(dd - url) - 1)
			s = dd + 2;
	}
	for (e = s; e < url + n && *e != '/' && *e != '?' && *e != '#'; e++)
		;
	for (at = e; at > s && at[-1] != '@'; at--)
		;
	s = at;
	if (s < e && *s == '[' && memchr(s, ']', (size_t)(e - s)))
		return 0;
	e = memchr(s, ':', (size_t)(e - s)) ? memchr(s, ':', (size_t)(e - s)) : e;
	for (;;) {		/* strip(), then rstrip(".\u3002\uff0e\uff61") */
		size_t w = s < e ? py_space_at((const unsigned char *)s, (size_t)(e - s)) : 0;

		if (!w)
			break;
		s += w;
	}
	for (;;) {
		size_t w = 0;

		if (e > s && py_space(e[-1]))
			w = 1;
		else if (e - s >= 2 && py_space_at((const unsigned char *)e - 2, 2) == 2)
			w = 2;
		else if (e - s >= 3 && py_space_at((const unsigned char *)e - 3, 3) == 3)
			w = 3;
		if (!w)
			break;
		e -= w;
	}
	for (;;) {
		if (e > s && e[-1] == '.')
			e--;
		else if (e - s >= 3 && uni_dot((const unsigned char *)e - 3, 3))
			e -= 3;
		else
			break;
	}
	for (k = 0; s < e; k++) {
		if (k + 1 >= outlen)
			return 0;
		if (uni_dot((const unsigned char *)s, (size_t)(e - s))) {
			out[k] = '.';
			s += 3;
		} else {
			out[k] = *s++;
		}
	}
	out[k] = '\0';
	return k;
}

/* Whether host (NUL-terminated) is blocked: its registrable domain (the label before its
 * longest ICANN public suffix, and that suffix) or the whole host (tldextract's fqdn) is in
 * the list. A host with no such suffix (an IP address, an unknown top-level domain) or that is
 * a public suffix itself has neither. */
static int domain_blocked(const cm_urlfilter *u, const char *host, size_t hn)
{
	char low[256], *lowp = low, *conv = NULL;
	size_t label[128], nl = 0, i, j, after_nul = 0;
	int hit = 0, ascii = 1;

	label[nl++] = 0;
	for (i = 0; i < hn; i++) {
		if (host[i] == '\0')	/* no suffix holds a NUL: look after the last one */
			after_nul = i + 1;
		if (host[i] == '.') {
			if (nl == sizeof(label) / sizeof(*label))
				return 0;
			label[nl++] = i + 1;
		}
		low[i] = lower(host[i]);
		ascii &= (unsigned char)host[i] < 0x80;
	}
	low[hn] = '\0';
	if (!ascii) {		/* Unicode lower case, as Python's str.lower() */
		if (after_nul || psl_str_to_utf8lower(host, "utf-8", NULL, &conv) != PSL_SUCCESS ||
		    strlen(conv) != hn) {
			psl_free_string(conv);
			conv = NULL;
		} else {
			lowp = conv;
		}
	}
	/* the longest public suffix: the first label from the left that starts one */
	for (j = 0; j < nl; j++)
		if (label[j] < hn && label[j] >= after_nul && lowp[label[j]] != '.' &&
		    psl_is_public_suffix2(u->psl, lowp + label[j], PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE))
			break;
	if (j > 0 && j < nl && label[j] - 1 > label[j - 1]) {	/* a domain label, not empty */
		const char *fq = host;
		size_t fn = hn;

		if (j == 2 && label[1] == 1) {	/* ".domain.suffix": no subdomain, no '.' */
			fq++;
			fn--;
		}
		hit = cm_hset_find(&u->domains, host + label[j - 1], hn - label[j - 1]) ||
		      cm_hset_find(&u->domains, fq, fn);
	}
	psl_free_string(conv);
	return hit;
}

static int sub_found(const cm_urlfilter *u, const char *norm, size_t nn)
{
	size_t i, k;

	for (i = 0; i < nn; i++) {
		if (u->sub_short)
			for (k = 0; k < u->nsubs; k++)
				if (u->sub_len[k] == 1 && u->subs[k][0] == norm[i])
					return 1;
		if (i + 1 < nn && u->sub_first)
			for (k = u->sub_first[(size_t)(unsigned char)norm[i] << 8 | (unsigned char)norm[i + 1]];
			     k != SIZE_MAX; k = u->sub_next[k]) {
				size_t sl = u->sub_len[k];

				if (sl <= nn - i && memcmp(norm + i, u->subs[k], sl) == 0)
					return 1;
			}
	}
	return 0;
}

const char *cm_urlfilter_check(const cm_urlfilter *u, const char *url, size_t n)
{
	size_t i;

	if (n == 0)
		return "url_missing";
	if (u->domains.n) {
		char host[256];
		size_t hn = dt_host(url, n, host, sizeof(host));

		if (hn && domain_blocked(u, host, hn))
			return "url_domain";
	}
	if (u->urls.n && cm_hset_find(&u->urls, url, n))
		return "url_exact";
	if (u->words.n || u->soft.n) {
		uint64_t seen[64];
		size_t nseen = 0, k;

		/* the URL's words: its runs of ASCII letters and digits, case kept (datatrove
		 * splits at [^a-zA-Z0-9]+ and does not lower-case) */
		for (i = 0; i < n;) {
			size_t b;
			uint64_t key;

			while (i < n && !alnum(url[i]))
				i++;
			for (b = i; i < n && alnum(url[i]); i++)
				;
			if (i == b)
				continue;
			key = cm_hset_key(url + b, i - b);
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
		char small[4096], *norm = n <= sizeof(small) ? small : cm_xmalloc(n);
		size_t nn = norm_word(url, n, norm, n);
		int hit = sub_found(u, norm, nn);

		if (norm != small)
			free(norm);
		if (hit)
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
